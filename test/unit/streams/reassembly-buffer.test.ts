import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReassemblyBuffer, ReassemblyFragmentationError } from '../../../src/streams/reassembly-buffer.js';
import { pattern } from './harness.js';

function drain(buf: ReassemblyBuffer, max?: number): Buffer {
  const parts: Uint8Array[] = [];
  for (let c = buf.read(max); c !== undefined; c = buf.read(max)) parts.push(c);
  return Buffer.concat(parts);
}

test('in-order data is read back; readOffset and bufferedBytes follow', () => {
  const buf = new ReassemblyBuffer(1000);
  const data = pattern(300);
  buf.insert(0, data.subarray(0, 100));
  buf.insert(100, data.subarray(100, 300));
  assert.equal(buf.bufferedBytes, 300);
  assert.equal(buf.readOffset, 0);
  assert.deepEqual(drain(buf), Buffer.from(data));
  assert.equal(buf.readOffset, 300);
  assert.equal(buf.bufferedBytes, 0);
  assert.equal(buf.read(), undefined);
});

test('out-of-order pieces are held until the gap is filled', () => {
  const buf = new ReassemblyBuffer(1000);
  const data = pattern(30);
  buf.insert(20, data.subarray(20, 30));
  buf.insert(10, data.subarray(10, 20));
  assert.equal(buf.read(), undefined);
  assert.equal(buf.hasReadable, false);
  assert.equal(buf.bufferedBytes, 20);
  buf.insert(0, data.subarray(0, 10));
  assert.equal(buf.hasReadable, true);
  assert.deepEqual(drain(buf), Buffer.from(data));
});

test('overlaps keep the bytes already held and add only the gaps; duplicates change nothing', () => {
  const buf = new ReassemblyBuffer(1000);
  const first = new Uint8Array(10).fill(0xaa);
  buf.insert(5, first); // [5, 15)
  buf.insert(25, new Uint8Array(5).fill(0xcc)); // [25, 30)
  const wide = new Uint8Array(40).fill(0xbb); // [0, 40)
  buf.insert(0, wide);
  assert.equal(buf.bufferedBytes, 40);
  const out = drain(buf);
  assert.equal(out.length, 40);
  assert.deepEqual([...out.subarray(0, 5)], Array(5).fill(0xbb));
  assert.deepEqual([...out.subarray(5, 15)], Array(10).fill(0xaa));
  assert.deepEqual([...out.subarray(15, 25)], Array(10).fill(0xbb));
  assert.deepEqual([...out.subarray(25, 30)], Array(5).fill(0xcc));
  assert.deepEqual([...out.subarray(30, 40)], Array(10).fill(0xbb));
  // Duplicate and already-read data is ignored.
  buf.insert(0, wide);
  buf.insert(39, new Uint8Array(1));
  assert.equal(buf.bufferedBytes, 0);
  assert.equal(buf.read(), undefined);
  // Data straddling the read offset is trimmed.
  buf.insert(35, pattern(10));
  assert.equal(buf.bufferedBytes, 5);
  assert.deepEqual(drain(buf), Buffer.from(pattern(10).subarray(5)));
});

test('overlap spanning several held segments fills every hole', () => {
  const buf = new ReassemblyBuffer(1000);
  const data = pattern(100, 7);
  for (const [s, e] of [
    [10, 20],
    [30, 40],
    [50, 60],
    [95, 100],
  ]) {
    buf.insert(s!, data.subarray(s!, e!));
  }
  buf.insert(15, data.subarray(15, 55));
  assert.equal(buf.bufferedBytes, 35 + 20);
  buf.insert(0, data.subarray(0, 96));
  assert.deepEqual(drain(buf), Buffer.from(data));
});

