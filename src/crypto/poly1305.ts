/**
 * The Poly1305 one-time authenticator (RFC 8439 §2.5) in plain JS, for the small-packet
 * ChaCha20-Poly1305 of chacha20-poly1305.ts.
 *
 * The 130-bit accumulator `h` and the clamped key `r` are held as ten 13-bit limbs, so every partial
 * product fits 31 bits (Math.imul) and each half-row of five products stays below 2^32: the sums are
 * kept as unsigned 32-bit integers (`>>> 0`), which V8 compiles to plain machine additions. Arithmetic modulo p = 2^130 - 5 uses 2^130 = 5 (mod p). No branch or memory index
 * depends on the key or the data: constant time.
 */

const LIMB_MASK = 0x1fff;
/** Bit 128 of a full 16-byte block (RFC 8439 §2.5.1: "add one bit beyond the number of octets"), in limb 9. */
const FULL_BLOCK_BIT = 1 << 11;

export class Poly1305 {
  /** r (clamped), ten 13-bit limbs. */
  private r0 = 0;
  private r1 = 0;
  private r2 = 0;
  private r3 = 0;
  private r4 = 0;
  private r5 = 0;
  private r6 = 0;
  private r7 = 0;
  private r8 = 0;
  private r9 = 0;
  /** The accumulator h, ten limbs of (about) 13 bits. */
  private readonly h = new Int32Array(10);
  /** s, the second half of the key, as eight 16-bit words. */
  private readonly s = new Uint16Array(8);

  /** Starts a new message with the 32-byte one-time key at key[offset..offset+32). */
  init(key: Uint8Array, offset = 0): void {
    // RFC 8439 §2.5: clamp r (clear the top four bits of bytes 3, 7, 11, 15 and the low two bits of 4, 8, 12).
    const k = CLAMPED;
    for (let i = 0; i < 16; i++) k[i] = key[offset + i]! & CLAMP[i]!;
    const t0 = k[0]! | (k[1]! << 8);
    const t1 = k[2]! | (k[3]! << 8);
    const t2 = k[4]! | (k[5]! << 8);
    const t3 = k[6]! | (k[7]! << 8);
    const t4 = k[8]! | (k[9]! << 8);
    const t5 = k[10]! | (k[11]! << 8);
    const t6 = k[12]! | (k[13]! << 8);
    const t7 = k[14]! | (k[15]! << 8);
    this.r0 = t0 & LIMB_MASK;
    this.r1 = ((t0 >>> 13) | (t1 << 3)) & LIMB_MASK;
    this.r2 = ((t1 >>> 10) | (t2 << 6)) & LIMB_MASK;
    this.r3 = ((t2 >>> 7) | (t3 << 9)) & LIMB_MASK;
    this.r4 = ((t3 >>> 4) | (t4 << 12)) & LIMB_MASK;
    this.r5 = (t4 >>> 1) & LIMB_MASK;
    this.r6 = ((t4 >>> 14) | (t5 << 2)) & LIMB_MASK;
    this.r7 = ((t5 >>> 11) | (t6 << 5)) & LIMB_MASK;
    this.r8 = ((t6 >>> 8) | (t7 << 8)) & LIMB_MASK;
    this.r9 = t7 >>> 5;
    this.h.fill(0);
    for (let i = 0; i < 8; i++) this.s[i] = key[offset + 16 + 2 * i]! | (key[offset + 17 + 2 * i]! << 8);
  }

  /**
   * Absorbs data[start, end) as 16-byte blocks, the last one zero-padded to 16 bytes: the padding
   * of the AEAD construction (RFC 8439 §2.8), where every block is a full one.
   */
  padded(data: Uint8Array, start: number, end: number): void {
    let p = start;
    for (; p + 16 <= end; p += 16) this.block(data, p, FULL_BLOCK_BIT);
    if (p < end) {
      const last = PARTIAL;
      last.fill(0);
      for (let i = 0; p + i < end; i++) last[i] = data[p + i]!;
      this.block(last, 0, FULL_BLOCK_BIT);
    }
  }

