import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteReader, INCOMPLETE } from '../../../../src/http3/qpack/byte-reader.js';
import { ByteWriter } from '../../../../src/http3/qpack/byte-writer.js';
import {
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
} from '../../../../src/http3/qpack/errors.js';
import { integerLength, readInteger, writeInteger } from '../../../../src/http3/qpack/prefixed-integer.js';
import { assertQpackError, hex, toHex } from './helpers.js';

function enc(flags: number, prefix: number, v: number): string {
  const w = new ByteWriter(1);
  writeInteger(w, flags, prefix, v);
  assert.equal(w.length, integerLength(prefix, v));
  return toHex(w.copy());
}

function dec(bytes: Uint8Array, prefix: number): { value: number; pos: number } {
  const r = new ByteReader(bytes, 0, bytes.length, QPACK_DECOMPRESSION_FAILED, false);
  const value = readInteger(r, prefix, 'test');
  return { value, pos: r.pos };
}

test('RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit prefix', () => {
  assert.equal(enc(0, 5, 10), '0a');
  assert.equal(enc(0, 5, 1337), '1f9a0a');
  assert.equal(enc(0, 8, 42), '2a');
  assert.equal(enc(0xe0, 5, 10), 'ea', 'flags above the prefix are kept');
  assert.deepEqual(dec(hex('0a'), 5), { value: 10, pos: 1 });
  assert.deepEqual(dec(hex('ff9a0a'), 5), { value: 1337, pos: 3 }, 'high bits belong to the caller');
  assert.deepEqual(dec(hex('2a'), 8), { value: 42, pos: 1 });
});

test('boundaries of every prefix size round-trip', () => {
  for (let prefix = 1; prefix <= 8; prefix++) {
    const max = (1 << prefix) - 1;
    for (const v of [0, max - 1, max, max + 1, max + 127, max + 128, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
      if (v < 0) continue;
      const w = new ByteWriter(1);
      writeInteger(w, 0, prefix, v);
      assert.deepEqual(dec(w.copy(), prefix), { value: v, pos: w.length }, `prefix ${prefix} value ${v}`);
    }
  }
});

test('RFC 9204 §4.1.1: a 62-bit integer is decoded up to 2^53; beyond, or too long an encoding, is an error', () => {
  // 2^53 - 1 with an 8-bit prefix: 255 + continuation.
  const w = new ByteWriter(1);
  writeInteger(w, 0, 8, Number.MAX_SAFE_INTEGER);
  assert.equal(dec(w.copy(), 8).value, Number.MAX_SAFE_INTEGER);
  // 2^62 - 1: valid on the wire but above what any QPACK field here can hold.
  assertQpackError(
    () => dec(hex('ff 80 ff ff ff ff ff ff ff 3f'), 8),
    QPACK_DECOMPRESSION_FAILED,
    /too large/,
  );
  // Eleven continuation bytes (zeros), however small the value.
  assertQpackError(
    () => dec(hex('1f 80 80 80 80 80 80 80 80 80 80 00'), 5),
    QPACK_DECOMPRESSION_FAILED,
    /too long/,
  );
  // A redundant zero group is accepted.
  assert.deepEqual(dec(hex('1f 81 00'), 5), { value: 32, pos: 3 });
});

test('truncated integers: an error in a complete section, INCOMPLETE (with the bytes needed) on a stream', () => {
  assertQpackError(() => dec(hex('1f 9a'), 5), QPACK_DECOMPRESSION_FAILED, /truncated/);
  const bytes = hex('1f 9a');
  const r = new ByteReader(bytes, 0, bytes.length, QPACK_ENCODER_STREAM_ERROR, true);
  assert.throws(
    () => readInteger(r, 5, 'x'),
    (e) => e === INCOMPLETE,
  );
  assert.equal(r.needed, 3);
});
