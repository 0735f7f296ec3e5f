/**
 * DatagramBuilder (RFC 9000 §12.2, §14.1; RFC 9001 §5.3-5.4): coalesced packets are written in
 * plaintext, padded, and sealed at the end. Every test opens the sealed packets again with the
 * receive-side functions and checks the frames and header fields.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BuiltPacket, DatagramBuilder } from '../../../src/connection/datagram-builder.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { deriveInitialKeys, derivePacketKeys, type PacketKeys } from '../../../src/crypto/packet-keys.js';
import { openPacket } from '../../../src/crypto/packet-protection.js';
import { PacketNumberSpace } from '../../../src/recovery/types.js';
import { EncryptionLevel } from '../../../src/tls/types.js';
import { splitDatagram } from '../../../src/wire/coalesced.js';
import { decodeFrames } from '../../../src/wire/frame-codec.js';
import { type Frame, FrameType } from '../../../src/wire/frames.js';
import { PacketType, type ParsedPacket } from '../../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';

const DCID = Uint8Array.from([0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08]);
const SCID = Uint8Array.from([0xc1, 0xc2, 0xc3, 0xc4, 0xc5]);
const initialKeys = deriveInitialKeys(QUIC_V1, DCID).client;
const handshakeKeys = derivePacketKeys(
  CipherSuite.AES_128_GCM_SHA256,
  new Uint8Array(32).fill(0x11),
  QUIC_V1,
);
const oneRttKeys = derivePacketKeys(
  CipherSuite.CHACHA20_POLY1305_SHA256,
  new Uint8Array(32).fill(0x22),
  QUIC_V1,
);

function builder(maxSize = 1252, bufferSize = 2048): DatagramBuilder {
  const b = new DatagramBuilder(new Uint8Array(bufferSize));
  b.reset(maxSize);
  return b;
}

function openInitial(b: DatagramBuilder, pn: number, pnLength: 1 | 2 | 3 | 4 = 2, token?: Uint8Array) {
  return b.openLong(
    { type: PacketType.Initial, version: QUIC_V1, dcid: DCID, scid: SCID, ...(token ? { token } : {}) },
    PacketNumberSpace.Initial,
    initialKeys,
    pn,
    pnLength,
  );
}

function openHandshake(b: DatagramBuilder, pn: number, pnLength: 1 | 2 | 3 | 4 = 2) {
  return b.openLong(
    { type: PacketType.Handshake, version: QUIC_V1, dcid: DCID, scid: SCID },
    PacketNumberSpace.Handshake,
    handshakeKeys,
    pn,
    pnLength,
  );
}

function openOneRtt(b: DatagramBuilder, pn: number, pnLength: 1 | 2 | 3 | 4 = 2, keyPhase = false) {
  return b.openShort(
    { dcid: DCID, keyPhase, spin: false },
    PacketNumberSpace.ApplicationData,
    oneRttKeys,
    pn,
    pnLength,
  );
}

/** Frames with every byte field as a plain Uint8Array (decoded ones are Buffer views). */
function plain(frames: Frame[]): Frame[] {
  return frames.map((f) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f)) out[k] = v instanceof Uint8Array ? Uint8Array.from(v) : v;
    return out as unknown as Frame;
  });
}

interface Opened {
  packet: ParsedPacket;
  packetNumber: number;
  firstByte: number;
  frames: Frame[];
}

/** Split and open every packet of a sealed datagram (on a copy), as a receiver would. */
function openAll(datagram: Uint8Array, keysFor: (type: PacketType) => PacketKeys): Opened[] {
  const buf = Uint8Array.from(datagram);
  const packets = splitDatagram(buf, DCID.length);
  return packets.map((p) => {
    assert.ok(p.type !== PacketType.Retry && p.type !== PacketType.VersionNegotiation);
    const opened = openPacket(keysFor(p.type), buf, p.packetStart, p.pnOffset, p.packetEnd, -1);
    assert.ok(opened, `packet of type ${PacketType[p.type]} at ${p.packetStart} did not open`);
    return {
      packet: p,
      packetNumber: opened.packetNumber,
      firstByte: opened.firstByte,
      frames: plain(decodeFrames(opened.payload)),
    };
  });
}

