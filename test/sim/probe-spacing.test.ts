/**
 * The two probes of a 1-RTT PTO round leave probeSpacing() apart (connection-recovery.ts), so that a
 * peer which acknowledges what one read brings with a single ACK (quic-go 0.29's client does, for
 * two probes that arrive together) sends one ACK per probe: against a run of lost datagrams from the
 * peer, each round spends two of them. Session 35 saw the stall of issue 16 again without it: a run
 * of 8 lost client datagrams took 7 PTO rounds, a run of 8 server datagrams 4 more, and the
 * connection met its idle timeout (test/interop/faults-quic-go.test.ts, burstloss, ~6% of runs).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { probeSpacing } from '../../src/connection/connection-recovery.js';
import { isAckEliciting } from '../../src/wire/frame-rules.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { QuicSim } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';
import { MiB, specFor } from './transfer-matrix.js';

test('a 1-RTT PTO round sends its first probe at once and its second probeSpacing() later', () => {
  const BLACKOUT_START = 400;
  const sends: number[] = [];
  let server: Connection | undefined;
  let lastPn = -1;
  let t0 = 0;
  const elapsed = (): number => sim.now - t0;
  const sim: QuicSim = new QuicSim({
    seed: 35,
    link: { delay: 10 },
    // Everything the server sends is lost from 400 ms to 3 s: it falls back to PTO rounds.
    down: { delay: 10, lossIf: () => elapsed() >= BLACKOUT_START && elapsed() < 3_000 },
    trace: (conn, e) => {
      // The server's ack-eliciting 1-RTT packets (its ACK-only ones answer the client's packets).
      if (conn !== server || e.direction !== 'sent' || e.packetType !== PacketType.OneRtt) return;
      if (!isAckEliciting(e.frame.type) || e.packetNumber === lastPn) return; // once per packet
      lastPn = e.packetNumber;
      if (elapsed() >= BLACKOUT_START) sends.push(elapsed());
    },
  });
  t0 = sim.now;
  const conn = sim.dial();
  const client = new TransferClient(conn, specFor(8 * MiB, 1));
  const app = new TransferServer();
  sim.onServerConnection = (c) => {
    server = c;
    app.add(c);
  };
  sim.appHooks.push(() => {
    client.pump();
    app.pump();
  });
  let srtt = 0;
  sim.run(() => server !== undefined && elapsed() >= BLACKOUT_START - 50, 1_000);
  srtt = server!.snapshotStats().smoothedRtt;
  sim.net.runFor(2_900 - elapsed());
  assert.ok(
    server !== undefined && srtt > 0,
    `at ${elapsed()} ms: server ${server !== undefined} srtt ${srtt} sends ${sends.length}`,
  );
  const spacing = probeSpacing(srtt);
  assert.ok(spacing > 1, `the smoothed RTT (${srtt} ms) sets the spacing`);

  // The PTO rounds: sends more than 4 spacings apart start a new round (the PTO is >= 20 ms here).
  const rounds: number[][] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const t of sends) {
    if (t - previous > 4 * spacing) rounds.push([]);
    rounds.at(-1)!.push(t);
    previous = t;
  }
  // The first round may still be the window's data; the probe rounds follow, doubling.
  const probeRounds = rounds.filter((r) => r.length === 2);
  assert.ok(probeRounds.length >= 4, `PTO rounds in the blackout: ${JSON.stringify(rounds)}`);
  for (const [first, second] of probeRounds) {
    const gap = second! - first!;
    assert.ok(
      gap >= spacing - 0.001 && gap <= spacing + 1,
      `the second probe ${gap} ms after the first, spacing ${spacing}`,
    );
  }
});
