import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferReader, TruncatedInputError } from '../../../src/wire/buffer-reader.js';
import { BufferWriter } from '../../../src/wire/buffer-writer.js';

const hex = (s: string) => Buffer.from(s, 'hex');

test('BufferReader reads fixed-width big-endian integers and tracks remaining', () => {
  const r = new BufferReader(hex('01 0203 040506 ffeeddcc 99'.replace(/ /g, '')));
  assert.equal(r.remaining, 11);
  assert.equal(r.u8(), 0x01);
  assert.equal(r.u16(), 0x0203);
  assert.equal(r.u24(), 0x040506);
  assert.equal(r.u32(), 0xffeeddcc);
  assert.equal(r.peekU8(), 0x99);
  assert.equal(r.offset, 10);
  assert.equal(r.remaining, 1);
  assert.equal(r.u8(), 0x99);
  assert.equal(r.remaining, 0);
});

test('BufferReader.bytes and rest return views, not copies', () => {
  const buf = hex('0102030405');
  const r = new BufferReader(buf, 1, 4);
  const view = r.bytes(2);
  assert.deepEqual([...view], [2, 3]);
  buf[1] = 0xaa;
  assert.equal(view[0], 0xaa);
  assert.equal(view.buffer, buf.buffer);
  const rest = r.rest();
  assert.deepEqual([...rest], [4]);
  assert.equal(r.offset, 4);
  assert.equal(r.rest().length, 0);
});

test('BufferReader: every read past end throws TruncatedInputError and consumes nothing', () => {
  const r = new BufferReader(hex('010203'), 0, 3);
  r.skip(1);
  assert.throws(() => r.u24(), TruncatedInputError);
  assert.throws(() => r.u32(), TruncatedInputError);
  assert.throws(() => r.bytes(3), TruncatedInputError);
  assert.throws(() => r.skip(3), TruncatedInputError);
  assert.equal(r.offset, 1);
  assert.equal(r.u16(), 0x0203);
  assert.throws(() => r.u8(), TruncatedInputError);
  assert.throws(() => r.peekU8(), TruncatedInputError);
  assert.throws(() => r.u16(), TruncatedInputError);
  assert.equal(r.bytes(0).length, 0);
});

test('BufferReader rejects a range outside the buffer and negative lengths', () => {
  assert.throws(() => new BufferReader(new Uint8Array(4), 0, 5), RangeError);
  assert.throws(() => new BufferReader(new Uint8Array(4), 3, 2), RangeError);
  assert.throws(() => new BufferReader(new Uint8Array(4), -1), RangeError);
  assert.throws(() => new BufferReader(new Uint8Array(4)).bytes(-1), RangeError);
});

test('BufferWriter writes integers, bytes and fill, and toBytes views from the initial offset', () => {
  const buf = new Uint8Array(16);
  const w = new BufferWriter(buf, 2);
  w.u8(0x01);
  w.u16(0x0203);
  w.u24(0x040506);
  w.u32(0xffeeddcc);
  w.bytes(hex('abcd'));
  w.fill(0x77, 2);
  assert.equal(w.offset, 16);
  assert.equal(w.remaining, 0);
  assert.equal(Buffer.from(w.toBytes()).toString('hex'), '010203040506ffeeddccabcd7777');
  assert.equal(w.toBytes().buffer, buf.buffer);
  assert.equal(buf[0], 0);
});

test('BufferWriter overflow throws RangeError and writes nothing', () => {
  const w = BufferWriter.alloc(3);
  assert.ok(Buffer.isBuffer(w.buffer));
  w.u16(0xffff);
  assert.throws(() => w.u16(1), RangeError);
  assert.throws(() => w.u32(1), RangeError);
  assert.throws(() => w.bytes(new Uint8Array(2)), RangeError);
  assert.throws(() => w.fill(0, 2), RangeError);
  assert.equal(w.offset, 2);
  assert.equal(w.buffer[2], 0);
  w.u8(9);
  assert.throws(() => w.u8(9), RangeError);
});

test('BufferWriter rejects out-of-range field values', () => {
  const w = BufferWriter.alloc(8);
  assert.throws(() => w.u8(256), RangeError);
  assert.throws(() => w.u8(-1), RangeError);
  assert.throws(() => w.u16(0x10000), RangeError);
  assert.throws(() => w.u24(0x1000000), RangeError);
  assert.throws(() => w.u32(2 ** 32), RangeError);
  assert.throws(() => w.u32(1.5), RangeError);
  assert.throws(() => new BufferWriter(new Uint8Array(2), 3), RangeError);
  assert.equal(w.offset, 0);
});

test('BufferWriter.restart: the next datagram starts at the offset, and cannot rewind before it', () => {
  const buf = new Uint8Array(16);
  const w = new BufferWriter(buf, 0);
  w.u8(1);
  w.u8(2);
  w.restart(8);
  assert.equal(w.offset, 8);
  w.u8(3);
  assert.deepEqual([...buf.subarray(0, 10)], [1, 2, 0, 0, 0, 0, 0, 0, 3, 0]);
  assert.throws(() => w.rewind(7), RangeError);
  w.rewind(8);
  assert.equal(w.offset, 8);
  assert.throws(() => w.restart(17), RangeError);
  assert.throws(() => w.restart(-1), RangeError);
});
