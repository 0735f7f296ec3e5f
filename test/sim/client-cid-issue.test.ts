/**
 * Issue 13 (16 handshakes at once): a client issues its spare connection ID when its handshake
 * completes (RFC 9000 §5.1.1; NEW_CONNECTION_ID is allowed in 1-RTT packets, §12.4), so the frame
 * rides in the datagram of its Finished. Issued at confirmation instead, it needed an ack-eliciting
 * packet of its own after HANDSHAKE_DONE, which the server then had to acknowledge.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { CLIENT_ADDRESS, QuicSim } from './quic-harness.js';

interface SentFrame {
  packetType: PacketType;
  frameType: FrameType;
}

test('a client announces its spare connection ID in the datagram of its Finished, not after HANDSHAKE_DONE', () => {
  /** The client's sent frames, grouped by the datagram that carried them. */
  const datagrams: SentFrame[][] = [];
  let building: SentFrame[] = [];
  let handshakeDoneAt = -1;
  let sim: QuicSim | undefined;
  sim = new QuicSim({
    seed: 13_501,
    link: { delay: 10 },
    trace: (conn: Connection, e) => {
      if (conn.role !== 'client') return;
      if (e.direction === 'received') {
        if (e.frame.type === FrameType.HandshakeDone) handshakeDoneAt = datagrams.length;
        return;
      }
      building.push({ packetType: e.packetType, frameType: e.frame.type });
    },
  });
  sim.net.onSend(({ from }) => {
    if (from !== CLIENT_ADDRESS) return;
    datagrams.push(building);
    building = [];
  });
  const conn = sim.dial();
  sim.handshake(conn);
  // Let the connection sit idle past every ACK delay.
  const until = sim.now + 1_000;
  sim.net.at(until, () => {});
  sim.run(() => sim.now >= until, 2_000);
  assert.equal(conn.handshakeConfirmed, true);
  assert.ok(handshakeDoneAt > 0, 'HANDSHAKE_DONE arrived');

  const withFinished = datagrams.findIndex((d) =>
    d.some((f) => f.packetType === PacketType.Handshake && f.frameType === FrameType.Crypto),
  );
  assert.ok(withFinished > 0, 'the client sent its Finished');
  assert.deepEqual(
    datagrams[withFinished]!.filter((f) => f.packetType === PacketType.OneRtt).map((f) => f.frameType),
    [FrameType.NewConnectionId],
    'one NEW_CONNECTION_ID in a 1-RTT packet of the same datagram',
  );
  const allCids = datagrams.flat().filter((f) => f.frameType === FrameType.NewConnectionId);
  assert.equal(allCids.length, 1, 'one spare CID, announced once');
  // After HANDSHAKE_DONE the client has nothing to say but acknowledgements (and PMTU probes: a
  // PING padded to the size tried, RFC 9000 §14.4).
  const after = datagrams.slice(handshakeDoneAt).flat();
  const quiet = new Set([FrameType.Ack, FrameType.Ping, FrameType.Padding]);
  assert.deepEqual(
    after.filter((f) => !quiet.has(f.frameType)),
    [],
  );
});
