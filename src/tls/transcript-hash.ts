/**
 * The running transcript hash (RFC 8446 §4.4.1). Messages added before the hash function is known
 * (a client does not know the cipher suite until ServerHello) are kept and replayed into the hash once
 * it is chosen. After a HelloRetryRequest, ClientHello1 is replaced by a synthetic message_hash
 * message.
 */
import { createHash, type Hash } from 'node:crypto';
import type { HashName } from '../crypto/hkdf.js';
import { sha256 } from '../crypto/hmac-sha256.js';
import { HandshakeType } from './codepoints.js';

export class TranscriptHash {
  private hash: Hash | undefined;
  private name: HashName | undefined;
  private pending: Uint8Array[] = [];
  /**
   * The digest of everything added so far, until the next add(): a handshake asks for the same
   * transcript hash more than once (a server's application secrets and the client Finished it then
   * checks; a client's application secrets and its own Finished), and each digest costs a copy of
   * the node:crypto Hash object (issue 13). Callers only read it.
   */
  private last: Buffer | undefined;
  /** finish() was called: nothing more can be added. */
  private finished = false;

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
    if (this.finished) throw new Error('transcript hash already finished');
    this.last = undefined;
    if (this.hash) this.hash.update(message);
    else this.pending.push(Buffer.from(message));
  }

  /** Transcript-Hash of everything added so far. */
  digest(): Buffer {
    if (this.last) return this.last;
    if (!this.hash) throw new Error('transcript hash not initialised');
    this.last = this.hash.copy().digest();
    return this.last;
  }

  /**
   * Transcript-Hash of the whole handshake, for its last use (the resumption master secret, RFC 8446
   * §7.1): the hash is finalised without a copy, and nothing can be added afterwards.
   */
  finish(): Buffer {
    if (!this.hash) throw new Error('transcript hash not initialised');
    if (!this.last) this.last = this.hash.digest();
    this.finished = true;
    return this.last;
  }

  /**
   * Transcript-Hash of everything added so far followed by `extra`, without adding it (used for PSK
   * binders over a truncated ClientHello). Works before `init` with an explicit hash.
   */
  digestWith(extra: Uint8Array, name?: HashName): Buffer {
    if (this.finished) throw new Error('transcript hash already finished');
    if (this.hash) {
      if (name && name !== this.name) throw new Error('transcript hash mismatch');
      return this.hash.copy().update(extra).digest();
    }
    if (!name) throw new Error('transcript hash not initialised');
    // A first ClientHello's binder: the hash of the truncated message alone, in one call (issue 13).
    if (name === 'sha256' && this.pending.length === 0) return sha256(extra);
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
    this.last = undefined;
    const synthetic = Buffer.allocUnsafe(4 + ch1Hash.length);
    synthetic[0] = HandshakeType.message_hash;
    synthetic.writeUIntBE(ch1Hash.length, 1, 3);
    ch1Hash.copy(synthetic, 4);
    this.hash = createHash(name);
    this.hash.update(synthetic);
  }
}
