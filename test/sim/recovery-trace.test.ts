/**
 * Issue 16: the recovery events behind qlog's recovery category (metrics_updated, packet_lost,
 * loss_timer_updated, congestion_state_updated), checked against the connection's own state on a
 * transfer that meets burst loss and a stall.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { RecoveryTraceEvent } from '../../src/connection/recovery-trace.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { QuicSim } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';
import { MiB, specFor } from './transfer-matrix.js';

test('recovery events tell the story of a stall: losses, PTO count, timer, congestion state', () => {
  const events = new Map<Connection, RecoveryTraceEvent[]>();
  const sim = new QuicSim({
    seed: 16_011,
    link: { delay: 10, burstRuns: { start: 0.005, length: 8 } },
    recoveryTrace: (c, e) => {
      const list = events.get(c) ?? [];
      events.set(c, list);
      list.push(e);
    },
  });
  const conn = sim.dial();
  const client = new TransferClient(conn, specFor(2 * MiB, 1));
  const server = new TransferServer();
  sim.onServerConnection = (c) => server.add(c);
  sim.appHooks.push(() => {
    client.pump();
    server.pump();
  });
  sim.run(() => client.done || client.closed, 120_000);
  assert.equal(client.done, true);
  const serverConn = sim.serverConnections[0]!;

  for (const c of [conn, serverConn]) {
    const list = events.get(c) ?? [];
    const metrics = list.filter((e) => e.type === 'metrics_updated');
    // The first report carries every metric.
    assert.deepEqual(Object.keys(metrics[0]!).sort(), [
      'bytesInFlight',
      'congestionWindow',
      'latestRtt',
      'minRtt',
      'ptoCount',
      'rttVariance',
      'smoothedRtt',
      'type',
    ]);
    // Folding the updates gives the connection's state now.
    const folded: Record<string, unknown> = {};
    for (const m of metrics) Object.assign(folded, m);
    const stats = c.snapshotStats();
    assert.equal(folded.congestionWindow, stats.congestionWindow);
    assert.equal(folded.bytesInFlight, stats.bytesInFlight);
    assert.equal(folded.smoothedRtt, stats.smoothedRtt);
    assert.equal(folded.ptoCount, c.lossDetector.ptoCount);

    // Every packet declared lost is reported once, with its number.
    const lost = list.filter((e) => e.type === 'packet_lost');
    assert.equal(lost.length, stats.packetsLost);
    assert.ok(lost.length > 0);
    assert.ok(lost.some((e) => e.type === 'packet_lost' && e.space === PacketNumberSpace.ApplicationData));

    // Congestion states chain: each report's `old` is the previous `new`.
    const states = list.filter((e) => e.type === 'congestion_state_updated');
    assert.equal(states[0]?.new, 'slow_start');
    for (let i = 1; i < states.length; i++) assert.equal(states[i]!.old, states[i - 1]!.new);
    assert.ok(states.some((e) => e.new === 'recovery'));
  }

  // The server stalled at least once: its PTO count rose and its loss timer was a PTO.
  const s = events.get(serverConn)!;
  assert.ok(
    s.some((e) => e.type === 'metrics_updated' && (e.ptoCount ?? 0) >= 2),
    'PTO count >= 2',
  );
  assert.ok(s.some((e) => e.type === 'loss_timer_updated' && e.event === 'set' && e.timerType === 'pto'));
  assert.ok(s.some((e) => e.type === 'loss_timer_updated' && e.event === 'set' && e.timerType === 'ack'));
  assert.ok(s.some((e) => e.type === 'loss_timer_updated' && e.event === 'cancelled'));
});
