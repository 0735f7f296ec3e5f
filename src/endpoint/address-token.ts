/**
 * Address validation tokens (RFC 9000 §8.1.2-8.1.4): what a server puts in Retry and NEW_TOKEN
 * tokens, sealed so that only it (or servers sharing its key) can read and trust them.
 *
 * A Retry token binds the client address, the issue time and the Original Destination Connection ID;
 * a NEW_TOKEN token binds the client address and the issue time. Each kind is sealed with its own
 * associated data so neither can be used as the other (RFC 9000 §8.1.1).
 */
import { TokenProtector } from '../crypto/token-protection.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { BufferReader } from '../wire/buffer-reader.js';
import { BufferWriter } from '../wire/buffer-writer.js';

export type AddressTokenKind = 'retry' | 'new-token';

export interface AddressToken {
  kind: AddressTokenKind;
  address: string;
  issuedAt: Millis;
  /** Retry tokens only. */
  originalDcid?: Uint8Array;
}

/**
 * The first byte of a token, in clear: which kind it is, so validate() opens only a token of the
 * kind asked for, rather than failing to open the other kind's (a failed open costs a cipher object
 * and an exception; every resumed connection with a NEW_TOKEN token paid it, issue 13). The kind is
 * also bound by the associated data below: a token whose first byte is changed does not open.
 */
const KIND_BYTE: Record<AddressTokenKind, number> = { retry: 0x52, 'new-token': 0x4e };

const AAD: Record<AddressTokenKind, Uint8Array> = {
  retry: Buffer.from('tsquic retry token'),
  'new-token': Buffer.from('tsquic new token'),
};

export interface AddressTokenOptions {
  key: Uint8Array;
  random: RandomBytes;
  /** How long a Retry token is valid (default 10 s: it is used one round trip after issue). */
  retryLifetime?: Millis;
  /** How long a NEW_TOKEN token is valid (default 24 h). */
  newTokenLifetime?: Millis;
}

export class AddressTokens {
  private readonly protector: TokenProtector;
  private readonly retryLifetime: Millis;
  private readonly newTokenLifetime: Millis;

  constructor(opts: AddressTokenOptions) {
    this.protector = new TokenProtector(opts.key, opts.random);
    this.retryLifetime = opts.retryLifetime ?? 10_000;
    this.newTokenLifetime = opts.newTokenLifetime ?? 24 * 3600_000;
  }

  issue(token: AddressToken): Buffer {
    const address = Buffer.from(token.address, 'utf8');
    const odcid = token.originalDcid ?? new Uint8Array(0);
    const w = BufferWriter.alloc(8 + 1 + address.length + 1 + odcid.length);
    w.u32(Math.floor(token.issuedAt / 2 ** 32));
    w.u32((token.issuedAt % 2 ** 32) >>> 0);
    w.u8(address.length);
    w.bytes(address);
    w.u8(odcid.length);
    w.bytes(odcid);
    const sealed = this.protector.seal(w.toBytes(), AAD[token.kind]);
    const out = Buffer.allocUnsafe(1 + sealed.length);
    out[0] = KIND_BYTE[token.kind];
    out.set(sealed, 1);
    return out;
  }

  /** The kind a token says it is (its first byte), or undefined when it is not one of ours. */
  static kindOf(raw: Uint8Array): AddressTokenKind | undefined {
    if (raw[0] === KIND_BYTE.retry) return 'retry';
    if (raw[0] === KIND_BYTE['new-token']) return 'new-token';
    return undefined;
  }

  /**
   * The token's content when it is one of ours, of this kind, for this address and not expired;
   * otherwise undefined (RFC 9000 §8.1.3: an invalid token is treated as no token).
   */
  validate(raw: Uint8Array, kind: AddressTokenKind, address: string, now: Millis): AddressToken | undefined {
    if (AddressTokens.kindOf(raw) !== kind) return undefined;
    const plain = this.protector.open(raw.subarray(1), AAD[kind]);
    if (!plain) return undefined;
    try {
      const r = new BufferReader(plain);
      const issuedAt = r.u32() * 2 ** 32 + r.u32();
      const addr = Buffer.from(r.bytes(r.u8())).toString('utf8');
      const odcid = r.bytes(r.u8());
      if (addr !== address) return undefined;
      const lifetime = kind === 'retry' ? this.retryLifetime : this.newTokenLifetime;
      if (now < issuedAt - 1000 || now > issuedAt + lifetime) return undefined;
      return {
        kind,
        address: addr,
        issuedAt,
        ...(kind === 'retry' ? { originalDcid: new Uint8Array(odcid) } : {}),
      };
    } catch {
      return undefined;
    }
  }
}
