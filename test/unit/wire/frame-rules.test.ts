import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAckEliciting, isFrameAllowedInPacket, isProbingFrame } from '../../../src/wire/frame-rules.js';
import { FrameType } from '../../../src/wire/frames.js';
import { PacketType } from '../../../src/wire/packet-header.js';

/** RFC 9000 §12.4 Table 3 "Pkts" column (I, H, 0, 1), plus RFC 9221 §4 for DATAGRAM. */
const TABLE: Array<[FrameType, string]> = [
  [FrameType.Padding, 'IH01'],
  [FrameType.Ping, 'IH01'],
  [FrameType.Ack, 'IH_1'],
  [FrameType.AckEcn, 'IH_1'],
  [FrameType.ResetStream, '__01'],
  [FrameType.StopSending, '__01'],
  [FrameType.Crypto, 'IH_1'],
  [FrameType.NewToken, '___1'],
  [FrameType.Stream, '__01'],
  [0x0f as FrameType, '__01'],
  [FrameType.MaxData, '__01'],
  [FrameType.MaxStreamData, '__01'],
  [FrameType.MaxStreamsBidi, '__01'],
  [FrameType.MaxStreamsUni, '__01'],
  [FrameType.DataBlocked, '__01'],
  [FrameType.StreamDataBlocked, '__01'],
  [FrameType.StreamsBlockedBidi, '__01'],
  [FrameType.StreamsBlockedUni, '__01'],
  [FrameType.NewConnectionId, '__01'],
  [FrameType.RetireConnectionId, '__01'],
  [FrameType.PathChallenge, '__01'],
  [FrameType.PathResponse, '___1'],
  [FrameType.ConnectionCloseTransport, 'IH01'],
  [FrameType.ConnectionCloseApplication, '__01'],
  [FrameType.HandshakeDone, '___1'],
  [FrameType.Datagram, '__01'],
  [FrameType.DatagramWithLength, '__01'],
];

test('RFC 9000 §12.4 Table 3: which packet types may carry each frame type', () => {
  const columns = [PacketType.Initial, PacketType.Handshake, PacketType.ZeroRtt, PacketType.OneRtt];
  for (const [type, pkts] of TABLE) {
    const actual = columns.map((p, i) => (isFrameAllowedInPacket(type, p) ? 'IH01'[i] : '_')).join('');
    assert.equal(actual, pkts, `frame type 0x${type.toString(16)}`);
    assert.equal(isFrameAllowedInPacket(type, PacketType.Retry), false);
    assert.equal(isFrameAllowedInPacket(type, PacketType.VersionNegotiation), false);
  }
  assert.equal(isFrameAllowedInPacket(0x1f as FrameType, PacketType.OneRtt), false);
  assert.equal(isFrameAllowedInPacket(0x40 as FrameType, PacketType.OneRtt), false);
});

test('RFC 9002 §2: all frames but ACK, PADDING and CONNECTION_CLOSE are ack-eliciting', () => {
  const nonEliciting = new Set<number>([
    FrameType.Ack,
    FrameType.AckEcn,
    FrameType.Padding,
    FrameType.ConnectionCloseTransport,
    FrameType.ConnectionCloseApplication,
  ]);
  for (const [type] of TABLE)
    assert.equal(isAckEliciting(type), !nonEliciting.has(type), `0x${type.toString(16)}`);
});

test('RFC 9000 §9.1: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING are probing frames', () => {
  const probing = new Set<number>([
    FrameType.PathChallenge,
    FrameType.PathResponse,
    FrameType.NewConnectionId,
    FrameType.Padding,
  ]);
  for (const [type] of TABLE) assert.equal(isProbingFrame(type), probing.has(type), `0x${type.toString(16)}`);
});
