/**
 * The initialCongestionWindow transport option (session 35): a sender's first round trip of data
 * carries that many datagrams, where RFC 9002 §7.2's default carries 14,720 bytes (11 datagrams of
 * 1,252). On a 200 ms round trip, the client's STREAM packets sent before the first acknowledgment
 * of any of them can return are counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { QuicSim } from './quic-harness.js';
import { runTransferApps } from './stream-apps.js';
import { MiB, specFor } from './transfer-matrix.js';

const ONE_WAY = 100;

/** The client's 1-RTT packets with STREAM data sent within one round trip of the first one. */
function firstRoundPackets(initialCongestionWindow?: number): number {
  const sends: number[] = [];
  let lastPn = -1;
  const sim = new QuicSim({
    seed: 351,
    link: { delay: ONE_WAY },
    ...(initialCongestionWindow !== undefined ? { clientTransport: { initialCongestionWindow } } : {}),
    trace: (conn, e) => {
      if (conn.role !== 'client' || e.direction !== 'sent' || e.packetType !== PacketType.OneRtt) return;
      if ((e.frame.type & ~0x07) !== FrameType.Stream || e.packetNumber === lastPn) return;
      lastPn = e.packetNumber;
      sends.push(sim.now);
    },
  });
  const { client } = runTransferApps(sim, specFor(MiB, 1), 60_000);
  assert.equal(client.done, true);
  const first = sends[0]!;
  return sends.filter((t) => t < first + 2 * ONE_WAY).length;
}

test('initialCongestionWindow: 32 datagrams go in the first round trip, RFC 9002 §7.2 default 11', () => {
  const rfc = firstRoundPackets();
  const wide = firstRoundPackets(32);
  assert.equal(rfc, Math.floor(14_720 / 1252), 'RFC 9002: the datagrams that fit in 14,720 bytes');
  // 32 datagrams of window (33 packets counted in this run: the count is of packets, not bytes).
  assert.ok(wide === 32 || wide === 33, `32 datagrams, got ${wide}`);
});
