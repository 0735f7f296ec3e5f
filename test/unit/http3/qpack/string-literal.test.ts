import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteReader, INCOMPLETE } from '../../../../src/http3/qpack/byte-reader.js';
import { ByteWriter } from '../../../../src/http3/qpack/byte-writer.js';
import {
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
  type QpackErrorCode,
  QpackUsageError,
} from '../../../../src/http3/qpack/errors.js';
import { readString, stringLength, writeString } from '../../../../src/http3/qpack/string-literal.js';
import { assertQpackError, hex, toHex } from './helpers.js';

function enc(flags: number, prefix: number, s: string, huffman = true): string {
  const w = new ByteWriter(1);
  writeString(w, flags, prefix, s, huffman);
  assert.equal(w.length, stringLength(prefix, s, huffman));
  return toHex(w.copy());
}

function dec(
  bytes: Uint8Array,
  prefix: number,
  max = 1000,
  code: QpackErrorCode = QPACK_DECOMPRESSION_FAILED,
): string {
  const r = new ByteReader(bytes, 0, bytes.length, code, false);
  const s = readString(r, prefix, max, 'test');
  assert.equal(r.pos, bytes.length);
  return s;
}

test('RFC 7541 C.4.1: "www.example.com" is Huffman-coded (12 bytes < 15), with the H bit', () => {
  assert.equal(enc(0, 8, 'www.example.com'), '8cf1e3c2e5f23a6ba0ab90f4ff');
  assert.equal(enc(0, 8, 'www.example.com', false), '0f7777772e6578616d706c652e636f6d');
  assert.equal(dec(hex('8cf1e3c2e5f23a6ba0ab90f4ff'), 8), 'www.example.com');
  assert.equal(dec(hex('0f7777772e6578616d706c652e636f6d'), 8), 'www.example.com');
});

test('Huffman is chosen only when strictly shorter', () => {
  // '0' has a 5-bit code: one byte either way, so raw.
  assert.equal(enc(0, 8, '0'), '0130');
  // '00' is 10 bits = 2 bytes Huffman vs 2 raw: raw.
  assert.equal(enc(0, 8, '00'), '023030');
  // '000' is 15 bits = 2 bytes < 3: Huffman.
  assert.equal(enc(0, 8, '000'), '820001');
  // Long codes make Huffman longer: '\x00' is 13 bits.
  assert.equal(enc(0, 8, '\u0000\u00ff'), '0200ff');
  assert.equal(enc(0, 8, ''), '00');
});

test('RFC 9204 §4.1.2: N-bit prefix strings put H and the length below the caller bits', () => {
  // 4-bit prefix (literal name): H is 0x08, length 3+; flags 0x20.
  assert.equal(enc(0x20, 4, 'ab', false), '226162');
  // 6-bit prefix (insert with literal name): H is 0x20, length 5+; flags 0x40.
  assert.equal(enc(0x40, 6, 'custom-key', false), '4a637573746f6d2d6b6579');
  assert.equal(enc(0x40, 6, 'custom-key'), '6825a849e95ba97d7f');
  assert.equal(dec(hex('6825a849e95ba97d7f'), 6), 'custom-key');
  // Length exactly at the prefix maximum (7 with a 3-bit length) needs a continuation byte.
  assert.equal(enc(0x20, 4, 'abcdefg', false), `2700${Buffer.from('abcdefg').toString('hex')}`);
});

test('octets above 0x7f survive; characters above U+00FF are a QpackUsageError', () => {
  const s = 'caf\u00e9 \u0080\u00ff';
  assert.equal(dec(hex(enc(0, 8, s)), 8), s);
  assert.equal(dec(hex(enc(0, 8, s, false)), 8), s);
  const long = `${'x'.repeat(40)}\u00e9`;
  assert.equal(dec(hex(enc(0, 8, long, false)), 8), long);
  for (const huffman of [true, false]) {
    assert.throws(
      () => enc(0, 8, 'caf\u20ac', huffman),
      (e) => e instanceof QpackUsageError && e.code === 'ERR_QPACK_INVALID_FIELD',
    );
  }
});

test('a string longer than the limit is refused from its length prefix, before its bytes arrive', () => {
  assertQpackError(() => dec(hex('05 6162636465'), 8, 4), QPACK_DECOMPRESSION_FAILED, /longer than 4/);
  assert.equal(dec(hex('05 6162636465'), 8, 5), 'abcde');
  // On a stream: 100 bytes announced, limit 50 -> an error now, not INCOMPLETE.
  const b = hex('64');
  const r = new ByteReader(b, 0, b.length, QPACK_ENCODER_STREAM_ERROR, true);
  assertQpackError(() => readString(r, 8, 50, 'v'), QPACK_ENCODER_STREAM_ERROR, /longer than 50/);
  // Within the limit: INCOMPLETE, needing the whole string.
  const r2 = new ByteReader(b, 0, b.length, QPACK_ENCODER_STREAM_ERROR, true);
  assert.throws(
    () => readString(r2, 8, 100, 'v'),
    (e) => e === INCOMPLETE,
  );
  assert.equal(r2.needed, 101);
  // Huffman: 10 bytes hold at least 3 symbols (30-bit codes); limit 2 refuses from the prefix.
  const r3 = new ByteReader(hex('8a'), 0, 1, QPACK_ENCODER_STREAM_ERROR, true);
  assertQpackError(() => readString(r3, 8, 2, 'v'), QPACK_ENCODER_STREAM_ERROR, /longer than 2/);
  // Huffman whose decoded length is over the limit only after decoding.
  assertQpackError(() => dec(hex('820001'), 8, 2), QPACK_DECOMPRESSION_FAILED, /longer than 2/);
});

test('invalid Huffman in a string is an error of the reader context', () => {
  assertQpackError(() => dec(hex('81 18'), 8), QPACK_DECOMPRESSION_FAILED, /Huffman/);
  assertQpackError(
    () => dec(hex('84 ffffffff'), 8, 100, QPACK_ENCODER_STREAM_ERROR),
    QPACK_ENCODER_STREAM_ERROR,
    /Huffman/,
  );
});