  /**
   * Absorbs a whole message (RFC 8439 §2.5.1): full blocks, then a shorter last block with a 1 byte
   * appended and zero padding. For the RFC's standalone vectors; the AEAD uses padded().
   */
  message(data: Uint8Array): void {
    let p = 0;
    for (; p + 16 <= data.length; p += 16) this.block(data, p, FULL_BLOCK_BIT);
    if (p < data.length) {
      const last = PARTIAL;
      last.fill(0);
      let i = 0;
      for (; p + i < data.length; i++) last[i] = data[p + i]!;
      last[i] = 1;
      this.block(last, 0, 0);
    }
  }

  /** h = (h + block) * r mod p for the 16 bytes at m[p..p+16), `hibit` the 2^128 bit. */
  private block(m: Uint8Array, p: number, hibit: number): void {
    const h = this.h;
    const t0 = m[p]! | (m[p + 1]! << 8);
    const t1 = m[p + 2]! | (m[p + 3]! << 8);
    const t2 = m[p + 4]! | (m[p + 5]! << 8);
    const t3 = m[p + 6]! | (m[p + 7]! << 8);
    const t4 = m[p + 8]! | (m[p + 9]! << 8);
    const t5 = m[p + 10]! | (m[p + 11]! << 8);
    const t6 = m[p + 12]! | (m[p + 13]! << 8);
    const t7 = m[p + 14]! | (m[p + 15]! << 8);
    const h0 = h[0]! + (t0 & LIMB_MASK);
    const h1 = h[1]! + (((t0 >>> 13) | (t1 << 3)) & LIMB_MASK);
    const h2 = h[2]! + (((t1 >>> 10) | (t2 << 6)) & LIMB_MASK);
    const h3 = h[3]! + (((t2 >>> 7) | (t3 << 9)) & LIMB_MASK);
    const h4 = h[4]! + (((t3 >>> 4) | (t4 << 12)) & LIMB_MASK);
    const h5 = h[5]! + ((t4 >>> 1) & LIMB_MASK);
    const h6 = h[6]! + (((t4 >>> 14) | (t5 << 2)) & LIMB_MASK);
    const h7 = h[7]! + (((t5 >>> 11) | (t6 << 5)) & LIMB_MASK);
    const h8 = h[8]! + (((t6 >>> 8) | (t7 << 8)) & LIMB_MASK);
    const h9 = h[9]! + ((t7 >>> 5) | hibit);
    const r0 = this.r0;
    const r1 = this.r1;
    const r2 = this.r2;
    const r3 = this.r3;
    const r4 = this.r4;
    const r5 = this.r5;
    const r6 = this.r6;
    const r7 = this.r7;
    const r8 = this.r8;
    const r9 = this.r9;
    // Limb products that wrap past 2^130 come back multiplied by 5.
    const s1 = 5 * r1;
    const s2 = 5 * r2;
    const s3 = 5 * r3;
    const s4 = 5 * r4;
    const s5 = 5 * r5;
    const s6 = 5 * r6;
    const s7 = 5 * r7;
    const s8 = 5 * r8;
    const s9 = 5 * r9;
    // Each row in two halves of five products (each half < 2^32), carrying 13 bits at a time.
    let c = 0;
    let d0 = Math.imul(h0, r0);
    d0 = (d0 + Math.imul(h1, s9)) >>> 0;
    d0 = (d0 + Math.imul(h2, s8)) >>> 0;
    d0 = (d0 + Math.imul(h3, s7)) >>> 0;
    d0 = (d0 + Math.imul(h4, s6)) >>> 0;
    c = d0 >>> 13;
    d0 = d0 & LIMB_MASK;
    d0 = (d0 + Math.imul(h5, s5)) >>> 0;
    d0 = (d0 + Math.imul(h6, s4)) >>> 0;
    d0 = (d0 + Math.imul(h7, s3)) >>> 0;
    d0 = (d0 + Math.imul(h8, s2)) >>> 0;
    d0 = (d0 + Math.imul(h9, s1)) >>> 0;
    c += d0 >>> 13;
    d0 &= LIMB_MASK;
    let d1 = c;
    d1 = (d1 + Math.imul(h0, r1)) >>> 0;
    d1 = (d1 + Math.imul(h1, r0)) >>> 0;
    d1 = (d1 + Math.imul(h2, s9)) >>> 0;
    d1 = (d1 + Math.imul(h3, s8)) >>> 0;
    d1 = (d1 + Math.imul(h4, s7)) >>> 0;
    c = d1 >>> 13;
    d1 = d1 & LIMB_MASK;
    d1 = (d1 + Math.imul(h5, s6)) >>> 0;
    d1 = (d1 + Math.imul(h6, s5)) >>> 0;
    d1 = (d1 + Math.imul(h7, s4)) >>> 0;
    d1 = (d1 + Math.imul(h8, s3)) >>> 0;
    d1 = (d1 + Math.imul(h9, s2)) >>> 0;
    c += d1 >>> 13;
    d1 &= LIMB_MASK;
    let d2 = c;
    d2 = (d2 + Math.imul(h0, r2)) >>> 0;
    d2 = (d2 + Math.imul(h1, r1)) >>> 0;
    d2 = (d2 + Math.imul(h2, r0)) >>> 0;
    d2 = (d2 + Math.imul(h3, s9)) >>> 0;
    d2 = (d2 + Math.imul(h4, s8)) >>> 0;
    c = d2 >>> 13;
    d2 = d2 & LIMB_MASK;
    d2 = (d2 + Math.imul(h5, s7)) >>> 0;
    d2 = (d2 + Math.imul(h6, s6)) >>> 0;
    d2 = (d2 + Math.imul(h7, s5)) >>> 0;
    d2 = (d2 + Math.imul(h8, s4)) >>> 0;
    d2 = (d2 + Math.imul(h9, s3)) >>> 0;
    c += d2 >>> 13;
    d2 &= LIMB_MASK;
    let d3 = c;
    d3 = (d3 + Math.imul(h0, r3)) >>> 0;
    d3 = (d3 + Math.imul(h1, r2)) >>> 0;
    d3 = (d3 + Math.imul(h2, r1)) >>> 0;
    d3 = (d3 + Math.imul(h3, r0)) >>> 0;
    d3 = (d3 + Math.imul(h4, s9)) >>> 0;
    c = d3 >>> 13;
    d3 = d3 & LIMB_MASK;
    d3 = (d3 + Math.imul(h5, s8)) >>> 0;
    d3 = (d3 + Math.imul(h6, s7)) >>> 0;
    d3 = (d3 + Math.imul(h7, s6)) >>> 0;
    d3 = (d3 + Math.imul(h8, s5)) >>> 0;
    d3 = (d3 + Math.imul(h9, s4)) >>> 0;
    c += d3 >>> 13;
    d3 &= LIMB_MASK;
    let d4 = c;
    d4 = (d4 + Math.imul(h0, r4)) >>> 0;
    d4 = (d4 + Math.imul(h1, r3)) >>> 0;
    d4 = (d4 + Math.imul(h2, r2)) >>> 0;
    d4 = (d4 + Math.imul(h3, r1)) >>> 0;
    d4 = (d4 + Math.imul(h4, r0)) >>> 0;
    c = d4 >>> 13;
    d4 = d4 & LIMB_MASK;
    d4 = (d4 + Math.imul(h5, s9)) >>> 0;
    d4 = (d4 + Math.imul(h6, s8)) >>> 0;
    d4 = (d4 + Math.imul(h7, s7)) >>> 0;
    d4 = (d4 + Math.imul(h8, s6)) >>> 0;
    d4 = (d4 + Math.imul(h9, s5)) >>> 0;
    c += d4 >>> 13;
    d4 &= LIMB_MASK;
    let d5 = c;
    d5 = (d5 + Math.imul(h0, r5)) >>> 0;
    d5 = (d5 + Math.imul(h1, r4)) >>> 0;
    d5 = (d5 + Math.imul(h2, r3)) >>> 0;
    d5 = (d5 + Math.imul(h3, r2)) >>> 0;
    d5 = (d5 + Math.imul(h4, r1)) >>> 0;
    c = d5 >>> 13;
    d5 = d5 & LIMB_MASK;
    d5 = (d5 + Math.imul(h5, r0)) >>> 0;
    d5 = (d5 + Math.imul(h6, s9)) >>> 0;
    d5 = (d5 + Math.imul(h7, s8)) >>> 0;
    d5 = (d5 + Math.imul(h8, s7)) >>> 0;
    d5 = (d5 + Math.imul(h9, s6)) >>> 0;
    c += d5 >>> 13;
    d5 &= LIMB_MASK;
    let d6 = c;
    d6 = (d6 + Math.imul(h0, r6)) >>> 0;
    d6 = (d6 + Math.imul(h1, r5)) >>> 0;
    d6 = (d6 + Math.imul(h2, r4)) >>> 0;
    d6 = (d6 + Math.imul(h3, r3)) >>> 0;
    d6 = (d6 + Math.imul(h4, r2)) >>> 0;
    c = d6 >>> 13;
    d6 = d6 & LIMB_MASK;
    d6 = (d6 + Math.imul(h5, r1)) >>> 0;
    d6 = (d6 + Math.imul(h6, r0)) >>> 0;
    d6 = (d6 + Math.imul(h7, s9)) >>> 0;
    d6 = (d6 + Math.imul(h8, s8)) >>> 0;
    d6 = (d6 + Math.imul(h9, s7)) >>> 0;
    c += d6 >>> 13;
    d6 &= LIMB_MASK;
    let d7 = c;
    d7 = (d7 + Math.imul(h0, r7)) >>> 0;
    d7 = (d7 + Math.imul(h1, r6)) >>> 0;
    d7 = (d7 + Math.imul(h2, r5)) >>> 0;
    d7 = (d7 + Math.imul(h3, r4)) >>> 0;
    d7 = (d7 + Math.imul(h4, r3)) >>> 0;
    c = d7 >>> 13;
    d7 = d7 & LIMB_MASK;
    d7 = (d7 + Math.imul(h5, r2)) >>> 0;
    d7 = (d7 + Math.imul(h6, r1)) >>> 0;
    d7 = (d7 + Math.imul(h7, r0)) >>> 0;
    d7 = (d7 + Math.imul(h8, s9)) >>> 0;
    d7 = (d7 + Math.imul(h9, s8)) >>> 0;
    c += d7 >>> 13;
    d7 &= LIMB_MASK;
    let d8 = c;
    d8 = (d8 + Math.imul(h0, r8)) >>> 0;
    d8 = (d8 + Math.imul(h1, r7)) >>> 0;
    d8 = (d8 + Math.imul(h2, r6)) >>> 0;
    d8 = (d8 + Math.imul(h3, r5)) >>> 0;
    d8 = (d8 + Math.imul(h4, r4)) >>> 0;
    c = d8 >>> 13;
    d8 = d8 & LIMB_MASK;
    d8 = (d8 + Math.imul(h5, r3)) >>> 0;
    d8 = (d8 + Math.imul(h6, r2)) >>> 0;
    d8 = (d8 + Math.imul(h7, r1)) >>> 0;
    d8 = (d8 + Math.imul(h8, r0)) >>> 0;
    d8 = (d8 + Math.imul(h9, s9)) >>> 0;
    c += d8 >>> 13;
    d8 &= LIMB_MASK;
    let d9 = c;
    d9 = (d9 + Math.imul(h0, r9)) >>> 0;
    d9 = (d9 + Math.imul(h1, r8)) >>> 0;
    d9 = (d9 + Math.imul(h2, r7)) >>> 0;
    d9 = (d9 + Math.imul(h3, r6)) >>> 0;
    d9 = (d9 + Math.imul(h4, r5)) >>> 0;
    c = d9 >>> 13;
    d9 = d9 & LIMB_MASK;
    d9 = (d9 + Math.imul(h5, r4)) >>> 0;
    d9 = (d9 + Math.imul(h6, r3)) >>> 0;
    d9 = (d9 + Math.imul(h7, r2)) >>> 0;
    d9 = (d9 + Math.imul(h8, r1)) >>> 0;
    d9 = (d9 + Math.imul(h9, r0)) >>> 0;
    c += d9 >>> 13;
    d9 &= LIMB_MASK;
    // The carry out of limb 9 is a multiple of 2^130: add 5 times it to limb 0.
    c = (Math.imul(c, 5) + d0) >>> 0;
    d0 = c & LIMB_MASK;
    d1 += c >>> 13;
    h[0] = d0;
    h[1] = d1;
    h[2] = d2;
    h[3] = d3;
    h[4] = d4;
    h[5] = d5;
    h[6] = d6;
    h[7] = d7;
    h[8] = d8;
    h[9] = d9;
  }