const keysByType = (t: PacketType): PacketKeys =>
  t === PacketType.Initial ? initialKeys : t === PacketType.Handshake ? handshakeKeys : oneRttKeys;

const crypto = (offset: number, n: number, fill: number): Frame => ({
  type: FrameType.Crypto,
  offset,
  data: new Uint8Array(n).fill(fill),
});

function seal(b: DatagramBuilder): Uint8Array {
  const n = b.seal();
  return b.buffer.slice(0, n);
}

test('coalescing: Initial, Handshake and 1-RTT packets in one datagram open to the frames written', () => {
  const b = builder();
  assert.ok(openInitial(b, 0));
  b.writeFrame(crypto(0, 300, 1), { kind: 'crypto', level: EncryptionLevel.Initial, offset: 0, length: 300 });
  const p1 = b.closePacket()!;
  assert.ok(openHandshake(b, 7));
  b.writeFrame(
    { type: FrameType.Ack, ackDelay: 0, ranges: [{ largest: 3, smallest: 0 }] },
    { kind: 'ack', largestAcked: 3 },
  );
  b.writeFrame(crypto(0, 200, 2));
  const p2 = b.closePacket()!;
  assert.ok(openOneRtt(b, 1234, 2, true));
  b.writeFrame({
    type: FrameType.Stream,
    streamId: 4,
    offset: 10,
    data: new Uint8Array(50).fill(3),
    fin: true,
  });
  const p3 = b.closePacket()!;
  assert.deepEqual(
    b.packets.map((p) => p.type),
    [PacketType.Initial, PacketType.Handshake, PacketType.OneRtt],
  );
  const datagram = seal(b);
  assert.equal(datagram.length, b.datagramLength);
  // Sizes recorded by seal() add up to the datagram and packets are back to back.
  assert.equal(p1.size + p2.size + p3.size, datagram.length);
  assert.equal(p2.packetStart, p1.packetStart + p1.size);
  assert.equal(p3.packetStart, p2.packetStart + p2.size);

  const opened = openAll(datagram, keysByType);
  assert.equal(opened.length, 3);
  assert.deepEqual(
    opened.map((o) => [o.packet.type, o.packetNumber]),
    [
      [PacketType.Initial, 0],
      [PacketType.Handshake, 7],
      [PacketType.OneRtt, 1234],
    ],
  );
  // Each packet's Length ends exactly where the next packet starts (RFC 9000 §12.2).
  assert.equal(opened[0]!.packet.packetEnd, opened[1]!.packet.packetStart);
  assert.equal(opened[1]!.packet.packetEnd, opened[2]!.packet.packetStart);
  assert.equal(opened[2]!.packet.packetEnd, datagram.length);
  assert.deepEqual(opened[0]!.frames, [crypto(0, 300, 1)]);
  assert.equal(opened[1]!.frames[0]!.type, FrameType.Ack);
  assert.deepEqual(opened[1]!.frames[1], crypto(0, 200, 2));
  const stream = opened[2]!.frames[0]!;
  assert.equal(stream.type, FrameType.Stream);
  assert.deepEqual(stream.type === FrameType.Stream ? [stream.streamId, stream.offset, stream.fin] : [], [
    4,
    10,
    true,
  ]);
  // Key phase bit (RFC 9001 §6) survives header protection; reserved bits are zero.
  assert.equal((opened[2]!.firstByte >> 2) & 1, 1);
  assert.equal(opened[2]!.firstByte & 0x18, 0);
  assert.equal(opened[0]!.firstByte & 0x0c, 0);
  // Records and flags.
  assert.deepEqual(p1.frames, [{ kind: 'crypto', level: EncryptionLevel.Initial, offset: 0, length: 300 }]);
  assert.deepEqual([p1.ackEliciting, p1.inFlight, p1.ackOnly, p1.hasCrypto], [true, true, false, true]);
  assert.deepEqual([p2.ackEliciting, p2.hasCrypto, p2.frameCount], [true, true, 2]);
  assert.deepEqual([p3.ackEliciting, p3.hasCrypto, p3.lengthOffset], [true, false, -1]);
});

