import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiveWindow, SendCredit } from '../../../src/streams/flow-control.js';

test('SendCredit: MAX_* that do not increase the limit are ignored (RFC 9000 §4.1)', () => {
  const c = new SendCredit(100);
  assert.equal(c.raise(50), false);
  assert.equal(c.raise(100), false);
  assert.equal(c.limit, 100);
  assert.equal(c.raise(150), true);
  assert.equal(c.limit, 150);
  c.onSentTo(120);
  assert.equal(c.available, 30);
});

test('SendCredit: a blocked report is due once per limit value', () => {
  const c = new SendCredit(100);
  assert.equal(c.takeBlockedReport(), false);
  c.onSentTo(100);
  assert.equal(c.blockedReportDue, true);
  assert.equal(c.takeBlockedReport(), true);
  assert.equal(c.takeBlockedReport(), false);
  assert.equal(c.isBlockedAt(100), true);
  c.raise(200);
  assert.equal(c.isBlockedAt(100), false);
  c.onSentTo(200);
  assert.equal(c.takeBlockedReport(), true);
});

test('ReceiveWindow: an update is due when half the window is consumed; new limit = consumed + window', () => {
  const w = new ReceiveWindow(1000, 1000);
  assert.equal(w.exceeds(1000), false);
  assert.equal(w.exceeds(1001), true);
  w.onReceived(1000);
  w.consume(499 - w.consumed);
  assert.equal(w.updateDue, false);
  w.consume(500 - w.consumed);
  assert.equal(w.updateDue, true);
  assert.equal(w.nextLimit(0, 100), 1500);
  assert.equal(w.commitUpdate(0, 100), 1500);
  assert.equal(w.limit, 1500);
  assert.equal(w.updateDue, false);
});

test('ReceiveWindow auto-tuning doubles the window when updates come within 2 RTTs, up to the maximum', () => {
  const w = new ReceiveWindow(1000, 3000);
  w.consume(500 - w.consumed);
  // The first update starts the epoch and never tunes.
  assert.equal(w.commitUpdate(0, 100), 1500);
  assert.equal(w.window, 1000);
  w.consume(1000 - w.consumed);
  // 150 ms later, RTT 100: faster than 2 RTTs -> double.
  assert.equal(w.commitUpdate(150, 100), 1000 + 2000);
  assert.equal(w.window, 2000);
  w.consume(2000 - w.consumed);
  assert.equal(w.commitUpdate(200, 100), 2000 + 3000); // capped at 3000
  assert.equal(w.window, 3000);
  w.consume(3000 - w.consumed);
  assert.equal(w.commitUpdate(250, 100), 6000);
  assert.equal(w.window, 3000);
});

test('ReceiveWindow: slow updates (more than 2 RTTs apart) keep the window', () => {
  const w = new ReceiveWindow(1000, 100_000);
  w.consume(600 - w.consumed);
  w.commitUpdate(0, 100);
  w.consume(1200 - w.consumed);
  w.commitUpdate(500, 100);
  assert.equal(w.window, 1000);
  assert.equal(w.limit, 2200);
  w.ensureWindow(50_000);
  assert.equal(w.window, 50_000);
  w.ensureWindow(60_000.75);
  assert.equal(w.window, 60_000, 'windows stay integers (they are encoded as varints)');
  w.ensureWindow(10);
  assert.equal(w.window, 60_000);
  w.ensureWindow(1e9);
  assert.equal(w.window, 100_000);
  w.consume(50_001 - w.consumed);
  assert.equal(Number.isInteger(w.commitUpdate(10_000, 100)), true);
});

test('ReceiveWindow with a zero window never asks for an update', () => {
  const w = new ReceiveWindow(0, 0);
  assert.equal(w.updateDue, false);
  assert.equal(w.exceeds(1), true);
});

test('credit and windows change through their owners: sent offsets, sums, consumed bytes (RFC 9000 §4.1)', () => {
  const stream = new SendCredit(100);
  stream.onSentTo(40);
  stream.onSentTo(70);
  assert.equal(stream.used, 70, 'a stream counts its highest offset sent');
  const conn = new SendCredit(100);
  conn.onSent(40);
  conn.onSent(30);
  assert.equal(conn.used, 70, 'the connection counts the sum of new bytes');
  const w = new ReceiveWindow(1000, 1000);
  w.onReceived(600);
  w.consume(100);
  assert.equal(w.consumeAll(), 500, 'everything received and not yet consumed');
  assert.equal(w.consumed, 600);
  assert.equal(w.consumeAll(), 0);
});
