/**
 * Header protection masks (RFC 9001 §5.4): AES-ECB of the 16-byte ciphertext sample (§5.4.3) or
 * ChaCha20 keyed with the sample as counter and nonce (§5.4.4).
 */
import { type Cipher, createCipheriv } from 'node:crypto';
import { chacha20KeyWords, chacha20Mask } from './chacha20-mask.js';
import { type CipherSuite, cipherSuiteParams } from './cipher-suite.js';

/** RFC 9001 §5.4.2: every cipher suite usable with QUIC samples 16 bytes. */
export const HP_SAMPLE_LENGTH = 16;
/** RFC 9001 §5.4.1: one byte for the first header byte, up to four for the packet number. */
export const HP_MASK_LENGTH = 5;

/**
 * Scratch space shared by every key: the sample is copied here so that no view of the caller's
 * buffer has to be created, and the mask is written here. Calls never interleave (one thread, no
 * await inside), and the mask is only valid until the next call, as `mask` says; sharing the two
 * buffers instead of holding them per key saves about 0.4 KiB per key (issue 13, idle memory).
 */
const sampleScratch = Buffer.alloc(HP_SAMPLE_LENGTH);
const maskScratch = Buffer.alloc(HP_MASK_LENGTH);

export class HeaderProtection {
  readonly suite: CipherSuite;
  /** ChaCha20: the key as little-endian words, for the block function in chacha20-mask.ts. */
  private readonly chachaKey: Uint32Array | undefined;
  /** AES: one ECB cipher object for the life of the key, fed exactly one block per call. */
  private readonly ecb: Cipher | undefined;

  constructor(suite: CipherSuite, hpKey: Uint8Array) {
    const params = cipherSuiteParams(suite);
    if (hpKey.length !== params.hpKeyLength) {
      throw new RangeError(`header protection key must be ${params.hpKeyLength} bytes, got ${hpKey.length}`);
    }
    this.suite = suite;
    if (params.headerProtection === 'chacha20') {
      this.chachaKey = chacha20KeyWords(hpKey);
      this.ecb = undefined;
    } else {
      this.chachaKey = undefined;
      // RFC 9001 §5.4.3: AES in ECB mode; a single block never needs padding.
      const ecb = createCipheriv(params.headerProtection, hpKey, null);
      ecb.setAutoPadding(false);
      this.ecb = ecb;
    }
  }

  /** 5-byte mask for a 16-byte sample (may return an internal buffer reused by the next call). */
  mask(sample: Uint8Array): Uint8Array {
    if (sample.length !== HP_SAMPLE_LENGTH) {
      throw new RangeError(
        `header protection sample must be ${HP_SAMPLE_LENGTH} bytes, got ${sample.length}`,
      );
    }
    return this.maskAt(sample, 0);
  }

  /**
   * The mask for the 16-byte sample at buf[offset, offset + 16), without creating a view of `buf`.
   * The caller guarantees the bounds. The result may be an internal buffer reused by the next call.
   */
  maskAt(buf: Uint8Array, offset: number): Uint8Array {
    const m = maskScratch;
    if (this.ecb === undefined) {
      // RFC 9001 §5.4.4: counter = sample[0..3] (little-endian), nonce = sample[4..15]; the mask is
      // the ChaCha20 encryption of five zero bytes, i.e. the first five keystream bytes.
      chacha20Mask(this.chachaKey!, buf, offset, m);
      return m;
    }
    // RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample).
    const s = sampleScratch;
    for (let i = 0; i < HP_SAMPLE_LENGTH; i++) s[i] = buf[offset + i];
    const block = this.ecb.update(s);
    m[0] = block[0];
    m[1] = block[1];
    m[2] = block[2];
    m[3] = block[3];
    m[4] = block[4];
    return m;
  }
}