test('long header Length is patched to packet number + payload + tag, for v1 and v2', () => {
  for (const version of [QUIC_V1, QUIC_V2]) {
    const keys = deriveInitialKeys(version, DCID).client;
    for (const pnLength of [1, 2, 3, 4] as const) {
      const b = builder();
      b.openLong(
        { type: PacketType.Initial, version, dcid: DCID, scid: SCID, token: Uint8Array.from([9, 9, 9]) },
        PacketNumberSpace.Initial,
        keys,
        0x123456 % 2 ** (8 * pnLength),
        pnLength,
      );
      b.writeFrame(crypto(0, 100, 7));
      const p = b.closePacket()!;
      const datagram = seal(b);
      const length = ((datagram[p.lengthOffset]! & 0x3f) << 8) | datagram[p.lengthOffset + 1]!;
      assert.equal(datagram[p.lengthOffset]! >> 6, 1, '2-byte varint');
      assert.equal(length, pnLength + (p.payloadEnd - p.pnOffset - pnLength) + 16);
      assert.equal(p.pnOffset + length, datagram.length);
      const [o] = openAll(datagram, () => keys);
      assert.equal(o!.packet.type, PacketType.Initial);
      assert.deepEqual(o!.packet.type === PacketType.Initial ? [...o!.packet.token] : [], [9, 9, 9]);
      assert.equal(o!.packetNumber, 0x123456 % 2 ** (8 * pnLength));
      assert.deepEqual(o!.frames, [crypto(0, 100, 7)]);
    }
  }
});

test('padDatagramTo(1200) pads the last packet: the datagram is 1200 bytes and Length covers it', () => {
  const b = builder();
  openInitial(b, 0);
  b.writeFrame(crypto(0, 100, 1));
  b.closePacket();
  openHandshake(b, 0);
  b.writeFrame(crypto(0, 50, 2));
  const last = b.closePacket()!;
  const before = b.datagramLength;
  b.padDatagramTo(1200);
  assert.equal(b.datagramLength, 1200);
  const datagram = seal(b);
  assert.equal(datagram.length, 1200);
  assert.equal(last.inFlight, true);
  const opened = openAll(datagram, keysByType);
  assert.equal(opened.length, 2);
  // The padding went into the last packet, after its frames, as PADDING.
  assert.deepEqual(opened[0]!.frames, [crypto(0, 100, 1)]);
  assert.deepEqual(opened[1]!.frames, [crypto(0, 50, 2), { type: FrameType.Padding, length: 1200 - before }]);
  assert.equal(opened[1]!.packet.packetEnd, 1200);
});

test('padding a short header last packet, and the cap at the datagram size', () => {
  const b = builder(1252);
  openInitial(b, 0);
  b.writeFrame({ type: FrameType.Ping });
  b.closePacket();
  openOneRtt(b, 5);
  b.writeFrame({ type: FrameType.Ping });
  b.closePacket();
  const before = b.datagramLength;
  // Asking for more than maxSize pads to maxSize only.
  b.padDatagramTo(5000);
  const datagram = seal(b);
  assert.equal(datagram.length, 1252);
  const opened = openAll(datagram, keysByType);
  // The 1-byte payload was already padded once for the header protection sample (pn 2 + 1 < 4).
  assert.deepEqual(opened[0]!.frames, [{ type: FrameType.Ping }, { type: FrameType.Padding, length: 1 }]);
  assert.deepEqual(opened[1]!.frames, [
    { type: FrameType.Ping },
    { type: FrameType.Padding, length: 1 + 1252 - before },
  ]);
  // Already large enough: nothing changes.
  const c = builder();
  openInitial(c, 0);
  c.writeFrame(crypto(0, 1100, 1));
  c.closePacket();
  const size = c.datagramLength;
  assert.ok(size > 1000);
  c.padDatagramTo(1000);
  assert.equal(c.datagramLength, size);
  // Nothing to pad: no packet.
  const d = builder();
  d.padDatagramTo(1200);
  assert.equal(d.datagramLength, 0);
});

