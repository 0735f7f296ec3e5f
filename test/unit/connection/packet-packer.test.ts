/**
 * PacketPacker (RFC 9000 §12.2, §14.1, §17; RFC 9001 §5): driven with a fake header source, every
 * datagram is opened again as a receiver would, and the tests check header fields, frames and sizes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FrameTraceEvent } from '../../../src/connection/connection.js';
import {
  MIN_INITIAL_DATAGRAM,
  type PacketHeaderSource,
  PacketPacker,
} from '../../../src/connection/packet-packer.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { deriveInitialKeys, derivePacketKeys, type PacketKeys } from '../../../src/crypto/packet-keys.js';
import { openPacket } from '../../../src/crypto/packet-protection.js';
import { PacketNumberSpace } from '../../../src/recovery/types.js';
import { splitDatagram } from '../../../src/wire/coalesced.js';
import { decodeFrames } from '../../../src/wire/frame-codec.js';
import { type Frame, FrameType } from '../../../src/wire/frames.js';
import { PacketType } from '../../../src/wire/packet-header.js';
import { QUIC_V1 } from '../../../src/wire/version.js';

const DCID = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const SCID = Uint8Array.from([9, 9, 9, 9]);
const TOKEN = Uint8Array.from([0xaa, 0xbb, 0xcc]);
const initialKeys = deriveInitialKeys(QUIC_V1, DCID).client;
const handshakeKeys = derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, new Uint8Array(32).fill(3), QUIC_V1);
const oneRttKeys = derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, new Uint8Array(32).fill(4), QUIC_V1);
const keysFor = (t: PacketType): PacketKeys =>
  t === PacketType.Initial ? initialKeys : t === PacketType.Handshake ? handshakeKeys : oneRttKeys;

function fakeHeader(over: Partial<PacketHeaderSource> = {}): PacketHeaderSource {
  return {
    role: 'client',
    version: QUIC_V1,
    dcid: DCID,
    scid: SCID,
    token: TOKEN,
    keyPhase: false,
    largestAcked: () => undefined,
    ...over,
  };
}

function packer(over: Partial<PacketHeaderSource> = {}, trace?: (e: FrameTraceEvent) => void): PacketPacker {
  return new PacketPacker(fakeHeader(over), 4096, trace);
}

const ping: Frame = { type: FrameType.Ping };
const ack: Frame = { type: FrameType.Ack, ackDelay: 0, ranges: [{ largest: 5, smallest: 0 }] };
const crypto = (n: number): Frame => ({ type: FrameType.Crypto, offset: 0, data: new Uint8Array(n).fill(7) });

/** Split and open every packet of a datagram. */
function openAll(datagram: Uint8Array) {
  const buf = Uint8Array.from(datagram);
  return splitDatagram(buf, DCID.length).map((p) => {
    assert.ok(p.type !== PacketType.Retry && p.type !== PacketType.VersionNegotiation);
    const opened = openPacket(keysFor(p.type), buf, p.packetStart, p.pnOffset, p.packetEnd, -1);
    assert.ok(opened, `${PacketType[p.type]} packet did not open`);
    const frames = decodeFrames(opened.payload).filter((f) => f.type !== FrameType.Padding);
    return { packet: p, packetNumber: opened.packetNumber, firstByte: opened.firstByte, frames };
  });
}

