/**
 * Header protection masks (RFC 9001 §5.4): AES-ECB of the 16-byte ciphertext sample (§5.4.3) or
 * ChaCha20 keyed with the sample as counter and nonce (§5.4.4).
 */
import { type Cipher, createCipheriv } from 'node:crypto';
import { chacha20KeyWords, chacha20Mask } from './chacha20.js';
import { type CipherSuite, cipherSuiteParams } from './cipher-suite.js';
import { PublicAes128Gcm, wasmAes128Gcm } from './wasm-aes128-gcm.js';

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

/**
 * Live AES-ECB cipher objects of 1-RTT header protection keys, bounded for the whole process
 * (issue 13, idle memory). Each one holds an OpenSSL context of about 1.2 KiB outside the JavaScript
 * heap, and a server holds a 1-RTT key pair per connection for as long as the connection lives: at
 * 10,000 idle connections that was 2.3 KiB of RSS per connection. A key outside the pool keeps only
 * its 16 or 32 bytes and makes its cipher again when a packet needs it (~2 us, once); a key in the
 * pool is fed one block per packet as before. Eviction is CLOCK (second chance): every mask sets the
 * key's `recent` bit, the hand clears bits and evicts the first key whose bit is clear, so keys that
 * carry packets stay and idle ones go. A key enters with its bit clear: one used once (a burst of
 * new or briefly woken connections) goes before one in steady use. Masks never change, only where
 * the cipher comes from.
 */
const ecbPool: HeaderProtection[] = [];
let ecbPoolCapacity = 2048;
let ecbPoolHand = 0;
let ecbPoolMade = 0;

/** @internal For tests: pooled ECB ciphers alive now, and made so far (evictions make some again). */
export function ecbPoolStats(): { live: number; made: number } {
  return { live: ecbPool.length, made: ecbPoolMade };
}

/**
 * @internal For tests: bound the pool (default 2048 ciphers, about 2.4 MiB); releases ciphers
 * beyond the new bound. Returns the previous bound.
 */
export function setEcbPoolCapacity(capacity: number): number {
  const previous = ecbPoolCapacity;
  ecbPoolCapacity = Math.max(1, Math.floor(capacity));
  while (ecbPool.length > ecbPoolCapacity) ecbPool[ecbPool.length - 1]!.release();
  return previous;
}

export class HeaderProtection {
  readonly suite: CipherSuite;
  /** ChaCha20: the key as little-endian words, for the block function in chacha20.ts. */
  private readonly chachaKey: Uint32Array | undefined;
  /** AES: one ECB cipher object, fed exactly one block per call; undefined while evicted. */
  private ecb: Cipher | undefined;
  /**
   * AES: the cipher name, and for a pooled key the key bytes as a latin1 string (32 bytes of heap;
   * a 16-byte Uint8Array costs about 200), to make the cipher again after an eviction.
   */
  private readonly aes: string | undefined;
  private readonly aesKey: string | undefined;
  /** Whether the cipher lives in the bounded pool (1-RTT keys) or is owned for good. */
  private readonly pooled: boolean;
  /** AES-128 of a public key (Initial keys) in WebAssembly: no cipher object at all. */
  private readonly publicAes: PublicAes128Gcm | undefined;
  /** Pool bookkeeping: the index in ecbPool (-1: not there) and the CLOCK reference bit. */
  private slot = -1;
  private recent = false;

