/**
 * Packet payload protection with the negotiated AEAD (RFC 9001 §5.3).
 *
 * node:crypto AEAD cipher objects cannot be rekeyed with a new nonce, so each packet creates one
 * (createCipheriv / createDecipheriv); everything else (key, IV, nonce buffer) is kept per key.
 * ChaCha20-Poly1305 packets go through tsquic's WebAssembly module instead
 * (wasm-chacha20-poly1305.ts), which needs no object per packet and costs a half to a tenth of that
 * call, and so do AES-128-GCM packets under a public key (Initial packets, wasm-aes128-gcm.ts);
 * node:crypto remains for secret AES-GCM keys and where WebAssembly is unavailable.
 */
import {
  type CipherChaCha20Poly1305,
  type CipherGCM,
  createCipheriv,
  createDecipheriv,
  type DecipherChaCha20Poly1305,
  type DecipherGCM,
} from 'node:crypto';
import { type CipherSuite, cipherSuiteParams } from './cipher-suite.js';
import { PublicAes128Gcm, wasmAes128Gcm } from './wasm-aes128-gcm.js';
import { WasmChaCha20Poly1305, wasmChaCha20Poly1305 } from './wasm-chacha20-poly1305.js';

const TAG_LENGTH = 16;
/** Shared, never modified: avoids an options object per packet. */
const CIPHER_OPTIONS = { authTagLength: TAG_LENGTH } as const;
const TWO_POW_32 = 0x1_0000_0000;
/**
 * The nonce of the packet being sealed or opened, shared by every key: createCipheriv copies it
 * before returning, and nothing runs between writing it and that call (issue 13: one typed array
 * less per key, two per idle connection).
 */
const NONCE = Buffer.allocUnsafeSlow(12);
/** Reused setAAD options, set just before each call (only CCM needs the length, but the ChaCha20-Poly1305 typing asks for it). */
const AAD_OPTIONS = { plaintextLength: 0 };

export class Aead {
  readonly suite: CipherSuite;
  private readonly algorithm: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  private readonly key: Buffer;
  /**
   * IV bytes 0..3, 4..7 and 8..11 as big-endian signed 32-bit integers (small integers in V8, no
   * boxed number per field); XORed with the packet number into NONCE per packet.
   */
  private readonly ivTop: number;
  private readonly ivHigh: number;
  private readonly ivLow: number;
  private seals = 0;
  private failures = 0;
  /** ChaCha20-Poly1305 in WebAssembly (undefined for AES-GCM, or without WebAssembly). */
  private readonly wasm: WasmChaCha20Poly1305 | undefined;
  /** AES-128-GCM in WebAssembly, for a public key only (undefined otherwise). */
  private readonly publicAes: PublicAes128Gcm | undefined;

  /**
   * `publicKey`: the key is known to anyone who sees the connection's first packet (Initial keys,
   * RFC 9001 §5.2), so AES-128-GCM may run in the WebAssembly module that is not constant time
   * (wasm-aes128-gcm.ts). Never set it for a key derived from a TLS secret.
   */
  constructor(suite: CipherSuite, key: Uint8Array, iv: Uint8Array, publicKey = false) {
    const params = cipherSuiteParams(suite);
    if (key.length !== params.keyLength) {
      throw new RangeError(`${params.aead} key must be ${params.keyLength} bytes, got ${key.length}`);
    }
    if (iv.length !== params.ivLength) {
      throw new RangeError(`AEAD IV must be ${params.ivLength} bytes, got ${iv.length}`);
    }
    this.suite = suite;
    this.algorithm = params.aead;
    // An unpooled copy: a pooled Buffer would keep its whole 8 KiB pool slab alive (issue 13).
    this.key = Buffer.allocUnsafeSlow(key.length);
    this.key.set(key);
    this.wasm =
      params.aead === 'chacha20-poly1305' && wasmChaCha20Poly1305 !== undefined
        ? new WasmChaCha20Poly1305(wasmChaCha20Poly1305, this.key)
        : undefined;
    this.publicAes =
      publicKey && params.aead === 'aes-128-gcm' && wasmAes128Gcm !== undefined
        ? new PublicAes128Gcm(wasmAes128Gcm, this.key)
        : undefined;
    // Big-endian signed 32-bit reads (`| 0` of the shifted bytes), without a DataView per key.
    this.ivTop = (iv[0]! << 24) | (iv[1]! << 16) | (iv[2]! << 8) | iv[3]!;
    this.ivHigh = (iv[4]! << 24) | (iv[5]! << 16) | (iv[6]! << 8) | iv[7]!;
    this.ivLow = (iv[8]! << 24) | (iv[9]! << 16) | (iv[10]! << 8) | iv[11]!;
  }

