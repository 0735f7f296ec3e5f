/** The connection's timer table (timer-table.ts): one place for every deadline. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_TIMERS, Timer, TimerTable } from '../../src/connection/timer-table.js';

test('an empty table has no next deadline and nothing expired', () => {
  const t = new TimerTable();
  assert.equal(t.next(), undefined);
  assert.deepEqual(t.expired(1e12), []);
  for (const timer of ALL_TIMERS) assert.equal(t.get(timer), undefined);
});

test('next() is the earliest armed deadline; clearing and disarming remove entries', () => {
  const t = new TimerTable();
  t.set(Timer.Idle, 30_000);
  t.set(Timer.LossDetection, 350);
  t.set(Timer.AckDelay, 125);
  assert.equal(t.next(), 125);
  t.clear(Timer.AckDelay);
  assert.equal(t.next(), 350);
  t.set(Timer.LossDetection, undefined);
  assert.equal(t.next(), 30_000);
  t.set(Timer.Pacing, 0);
  assert.equal(t.next(), 0, 'a deadline at 0 is a deadline');
  t.clearAll();
  assert.equal(t.next(), undefined);
});

test('expired() lists the due timers in handling order, deadline included', () => {
  const t = new TimerTable();
  t.set(Timer.KeepAlive, 100);
  t.set(Timer.LossDetection, 100);
  t.set(Timer.KeyDiscard, 50);
  t.set(Timer.PathValidation, 101);
  t.set(Timer.Idle, 200);
  assert.deepEqual(t.expired(99), [Timer.KeyDiscard]);
  assert.deepEqual(t.expired(100), [Timer.KeyDiscard, Timer.LossDetection, Timer.KeepAlive]);
  assert.equal(t.isExpired(Timer.PathValidation, 100), false);
  assert.equal(t.isExpired(Timer.PathValidation, 101), true);
  assert.equal(t.isExpired(Timer.Handshake, 1e12), false, 'an unarmed timer never expires');
});

test('the handling order puts the ends of the connection before the work that needs it alive', () => {
  const order = ALL_TIMERS;
  assert.equal(order.length, 10);
  assert.ok(order.indexOf(Timer.Close) < order.indexOf(Timer.Idle));
  assert.ok(order.indexOf(Timer.Idle) < order.indexOf(Timer.Handshake));
  assert.ok(order.indexOf(Timer.Handshake) < order.indexOf(Timer.LossDetection));
  assert.ok(order.indexOf(Timer.LossDetection) < order.indexOf(Timer.KeepAlive));
  // A PTO round's deferred probe comes after the round itself (a new round replaces it).
  assert.ok(order.indexOf(Timer.LossDetection) < order.indexOf(Timer.Probe));
});
