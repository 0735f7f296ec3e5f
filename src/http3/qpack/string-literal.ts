/**
 * String literals (RFC 7541 §5.2 with RFC 9204 §4.1.2's N-bit prefix): an 'H' flag (Huffman-coded
 * or not), the encoded length as an (N-1)-bit prefixed integer, then the bytes. Strings are octets,
 * one code unit per byte (latin1.ts).
 */
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { QpackUsageError } from './errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, huffmanMinDecodedLength } from './huffman.js';
import { isLatin1, latin1ToString, writeLatin1 } from './latin1.js';
import { integerLength, readInteger, writeInteger } from './prefixed-integer.js';

function invalidField(s: string): never {
  throw new QpackUsageError(
    'ERR_QPACK_INVALID_FIELD',
    `field name or value has a character above U+00FF (fields are octets): ${JSON.stringify(s.slice(0, 40))}`,
  );
}

/**
 * Writes `s` as an N-bit prefix string literal (`prefixBits` = N, 2..8, counting the H bit);
 * `flags` holds the bits above it. Huffman coding is used when allowed and strictly shorter.
 * Throws QpackUsageError if `s` is not octets.
 */
export function writeString(
  w: ByteWriter,
  flags: number,
  prefixBits: number,
  s: string,
  huffman: boolean,
): void {
  const hBit = 1 << (prefixBits - 1);
  const len = s.length;
  if (huffman) {
    const hlen = huffmanEncodedLength(s);
    if (hlen < 0) invalidField(s);
    if (hlen < len) {
      writeInteger(w, flags | hBit, prefixBits - 1, hlen);
      const o = w.reserve(hlen);
      w.commit(huffmanEncode(s, w.buf, o));
      return;
    }
  } else if (!isLatin1(s)) {
    invalidField(s);
  }
  writeInteger(w, flags, prefixBits - 1, len);
  const o = w.reserve(len);
  w.commit(writeLatin1(w.buf, o, s));
}

/** The bytes `writeString` takes for `s` (octets) with an N-bit prefix. */
export function stringLength(prefixBits: number, s: string, huffman: boolean): number {
  let len = s.length;
  if (huffman) len = Math.min(len, huffmanEncodedLength(s));
  return integerLength(prefixBits - 1, len) + len;
}

/**
 * Reads an N-bit prefix string literal whose first byte is at the cursor. `maxLength` bounds the
 * decoded length: a longer string is an error of the reader's context, reported as soon as the
 * length prefix shows it, before its bytes are awaited (so an instruction stream never buffers more
 * than the limit allows).
 */
export function readString(r: ByteReader, prefixBits: number, maxLength: number, what: string): string {
  const huffman = (r.peek(what) & (1 << (prefixBits - 1))) !== 0;
  const len = readInteger(r, prefixBits - 1, what);
  if (!huffman) {
    if (len > maxLength) r.fail(`${what} longer than ${maxLength} bytes`);
    const start = r.take(len, what);
    const recent = r.literals;
    if (recent === undefined) return latin1ToString(r.buf, start, start + len);
    return recent.get(r.buf, start, len, false) ?? recent.put(latin1ToString(r.buf, start, start + len));
  }
  if (huffmanMinDecodedLength(len) > maxLength) r.fail(`${what} longer than ${maxLength} bytes`);
  const start = r.take(len, what);
  const recent = r.literals;
  const known = recent?.get(r.buf, start, len, true);
  // A cached string came from these very bytes: it was checked against a limit at least as large
  // when it was decoded, unless this reader's limit is smaller.
  if (known !== undefined && known.length <= maxLength) return known;
  const s = huffmanDecode(r.buf, start, start + len);
  if (s === undefined) r.fail(`${what}: invalid Huffman encoding`);
  if (s.length > maxLength) r.fail(`${what} longer than ${maxLength} bytes`);
  return recent === undefined ? s : recent.put(s);
}