test('one openPacket: long headers carry version, both CIDs and (client Initial only) the token', () => {
  const p = packer();
  p.startDatagram(1500);
  assert.ok(p.openPacket(PacketType.Initial, PacketNumberSpace.Initial, initialKeys, 0));
  p.write(crypto(100));
  assert.ok(p.closePacket());
  assert.ok(p.openPacket(PacketType.Handshake, PacketNumberSpace.Handshake, handshakeKeys, 3));
  p.write(ping);
  assert.ok(p.closePacket());
  assert.ok(p.openPacket(PacketType.OneRtt, PacketNumberSpace.ApplicationData, oneRttKeys, 7));
  p.write(ping);
  assert.ok(p.closePacket());
  const opened = openAll(p.seal());
  assert.deepEqual(
    opened.map((o) => [o.packet.type, o.packetNumber]),
    [
      [PacketType.Initial, 0],
      [PacketType.Handshake, 3],
      [PacketType.OneRtt, 7],
    ],
  );
  const [initial, handshake, short] = opened.map((o) => o.packet);
  assert.ok(initial?.form === 'long' && initial.type === PacketType.Initial);
  assert.equal(initial.version, QUIC_V1);
  assert.deepEqual(Uint8Array.from(initial.dcid), DCID);
  assert.deepEqual(Uint8Array.from(initial.scid), SCID);
  assert.deepEqual(Uint8Array.from(initial.token), TOKEN);
  assert.ok(handshake?.form === 'long');
  assert.deepEqual(Uint8Array.from(handshake.scid), SCID);
  assert.ok(short?.form === 'short');
  assert.deepEqual(Uint8Array.from(short.dcid), DCID);
});

test('a server Initial carries an empty token (RFC 9000 §17.2.2)', () => {
  const p = packer({ role: 'server' });
  p.startDatagram(1500);
  assert.ok(p.openPacket(PacketType.Initial, PacketNumberSpace.Initial, initialKeys, 0));
  p.write(crypto(50));
  p.closePacket();
  const [o] = openAll(p.seal());
  assert.ok(o?.packet.form === 'long' && o.packet.type === PacketType.Initial);
  assert.equal(o.packet.token.length, 0);
});

test('1-RTT: the key phase bit follows the header source, the DCID can be a path of its own', () => {
  const other = Uint8Array.from([8, 7, 6, 5, 4, 3, 2, 1]);
  const p = packer({ keyPhase: true });
  p.startDatagram(1500);
  assert.ok(p.openPacket(PacketType.OneRtt, PacketNumberSpace.ApplicationData, oneRttKeys, 1, other));
  p.write(ping);
  p.closePacket();
  const [o] = openAll(p.seal());
  assert.ok(o);
  assert.equal(o.firstByte & 0x04, 0x04, 'key phase bit set (RFC 9000 §17.3.1)');
  assert.deepEqual(Uint8Array.from(o.packet.dcid), other);
});

test('the packet number length follows the largest acknowledged packet (RFC 9000 §17.1)', () => {
  let largest: number | undefined;
  const p = packer({ largestAcked: () => largest });
  const pnLength = (pn: number) => {
    p.startDatagram(1500);
    assert.ok(p.openPacket(PacketType.OneRtt, PacketNumberSpace.ApplicationData, oneRttKeys, pn));
    p.write(ping);
    const built = p.closePacket();
    p.seal();
    return built?.pnLength;
  };
  largest = undefined;
  assert.equal(pnLength(100_000), 3);
  largest = 99_990;
  assert.equal(pnLength(100_000), 1);
});

test('padding: a client pads any datagram with an Initial to the full size (RFC 9000 §14.1)', () => {
  const p = packer();
  p.startDatagram(1350);
  p.openPacket(PacketType.Initial, PacketNumberSpace.Initial, initialKeys, 0);
  p.write(ack); // not even ack-eliciting
  p.closePacket();
  p.padInitial(1350);
  assert.equal(p.seal().length, 1350);
});

test('padding: a server pads only datagrams with an ack-eliciting Initial, to 1200 bytes', () => {
  const eliciting = packer({ role: 'server' });
  eliciting.startDatagram(1350);
  eliciting.openPacket(PacketType.Initial, PacketNumberSpace.Initial, initialKeys, 0);
  eliciting.write(crypto(100));
  eliciting.closePacket();
  eliciting.padInitial(1350);
  assert.equal(eliciting.seal().length, MIN_INITIAL_DATAGRAM);

  const ackOnly = packer({ role: 'server' });
  ackOnly.startDatagram(1350);
  ackOnly.openPacket(PacketType.Initial, PacketNumberSpace.Initial, initialKeys, 0);
  ackOnly.write(ack);
  ackOnly.closePacket();
  ackOnly.padInitial(1350);
  assert.ok(ackOnly.seal().length < 100, 'an ACK-only server Initial is not padded');

  const noInitial = packer();
  noInitial.startDatagram(1350);
  noInitial.openPacket(PacketType.Handshake, PacketNumberSpace.Handshake, handshakeKeys, 0);
  noInitial.write(ping);
  noInitial.closePacket();
  noInitial.padInitial(1350);
  assert.ok(noInitial.seal().length < 100, 'no Initial, no padding');
});

