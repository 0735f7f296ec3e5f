/**
 * 1-RTT key updates (RFC 9001 §6) in the middle of a 50 MiB transfer, initiated by either side,
 * several times, on a clean path and on a lossy, reordering one (where the previous keys must still
 * open late packets, §6.5).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withSimSeed } from './network.js';
import { QuicSim } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';
import { MiB } from './transfer-matrix.js';

function transferWithKeyUpdates(
  seed: number,
  initiator: 'client' | 'server' | 'both',
  link: Parameters<QuicSim['net']['setLink']>[2],
) {
  return withSimSeed(seed, () => {
    const interval = { keyUpdateInterval: 4000 };
    const sim = new QuicSim({
      seed,
      link,
      clientTransport: initiator === 'server' ? {} : interval,
      serverTransport: initiator === 'client' ? {} : interval,
    });
    const conn = sim.dial();
    const client = new TransferClient(conn, { streams: 1, upload: 25 * MiB, download: 25 * MiB });
    const server = new TransferServer();
    sim.onServerConnection = (c) => server.add(c);
    sim.appHooks.push(() => {
      client.pump();
      server.pump();
    });
    sim.run(() => client.done || client.closed, 30 * 60_000);
    assert.deepEqual(client.failures, []);
    assert.deepEqual(server.failures, []);
    assert.equal(client.done, true);
    const serverConn = sim.serverConnections[0]!;
    assert.deepEqual(conn.internalErrors, []);
    assert.deepEqual(serverConn.internalErrors, []);
    return {
      client: conn.oneRtt!.updates,
      server: serverConn.oneRtt!.updates,
      phase: conn.oneRtt!.writePhase,
    };
  });
}

describe('key update during a 50 MiB transfer', () => {
  for (const initiator of ['client', 'server', 'both'] as const) {
    test(`initiated by ${initiator === 'both' ? 'both sides' : `the ${initiator}`}, clean path`, () => {
      const r = transferWithKeyUpdates(300, initiator, { delay: 10 });
      // ~43,000 packets each way with an update every 4,000 sent: many updates on both sides, since
      // each side follows the other's updates (RFC 9001 §6.2).
      assert.ok(r.client >= 5, `client saw ${r.client} key updates`);
      assert.ok(r.server >= 5, `server saw ${r.server} key updates`);
    });
  }

  test('with loss and reordering, late packets of the old phase are still read', () => {
    const r = transferWithKeyUpdates(301, 'both', { delay: 10, loss: 0.02, reorder: 0.05, reorderDelay: 6 });
    assert.ok(r.client >= 3, `client saw ${r.client} key updates`);
    assert.ok(r.server >= 3, `server saw ${r.server} key updates`);
  });
});
