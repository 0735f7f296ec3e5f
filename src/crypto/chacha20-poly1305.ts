/**
 * The ChaCha20-Poly1305 AEAD (RFC 8439 §2.8) in plain JS, for small packets.
 *
 * node:crypto needs a cipher object per nonce, and creating one costs more than sealing a small
 * packet in JS (docs/performance.md). aead.ts uses this for payloads up to a size where
 * node:crypto's faster block code wins again. Built only from the constant-time ChaCha20 block
 * function (chacha20.ts) and Poly1305 (poly1305.ts); the tag is compared without an early exit.
 */
import { chacha20Block, chacha20KeyWords } from './chacha20.js';
import { Poly1305 } from './poly1305.js';

export const CHACHA20_POLY1305_TAG_LENGTH = 16;

export class ChaCha20Poly1305 {
  private readonly keyWords: Uint32Array;

  constructor(key: Uint8Array) {
    this.keyWords = chacha20KeyWords(key);
  }

  /**
   * Encrypts `plaintext` into out[outOffset..] followed by the 16-byte tag; returns the bytes
   * written. `out` may hold the plaintext at the same position (in place). The 96-bit nonce is given
   * as three little-endian words (RFC 8439 §2.3).
   */
  seal(
    n0: number,
    n1: number,
    n2: number,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number {
    const len = plaintext.length;
    this.startMac(n0, n1, n2, aad);
    xorKeyStream(this.keyWords, n0, n1, n2, plaintext, len, out, outOffset);
    finishMac(out, outOffset, len, aad.length, out, outOffset + len);
    return len + CHACHA20_POLY1305_TAG_LENGTH;
  }

  /** The plaintext, or null when the tag does not authenticate `aad` and the ciphertext. */
  open(n0: number, n1: number, n2: number, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null {
    const len = ciphertextAndTag.length - CHACHA20_POLY1305_TAG_LENGTH;
    if (len < 0) return null;
    this.startMac(n0, n1, n2, aad);
    const tag = TAG;
    finishMac(ciphertextAndTag, 0, len, aad.length, tag, 0);
    // Constant time: every byte is compared whatever the first difference.
    let diff = 0;
    for (let i = 0; i < CHACHA20_POLY1305_TAG_LENGTH; i++) diff |= tag[i]! ^ ciphertextAndTag[len + i]!;
    if (diff !== 0) return null;
    const plaintext = new Uint8Array(len);
    xorKeyStream(this.keyWords, n0, n1, n2, ciphertextAndTag, len, plaintext, 0);
    return plaintext;
  }

  /** RFC 8439 §2.6: the one-time Poly1305 key is the first 32 bytes of block 0; then the AAD, padded. */
  private startMac(n0: number, n1: number, n2: number, aad: Uint8Array): void {
    const b = BLOCK;
    chacha20Block(this.keyWords, 0, n0, n1, n2, b);
    const otk = ONE_TIME_KEY;
    for (let i = 0; i < 32; i++) otk[i] = (b[i >>> 2]! >>> ((i & 3) << 3)) & 0xff;
    POLY.init(otk);
    POLY.padded(aad, 0, aad.length);
  }
}

/** RFC 8439 §2.8: the ciphertext, padded, then the two lengths as 64-bit little-endian numbers. */
function finishMac(
  ct: Uint8Array,
  ctStart: number,
  ctLength: number,
  aadLength: number,
  tagOut: Uint8Array,
  tagOffset: number,
): void {
  POLY.padded(ct, ctStart, ctStart + ctLength);
  const l = LENGTHS;
  l.fill(0);
  writeLE32(l, 0, aadLength);
  writeLE32(l, 8, ctLength);
  POLY.padded(l, 0, 16);
  POLY.finish(tagOut, tagOffset);
}

/** dst[dstStart..+len) = src[0..len) XOR the keystream from block 1 on (RFC 8439 §2.4, §2.8). */
function xorKeyStream(
  keyWords: Uint32Array,
  n0: number,
  n1: number,
  n2: number,
  src: Uint8Array,
  len: number,
  dst: Uint8Array,
  dstStart: number,
): void {
  const b = BLOCK;
  for (let done = 0, counter = 1; done < len; counter++) {
    chacha20Block(keyWords, counter, n0, n1, n2, b);
    const n = Math.min(64, len - done);
    for (let i = 0; i < n; i++) {
      dst[dstStart + done + i] = src[done + i]! ^ ((b[i >>> 2]! >>> ((i & 3) << 3)) & 0xff);
    }
    done += n;
  }
}

function writeLE32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = v >>> 24;
}

// Scratch shared by every key: each operation completes within one synchronous call.
const BLOCK = new Uint32Array(16);
const ONE_TIME_KEY = new Uint8Array(32);
const LENGTHS = new Uint8Array(16);
const TAG = new Uint8Array(CHACHA20_POLY1305_TAG_LENGTH);
const POLY = new Poly1305();
