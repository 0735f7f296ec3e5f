/**
 * The ChaCha20 block function (RFC 8439 §2.3) in plain JS, for QUIC header protection (RFC 9001
 * §5.4.4): one block per packet, of which 5 bytes are used. (Payloads go through the WebAssembly
 * ChaCha20-Poly1305 of wasm-chacha20-poly1305.ts.)
 *
 * Written in plain JS because creating a node:crypto cipher per packet costs several microseconds,
 * several times the block computation itself. ChaCha20 uses only 32-bit additions, rotations and
 * XORs (no table lookups or data-dependent branches), so this code runs in constant time with
 * respect to key, nonce and data.
 */

/** The key as eight little-endian 32-bit words (RFC 8439 §2.3). */
export function chacha20KeyWords(key: Uint8Array): Uint32Array {
  if (key.length !== 32) throw new RangeError(`ChaCha20 key must be 32 bytes, got ${key.length}`);
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = readLE(key, i * 4);
  return words;
}

function readLE(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/**
 * One keystream block as sixteen 32-bit words (RFC 8439 §2.3; the serialized block is each word
 * little-endian) into `out`, for the block counter and the nonce as three little-endian words.
 */
function chacha20Block(
  keyWords: Uint32Array,
  counter: number,
  n0: number,
  n1: number,
  n2: number,
  out: Uint32Array,
): void {
  // RFC 8439 §2.3: constants "expand 32-byte k", key, counter, nonce.
  const j0 = 0x61707865;
  const j1 = 0x3320646e;
  const j2 = 0x79622d32;
  const j3 = 0x6b206574;
  const j4 = keyWords[0]!;
  const j5 = keyWords[1]!;
  const j6 = keyWords[2]!;
  const j7 = keyWords[3]!;
  const j8 = keyWords[4]!;
  const j9 = keyWords[5]!;
  const j10 = keyWords[6]!;
  const j11 = keyWords[7]!;
  const j12 = counter;
  const j13 = n0;
  const j14 = n1;
  const j15 = n2;
  let x0 = j0;
  let x1 = j1;
  let x2 = j2;
  let x3 = j3;
  let x4 = j4;
  let x5 = j5;
  let x6 = j6;
  let x7 = j7;
  let x8 = j8;
  let x9 = j9;
  let x10 = j10;
  let x11 = j11;
  let x12 = j12;
  let x13 = j13;
  let x14 = j14;
  let x15 = j15;
  let t = 0;
  // 20 rounds: 10 iterations of a column round and a diagonal round (RFC 8439 §2.3), each made of
  // quarter rounds a += b; d ^= a; d <<<= 16; c += d; b ^= c; b <<<= 12; a += b; d ^= a; d <<<= 8;
  // c += d; b ^= c; b <<<= 7 (§2.1).
  for (let round = 0; round < 10; round++) {
    // Column round: (0,4,8,12) (1,5,9,13) (2,6,10,14) (3,7,11,15).
    x0 = (x0 + x4) | 0;
    t = x12 ^ x0;
    x12 = (t << 16) | (t >>> 16);
    x8 = (x8 + x12) | 0;
    t = x4 ^ x8;
    x4 = (t << 12) | (t >>> 20);
    x0 = (x0 + x4) | 0;
    t = x12 ^ x0;
    x12 = (t << 8) | (t >>> 24);
    x8 = (x8 + x12) | 0;
    t = x4 ^ x8;
    x4 = (t << 7) | (t >>> 25);

    x1 = (x1 + x5) | 0;
    t = x13 ^ x1;
    x13 = (t << 16) | (t >>> 16);
    x9 = (x9 + x13) | 0;
    t = x5 ^ x9;
    x5 = (t << 12) | (t >>> 20);
    x1 = (x1 + x5) | 0;
    t = x13 ^ x1;
    x13 = (t << 8) | (t >>> 24);
    x9 = (x9 + x13) | 0;
    t = x5 ^ x9;
    x5 = (t << 7) | (t >>> 25);

    x2 = (x2 + x6) | 0;
    t = x14 ^ x2;
    x14 = (t << 16) | (t >>> 16);
    x10 = (x10 + x14) | 0;
    t = x6 ^ x10;
    x6 = (t << 12) | (t >>> 20);
    x2 = (x2 + x6) | 0;
    t = x14 ^ x2;
    x14 = (t << 8) | (t >>> 24);
    x10 = (x10 + x14) | 0;
    t = x6 ^ x10;
    x6 = (t << 7) | (t >>> 25);

    x3 = (x3 + x7) | 0;
    t = x15 ^ x3;
    x15 = (t << 16) | (t >>> 16);
    x11 = (x11 + x15) | 0;
    t = x7 ^ x11;
    x7 = (t << 12) | (t >>> 20);
    x3 = (x3 + x7) | 0;
    t = x15 ^ x3;
    x15 = (t << 8) | (t >>> 24);
    x11 = (x11 + x15) | 0;
    t = x7 ^ x11;
    x7 = (t << 7) | (t >>> 25);

    // Diagonal round: (0,5,10,15) (1,6,11,12) (2,7,8,13) (3,4,9,14).
    x0 = (x0 + x5) | 0;
    t = x15 ^ x0;
    x15 = (t << 16) | (t >>> 16);
    x10 = (x10 + x15) | 0;
    t = x5 ^ x10;
    x5 = (t << 12) | (t >>> 20);
    x0 = (x0 + x5) | 0;
    t = x15 ^ x0;
    x15 = (t << 8) | (t >>> 24);
    x10 = (x10 + x15) | 0;
    t = x5 ^ x10;
    x5 = (t << 7) | (t >>> 25);

    x1 = (x1 + x6) | 0;
    t = x12 ^ x1;
    x12 = (t << 16) | (t >>> 16);
    x11 = (x11 + x12) | 0;
    t = x6 ^ x11;
    x6 = (t << 12) | (t >>> 20);
    x1 = (x1 + x6) | 0;
    t = x12 ^ x1;
    x12 = (t << 8) | (t >>> 24);
    x11 = (x11 + x12) | 0;
    t = x6 ^ x11;
    x6 = (t << 7) | (t >>> 25);

    x2 = (x2 + x7) | 0;
    t = x13 ^ x2;
    x13 = (t << 16) | (t >>> 16);
    x8 = (x8 + x13) | 0;
    t = x7 ^ x8;
    x7 = (t << 12) | (t >>> 20);
    x2 = (x2 + x7) | 0;
    t = x13 ^ x2;
    x13 = (t << 8) | (t >>> 24);
    x8 = (x8 + x13) | 0;
    t = x7 ^ x8;
    x7 = (t << 7) | (t >>> 25);

    x3 = (x3 + x4) | 0;
    t = x14 ^ x3;
    x14 = (t << 16) | (t >>> 16);
    x9 = (x9 + x14) | 0;
    t = x4 ^ x9;
    x4 = (t << 12) | (t >>> 20);
    x3 = (x3 + x4) | 0;
    t = x14 ^ x3;
    x14 = (t << 8) | (t >>> 24);
    x9 = (x9 + x14) | 0;
    t = x4 ^ x9;
    x4 = (t << 7) | (t >>> 25);
  }
  // RFC 8439 §2.3: add the input state.
  out[0] = x0 + j0;
  out[1] = x1 + j1;
  out[2] = x2 + j2;
  out[3] = x3 + j3;
  out[4] = x4 + j4;
  out[5] = x5 + j5;
  out[6] = x6 + j6;
  out[7] = x7 + j7;
  out[8] = x8 + j8;
  out[9] = x9 + j9;
  out[10] = x10 + j10;
  out[11] = x11 + j11;
  out[12] = x12 + j12;
  out[13] = x13 + j13;
  out[14] = x14 + j14;
  out[15] = x15 + j15;
}

/** The block of chacha20Mask; one per process (used within one synchronous call). */
const maskBlock = new Uint32Array(16);

/**
 * Writes the first 5 bytes of the ChaCha20 keystream block into `out[0..4]`, for the counter and
 * nonce taken from the 16 bytes at buf[offset..offset+16): counter = bytes 0..3 (little-endian),
 * nonce = bytes 4..15 (RFC 9001 §5.4.4).
 */
export function chacha20Mask(keyWords: Uint32Array, buf: Uint8Array, offset: number, out: Uint8Array): void {
  const b = maskBlock;
  chacha20Block(
    keyWords,
    readLE(buf, offset),
    readLE(buf, offset + 4),
    readLE(buf, offset + 8),
    readLE(buf, offset + 12),
    b,
  );
  const w0 = b[0]!;
  out[0] = w0 & 0xff;
  out[1] = (w0 >>> 8) & 0xff;
  out[2] = (w0 >>> 16) & 0xff;
  out[3] = w0 >>> 24;
  out[4] = b[1]! & 0xff;
}
