/**
 * Prefixed integers (RFC 7541 §5.1, used unmodified by RFC 9204 §4.1.1): a value in the low N bits
 * of a byte whose high bits belong to the representation, continued in 7-bit groups when it does
 * not fit.
 */
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';

/**
 * Continuation bytes accepted after the prefix. RFC 9204 §4.1.1 requires decoding integers of up to
 * 62 bits: 9 groups of 7 bits; one more allows a redundant zero group. Longer encodings are errors
 * (RFC 9204 §8.2.2 "Implementation Limits").
 */
const MAX_CONTINUATION_BYTES = 10;

/** Writes `value` with an N-bit prefix; `flags` holds the bits above the prefix. */
export function writeInteger(w: ByteWriter, flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    w.u8(flags | value);
    return;
  }
  w.u8(flags | max);
  value -= max;
  while (value >= 128) {
    w.u8((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  w.u8(value);
}

/** The number of bytes `writeInteger` takes for `value` with an N-bit prefix. */
export function integerLength(prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let n = 2;
  for (value -= max; value >= 128; value = Math.floor(value / 128)) n++;
  return n;
}

/**
 * Reads an integer with an N-bit prefix, consuming its first byte (whose high bits the caller has
 * already looked at). Values above Number.MAX_SAFE_INTEGER are refused: no QPACK field can hold one
 * that is valid here (indices, capacities and lengths are bounded by the table and the input, and
 * tsquic stream IDs are below 2^53), so refusing is the "value larger than it is able to decode" of
 * RFC 9204 §8.2.2.
 */
export function readInteger(r: ByteReader, prefixBits: number, what: string): number {
  const max = (1 << prefixBits) - 1;
  let value = r.u8(what) & max;
  if (value < max) return value;
  let multiplier = 1;
  for (let i = 0; i < MAX_CONTINUATION_BYTES; i++) {
    const b = r.u8(what);
    value += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) {
      if (value > Number.MAX_SAFE_INTEGER) r.fail(`${what} too large`);
      return value;
    }
    multiplier *= 128;
  }
  return r.fail(`${what}: integer encoding too long`);
}
