import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RangeSet } from '../../../src/streams/range-set.js';

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