  /** The 16-byte tag into out[offset..offset+16): (h mod p) + s mod 2^128 (RFC 8439 §2.5.1). */
  finish(out: Uint8Array, offset: number): void {
    const h = this.h;
    // Full carry propagation: every limb to 13 bits, h < 2^130 + small.
    let c = 0;
    for (let i = 1; i < 10; i++) {
      h[i]! += c;
      c = h[i]! >>> 13;
      h[i]! &= LIMB_MASK;
    }
    h[0]! += c * 5;
    c = h[0]! >>> 13;
    h[0]! &= LIMB_MASK;
    h[1]! += c;
    c = h[1]! >>> 13;
    h[1]! &= LIMB_MASK;
    h[2]! += c;
    // g = h + 5 - 2^130 = h - p; the carry out of its top limb says whether h >= p.
    const g = MINUS_P;
    c = 5;
    for (let i = 0; i < 10; i++) {
      const v = h[i]! + c;
      c = v >>> 13;
      g[i] = v & LIMB_MASK;
    }
    // Select g when h >= p (c = 1) without a branch.
    const useG = -c;
    for (let i = 0; i < 10; i++) h[i] = (h[i]! & ~useG) | (g[i]! & useG);
    // The low 128 bits as eight 16-bit words, plus s, modulo 2^128.
    const w = WORDS;
    w[0] = h[0]! | (h[1]! << 13);
    w[1] = (h[1]! >>> 3) | (h[2]! << 10);
    w[2] = (h[2]! >>> 6) | (h[3]! << 7);
    w[3] = (h[3]! >>> 9) | (h[4]! << 4);
    w[4] = (h[4]! >>> 12) | (h[5]! << 1) | (h[6]! << 14);
    w[5] = (h[6]! >>> 2) | (h[7]! << 11);
    w[6] = (h[7]! >>> 5) | (h[8]! << 8);
    w[7] = (h[8]! >>> 8) | (h[9]! << 5);
    const s = this.s;
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const f = w[i]! + s[i]! + carry;
      carry = f >>> 16;
      out[offset + 2 * i] = f & 0xff;
      out[offset + 2 * i + 1] = (f >>> 8) & 0xff;
    }
  }
}

/** The zero-padded last block; one per process (used within one synchronous call). */
const PARTIAL = new Uint8Array(16);
/** h - p in finish(); one per process. */
const MINUS_P = new Int32Array(10);
/** The tag's eight 16-bit words before s is added (a Uint16Array keeps the low 16 bits of each). */
const WORDS = new Uint16Array(8);
/** The clamped r of init(); one per process. */
const CLAMPED = new Uint8Array(16);
/** RFC 8439 §2.5: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff, byte by byte (little-endian). */
const CLAMP = Uint8Array.of(255, 255, 255, 15, 252, 255, 255, 15, 252, 255, 255, 15, 252, 255, 255, 15);