test('amplification: an unvalidated server limited to 3x received never sends more, padding included', () => {
  // 300 bytes received: 900 may be sent (RFC 9000 §8.1). The sender starts a datagram of that size.
  const allowance = 3 * 300;
  const p = packer({ role: 'server' });
  p.startDatagram(allowance);
  p.openPacket(PacketType.Initial, PacketNumberSpace.Initial, initialKeys, 0);
  while (p.fits(crypto(64))) p.write(crypto(64));
  p.closePacket();
  p.padInitial(allowance);
  const datagram = p.seal();
  assert.ok(datagram.length <= allowance, `${datagram.length} > ${allowance}`);
  assert.ok(datagram.length > allowance - 100, 'the room was used');
  assert.equal(openAll(datagram).length, 1);
});

test('max datagram size: frames stop fitting at the limit; a packet that cannot open is refused', () => {
  for (const max of [1200, 1252, 1452]) {
    const p = packer();
    p.startDatagram(max);
    assert.ok(p.openPacket(PacketType.Handshake, PacketNumberSpace.Handshake, handshakeKeys, 0));
    while (p.fits(crypto(10))) p.write(crypto(10));
    assert.ok(p.remaining < 10 + 4);
    p.closePacket();
    // No room for another packet's header, tag and payload.
    assert.equal(p.openPacket(PacketType.OneRtt, PacketNumberSpace.ApplicationData, oneRttKeys, 1), false);
    const datagram = p.seal();
    assert.ok(datagram.length <= max && datagram.length > max - 20, `${datagram.length} for ${max}`);
    assert.equal(openAll(datagram).length, 1);
  }
});

test('frames are traced with their packet, and each packet knows whether it elicits an ACK', () => {
  const events: FrameTraceEvent[] = [];
  const p = packer({}, (e) => events.push(e));
  p.startDatagram(1500);
  p.openPacket(PacketType.Initial, PacketNumberSpace.Initial, initialKeys, 2);
  p.write(crypto(40));
  assert.equal(p.packetAckEliciting, true);
  p.closePacket();
  p.openPacket(PacketType.Handshake, PacketNumberSpace.Handshake, handshakeKeys, 4);
  assert.equal(p.packetAckEliciting, false, 'per packet: the ack-eliciting Initial before it does not count');
  p.write(ack);
  p.write({ type: FrameType.ConnectionCloseTransport, errorCode: 0, frameType: 0, reason: '' });
  assert.equal(p.packetAckEliciting, false, 'ACK and CONNECTION_CLOSE do not elicit (RFC 9002 §2)');
  const handshake = p.closePacket();
  assert.equal(handshake?.ackEliciting, false);
  p.openPacket(PacketType.OneRtt, PacketNumberSpace.ApplicationData, oneRttKeys, 9);
  p.write(ping);
  assert.equal(p.packetAckEliciting, true);
  p.closePacket();
  p.seal();
  assert.deepEqual(
    events.map((e) => [e.packetType, e.packetNumber, e.frame.type]),
    [
      [PacketType.Initial, 2, FrameType.Crypto],
      [PacketType.Handshake, 4, FrameType.Ack],
      [PacketType.Handshake, 4, FrameType.ConnectionCloseTransport],
      [PacketType.OneRtt, 9, FrameType.Ping],
    ],
  );
  p.startDatagram(1500);
  p.openPacket(PacketType.OneRtt, PacketNumberSpace.ApplicationData, oneRttKeys, 10);
  assert.equal(p.packetAckEliciting, false, 'a new packet starts over');
});