test('a packet without frames is rolled back: nothing of it is written', () => {
  const b = builder();
  openInitial(b, 0);
  b.writeFrame(crypto(0, 10, 1));
  b.closePacket();
  const after = b.datagramLength;
  assert.ok(openHandshake(b, 3));
  assert.ok(b.datagramLength > after, 'the open header counts');
  assert.equal(b.closePacket(), undefined);
  assert.equal(b.datagramLength, after);
  assert.equal(b.packets.length, 1);
  // The next packet starts where the rolled back one would have been.
  openOneRtt(b, 9);
  b.writeFrame({ type: FrameType.Ping });
  const p = b.closePacket()!;
  assert.equal(p.packetStart, after);
  const opened = openAll(seal(b), keysByType);
  assert.deepEqual(
    opened.map((o) => o.packet.type),
    [PacketType.Initial, PacketType.OneRtt],
  );
  // closePacket without an open packet is a no-op.
  assert.equal(b.closePacket(), undefined);
});

test('RFC 9001 §5.4.2: tiny payloads are padded so the header protection sample exists', () => {
  for (const pnLength of [1, 2, 3] as const) {
    const b = builder();
    openOneRtt(b, 1, pnLength);
    b.writeFrame({ type: FrameType.Ping });
    const p = b.closePacket()!;
    // pn + payload >= 4: the 16-byte sample at pnOffset + 4 ends inside the tag.
    assert.equal(p.payloadEnd - p.pnOffset, 4);
    const datagram = seal(b);
    assert.equal(datagram.length, p.pnOffset + 4 + 16);
    const [o] = openAll(datagram, keysByType);
    const expected: Frame[] = [{ type: FrameType.Ping }];
    if (pnLength < 3) expected.push({ type: FrameType.Padding, length: 3 - pnLength });
    assert.deepEqual(o!.frames, expected);
  }
  // A 4-byte packet number already gives 4 bytes: no padding.
  const b = builder();
  openHandshake(b, 1, 4);
  b.writeFrame({ type: FrameType.Ping });
  const p = b.closePacket()!;
  assert.equal(p.payloadEnd - p.pnOffset, 5);
  const [o] = openAll(seal(b), keysByType);
  assert.deepEqual(o!.frames, [{ type: FrameType.Ping }]);
});

test('remaining counts the tag; filling it exactly gives a datagram of maxSize', () => {
  const b = builder(1200);
  openOneRtt(b, 0);
  const room = b.remaining;
  assert.equal(room, 1200 - (1 + DCID.length + 2) - 16);
  b.pad(room);
  assert.equal(b.remaining, 0);
  const p = b.closePacket()!;
  assert.deepEqual([p.inFlight, p.ackEliciting, p.ackOnly], [true, false, true]);
  assert.equal(seal(b).length, 1200);
  // fits(): a frame one byte too large does not fit.
  const c = builder(200);
  openOneRtt(c, 0);
  const n = c.remaining - 4; // CRYPTO: type + offset(1) + length(2) = 4 bytes of header
  assert.equal(c.fits(crypto(0, n, 0)), true);
  assert.equal(c.fits(crypto(0, n + 1, 0)), false);
});

test('openLong / openShort refuse a packet that cannot fit', () => {
  const b = builder(60);
  // Initial header: 1+4+1+8+1+5+1(token len)+2+2 = 25 bytes, + 16 tag + 4 sample room = 45.
  assert.equal(openInitial(b, 0), true);
  b.writeFrame({ type: FrameType.Ping });
  b.closePacket();
  assert.equal(openHandshake(b, 0), false);
  assert.equal(openOneRtt(b, 0), false);
  assert.equal(b.remaining, 0, 'no packet is open');
  // roomForPacket reports what is left after a header estimate and the tag.
  assert.equal(b.roomForPacket(10), 60 - b.datagramLength - 10 - 16);
  // Only the first packet was written, and it opens.
  const opened = openAll(seal(b), keysByType);
  assert.equal(opened.length, 1);
});