test('insert copies: mutating the caller buffer later does not change held data', () => {
  const buf = new ReassemblyBuffer(5000);
  const small = new Uint8Array([1, 2, 3]);
  const big = new Uint8Array(2000).fill(9);
  buf.insert(0, small);
  buf.insert(3, big);
  small.fill(0);
  big.fill(0);
  const out = drain(buf);
  assert.deepEqual([...out.subarray(0, 3)], [1, 2, 3]);
  assert.equal(out[3], 9);
  assert.equal(out[2002], 9);
});

test('read(max) returns at most max bytes and keeps the rest', () => {
  const buf = new ReassemblyBuffer(1000);
  const data = pattern(50);
  buf.insert(0, data);
  const a = buf.read(20)!;
  assert.equal(a.length, 20);
  assert.equal(buf.readOffset, 20);
  assert.equal(buf.bufferedBytes, 30);
  assert.deepEqual(Buffer.concat([a, drain(buf, 7)]), Buffer.from(data));
  assert.equal(buf.read(0), undefined);
});

test('the limit is relative to the read offset; exceeding it throws RangeError and changes nothing', () => {
  const buf = new ReassemblyBuffer(100);
  buf.insert(0, pattern(100));
  assert.throws(() => buf.insert(100, new Uint8Array(1)), RangeError);
  assert.throws(() => buf.insert(150, new Uint8Array(0)), RangeError);
  assert.equal(buf.bufferedBytes, 100);
  buf.read(40);
  buf.insert(100, pattern(40)); // now allowed: up to 140
  assert.throws(() => buf.insert(140, new Uint8Array(1)), RangeError);
  assert.equal(buf.bufferedBytes, 100);
  buf.raiseLimit(50);
  assert.equal(buf.limit, 100, 'a limit is never lowered');
  buf.raiseLimit(200);
  buf.insert(140, new Uint8Array(100));
  assert.equal(buf.bufferedBytes, 200);
});

test('a gap cap bounds fragmentation: holes beyond it throw ReassemblyFragmentationError, state unchanged', () => {
  const buf = new ReassemblyBuffer(1000, 4);
  for (let i = 1; i <= 4; i++) buf.insert(i * 10, new Uint8Array(1));
  assert.equal(buf.gapCount, 4);
  assert.throws(
    () => buf.insert(60, new Uint8Array(1)),
    (e: unknown) => e instanceof ReassemblyFragmentationError && e instanceof RangeError,
  );
  assert.throws(() => buf.insert(15, new Uint8Array(1)), ReassemblyFragmentationError);
  assert.equal(buf.segmentCount, 4);
  assert.equal(buf.gapCount, 4);
  assert.equal(buf.bufferedBytes, 4);
  // Pieces that do not add a hole are still accepted: extending a piece, or filling a gap.
  buf.insert(11, new Uint8Array(3));
  buf.insert(0, new Uint8Array(10));
  assert.equal(buf.gapCount, 3);
  assert.equal(buf.bufferedBytes, 17);
  buf.insert(60, new Uint8Array(1));
  assert.equal(buf.gapCount, 4);
});