  /**
   * `pooled`: the AES cipher object counts against the process-wide bound and may be dropped while
   * the key is idle (for keys held as long as a connection lives: 1-RTT keys). `publicKey`: anyone
   * can derive the key (Initial keys, RFC 9001 §5.2), so an AES-128 key may go to the WebAssembly
   * module that is not constant time (wasm-aes128-gcm.ts); never for a key from a TLS secret.
   */
  constructor(suite: CipherSuite, hpKey: Uint8Array, pooled = false, publicKey = false) {
    const params = cipherSuiteParams(suite);
    if (hpKey.length !== params.hpKeyLength) {
      throw new RangeError(`header protection key must be ${params.hpKeyLength} bytes, got ${hpKey.length}`);
    }
    this.suite = suite;
    this.pooled = pooled;
    if (params.headerProtection === 'chacha20') {
      this.chachaKey = chacha20KeyWords(hpKey);
      this.aes = undefined;
      this.aesKey = undefined;
      this.ecb = undefined;
      this.publicAes = undefined;
    } else if (publicKey && params.headerProtection === 'aes-128-ecb' && wasmAes128Gcm !== undefined) {
      this.chachaKey = undefined;
      this.aes = params.headerProtection;
      this.aesKey = undefined;
      this.ecb = undefined;
      this.publicAes = new PublicAes128Gcm(wasmAes128Gcm, hpKey);
    } else {
      this.chachaKey = undefined;
      this.publicAes = undefined;
      this.aes = params.headerProtection;
      // A pooled key keeps its bytes to make the cipher again; no cipher until the first mask.
      this.aesKey = pooled ? Buffer.from(hpKey).toString('latin1') : undefined;
      this.ecb = pooled ? undefined : newEcb(params.headerProtection, hpKey);
    }
  }

  /** @internal For tests: which code makes the masks (the WebAssembly AES is for public keys only). */
  get implementation(): 'chacha20' | 'wasm-aes128-public' | 'node:crypto' {
    if (this.chachaKey !== undefined) return 'chacha20';
    return this.publicAes !== undefined ? 'wasm-aes128-public' : 'node:crypto';
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
    if (this.aes === undefined) {
      // RFC 9001 §5.4.4: counter = sample[0..3] (little-endian), nonce = sample[4..15]; the mask is
      // the ChaCha20 encryption of five zero bytes, i.e. the first five keystream bytes.
      chacha20Mask(this.chachaKey!, buf, offset, m);
      return m;
    }
    // RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample).
    const publicAes = this.publicAes;
    if (publicAes !== undefined) {
      publicAes.encryptBlockAt(buf, offset, m, HP_MASK_LENGTH);
      return m;
    }
    const s = sampleScratch;
    for (let i = 0; i < HP_SAMPLE_LENGTH; i++) s[i] = buf[offset + i];
    this.recent = true;
    const block = (this.ecb ?? this.attach()).update(s);
    m[0] = block[0];
    m[1] = block[1];
    m[2] = block[2];
    m[3] = block[3];
    m[4] = block[4];
    return m;
  }

  /**
   * Drops a pooled cipher now (the key is no longer needed, e.g. its connection ended); a later mask
   * still works: it makes the cipher again. No effect on a key outside the pool.
   */
  release(): void {
    const i = this.slot;
    if (i < 0) return;
    this.slot = -1;
    this.ecb = undefined;
    const last = ecbPool.pop()!;
    if (last !== this) {
      ecbPool[i] = last;
      last.slot = i;
    }
    if (ecbPoolHand >= ecbPool.length) ecbPoolHand = 0;
  }

  /** Makes this pooled key's cipher, evicting an idle key's when the pool is full (CLOCK). */
  private attach(): Cipher {
    const ecb = newEcb(this.aes!, Buffer.from(this.aesKey!, 'latin1'));
    this.ecb = ecb;
    if (!this.pooled) return ecb;
    ecbPoolMade++;
    this.recent = false;
    if (ecbPool.length < ecbPoolCapacity) {
      this.slot = ecbPool.length;
      ecbPool.push(this);
      return ecb;
    }
    // At most two turns: the first clears every reference bit it passes.
    for (;;) {
      const victim = ecbPool[ecbPoolHand]!;
      if (victim.recent) {
        victim.recent = false;
        ecbPoolHand = (ecbPoolHand + 1) % ecbPool.length;
        continue;
      }
      victim.ecb = undefined;
      victim.slot = -1;
      ecbPool[ecbPoolHand] = this;
      this.slot = ecbPoolHand;
      ecbPoolHand = (ecbPoolHand + 1) % ecbPool.length;
      return ecb;
    }
  }
}

function newEcb(name: string, key: Uint8Array): Cipher {
  // RFC 9001 §5.4.3: AES in ECB mode; a single block never needs padding.
  const ecb = createCipheriv(name, key, null);
  ecb.setAutoPadding(false);
  return ecb;
}
