import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferWriter } from '../../../src/wire/buffer-writer.js';
import { splitDatagram } from '../../../src/wire/coalesced.js';
import {
  encodeRetryWithoutTag,
  PacketType,
  patchLongHeaderLength,
  writeLongHeader,
  writeShortHeader,
} from '../../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';

const DCID = Buffer.from('0011223344556677', 'hex');
const SCID = Buffer.from('8899aabb', 'hex');

function longPacket(
  w: BufferWriter,
  type: PacketType.Initial | PacketType.ZeroRtt | PacketType.Handshake,
  payload: number,
  version = QUIC_V1,
  dcid: Uint8Array = DCID,
): void {
  const { lengthOffset, pnOffset } = writeLongHeader(w, {
    type,
    version,
    dcid,
    scid: SCID,
    token: type === PacketType.Initial ? Buffer.from('tok') : undefined,
    packetNumber: 1,
    packetNumberLength: 2,
  });
  w.fill(0xa5, payload);
  patchLongHeaderLength(w.buffer, lengthOffset, w.offset - pnOffset);
}

function shortPacket(w: BufferWriter, payload: number): void {
  writeShortHeader(w, { dcid: DCID, packetNumber: 9, packetNumberLength: 1, keyPhase: true, spin: false });
  w.fill(0x5a, payload);
}

test('Initial + Handshake + 1-RTT in one datagram split into three packets with exact bounds', () => {
  for (const version of [QUIC_V1, QUIC_V2]) {
    const w = BufferWriter.alloc(1200);
    longPacket(w, PacketType.Initial, 300, version);
    const end1 = w.offset;
    longPacket(w, PacketType.Handshake, 200, version);
    const end2 = w.offset;
    shortPacket(w, 100);
    const datagram = w.toBytes();
    const packets = splitDatagram(datagram, DCID.length);
    assert.deepEqual(
      packets.map((p) => [p.type, p.packetStart, p.packetEnd]),
      [
        [PacketType.Initial, 0, end1],
        [PacketType.Handshake, end1, end2],
        [PacketType.OneRtt, end2, datagram.length],
      ],
    );
    assert.equal(packets[0]!.type === PacketType.Initial && Buffer.from(packets[0]!.token).toString(), 'tok');
  }
});

test('0-RTT coalesced after Initial', () => {
  const w = BufferWriter.alloc(1200);
  longPacket(w, PacketType.Initial, 50);
  longPacket(w, PacketType.ZeroRtt, 60);
  const packets = splitDatagram(w.toBytes(), 8);
  assert.deepEqual(
    packets.map((p) => p.type),
    [PacketType.Initial, PacketType.ZeroRtt],
  );
});

test('a truncated second packet leaves the first intact', () => {
  const w = BufferWriter.alloc(1200);
  longPacket(w, PacketType.Initial, 300);
  const end1 = w.offset;
  longPacket(w, PacketType.Handshake, 200);
  for (const cut of [end1 + 1, end1 + 10, w.offset - 1]) {
    const packets = splitDatagram(w.buffer.subarray(0, cut), 8);
    assert.equal(packets.length, 1, `cut at ${cut}`);
    assert.equal(packets[0]!.type, PacketType.Initial);
    assert.equal(packets[0]!.packetEnd, end1);
  }
});

test('garbage or zero padding after the first packet is ignored', () => {
  const w = BufferWriter.alloc(1200);
  longPacket(w, PacketType.Initial, 300);
  const end1 = w.offset;
  // Zero bytes parse as a short header with the fixed bit clear: not a packet.
  const zeros = splitDatagram(w.buffer, 8);
  assert.deepEqual(
    zeros.map((p) => [p.type, p.packetEnd]),
    [[PacketType.Initial, end1]],
  );
  const garbage = Buffer.from(w.buffer);
  garbage.fill(0xff, end1);
  const packets = splitDatagram(garbage, 8);
  assert.equal(packets.length, 1);
  assert.equal(packets[0]!.packetEnd, end1);
});

test('a garbage first packet yields nothing', () => {
  assert.deepEqual(splitDatagram(new Uint8Array(100), 8), []);
  assert.deepEqual(splitDatagram(new Uint8Array(0), 8), []);
});

test('RFC 9000 §12.2: a subsequent packet with a different DCID is ignored', () => {
  const w = BufferWriter.alloc(1200);
  longPacket(w, PacketType.Initial, 100);
  const end1 = w.offset;
  longPacket(w, PacketType.Handshake, 100, QUIC_V1, Buffer.from('ffffffffffffffff', 'hex'));
  const packets = splitDatagram(w.toBytes(), 8);
  assert.equal(packets.length, 1);
  assert.equal(packets[0]!.packetEnd, end1);
});

test('a Retry takes the rest of the datagram', () => {
  const retry = encodeRetryWithoutTag(QUIC_V1, DCID, SCID, Buffer.from('token'), 0);
  const datagram = Buffer.concat([retry, new Uint8Array(16)]);
  const packets = splitDatagram(datagram, 8);
  assert.equal(packets.length, 1);
  assert.equal(packets[0]!.type, PacketType.Retry);
  assert.equal(packets[0]!.packetEnd, datagram.length);
});