test('ACK-only packets are neither ack-eliciting nor in flight; PADDING makes them count in flight', () => {
  const b = builder();
  openOneRtt(b, 0);
  b.writeFrame({ type: FrameType.Ack, ackDelay: 1, ranges: [{ largest: 10, smallest: 5 }] });
  const ackOnly = b.closePacket()!;
  assert.deepEqual([ackOnly.ackEliciting, ackOnly.inFlight, ackOnly.ackOnly], [false, false, true]);
  const c = builder();
  openInitial(c, 0);
  c.writeFrame({ type: FrameType.Ack, ackDelay: 0, ranges: [{ largest: 0, smallest: 0 }] });
  const padded = c.closePacket()!;
  c.padDatagramTo(1200);
  assert.deepEqual([padded.ackEliciting, padded.inFlight, padded.ackOnly], [false, true, true]);
  // CONNECTION_CLOSE is not ack-eliciting, but it is not an ACK either.
  const d = builder();
  openOneRtt(d, 0);
  d.writeFrame({ type: FrameType.ConnectionCloseTransport, errorCode: 0, frameType: 0, reason: '' });
  const close = d.closePacket()!;
  assert.deepEqual([close.ackEliciting, close.ackOnly], [false, false]);
});

test('reset() starts a new datagram; a packet number wider than its encoding is truncated', () => {
  const b = builder();
  openOneRtt(b, 0x1_0203, 2);
  b.writeFrame({ type: FrameType.Ping });
  b.closePacket();
  const first = seal(b);
  b.reset(1252);
  assert.equal(b.packets.length, 0);
  assert.equal(b.datagramLength, 0);
  openOneRtt(b, 0x1_0204, 2);
  b.writeFrame({ type: FrameType.Ping });
  const p: BuiltPacket = b.closePacket()!;
  assert.equal(p.packetStart, 0);
  const second = seal(b);
  assert.equal(second.length, first.length);
  // Decoded against the previous packet number, the truncated value expands to the full one.
  const buf = Uint8Array.from(second);
  const [parsed] = splitDatagram(buf, DCID.length);
  assert.ok(parsed && parsed.type === PacketType.OneRtt);
  const opened = openPacket(oneRttKeys, buf, parsed.packetStart, parsed.pnOffset, parsed.packetEnd, 0x1_0203);
  assert.equal(opened?.packetNumber, 0x1_0204);
  // writeFrame without an open packet is a bug in the caller.
  const c = builder();
  assert.throws(() => c.writeFrame({ type: FrameType.Ping }), Error);
});

test('a datagram built at an offset of a shared buffer (the slab) is byte for byte the one built at 0', () => {
  // The packer builds in place at the free end of a slab; sizes, padding and limits count from there.
  const write = (b: DatagramBuilder) => {
    assert.ok(openInitial(b, 0));
    b.writeFrame(crypto(0, 300, 1));
    b.closePacket();
    assert.ok(openOneRtt(b, 9));
    b.writeFrame({ type: FrameType.Ping });
    b.closePacket();
    b.padDatagramTo(1200);
  };
  const atZero = builder(1252);
  write(atZero);
  const expected = seal(atZero);
  assert.equal(expected.length, 1200);

  const shared = new Uint8Array(4096).fill(0xaa);
  const b = new DatagramBuilder(new Uint8Array(16));
  b.reset(1252, shared, 1000);
  assert.equal(b.datagramLength, 0);
  write(b);
  const n = b.seal();
  assert.equal(n, 1200);
  assert.deepEqual(shared.subarray(1000, 1000 + n), expected);
  assert.ok(
    shared.subarray(0, 1000).every((x) => x === 0xaa),
    'nothing written before the offset',
  );
  assert.ok(
    shared.subarray(1000 + n).every((x) => x === 0xaa),
    'nothing written after the datagram',
  );
  // The limit counts from the offset too: 1252 bytes at 2000 of 4096, and no more than the buffer.
  b.reset(1252, shared, 2000);
  assert.ok(openOneRtt(b, 10));
  assert.equal(b.remaining, 1252 - b.datagramLength);
  b.reset(1252, shared, 3500);
  assert.ok(openOneRtt(b, 11));
  assert.equal(b.remaining, 4096 - 3500 - b.datagramLength);
});
