/**
 * ACK decimation on a long transfer (issue 13, src/connection/ack-manager.ts, docs/recovery.md): the
 * receiver of a bulk upload sends about one ACK-only datagram per ACK_DECIMATION.every (20) data
 * packets once 100 have arrived (the RFC's every-second-packet rate before), acknowledges every ack-eliciting packet within
 * max_ack_delay (RFC 9000 §13.2.1), acknowledges the packet after a gap at once and goes back to the
 * RFC's rate while the sender recovers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACK_DECIMATION } from '../../src/connection/ack-manager.js';
import type { Connection } from '../../src/connection/connection.js';
import { isAckEliciting } from '../../src/wire/frame-rules.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import type { LinkConditions } from './network.js';
import { QuicSim } from './quic-harness.js';
import { runTransferApps } from './stream-apps.js';
import { MiB } from './transfer-matrix.js';

/** Our max_ack_delay (the default transport parameter, RFC 9000 §18.2). */
const MAX_ACK_DELAY = 25;

interface SentPacket {
  time: number;
  ackEliciting: boolean;
  /** Largest Acknowledged and ranges of its ACK frame, if any. */
  ack?: Array<{ smallest: number; largest: number }>;
}

interface UploadRun {
  /** 1-RTT packets the client (the data sender) sent, by packet number. */
  client: Map<number, SentPacket>;
  /** 1-RTT packets the server (the receiver) sent, by packet number. */
  server: Map<number, SentPacket>;
  /** When the server received each 1-RTT packet of the client. */
  serverReceived: Map<number, number>;
  /** The receiver's min_rtt at the end. */
  serverMinRtt: number;
}

function upload(seed: number, bytes: number, up: LinkConditions): UploadRun {
  const run: UploadRun = { client: new Map(), server: new Map(), serverReceived: new Map(), serverMinRtt: 0 };
  let sim: QuicSim | undefined;
  sim = new QuicSim({
    seed,
    traceLimit: 10,
    up: { delay: 10, ...up },
    down: { delay: 10 },
    trace: (conn: Connection, e) => {
      if (e.packetType !== PacketType.OneRtt || sim === undefined) return;
      const now = sim.now;
      if (e.direction === 'received') {
        if (conn.role === 'server' && !run.serverReceived.has(e.packetNumber))
          run.serverReceived.set(e.packetNumber, now);
        return;
      }
      const sent = conn.role === 'client' ? run.client : run.server;
      let p = sent.get(e.packetNumber);
      if (p === undefined) {
        p = { time: now, ackEliciting: false };
        sent.set(e.packetNumber, p);
      }
      if (isAckEliciting(e.frame.type)) p.ackEliciting = true;
      if (e.frame.type === FrameType.Ack)
        p.ack = e.frame.ranges.map((r) => ({ smallest: r.smallest, largest: r.largest }));
    },
  });
  const { client, server } = runTransferApps(sim, { streams: 1, upload: bytes, download: 0 });
  assert.deepEqual(client.failures, []);
  assert.deepEqual(server.failures, []);
  assert.equal(server.uploadsVerified, 1);
  run.serverMinRtt = sim.serverConnections[0]!.rtt.minRtt;
  return run;
}

/** When the server first sent an ACK covering each received packet (undefined: never). */
function ackTimes(run: UploadRun): Map<number, number | undefined> {
  const acks = [...run.server.values()].filter((p) => p.ack !== undefined).sort((a, b) => a.time - b.time);
  const out = new Map<number, number | undefined>();
  for (const pn of run.serverReceived.keys()) {
    const first = acks.find((a) => a.ack!.some((r) => r.smallest <= pn && pn <= r.largest));
    out.set(pn, first?.time);
  }
  return out;
}

