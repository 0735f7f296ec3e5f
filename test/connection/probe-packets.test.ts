/**
 * Whether a packet elicits an ACK is a property of the packet, not of the datagram it shares with
 * others (RFC 9000 §12.2): a PTO probe must be ack-eliciting itself (RFC 9002 §6.2.4), and only an
 * ack-eliciting packet arms the PTO of its space (RFC 9002 §6.2.1). Checked on a real server
 * connection, on the frames of each packet it sends.
 *
 * The state tested is rare on the wire (a Handshake probe owed while the Initial space still has
 * CRYPTO data to send), so the test sets it up with the packet spaces' own methods, as a PTO and a
 * loss would, instead of searching for a loss pattern that leads there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection, FrameTraceEvent } from '../../src/connection/connection.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { isAckEliciting } from '../../src/wire/frame-rules.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { QuicSim } from '../sim/quic-harness.js';

/** A server that has answered the ClientHello; nothing it sends reaches the client. */
function serverAfterFirstFlight() {
  const sent: FrameTraceEvent[] = [];
  let server: Connection | undefined;
  const sim = new QuicSim({
    seed: 15,
    down: { lossIf: () => true },
    trace: (conn, e) => {
      if (conn === server && e.direction === 'sent') sent.push(e);
    },
  });
  sim.dial();
  sim.run(() => sim.serverConnections.length > 0, 1_000);
  server = sim.serverConnections[0]!;
  // The server's first flight went out when the ClientHello arrived; its PTO is far off.
  assert.ok(server.snapshotStats().packetsSent > 0);
  assert.equal(server.addressValidated, false);
  return { sim, server, sent };
}

/** The frame types of each packet, keyed by packet type and number, in the order sent. */
function packetsOf(events: FrameTraceEvent[]): Map<string, FrameType[]> {
  const packets = new Map<string, FrameType[]>();
  for (const e of events) {
    const key = `${PacketType[e.packetType]} ${e.packetNumber}`;
    const frames = packets.get(key) ?? [];
    frames.push(e.frame.type);
    packets.set(key, frames);
  }
  return packets;
}

test('a Handshake probe after an ack-eliciting Initial in the same datagram carries its own PING', () => {
  const { sim, server, sent } = serverAfterFirstFlight();
  const initial = server.spaces[PacketNumberSpace.Initial];
  const handshake = server.spaces[PacketNumberSpace.Handshake];
  // The ServerHello to send again (a loss), and one probe owed in the Handshake space (a PTO),
  // whose CRYPTO data is all in flight: the probe has nothing of its own to carry.
  initial.crypto.resendUnacked();
  handshake.requestProbes(1);
  const inFlightBefore = server.snapshotStats().bytesInFlight;
  const pnBefore = handshake.nextPacketNumber;
  sent.length = 0;

  const datagram = server.transmit(sim.now);
  assert.ok(datagram);
  const types = splitDatagram(Uint8Array.from(datagram), 8).map((p) => p.type);
  assert.deepEqual(types, [PacketType.Initial, PacketType.Handshake], 'both coalesced (RFC 9000 §12.2)');
  const packets = packetsOf(sent);
  assert.deepEqual(packets.get(`Initial ${initial.nextPacketNumber - 1}`)?.includes(FrameType.Crypto), true);
  const probe = packets.get(`Handshake ${pnBefore}`);
  assert.ok(probe, 'the Handshake probe is in the same datagram');
  assert.ok(
    probe.some((t) => isAckEliciting(t)),
    `the probe elicits an ACK itself (RFC 9002 §6.2.4): ${probe.map((t) => FrameType[t])}`,
  );
  assert.deepEqual(probe, [FrameType.Ping]);
  assert.equal(handshake.probesPending, 0, 'the probe owed was sent');
  // Both packets count toward bytes in flight (RFC 9002 §2): the whole datagram.
  assert.equal(server.snapshotStats().bytesInFlight - inFlightBefore, datagram.length);
  // Nothing else is owed: the next call sends nothing.
  assert.equal(server.transmit(sim.now), undefined);
});

test('a probe that is the only packet of its datagram gets a PING too, and a packet owed no probe none', () => {
  const { sim, server, sent } = serverAfterFirstFlight();
  const handshake = server.spaces[PacketNumberSpace.Handshake];
  handshake.requestProbes(2);
  sent.length = 0;
  const first = server.transmit(sim.now);
  const second = server.transmit(sim.now);
  assert.ok(first && second);
  assert.equal(server.transmit(sim.now), undefined, 'two probes owed, two sent');
  const packets = [...packetsOf(sent).entries()];
  assert.deepEqual(
    packets.map(([key, frames]) => [key.split(' ')[0], frames]),
    [
      ['Handshake', [FrameType.Ping]],
      ['Handshake', [FrameType.Ping]],
    ],
  );
});
