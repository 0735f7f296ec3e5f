/**
 * A seeded pseudo-random number generator for the deterministic network simulator.
 *
 * The generator is xoshiro128** (Blackman & Vigna): 128 bits of state, 32-bit outputs, fast with
 * `Math.imul`, and good enough statistically for network simulation (it is not cryptographic and must
 * never be used for anything but tests). The state is expanded from the numeric seed with a 32-bit
 * avalanche mixer so that nearby seeds (1, 2, 3, ...) give unrelated streams.
 *
 * `fork(label)` derives an independent generator from this generator's *seed* and the label, not from
 * its current state: forking is therefore insensitive to how many numbers were already drawn, which is
 * what keeps a simulation reproducible when one component draws more or fewer numbers than before.
 * Forking twice with the same label yields the same stream; use distinct labels for distinct consumers.
 */
import type { RandomBytes } from '../../src/util/random.js';

const TWO_POW_32 = 0x1_0000_0000;
/** 2^53: the number of distinct doubles `next()` can return. */
const TWO_POW_53 = 9007199254740992;
const TWO_POW_26 = 67108864;
const GOLDEN = 0x9e3779b9;

/** A 32-bit avalanche finalizer (the MurmurHash3 fmix32 constants). */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Splits a safe integer into its low and high 32-bit words (two's complement for negatives). */
function splitSeed(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

export class Prng {
  /** The seed this generator was created from (forks have their own derived seed). */
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Prng seed must be a safe integer, got ${seed}`);
    this.seed = seed;
    const [lo, hi] = splitSeed(seed);
    // Expand 64 seed bits into 128 state bits: two Weyl sequences, mixed together per word, so that
    // every state word depends on both halves of the seed.
    let x = lo;
    let y = hi ^ 0x5bd1e995;
    const words = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      x = (x + GOLDEN) | 0;
      y = (y + 0x6c8e9cf5) | 0;
      words[i] = mix32(x ^ mix32(y));
    }
    // xoshiro's all-zero state is a fixed point; it is astronomically unlikely but cheap to exclude.
    if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1;
    this.s0 = words[0]!;
    this.s1 = words[1]!;
    this.s2 = words[2]!;
    this.s3 = words[3]!;
  }

  /** The next 32-bit unsigned output. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniformly distributed double in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.uint32() >>> 5; // 27 bits
    const b = this.uint32() >>> 6; // 26 bits
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  /** A uniformly distributed integer in [0, maxExclusive); `maxExclusive` is a positive safe integer. */
  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      throw new RangeError(`Prng.int bound must be a positive safe integer, got ${maxExclusive}`);
    }
    if (maxExclusive <= TWO_POW_32) {
      // Rejection sampling removes the modulo bias: accept only outputs below the largest multiple of
      // the bound that fits in 32 bits.
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
      for (;;) {
        const u = this.uint32();
        if (u < limit) return u % maxExclusive;
      }
    }
    return Math.floor(this.next() * maxExclusive);
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Prng.bytes length must be >= 0, got ${n}`);
    const out = new Uint8Array(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const u = this.uint32();
      out[i] = u & 0xff;
      out[i + 1] = (u >>> 8) & 0xff;
      out[i + 2] = (u >>> 16) & 0xff;
      out[i + 3] = u >>> 24;
    }
    if (i < n) {
      let u = this.uint32();
      for (; i < n; i++) {
        out[i] = u & 0xff;
        u >>>= 8;
      }
    }
    return out;
  }

  /**
   * An independent generator derived from this generator's seed and `label` (not from its current
   * state). The derived seed is a 53-bit hash of both.
   */
  fork(label: string): Prng {
    const [lo, hi] = splitSeed(this.seed);
    let h1 = mix32(lo ^ 0x3c6ef372);
    let h2 = mix32(hi ^ 0xa54ff53a ^ label.length);
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      h1 = mix32(Math.imul(h1 ^ c, 0x01000193) ^ h2);
      h2 = mix32(Math.imul(h2 + c, 0x2545f491) ^ h1);
    }
    h1 = mix32(h1 ^ 0x6a09e667);
    h2 = mix32(h2 ^ h1);
    return new Prng((h2 & 0x1fffff) * TWO_POW_32 + h1);
  }
}

/** Adapts a `Prng` to the core's `RandomBytes` injection point. */
export function seededRandomBytes(prng: Prng): RandomBytes {
  return (length: number) => prng.bytes(length);
}