test('a 4 MiB upload: about one ACK-only datagram per ACK_DECIMATION.every data packets, each packet acknowledged within max_ack_delay', () => {
  const run = upload(1301, 4 * MiB, {});
  const data = [...run.client.values()].filter((p) => p.ackEliciting).length;
  const ackOnly = [...run.server.values()].filter((p) => !p.ackEliciting && p.ack !== undefined).length;
  assert.ok(data > 2800, `${data} data packets`);
  // The first 100 at the RFC's every-second-packet rate, then mostly one per `every`; a decimated
  // ACK that its timer sent (fewer than `every` packets within a quarter of min_rtt: slow start's
  // first rounds, a pause of the sender) brings the RFC rate back for 100 packets. Without
  // decimation: 0.5.
  const perPacket = ackOnly / data;
  // 0.094 here with 20 (0.13 or so with 10).
  assert.ok(perPacket > 0.04 && perPacket < 0.15, `${ackOnly} ACK-only datagrams for ${data} data packets`);
  // Most data packets were acknowledged `every` at a time.
  const acks = [...run.server.values()].filter((p) => p.ack !== undefined).sort((a, b) => a.time - b.time);
  let previous = -1;
  let inTens = 0;
  for (const a of acks) {
    const largest = a.ack![0]!.largest;
    if (largest - previous === ACK_DECIMATION.every) inTens += ACK_DECIMATION.every;
    previous = Math.max(previous, largest);
  }
  assert.ok(
    inTens > data / 2,
    `${inTens} of ${data} data packets acknowledged ${ACK_DECIMATION.every} at a time`,
  );

  // RFC 9000 §13.2.1: never later than max_ack_delay after the packet arrived.
  const lateness: number[] = [];
  for (const [pn, ackedAt] of ackTimes(run)) {
    const client = run.client.get(pn);
    if (!client?.ackEliciting) continue;
    assert.ok(ackedAt !== undefined, `packet ${pn} never acknowledged`);
    lateness.push(ackedAt - run.serverReceived.get(pn)!);
  }
  const worst = Math.max(...lateness);
  assert.ok(worst <= MAX_ACK_DELAY, `a packet was acknowledged ${worst} ms after it arrived`);
});

test('after a lost data packet: the next packet is acknowledged at once, the following ones at least every second', () => {
  // The client's 1000th datagram (well into decimation) is lost on the way to the server.
  const run = upload(1302, 4 * MiB, { lossIf: ({ index }) => index === 1000 });
  const received = [...run.serverReceived.keys()].sort((a, b) => a - b);
  const sentData = [...run.client.entries()].filter(([, p]) => p.ackEliciting).map(([pn]) => pn);
  const lost = sentData.find(
    (pn, i) => i > 200 && !run.serverReceived.has(pn) && pn < received[received.length - 1]!,
  );
  assert.ok(lost !== undefined, 'no data packet was lost');
  const after = received.filter((pn) => pn > lost && run.client.get(pn)?.ackEliciting === true);
  const acked = ackTimes(run);
  // RFC 9000 §13.2.1: the packet that arrives after the gap is acknowledged without delay.
  const first = after[0]!;
  assert.equal(acked.get(first), run.serverReceived.get(first), `packet ${first} after the gap at ${lost}`);
  // While the sender detects the loss (RFC 9002 §6.1.1: three packets later) and recovers, every
  // second ack-eliciting packet draws an ACK (RFC 9000 §13.2.2), not every tenth.
  const serverAcks = [...run.server.values()]
    .filter((p) => p.ack !== undefined)
    .map((p) => p.ack![0]!.largest);
  const window = after.slice(0, 15);
  for (let i = 1; i < window.length; i += 2) {
    const pn = window[i]!;
    assert.ok(
      serverAcks.some((largest) => largest === pn || largest === window[i - 1]),
      `no ACK with Largest Acknowledged ${window[i - 1]} or ${pn} (gap at ${lost})`,
    );
  }
});

test('a 2 Mbit/s link (a packet per 6 ms): a decimated ACK waits a quarter of min_rtt, not max_ack_delay', () => {
  const run = upload(1303, 1 * MiB, { bandwidth: 2e6, queueBytes: 2 * MiB });
  const lateness: number[] = [];
  for (const [pn, ackedAt] of ackTimes(run)) {
    if (!run.client.get(pn)?.ackEliciting) continue;
    assert.ok(ackedAt !== undefined, `packet ${pn} never acknowledged`);
    lateness.push(ackedAt - run.serverReceived.get(pn)!);
  }
  // Fewer than 10 packets arrive within a quarter of min_rtt (20 ms of propagation and more), so the
  // ACK timer sends most ACKs: a quarter of min_rtt after the first unacknowledged packet (min_rtt
  // only falls during the run: 1 ms of slack for the value it had when a timer was armed).
  const worst = Math.max(...lateness);
  assert.ok(run.serverMinRtt >= 20, `min_rtt ${run.serverMinRtt}`);
  assert.ok(
    worst > 1 && worst <= run.serverMinRtt / 4 + 1,
    `a packet was acknowledged ${worst} ms after it arrived (min_rtt ${run.serverMinRtt} ms)`,
  );
});
