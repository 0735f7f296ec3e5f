import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EventQueue } from './event-queue.js';

interface Item {
  time: number;
  seq: number;
  id: number;
}

/** The reference order: by time, then by insertion (a stable sort). */
function reference(items: Item[]): number[] {
  return items
    .map((it, insertion) => ({ it, insertion }))
    .sort((a, b) => a.it.time - b.it.time || a.insertion - b.insertion)
    .map((x) => x.it.id);
}

test('pops in time order with ties in insertion order', () => {
  const q = new EventQueue<Item>();
  const times = [5, 1, 5, 3, 1, 5, 0, 3];
  for (const [id, time] of times.entries()) q.push({ time, seq: -1, id });
  assert.equal(q.size, 8);
  assert.equal(q.peek()?.id, 6);
  const out: number[] = [];
  for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.id);
  assert.deepEqual(out, [6, 1, 4, 3, 7, 0, 2, 5]);
  assert.equal(q.size, 0);
  assert.equal(q.pop(), undefined);
  assert.equal(q.peek(), undefined);
});

test('property: any interleaving of pushes, pops and retains matches the stable-sort model', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), time: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant('pop' as const) }),
    fc.record({ kind: fc.constant('retain' as const), mod: fc.integer({ min: 2, max: 4 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const q = new EventQueue<Item>();
      let model: Item[] = [];
      let nextId = 0;
      for (const o of ops) {
        if (o.kind === 'push') {
          const item = { time: o.time, seq: -1, id: nextId++ };
          q.push(item);
          model.push(item);
        } else if (o.kind === 'pop') {
          const expected = reference(model)[0];
          const got = q.pop();
          assert.equal(got?.id, expected);
          model = model.filter((it) => it.id !== expected);
        } else {
          q.retain((it) => it.id % o.mod !== 0);
          model = model.filter((it) => it.id % o.mod !== 0);
        }
        assert.equal(q.size, model.length);
      }
      const rest: number[] = [];
      for (let e = q.pop(); e !== undefined; e = q.pop()) rest.push(e.id);
      assert.deepEqual(rest, reference(model));
    }),
    { numRuns: 300 },
  );
});
