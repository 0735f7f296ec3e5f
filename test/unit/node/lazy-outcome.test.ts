/**
 * LazyOutcome (src/node/lazy-outcome.ts): the promise of a connection's handshake or close, made when
 * first asked for (issue 13). Asked before or after the outcome, it settles the same way; only the
 * first outcome counts; a rejection nobody handles does not reach the process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LazyOutcome } from '../../../src/node/lazy-outcome.js';

test('asked before the outcome: the promise settles with it; the same promise every time', async () => {
  const o = new LazyOutcome<number>();
  const p = o.promise;
  assert.equal(o.promise, p);
  assert.equal(o.settled, false);
  o.resolve(7);
  o.resolve(8);
  o.reject(new Error('late'));
  assert.equal(o.settled, true);
  assert.equal(await p, 7);
  assert.equal(o.promise, p);
});

test('asked after the outcome: made already settled, with the first outcome', async () => {
  const o = new LazyOutcome<string>();
  o.resolve('done');
  o.resolve('again');
  assert.equal(await o.promise, 'done');
  const r = new LazyOutcome<string>();
  const err = new Error('failed');
  r.reject(err);
  r.resolve('ignored');
  await assert.rejects(r.promise, (e) => e === err);
  // Asked before a rejection, too.
  const q = new LazyOutcome<void>();
  const pq = q.promise;
  q.reject(err);
  await assert.rejects(pq, (e) => e === err);
});

test('a rejection nobody handles does not become an unhandled rejection', async () => {
  let unhandled = 0;
  const count = () => unhandled++;
  process.on('unhandledRejection', count);
  try {
    const before = new LazyOutcome<void>();
    void before.promise;
    before.reject(new Error('before'));
    const after = new LazyOutcome<void>();
    after.reject(new Error('after'));
    void after.promise;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(unhandled, 0);
  } finally {
    process.off('unhandledRejection', count);
  }
});
