import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferReader, TruncatedInputError } from '../../../src/wire/buffer-reader.js';
import { BufferWriter } from '../../../src/wire/buffer-writer.js';
import {
  MAX_VARINT,
  readVarint,
  varintLength,
  writeVarint,
  writeVarintFixed,
} from '../../../src/wire/varint.js';

const hex = (s: string) => Buffer.from(s, 'hex');

test('RFC 9000 A.1: the four example encodings decode to their values', () => {
  assert.deepEqual(readVarint(hex('c2197c5eff14e88c'), 0), { value: Number(151288809941952652n), length: 8 });
  assert.equal(new BufferReader(hex('c2197c5eff14e88c')).varintBig(), 151288809941952652n);
  assert.deepEqual(readVarint(hex('9d7f3e7d'), 0), { value: 494878333, length: 4 });
  assert.deepEqual(readVarint(hex('7bbd'), 0), { value: 15293, length: 2 });
  assert.deepEqual(readVarint(hex('25'), 0), { value: 37, length: 1 });
  // The non-minimal two-byte encoding of 37 is valid.
  assert.deepEqual(readVarint(hex('4025'), 0), { value: 37, length: 2 });
  const r = new BufferReader(hex('4025'));
  assert.equal(r.varint(), 37);
  assert.equal(r.offset, 2);
});

test('RFC 9000 A.1: the example values encode to the example bytes (minimal encoding)', () => {
  const cases: Array<[number | bigint, string]> = [
    [151288809941952652n, 'c2197c5eff14e88c'],
    [494878333, '9d7f3e7d'],
    [15293, '7bbd'],
    [37, '25'],
  ];
  for (const [value, bytes] of cases) {
    const buf = new Uint8Array(8);
    const end = writeVarint(buf, 0, value);
    assert.equal(Buffer.from(buf.subarray(0, end)).toString('hex'), bytes);
    const w = BufferWriter.alloc(8);
    w.varint(value);
    assert.equal(Buffer.from(w.toBytes()).toString('hex'), bytes);
  }
  const w = BufferWriter.alloc(2);
  w.varintFixed(37, 2);
  assert.equal(Buffer.from(w.toBytes()).toString('hex'), '4025');
});

test('all four lengths at their boundaries', () => {
  const cases: Array<[number | bigint, 1 | 2 | 4 | 8]> = [
    [0, 1],
    [63, 1],
    [64, 2],
    [16383, 2],
    [16384, 4],
    [2 ** 30 - 1, 4],
    [2 ** 30, 8],
    [Number.MAX_SAFE_INTEGER, 8],
    [MAX_VARINT, 8],
    [0n, 1],
    [64n, 2],
    [16384n, 4],
    [(1n << 62n) - 1n, 8],
  ];
  for (const [value, length] of cases) {
    assert.equal(varintLength(value), length, `length of ${value}`);
    const buf = new Uint8Array(8);
    assert.equal(writeVarint(buf, 0, value), length);
    assert.equal(buf[0]! >> 6, Math.log2(length), `prefix for ${value}`);
    const r = new BufferReader(buf, 0, length);
    assert.equal(r.varintBig(), BigInt(value));
    if (typeof value === 'number') assert.deepEqual(readVarint(buf, 0), { value, length });
  }
  const max = new Uint8Array(8);
  writeVarint(max, 0, (1n << 62n) - 1n);
  assert.equal(Buffer.from(max).toString('hex'), 'ffffffffffffffff');
  assert.equal(MAX_VARINT, 2 ** 62 - 512);
});

test('values of 2^62 and above, negative or fractional are rejected on encode', () => {
  for (const bad of [2 ** 62, 2 ** 63, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1n << 62n, -1n]) {
    assert.throws(() => varintLength(bad), RangeError, `varintLength(${bad})`);
    assert.throws(() => writeVarint(new Uint8Array(8), 0, bad), RangeError, `writeVarint(${bad})`);
    assert.throws(() => BufferWriter.alloc(8).varint(bad), RangeError, `BufferWriter.varint(${bad})`);
  }
});

test('non-minimal encodings with writeVarintFixed; too-short lengths rejected', () => {
  const buf = new Uint8Array(8);
  assert.equal(writeVarintFixed(buf, 0, 37, 8), 8);
  assert.equal(Buffer.from(buf).toString('hex'), 'c000000000000025');
  assert.deepEqual(readVarint(buf, 0), { value: 37, length: 8 });
  assert.equal(writeVarintFixed(buf, 0, 16383, 4), 4);
  assert.equal(Buffer.from(buf.subarray(0, 4)).toString('hex'), '80003fff');
  assert.throws(() => writeVarintFixed(buf, 0, 64, 1), RangeError);
  assert.throws(() => writeVarintFixed(buf, 0, 16384, 2), RangeError);
  assert.throws(() => BufferWriter.alloc(8).varintFixed(2 ** 30, 4), RangeError);
});

test('truncated varints throw TruncatedInputError at every length', () => {
  for (const bytes of ['', '40', '80ffff', 'c0ffffffffffff']) {
    assert.throws(() => readVarint(hex(bytes), 0), TruncatedInputError, bytes);
    const r = new BufferReader(hex(bytes));
    assert.throws(() => r.varint(), TruncatedInputError, bytes);
    assert.throws(() => r.varintBig(), TruncatedInputError, bytes);
    assert.equal(r.offset, 0);
  }
  // The reader's end bounds the read even when the buffer continues.
  assert.throws(() => new BufferReader(hex('4025'), 0, 1).varint(), TruncatedInputError);
  assert.throws(() => readVarint(hex('25'), 1), TruncatedInputError);
});

test('writeVarint refuses to write past the end of the buffer', () => {
  assert.throws(() => writeVarint(new Uint8Array(3), 0, 16384), RangeError);
  assert.throws(() => writeVarint(new Uint8Array(7), 0, 1n << 40n), RangeError);
  const w = new BufferWriter(new Uint8Array(3));
  w.u8(1);
  assert.throws(() => w.varint(16384), RangeError);
  assert.equal(w.offset, 1);
});

test('8-byte values above 2^53 read as the nearest double', () => {
  const buf = new Uint8Array(8);
  writeVarint(buf, 0, (1n << 62n) - 1n);
  assert.equal(readVarint(buf, 0).value, 2 ** 62);
  writeVarint(buf, 0, 2n ** 53n + 1n);
  assert.equal(new BufferReader(buf).varint(), 2 ** 53);
  assert.equal(new BufferReader(buf).varintBig(), 2n ** 53n + 1n);
});
