import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RangeSet } from '../../../src/streams/range-set.js';
import { SendBuffer } from '../../../src/streams/send-buffer.js';
import { pattern } from './harness.js';

test('RangeSet merges touching and overlapping ranges', () => {
  const r = new RangeSet();
  r.add(10, 20);
  r.add(30, 40);
  r.add(0, 5);
  assert.deepEqual(r.toArray(), [
    [0, 5],
    [10, 20],
    [30, 40],
  ]);
  r.add(20, 30);
  assert.deepEqual(r.toArray(), [
    [0, 5],
    [10, 40],
  ]);
  r.add(3, 12);
  assert.deepEqual(r.toArray(), [[0, 40]]);
  r.add(5, 5);
  assert.equal(r.rangeCount, 1);
});

test('RangeSet remove splits and trims; covers and forEachGap', () => {
  const r = new RangeSet();
  r.add(0, 100);
  r.remove(40, 60);
  assert.deepEqual(r.toArray(), [
    [0, 40],
    [60, 100],
  ]);
  r.remove(30, 70);
  assert.deepEqual(r.toArray(), [
    [0, 30],
    [70, 100],
  ]);
  assert.equal(r.covers(0, 30), true);
  assert.equal(r.covers(20, 80), false);
  const gaps: Array<[number, number]> = [];
  r.forEachGap(10, 120, (s, e) => gaps.push([s, e]));
  assert.deepEqual(gaps, [
    [30, 70],
    [100, 120],
  ]);
  r.removeBelow(80);
  assert.deepEqual(r.toArray(), [[80, 100]]);
  r.remove(0, 1000);
  assert.equal(r.isEmpty, true);
});

test('SendBuffer: slices within a chunk are views, across chunks copies; release drops acked chunks', () => {
  const b = new SendBuffer();
  const data = pattern(10000, 5);
  b.append(data.subarray(0, 3000));
  for (let i = 3000; i < 4000; i += 100) b.append(data.subarray(i, i + 100));
  b.append(data.subarray(4000));
  assert.equal(b.end, 10000);
  for (const [s, e] of [
    [0, 10],
    [2990, 3010],
    [3050, 3950],
    [0, 10000],
    [3999, 4001],
  ]) {
    assert.deepEqual(Buffer.from(b.slice(s!, e!)), Buffer.from(data.subarray(s!, e!)));
  }
  b.release(3050);
  assert.equal(b.start, 3000);
  assert.deepEqual(Buffer.from(b.slice(3050, 5000)), Buffer.from(data.subarray(3050, 5000)));
  b.release(10000);
  assert.equal(b.start, 10000);
});

test('SendBuffer: small writes go into blocks that start small and double up to 16 KiB', () => {
  // One small write (an HTTP/3 response) holds a small block, not 16 KiB.
  const one = new SendBuffer();
  one.append(pattern(40, 1));
  assert.ok(one.slice(0, 40).buffer.byteLength <= 256, `${one.slice(0, 40).buffer.byteLength}`);
  // Many writes of every small size: every slice reads back what was written.
  const b = new SendBuffer();
  const data = pattern(300_000, 7);
  let off = 0;
  for (let n = 1; off < data.length; n = (n * 7 + 3) % 2047 || 1) {
    const k = Math.min(n, data.length - off);
    b.append(data.subarray(off, off + k));
    off += k;
  }
  assert.equal(b.end, data.length);
  for (let s = 0; s < data.length; s += 9973) {
    const e = Math.min(data.length, s + ((s * 31) % 5000) + 1);
    assert.deepEqual(Buffer.from(b.slice(s, e)), Buffer.from(data.subarray(s, e)));
  }
  // The blocks have grown to the largest size.
  assert.equal(b.slice(data.length - 1, data.length).buffer.byteLength, 16384);
});

test('an empty RangeSet keeps no arrays of its own; cleared or emptied it gives them up and works on', () => {
  const own = (r: RangeSet) => !Object.isFrozen((r as unknown as { starts: number[] }).starts);
  const r = new RangeSet();
  assert.equal(own(r), false, 'a new set shares the frozen empty arrays');
  r.remove(0, 10);
  r.clear();
  assert.equal(r.isEmpty, true);
  r.add(5, 10);
  assert.equal(own(r), true);
  r.add(20, 30);
  r.remove(0, 100);
  assert.equal(r.isEmpty, true);
  assert.equal(own(r), false, 'emptied by remove: arrays given up (issue 13, idle memory)');
  r.add(1, 2);
  r.add(3, 4);
  assert.deepEqual(r.toArray(), [
    [1, 2],
    [3, 4],
  ]);
  r.clear();
  assert.equal(own(r), false, 'cleared: arrays given up');
  r.add(7, 9);
  assert.deepEqual(r.toArray(), [[7, 9]]);
  assert.equal(r.covers(7, 9), true);
});
