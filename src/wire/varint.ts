/**
 * QUIC variable-length integers (RFC 9000 §16): 1, 2, 4 or 8 bytes, the two most significant bits
 * of the first byte giving the length (00, 01, 10, 11), the value in the remaining 6, 14, 30 or 62
 * bits, network byte order.
 */
import { TruncatedInputError } from './buffer-reader.js';

/**
 * The largest varint value that a JS number can hold exactly: 2^62 - 512, the largest double below
 * 2^62 (2^62 - 1 itself is not representable and would round up to 2^62, which does not encode).
 * Use it as "effectively unlimited"; `writeVarint(MAX_VARINT)` works. Exact 2^62 - 1 needs a bigint.
 */
export const MAX_VARINT: number = 2 ** 62 - 512;

const TWO_POW_62 = 2 ** 62;
const TWO_POW_62N = 1n << 62n;
const TWO_POW_32 = 0x1_0000_0000;

/** Encoded size of `v`. Throws RangeError if `v` is negative, not an integer, or >= 2^62. */
export function varintLength(v: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof v === 'number') {
    if (v < 0x40 && v >= 0 && (v | 0) === v) return 1;
    if (!Number.isInteger(v) || v < 0 || v >= TWO_POW_62) {
      throw new RangeError(`varint out of range: ${v}`);
    }
    if (v < 0x4000) return 2;
    if (v < 0x4000_0000) return 4;
    return 8;
  }
  if (v < 0n || v >= TWO_POW_62N) throw new RangeError(`varint out of range: ${v}`);
  if (v < 0x40n) return 1;
  if (v < 0x4000n) return 2;
  if (v < 0x4000_0000n) return 4;
  return 8;
}

/**
 * Writes `v` with exactly `length` bytes at `offset` (RFC 9000 §16 allows non-minimal encodings).
 * Returns the new offset. Throws RangeError if `v` does not fit `length` or `buf` is too short.
 * `v` must already be a valid varint (checked by the callers below).
 */
function writeWithLength(buf: Uint8Array, offset: number, v: number, length: 1 | 2 | 4 | 8): number {
  if (offset < 0 || offset + length > buf.length) {
    throw new RangeError(`varint: ${length} bytes do not fit at offset ${offset} of ${buf.length}`);
  }
  switch (length) {
    case 1:
      buf[offset] = v;
      return offset + 1;
    case 2:
      buf[offset] = 0x40 | (v >>> 8);
      buf[offset + 1] = v & 0xff;
      return offset + 2;
    case 4:
      buf[offset] = 0x80 | (v >>> 24);
      buf[offset + 1] = (v >>> 16) & 0xff;
      buf[offset + 2] = (v >>> 8) & 0xff;
      buf[offset + 3] = v & 0xff;
      return offset + 4;
    default: {
      const hi = Math.floor(v / TWO_POW_32);
      return writeHalves(buf, offset, hi, v - hi * TWO_POW_32);
    }
  }
}

/** Writes `v` in its minimal encoding at `offset`; returns the new offset. Throws RangeError. */
export function writeVarint(buf: Uint8Array, offset: number, v: number | bigint): number {
  const length = varintLength(v);
  if (typeof v === 'number') return writeWithLength(buf, offset, v, length);
  if (length < 8) return writeWithLength(buf, offset, Number(v), length);
  if (offset < 0 || offset + 8 > buf.length) {
    throw new RangeError(`varint: 8 bytes do not fit at offset ${offset} of ${buf.length}`);
  }
  return writeHalves(buf, offset, Number(v >> 32n), Number(v & 0xffff_ffffn));
}

/** Writes the 8-byte form from its high (< 2^30) and low 32-bit halves. */
function writeHalves(buf: Uint8Array, offset: number, hi: number, lo: number): number {
  buf[offset] = 0xc0 | (hi >>> 24);
  buf[offset + 1] = (hi >>> 16) & 0xff;
  buf[offset + 2] = (hi >>> 8) & 0xff;
  buf[offset + 3] = hi & 0xff;
  buf[offset + 4] = lo >>> 24;
  buf[offset + 5] = (lo >>> 16) & 0xff;
  buf[offset + 6] = (lo >>> 8) & 0xff;
  buf[offset + 7] = lo & 0xff;
  return offset + 8;
}

/**
 * Writes `v` using exactly `length` bytes (a non-minimal encoding when `length` is larger than
 * needed, RFC 9000 §16). Throws RangeError if it does not fit.
 */
export function writeVarintFixed(buf: Uint8Array, offset: number, v: number, length: 1 | 2 | 4 | 8): number {
  const needed = varintLength(v);
  if (needed > length || (length !== 1 && length !== 2 && length !== 4 && length !== 8)) {
    throw new RangeError(`varint ${v} does not fit in ${length} bytes`);
  }
  return writeWithLength(buf, offset, v, length);
}

/**
 * Reads the varint at `offset`. The value is a number, exact up to 2^53 (RFC 9000 §16 values up to
 * 2^62 - 1 are rounded to the nearest double beyond that). Throws TruncatedInputError.
 */
export function readVarint(buf: Uint8Array, offset: number): { value: number; length: number } {
  if (offset < 0 || offset >= buf.length) throw new TruncatedInputError();
  const first = buf[offset]!;
  const length = 1 << (first >> 6);
  if (offset + length > buf.length) throw new TruncatedInputError();
  let value: number;
  switch (length) {
    case 1:
      value = first;
      break;
    case 2:
      value = ((first & 0x3f) << 8) | buf[offset + 1]!;
      break;
    case 4:
      value =
        (first & 0x3f) * 0x100_0000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
      break;
    default: {
      const hi =
        (first & 0x3f) * 0x100_0000 + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
      const lo =
        buf[offset + 4]! * 0x100_0000 +
        ((buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!);
      value = hi * TWO_POW_32 + lo;
    }
  }
  return { value, length };
}
