/**
 * Stateless reset tokens (RFC 9000 §10.3.2): HMAC-SHA256 of the connection ID under a static key,
 * truncated to 16 bytes. Any endpoint holding the key can produce the token for a CID without state,
 * and the token cannot be guessed from the CID.
 */
import { hmacSha256 } from './hmac-sha256.js';

export const STATELESS_RESET_TOKEN_LENGTH = 16;

export class StatelessResetTokens {
  private readonly key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length < 16) throw new RangeError('stateless reset key must be at least 16 bytes');
    // A real copy: Buffer#slice would share the caller's memory.
    this.key = Uint8Array.from(key);
  }

  tokenFor(cid: Uint8Array): Buffer {
    return hmacSha256(this.key, cid).subarray(0, STATELESS_RESET_TOKEN_LENGTH);
  }
}