test('tiny pieces in random order are merged as gaps close: few segments, exact bytes', () => {
  const data = pattern(8000, 21);
  const order = Array.from({ length: 8000 }, (_, i) => i);
  let x = 12345;
  for (let i = order.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const buf = new ReassemblyBuffer(8000, 100_000);
  let maxGaps = 0;
  for (const i of order) {
    buf.insert(i, data.subarray(i, i + 1));
    maxGaps = Math.max(maxGaps, buf.gapCount);
  }
  assert.ok(maxGaps > 100);
  assert.equal(buf.gapCount, 0);
  assert.equal(buf.bufferedBytes, 8000);
  assert.ok(buf.segmentCount <= 8000 / 256, `segments ${buf.segmentCount}`);
  assert.deepEqual(drain(buf), Buffer.from(data));
});

test('tiny in-order pieces are packed into few segments; returned chunks never change afterwards', () => {
  const buf = new ReassemblyBuffer(1 << 20);
  const data = pattern(20000, 3);
  const got: Uint8Array[] = [];
  const snapshots: Buffer[] = [];
  for (let i = 0; i < data.length; i++) {
    buf.insert(i, data.subarray(i, i + 1));
    if (i % 1000 === 999) {
      const c = buf.read(300)!;
      got.push(c);
      snapshots.push(Buffer.from(c));
    }
  }
  assert.ok(buf.segmentCount < 20, `segments ${buf.segmentCount}`);
  got.push(drain(buf));
  snapshots.push(Buffer.from(got[got.length - 1]!));
  for (let k = 0; k < got.length; k++) assert.deepEqual(Buffer.from(got[k]!), snapshots[k]);
  const all = Buffer.concat(got);
  assert.equal(all.length, buf.readOffset);
  assert.deepEqual(all, Buffer.from(data.subarray(0, all.length)));
});

test('clear drops held data and keeps the read offset', () => {
  const buf = new ReassemblyBuffer(1000);
  buf.insert(0, pattern(10));
  buf.read(4);
  buf.insert(20, pattern(10));
  buf.clear();
  assert.equal(buf.bufferedBytes, 0);
  assert.equal(buf.segmentCount, 0);
  assert.equal(buf.readOffset, 4);
  assert.equal(buf.read(), undefined);
});

test('an owned large piece is kept as a view; a borrowed one, or one pinning a larger buffer, is copied', () => {
  // Owned (a decrypted payload nobody writes again): the view is kept, no copy.
  const payload = new Uint8Array(1300).fill(7);
  const data = payload.subarray(20, 1300);
  const owned = new ReassemblyBuffer(1 << 20);
  owned.insert(0, data, true);
  const got = owned.readChunk();
  assert.equal(got?.buffer, payload.buffer, 'kept as a view of the payload');
  assert.equal(got?.length, 1280);

  // Not owned (the caller may reuse its buffer): copied, so later writes do not show.
  const borrowed = new ReassemblyBuffer(1 << 20);
  borrowed.insert(0, data);
  payload.fill(9);
  const copy = borrowed.readChunk();
  assert.notEqual(copy?.buffer, payload.buffer);
  assert.equal(copy?.[0], 7);

  // Owned but a small part of a big buffer (it would pin more than twice its bytes): copied.
  const big = new Uint8Array(16384);
  const slab = new ReassemblyBuffer(1 << 20);
  slab.insert(0, big.subarray(0, 2000), true);
  assert.notEqual(slab.readChunk()?.buffer, big.buffer);
});

test('an owned small piece is kept as a view only while nothing is held; later small pieces are copied', () => {
  // A request's HEADERS frame: most of a small decrypted payload, nothing buffered yet.
  const payload = new Uint8Array(60).fill(3);
  const buf = new ReassemblyBuffer(1 << 20);
  buf.insert(0, payload.subarray(12), true);
  // Something is held now: the next small owned piece goes into the shared block (a copy).
  const next = new Uint8Array(40).fill(4);
  buf.insert(48, next.subarray(4), true);
  next.fill(5);
  const first = buf.readChunk();
  assert.equal(first?.buffer, payload.buffer, 'the first piece is a view of its payload');
  assert.equal(first?.length, 48);
  const second = buf.readChunk();
  assert.notEqual(second?.buffer, next.buffer, 'the second piece is a copy');
  assert.deepEqual([...(second ?? [])], new Array(36).fill(4));

  // Out of order (a gap before it): copied, never a view.
  const gap = new ReassemblyBuffer(1 << 20);
  const late = new Uint8Array(30).fill(6);
  gap.insert(10, late.subarray(2), true);
  gap.insert(0, new Uint8Array(10));
  gap.readChunk();
  assert.notEqual(gap.readChunk()?.buffer, late.buffer);

  // A small part of a larger buffer (it would pin more than twice its bytes): copied.
  const slab = new Uint8Array(1200);
  const small = new ReassemblyBuffer(1 << 20);
  small.insert(0, slab.subarray(0, 100), true);
  assert.notEqual(small.readChunk()?.buffer, slab.buffer);
});
