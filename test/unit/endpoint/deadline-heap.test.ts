/** The endpoint's heap of connection deadlines (deadline-heap.ts), against a naive model. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DeadlineHeap } from '../../../src/endpoint/deadline-heap.js';

test('peek is the earliest deadline; updates move entries both ways; delete removes', () => {
  const h = new DeadlineHeap<string>();
  assert.equal(h.peek(), undefined);
  h.set('a', 500);
  h.set('b', 100);
  h.set('c', 300);
  assert.equal(h.peek(), 100);
  assert.equal(h.peekKey(), 'b');
  assert.equal(h.size, 3);
  h.set('b', 900); // later: sifts down
  assert.equal(h.peek(), 300);
  h.set('a', 50); // earlier: sifts up
  assert.equal(h.peek(), 50);
  assert.equal(h.peekKey(), 'a');
  assert.equal(h.get('b'), 900);
  h.delete('a');
  assert.equal(h.peek(), 300);
  assert.equal(h.has('a'), false);
  h.set('c', undefined); // undefined disarms
  assert.equal(h.peek(), 900);
  h.delete('nope');
  assert.equal(h.size, 1);
});

test('popExpired returns every key due at now (deadline included), earliest first, and keeps the rest', () => {
  const h = new DeadlineHeap<number>();
  for (const [k, t] of [
    [1, 40],
    [2, 10],
    [3, 30],
    [4, 30],
    [5, 31],
  ] as const)
    h.set(k, t);
  const due = h.popExpired(30);
  assert.deepEqual(
    due.map((k) => h.get(k)),
    [undefined, undefined, undefined],
  );
  assert.equal(due[0], 2);
  assert.deepEqual([...due].sort(), [2, 3, 4]);
  assert.equal(h.peek(), 31);
  assert.deepEqual(h.popExpired(29), []);
  assert.deepEqual(h.popExpired(1e9), [5, 1]);
  assert.equal(h.size, 0);
});

type Op =
  | { kind: 'set'; key: number; at: number | undefined }
  | { kind: 'delete'; key: number }
  | { kind: 'pop'; now: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: fc.integer({ min: 0, max: 40 }),
      // Few distinct times: many ties.
      at: fc.option(fc.integer({ min: 0, max: 60 }), { freq: 8, nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 60 }) }),
  },
);

test('property: the heap agrees with a map of deadlines after any sequence of sets, deletes and pops', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
      const h = new DeadlineHeap<number>();
      const model = new Map<number, number>();
      for (const op of ops) {
        if (op.kind === 'set') {
          h.set(op.key, op.at);
          if (op.at === undefined) model.delete(op.key);
          else model.set(op.key, op.at);
        } else if (op.kind === 'delete') {
          h.delete(op.key);
          model.delete(op.key);
        } else {
          const due = h.popExpired(op.now);
          const expected = [...model].filter(([, t]) => t <= op.now).map(([k]) => k);
          // No missed and no early key, each once, in deadline order.
          assert.deepEqual(
            [...due].sort((a, b) => a - b),
            expected.sort((a, b) => a - b),
          );
          for (let i = 1; i < due.length; i++) assert.ok(model.get(due[i - 1]!)! <= model.get(due[i]!)!);
          for (const k of due) model.delete(k);
        }
        assert.equal(h.size, model.size);
        const min = model.size === 0 ? undefined : Math.min(...model.values());
        assert.equal(h.peek(), min);
        for (const [k, t] of model) assert.equal(h.get(k), t);
      }
    }),
    { numRuns: 300 },
  );
});