  /**
   * @internal For tests: which code seals and opens (the WebAssembly AES is for public keys only).
   * Sizes the module does not take still go to node:crypto.
   */
  get implementation(): 'wasm-chacha20-poly1305' | 'wasm-aes128-gcm-public' | 'node:crypto' {
    if (this.wasm !== undefined) return 'wasm-chacha20-poly1305';
    return this.publicAes !== undefined ? 'wasm-aes128-gcm-public' : 'node:crypto';
  }

  /** Packets sealed with this key so far (confidentiality limit, RFC 9001 §6.6). */
  get sealCount(): number {
    return this.seals;
  }

  /** Packets that failed authentication with this key so far (integrity limit, RFC 9001 §6.6). */
  get openFailures(): number {
    return this.failures;
  }

  /**
   * Encrypts plaintext; writes ciphertext||tag into `out` at outOffset (may equal the plaintext
   * position: in-place is allowed); returns bytes written (plaintext.length + 16).
   */
  seal(
    packetNumber: number,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number {
    const wasm = this.wasm;
    if (wasm !== undefined && WasmChaCha20Poly1305.fits(aad.length, plaintext.length)) {
      this.seals++;
      return wasm.seal(this.setNonce(packetNumber), aad, plaintext, out, outOffset);
    }
    const publicAes = this.publicAes;
    if (publicAes !== undefined && PublicAes128Gcm.fits(aad.length, plaintext.length)) {
      this.seals++;
      return publicAes.seal(this.setNonce(packetNumber), aad, plaintext, out, outOffset);
    }
    const cipher = this.newCipher(packetNumber);
    AAD_OPTIONS.plaintextLength = plaintext.length;
    cipher.setAAD(aad, AAD_OPTIONS);
    // update() returns a new buffer, so reading plaintext before overwriting it in place is safe.
    const ciphertext = cipher.update(plaintext);
    out.set(ciphertext, outOffset);
    let written = ciphertext.length;
    const rest = cipher.final();
    if (rest.length > 0) {
      out.set(rest, outOffset + written);
      written += rest.length;
    }
    out.set(cipher.getAuthTag(), outOffset + written);
    this.seals++;
    return written + TAG_LENGTH;
  }

  /**
   * seal() of a packet in `buf`, in place (RFC 9001 §5.3): the additional data is buf[aadStart,
   * payloadStart), the plaintext buf[payloadStart, payloadEnd); ciphertext and tag are written from
   * payloadStart. Returns the bytes written. With the WebAssembly ChaCha20-Poly1305 no view of the
   * header or payload is made (issue 13: allocations per packet).
   */
  sealInPlace(
    packetNumber: number,
    buf: Uint8Array,
    aadStart: number,
    payloadStart: number,
    payloadEnd: number,
  ): number {
    const wasm = this.wasm;
    if (wasm !== undefined && WasmChaCha20Poly1305.fits(payloadStart - aadStart, payloadEnd - payloadStart)) {
      this.seals++;
      return wasm.sealAt(this.setNonce(packetNumber), buf, aadStart, payloadStart, payloadEnd);
    }
    return this.seal(
      packetNumber,
      buf.subarray(aadStart, payloadStart),
      buf.subarray(payloadStart, payloadEnd),
      buf,
      payloadStart,
    );
  }

  /**
   * open() of a packet in `buf`, in place: the additional data is buf[aadStart, payloadStart), the
   * ciphertext and tag buf[payloadStart, end). The plaintext (possibly written over the ciphertext
   * and returned as a view of `buf`), or null when authentication fails.
   */
  openInPlace(
    packetNumber: number,
    buf: Uint8Array,
    aadStart: number,
    payloadStart: number,
    end: number,
  ): Uint8Array | null {
    const wasm = this.wasm;
    const ctLength = end - payloadStart - TAG_LENGTH;
    if (wasm !== undefined && ctLength >= 0 && WasmChaCha20Poly1305.fits(payloadStart - aadStart, ctLength)) {
      const plaintext = wasm.openAt(this.setNonce(packetNumber), buf, aadStart, payloadStart, end);
      if (plaintext === null) this.failures++;
      return plaintext;
    }
    return this.open(
      packetNumber,
      buf.subarray(aadStart, payloadStart),
      buf.subarray(payloadStart, end),
      true,
    );
  }

  /**
   * Returns the plaintext, or null when authentication fails (never throws for bad input; the
   * ciphertext is then left as it was). The plaintext is a new buffer, or with `inPlace` possibly
   * written over the ciphertext and returned as a view of it (ChaCha20-Poly1305 in WebAssembly).
   */
  open(
    packetNumber: number,
    aad: Uint8Array,
    ciphertextAndTag: Uint8Array,
    inPlace = false,
  ): Uint8Array | null {
    const ctLength = ciphertextAndTag.length - TAG_LENGTH;
    if (ctLength < 0) {
      this.failures++;
      return null;
    }
    const wasm = this.wasm;
    if (wasm !== undefined && WasmChaCha20Poly1305.fits(aad.length, ctLength)) {
      const plaintext = wasm.open(this.setNonce(packetNumber), aad, ciphertextAndTag, inPlace);
      if (plaintext === null) this.failures++;
      return plaintext;
    }
    const publicAes = this.publicAes;
    if (publicAes !== undefined && PublicAes128Gcm.fits(aad.length, ctLength)) {
      const plaintext = publicAes.open(this.setNonce(packetNumber), aad, ciphertextAndTag, inPlace);
      if (plaintext === null) this.failures++;
      return plaintext;
    }
    const decipher = this.newDecipher(packetNumber);
    decipher.setAuthTag(ciphertextAndTag.subarray(ctLength));
    AAD_OPTIONS.plaintextLength = ctLength;
    decipher.setAAD(aad, AAD_OPTIONS);
    const plaintext = decipher.update(ciphertextAndTag.subarray(0, ctLength));
    try {
      // final() verifies the tag (in constant time) and throws when it does not match.
      decipher.final();
    } catch {
      this.failures++;
      return null;
    }
    // A plain Uint8Array, whichever path opened it: views of it (frames, stream data) are then built
    // by V8's builtin subarray rather than Buffer's.
    return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length);
  }

