/**
 * The connection's life as one value (connection-state.ts): each transition keeps the close reason
 * and deadline with the state they belong to (RFC 9000 §10.2).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloseInfo } from '../../src/connection/connection-events.js';
import {
  closeDeadlineOf,
  closed,
  closeInfoOf,
  closing,
  draining,
  established,
  HANDSHAKE,
  isClosedState,
} from '../../src/connection/connection-state.js';

const local: CloseInfo = { source: 'local', application: true, errorCode: 7, reason: 'bye' };
const remote: CloseInfo = { source: 'remote', application: false, errorCode: 0, reason: '' };
const idle: CloseInfo = { source: 'idle-timeout', application: false, errorCode: 0, reason: 'idle timeout' };

test('an open connection has no close reason and no deadline', () => {
  for (const s of [HANDSHAKE, established(HANDSHAKE)]) {
    assert.equal(isClosedState(s), false);
    assert.equal(closeInfoOf(s), undefined);
    assert.equal(closeDeadlineOf(s), undefined);
  }
  assert.equal(established(HANDSHAKE).kind, 'established');
});

test('closing carries its reason and deadline; closing twice does nothing', () => {
  const s = closing(established(HANDSHAKE), local, 300);
  assert.deepEqual(s, { kind: 'closing', info: local, deadline: 300 });
  assert.ok(s);
  assert.equal(isClosedState(s), true);
  assert.equal(closing(s, remote, 900), undefined);
  // A handshake finishing while closing does not reopen the connection.
  assert.equal(established(s), s);
});

test('draining after closing keeps our reason; the peer close otherwise', () => {
  const c = closing(HANDSHAKE, local, 300);
  assert.ok(c);
  assert.deepEqual(draining(c, remote, 500), { kind: 'draining', info: local, deadline: 500 });
  const d = draining(established(HANDSHAKE), remote, 500);
  assert.deepEqual(d, { kind: 'draining', info: remote, deadline: 500 });
  assert.ok(d);
  assert.equal(draining(d, local, 900), undefined);
  assert.equal(closeDeadlineOf(d), 500);
});

test('closed keeps the reason of closing or draining, or takes the one given', () => {
  const c = closing(HANDSHAKE, local, 300);
  assert.ok(c);
  assert.deepEqual(closed(c), { kind: 'closed', info: local });
  assert.deepEqual(closed(established(HANDSHAKE), idle), { kind: 'closed', info: idle });
  const done = closed(c, idle);
  assert.deepEqual(done, { kind: 'closed', info: idle }, 'an abandon replaces the reason');
  assert.ok(done);
  assert.equal(closed(done, local), undefined);
  assert.equal(closeDeadlineOf(done), undefined);
  assert.throws(() => closed(HANDSHAKE), /reason/);
});
