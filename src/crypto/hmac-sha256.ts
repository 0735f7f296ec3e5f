/**
 * HMAC-SHA256 (RFC 2104 over SHA-256, FIPS 180-4 §6.2) in TypeScript, for the short inputs of the key
 * schedule: HKDF-Extract and HKDF-Expand-Label (RFC 8446 §7.1, RFC 9001 §5.1) hash one or two 64-byte
 * blocks. node:crypto's createHmac() costs a fixed few microseconds per object whatever it hashes
 * (about 40 per connection on each side, issue 13); here a call costs the compressions only.
 * Not constant time with respect to the message length (public: labels, lengths), which is all the
 * key schedule needs; the key and data bytes go through the same operations whatever their values.
 */

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** FIPS 180-4 §5.3.3: the initial hash value. */
const H0 = new Uint32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const BLOCK = 64;
const W = new Uint32Array(64);

/** One compression (FIPS 180-4 §6.2.2) of the 64 bytes of `block` at `offset` into `state`. */
function compress(state: Uint32Array, block: Uint8Array, offset: number): void {
  const w = W;
  for (let t = 0; t < 16; t++) {
    const i = offset + 4 * t;
    w[t] = (block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** Scratch for the padded tail of a message (at most two blocks). */
const tail = new Uint8Array(2 * BLOCK);

/**
 * Continues `state` (which has absorbed `prefixBytes` bytes, a multiple of 64) over `data`, pads
 * (FIPS 180-4 §5.1.1) and writes the 32-byte digest to `out` at `outOffset`.
 */
function finish(
  state: Uint32Array,
  prefixBytes: number,
  data: Uint8Array,
  dataLength: number,
  out: Uint8Array,
  outOffset: number,
): void {
  let i = 0;
  for (; i + BLOCK <= dataLength; i += BLOCK) compress(state, data, i);
  const rest = dataLength - i;
  tail.fill(0);
  for (let j = 0; j < rest; j++) tail[j] = data[i + j]!;
  tail[rest] = 0x80;
  const blocks = rest + 9 <= BLOCK ? 1 : 2;
  const bits = (prefixBytes + dataLength) * 8;
  const end = blocks * BLOCK;
  // The length in bits, big-endian 64-bit (messages here are far below 2^32 bits... and 2^53 in any case).
  const hi = Math.floor(bits / 0x100000000);
  tail[end - 8] = hi >>> 24;
  tail[end - 7] = (hi >>> 16) & 0xff;
  tail[end - 6] = (hi >>> 8) & 0xff;
  tail[end - 5] = hi & 0xff;
  tail[end - 4] = (bits >>> 24) & 0xff;
  tail[end - 3] = (bits >>> 16) & 0xff;
  tail[end - 2] = (bits >>> 8) & 0xff;
  tail[end - 1] = bits & 0xff;
  compress(state, tail, 0);
  if (blocks === 2) compress(state, tail, BLOCK);
  for (let j = 0; j < 8; j++) {
    const v = state[j]!;
    out[outOffset + 4 * j] = v >>> 24;
    out[outOffset + 4 * j + 1] = (v >>> 16) & 0xff;
    out[outOffset + 4 * j + 2] = (v >>> 8) & 0xff;
    out[outOffset + 4 * j + 3] = v & 0xff;
  }
}

const padded = new Uint8Array(BLOCK);
const inner = new Uint32Array(8);
const outer = new Uint32Array(8);
const innerDigest = new Uint8Array(32);
/**
 * The inner and outer states after the padded block of the last few keys (RFC 2104 §2: they depend
 * on the key only). A packet key, IV and header protection key (RFC 9001 §5.1) come from one secret
 * in a row, and a TLS 1.3 handshake returns to a secret a few steps later (the handshake secret for
 * "derived", a handshake traffic secret for its Finished key, RFC 8446 §7.1, §4.4.4): with room for
 * four keys most calls skip the two compressions of the pads (issue 13). Compared by value, not
 * identity: a caller may reuse a buffer for another key. Replaced round robin.
 */
const CACHED_KEYS = 4;
const cachedKey = Array.from({ length: CACHED_KEYS }, () => new Uint8Array(BLOCK));
const cachedKeyLength = new Int32Array(CACHED_KEYS).fill(-1);
const cachedInner = Array.from({ length: CACHED_KEYS }, () => new Uint32Array(8));
const cachedOuter = Array.from({ length: CACHED_KEYS }, () => new Uint32Array(8));
let nextSlot = 0;

/** The cache slot holding key `k` (same length, same bytes), or -1. */
function cachedSlot(k: Uint8Array): number {
  for (let s = 0; s < CACHED_KEYS; s++) {
    if (cachedKeyLength[s] !== k.length) continue;
    const c = cachedKey[s]!;
    let diff = 0;
    for (let i = 0; i < k.length; i++) diff |= k[i]! ^ c[i]!;
    if (diff === 0) return s;
  }
  return -1;
}

/** Computes the pad states of `k` (at most one block long) into a slot, replacing its oldest key. */
function cacheKey(k: Uint8Array): number {
  const s = nextSlot;
  nextSlot = (nextSlot + 1) % CACHED_KEYS;
  padded.fill(0x36);
  for (let i = 0; i < k.length; i++) padded[i] = k[i]! ^ 0x36;
  const ki = cachedInner[s]!;
  ki.set(H0);
  compress(ki, padded, 0);
  padded.fill(0x5c);
  for (let i = 0; i < k.length; i++) padded[i] = k[i]! ^ 0x5c;
  const ko = cachedOuter[s]!;
  ko.set(H0);
  compress(ko, padded, 0);
  padded.fill(0);
  const c = cachedKey[s]!;
  c.fill(0);
  c.set(k);
  cachedKeyLength[s] = k.length;
  return s;
}

/** HMAC-SHA256(key, data) (RFC 2104): a new 32-byte Buffer, not from the shared pool. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(32);
  hmacSha256Into(key, data, data.length, out);
  return out;
}

/** Scratch for a digest that is truncated (hmacSha256Into with a shorter `out`). */
const fullDigest = new Uint8Array(32);

/**
 * HMAC-SHA256(key, data[0, dataLength)) (RFC 2104) written to `out`, truncated to its length (at
 * most 32): no allocation, for callers that copy the result anyway or build `data` in a scratch
 * buffer (HKDF-Expand-Label of packet keys, issue 13).
 */
export function hmacSha256Into(key: Uint8Array, data: Uint8Array, dataLength: number, out: Uint8Array): void {
  if (out.length > 32 || dataLength > data.length) throw new RangeError('hmacSha256Into: bad lengths');
  // RFC 2104 §2: a key longer than the block is hashed first.
  let k = key;
  if (k.length > BLOCK) {
    const hashed = new Uint8Array(32);
    inner.set(H0);
    finish(inner, 0, k, k.length, hashed, 0);
    k = hashed;
  }
  let slot = cachedSlot(k);
  if (slot < 0) slot = cacheKey(k);
  inner.set(cachedInner[slot]!);
  outer.set(cachedOuter[slot]!);
  finish(inner, BLOCK, data, dataLength, innerDigest, 0);
  if (out.length === 32) {
    finish(outer, BLOCK, innerDigest, 32, out, 0);
  } else {
    finish(outer, BLOCK, innerDigest, 32, fullDigest, 0);
    for (let i = 0; i < out.length; i++) out[i] = fullDigest[i]!;
    fullDigest.fill(0);
  }
  inner.fill(0);
  outer.fill(0);
  innerDigest.fill(0);
  tail.fill(0);
}