  private newCipher(packetNumber: number): CipherGCM | CipherChaCha20Poly1305 {
    const algorithm = this.algorithm;
    const nonce = this.setNonce(packetNumber);
    return algorithm === 'chacha20-poly1305'
      ? createCipheriv(algorithm, this.key, nonce, CIPHER_OPTIONS)
      : createCipheriv(algorithm, this.key, nonce, CIPHER_OPTIONS);
  }

  private newDecipher(packetNumber: number): DecipherGCM | DecipherChaCha20Poly1305 {
    const algorithm = this.algorithm;
    const nonce = this.setNonce(packetNumber);
    return algorithm === 'chacha20-poly1305'
      ? createDecipheriv(algorithm, this.key, nonce, CIPHER_OPTIONS)
      : createDecipheriv(algorithm, this.key, nonce, CIPHER_OPTIONS);
  }

  /**
   * RFC 9001 §5.3: the nonce is the IV XORed with the packet number, left-padded with zeros to the IV
   * length. Packet numbers are below 2^62, so only the last 8 bytes change.
   */
  private setNonce(packetNumber: number): Buffer {
    const high = Math.floor(packetNumber / TWO_POW_32);
    const low = packetNumber >>> 0;
    const n = NONCE;
    const t = this.ivTop;
    const h = (this.ivHigh ^ high) >>> 0;
    const l = (this.ivLow ^ low) >>> 0;
    n[0] = t >>> 24;
    n[1] = (t >>> 16) & 0xff;
    n[2] = (t >>> 8) & 0xff;
    n[3] = t & 0xff;
    n[4] = h >>> 24;
    n[5] = (h >>> 16) & 0xff;
    n[6] = (h >>> 8) & 0xff;
    n[7] = h & 0xff;
    n[8] = l >>> 24;
    n[9] = (l >>> 16) & 0xff;
    n[10] = (l >>> 8) & 0xff;
    n[11] = l & 0xff;
    return n;
  }
}
