/**
 * The running transcript hash (RFC 8446 §4.4.1). Messages added before the hash function is known
 * (a client does not know the cipher suite until ServerHello) are kept and replayed into the hash once
 * it is chosen. After a HelloRetryRequest, ClientHello1 is replaced by a synthetic message_hash
 * message.
 */
import { createHash, type Hash } from 'node:crypto';
import type { HashName } from '../crypto/hkdf.js';
import { HandshakeType } from './codepoints.js';

export class TranscriptHash {
  private hash: Hash | undefined;
  private name: HashName | undefined;
  private pending: Uint8Array[] = [];

  get hashName(): HashName | undefined {
    return this.name;
  }

  /** Chooses the hash function; messages added so far are hashed now. */
  init(name: HashName): void {
    if (this.hash) {
      if (this.name !== name) throw new Error('transcript hash already initialised with another hash');
      return;
    }
    this.name = name;
    this.hash = createHash(name);
    for (const m of this.pending) this.hash.update(m);
    this.pending = [];
  }

  add(message: Uint8Array): void {
    if (this.hash) this.hash.update(message);
    else this.pending.push(Buffer.from(message));
  }

  /** Transcript-Hash of everything added so far. */
  digest(): Buffer {
    if (!this.hash) throw new Error('transcript hash not initialised');
    return this.hash.copy().digest();
  }

  /**
   * Transcript-Hash of everything added so far followed by `extra`, without adding it (used for PSK
   * binders over a truncated ClientHello). Works before `init` with an explicit hash.
   */
  digestWith(extra: Uint8Array, name?: HashName): Buffer {
    if (this.hash) {
      if (name && name !== this.name) throw new Error('transcript hash mismatch');
      return this.hash.copy().update(extra).digest();
    }
    if (!name) throw new Error('transcript hash not initialised');
    const h = createHash(name);
    for (const m of this.pending) h.update(m);
    return h.update(extra).digest();
  }

  /**
   * RFC 8446 §4.4.1: after a HelloRetryRequest the transcript restarts with
   * message_hash(Hash(ClientHello1)): type 254, uint24 length Hash.length, then the hash.
   */
  replaceWithMessageHash(): void {
    const name = this.name;
    if (!name) throw new Error('transcript hash not initialised');
    const ch1Hash = this.digest();
    const synthetic = Buffer.allocUnsafe(4 + ch1Hash.length);
    synthetic[0] = HandshakeType.message_hash;
    synthetic.writeUIntBE(ch1Hash.length, 1, 3);
    ch1Hash.copy(synthetic, 4);
    this.hash = createHash(name);
    this.hash.update(synthetic);
  }
}
