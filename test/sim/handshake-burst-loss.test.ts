/**
 * Issue 16: a handshake whose first 8 datagrams in one direction are lost completes within the
 * default handshake timeout, with the default options on both sides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/connection/connection-options.js';
import { QuicSim } from './quic-harness.js';

function lossyHandshake(seed: number, direction: 'up' | 'down', lost: number) {
  const sim = new QuicSim({ seed, [direction]: { delay: 10, dropFirst: lost } });
  const conn = sim.dial();
  const start = sim.now;
  sim.run(() => conn.handshakeConfirmed || conn.isClosed, 60_000);
  const linkStats =
    direction === 'up'
      ? sim.net.linkStats('10.0.0.2:50000', '10.0.0.1:4433')
      : sim.net.linkStats('10.0.0.1:4433', '10.0.0.2:50000');
  return { conn, elapsed: sim.now - start, linkStats, sim };
}

for (const [direction, who] of [
  ['up', 'client'],
  ['down', 'server'],
] as const) {
  test(`the first 8 ${who} datagrams lost: the handshake completes within the default handshakeTimeout`, () => {
    for (const seed of [1, 2, 3]) {
      const { conn, elapsed, linkStats, sim } = lossyHandshake(16_300 + seed, direction, 8);
      assert.equal(linkStats.lost, 8, 'exactly the first 8 were lost');
      assert.equal(conn.handshakeConfirmed, true, `closed: ${conn.closeInfo?.reason}`);
      assert.equal(conn.isClosed, false);
      assert.ok(
        elapsed < DEFAULT_TRANSPORT_OPTIONS.handshakeTimeout,
        `confirmed after ${elapsed} ms (timeout ${DEFAULT_TRANSPORT_OPTIONS.handshakeTimeout} ms)`,
      );
      const server = sim.serverConnections.at(-1);
      assert.ok(server?.handshakeComplete, 'the server completed too');
      assert.deepEqual(conn.internalErrors, []);
    }
  });
}
