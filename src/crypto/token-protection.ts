/**
 * Sealing of self-validating tokens (Retry and NEW_TOKEN tokens, RFC 9000 §8.1.1-8.1.4):
 * ChaCha20-Poly1305 (secret-seal.ts) under a server-wide key with a random nonce, so the server keeps no per-token state and any server
 * holding the key can check a token (RFC 9000 §8.1.4: tokens must be integrity protected).
 */
import type { RandomBytes } from '../util/random.js';
import { secretOpen, secretSeal } from './secret-seal.js';

const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

export class TokenProtector {
  private readonly key: Uint8Array;

  /** `key` is 32 bytes; share it between servers that must accept each other's tokens. */
  constructor(
    key: Uint8Array,
    private readonly random: RandomBytes,
  ) {
    if (key.length !== 32) throw new RangeError('token key must be 32 bytes');
    // A real copy: Buffer#slice would share the caller's memory.
    this.key = Uint8Array.from(key);
  }

  /** `aad` binds the token to its purpose (e.g. "retry" or "new-token") so one cannot stand for the other. */
  seal(plaintext: Uint8Array, aad: Uint8Array): Buffer {
    const nonce = this.random(NONCE_LENGTH);
    return Buffer.concat([nonce, secretSeal(this.key, nonce, aad, plaintext)]);
  }

  /** The plaintext, or undefined for a token this key did not seal (or that was altered). */
  open(token: Uint8Array, aad: Uint8Array): Buffer | undefined {
    if (token.length < NONCE_LENGTH + TAG_LENGTH) return undefined;
    return secretOpen(this.key, token.subarray(0, NONCE_LENGTH), aad, token.subarray(NONCE_LENGTH));
  }
}
