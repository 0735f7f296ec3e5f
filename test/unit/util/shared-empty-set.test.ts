import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromByteString, toByteString } from '../../../src/util/byte-string.js';
import { addTo, sharedEmptySet } from '../../../src/util/shared-empty-set.js';

test('the shared empty set reads as empty, refuses add, and addTo gives each owner its own set', () => {
  const a = sharedEmptySet<number>();
  const b = sharedEmptySet<string>();
  assert.equal(a.size, 0);
  assert.equal(a.delete(1), false);
  assert.deepEqual([...a], []);
  assert.throws(() => a.add(1));
  const a2 = addTo(a, 1);
  assert.notEqual(a2, a);
  assert.deepEqual([...a2], [1]);
  assert.equal(addTo(a2, 2), a2);
  assert.deepEqual([...a2], [1, 2]);
  // Nothing leaked into the shared one.
  assert.equal(b.size, 0);
  assert.equal(sharedEmptySet<number>().size, 0);
});

test('byte strings round-trip every byte value and compare by content', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const s = toByteString(all);
  assert.equal(s.length, 256);
  assert.deepEqual(fromByteString(s), all);
  assert.equal(toByteString(Buffer.from([1, 2, 3]).subarray(1)), toByteString(Uint8Array.of(2, 3)));
  assert.equal(toByteString(new Uint8Array(0)), '');
});
