/**
 * Rotating AEAD keys for self-contained session tickets (RFC 8446 §4.6.1, RFC 5077 §4 style): a ticket
 * is ChaCha20-Poly1305(key of its epoch, plaintext) with the header as associated data
 * (crypto/secret-seal.ts), so any server that
 * holds the same keyring can open it and tampering is detected.
 *
 * Keys rotate every `rotationPeriod`: a ticket sealed in epoch E opens during epochs E and E+1, i.e.
 * for at least one full period. Keep rotationPeriod >= the ticket lifetime.
 *
 * - Without `keys`, each epoch's key is drawn from `random` when first needed and dropped two epochs
 *   later (forward secrecy for old tickets); tickets only open on this keyring.
 * - With `keys` (shared secrets of at least 32 bytes, the first one sealing), each epoch's key is
 *   derived from the shared secret and the epoch number, so a fleet of servers rotates in lockstep
 *   without coordination; all listed keys open tickets (to roll the shared secret over). One epoch of
 *   clock skew between servers is tolerated.
 *
 * Ticket layout: u8 version (2; version 1 sealed with AES-256-GCM and is no longer opened), f64
 * epoch, u32 key id, 12-byte nonce, ciphertext, 16-byte tag.
 */
import { createHmac } from 'node:crypto';
import { hkdfExpand } from '../crypto/hkdf.js';
import { secretOpen, secretSeal } from '../crypto/secret-seal.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { TlsConfigError } from './private-key.js';
import type { SessionTicketKeyring } from './types.js';

export const DEFAULT_TICKET_KEY_ROTATION: Millis = 24 * 60 * 60 * 1000;

const VERSION = 2;
const HEADER_LENGTH = 1 + 8 + 4;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;

interface SharedKey {
  id: number;
  secret: Buffer;
}

export interface SessionTicketKeysOptions {
  random: RandomBytes;
  rotationPeriod?: Millis;
  now: Millis;
  /** Explicit shared keys (>= 32 bytes each); the first one seals. */
  keys?: Uint8Array[];
}

export class SessionTicketKeys implements SessionTicketKeyring {
  private readonly random: RandomBytes;
  private readonly period: Millis;
  private readonly shared: SharedKey[] | undefined;
  private readonly generated = new Map<number, Buffer>();
  /** Derived per-epoch keys of the shared secrets, cached: "<id>:<epoch>" -> key. */
  private readonly derived = new Map<string, Buffer>();

  constructor(opts: SessionTicketKeysOptions) {
    this.random = opts.random;
    this.period = opts.rotationPeriod ?? DEFAULT_TICKET_KEY_ROTATION;
    if (!(this.period > 0) || !Number.isFinite(this.period)) {
      throw new TlsConfigError(
        `ticket key rotationPeriod must be a positive number of ms, got ${this.period}`,
      );
    }
    if (opts.keys !== undefined) {
      if (opts.keys.length === 0) throw new TlsConfigError('ticket keys: empty key list');
      this.shared = opts.keys.map((k, i) => {
        if (k.length < KEY_LENGTH) {
          throw new TlsConfigError(
            `ticket key #${i} has ${k.length} bytes, at least ${KEY_LENGTH} are required`,
          );
        }
        const secret = Buffer.from(k);
        const id = createHmac('sha256', secret).update('tsquic ticket key id').digest().readUInt32BE(0);
        return { id, secret };
      });
    } else {
      this.keyForEpoch(this.epochOf(opts.now));
    }
  }

  private epochOf(now: Millis): number {
    return Math.floor(now / this.period);
  }

  /** Random mode: the key of `epoch`, created when first used. */
  private keyForEpoch(epoch: number): Buffer {
    let key = this.generated.get(epoch);
    if (!key) {
      key = Buffer.from(this.random(KEY_LENGTH));
      if (key.length !== KEY_LENGTH) throw new RangeError('RandomBytes returned the wrong length');
      this.generated.set(epoch, key);
    }
    for (const e of this.generated.keys()) if (e < epoch - 1) this.generated.delete(e);
    return key;
  }

  private derivedKey(shared: SharedKey, epoch: number): Buffer {
    const cacheKey = `${shared.id}:${epoch}`;
    let key = this.derived.get(cacheKey);
    if (!key) {
      const info = Buffer.alloc(17 + 8);
      info.write('tsquic ticket key', 0, 'latin1');
      info.writeDoubleBE(epoch, 17);
      key = hkdfExpand('sha256', shared.secret, info, KEY_LENGTH);
      if (this.derived.size > 64) this.derived.clear();
      this.derived.set(cacheKey, key);
    }
    return key;
  }

  seal(plaintext: Uint8Array, now: Millis): Uint8Array {
    const epoch = this.epochOf(now);
    let key: Buffer;
    let id = 0;
    if (this.shared) {
      const first = this.shared[0]!;
      key = this.derivedKey(first, epoch);
      id = first.id;
    } else {
      key = this.keyForEpoch(epoch);
    }
    const header = Buffer.allocUnsafe(HEADER_LENGTH);
    header[0] = VERSION;
    header.writeDoubleBE(epoch, 1);
    header.writeUInt32BE(id, 9);
    const nonce = Buffer.from(this.random(NONCE_LENGTH));
    if (nonce.length !== NONCE_LENGTH) throw new RangeError('RandomBytes returned the wrong length');
    return Buffer.concat([header, nonce, secretSeal(key, nonce, header, plaintext)]);
  }

  open(ticket: Uint8Array, now: Millis): Uint8Array | undefined {
    if (ticket.length < HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH || ticket[0] !== VERSION) return undefined;
    const buf = Buffer.from(ticket.buffer, ticket.byteOffset, ticket.byteLength);
    const epoch = buf.readDoubleBE(1);
    const id = buf.readUInt32BE(9);
    if (!Number.isInteger(epoch)) return undefined;
    const current = this.epochOf(now);
    let key: Buffer | undefined;
    if (this.shared) {
      if (epoch < current - 1 || epoch > current + 1) return undefined;
      const shared = this.shared.find((k) => k.id === id);
      if (shared) key = this.derivedKey(shared, epoch);
    } else {
      if (id !== 0 || epoch < current - 1 || epoch > current) return undefined;
      key = this.generated.get(epoch);
      for (const e of this.generated.keys()) if (e < current - 1) this.generated.delete(e);
    }
    if (!key) return undefined;
    const header = buf.subarray(0, HEADER_LENGTH);
    const nonce = buf.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH);
    return secretOpen(key, nonce, header, buf.subarray(HEADER_LENGTH + NONCE_LENGTH));
  }
}
