import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BufferReader } from '../../src/wire/buffer-reader.js';
import { BufferWriter } from '../../src/wire/buffer-writer.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import {
  encodeVersionNegotiation,
  PacketType,
  parsePacket,
  patchLongHeaderLength,
  writeLongHeader,
  writeShortHeader,
} from '../../src/wire/packet-header.js';
import { decodePacketNumber } from '../../src/wire/packet-number.js';
import { MAX_VARINT, readVarint, varintLength, writeVarint } from '../../src/wire/varint.js';
import { QUIC_V1, QUIC_V2 } from '../../src/wire/version.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const cid = fc.uint8Array({ maxLength: 20 });
const pnLength = fc.constantFrom<1 | 2 | 3 | 4>(1, 2, 3, 4);

test('property: varints round-trip as bigint (exact) and as number (up to MAX_VARINT)', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), (v) => {
      const buf = new Uint8Array(9);
      const end = writeVarint(buf, 1, v);
      assert.equal(end - 1, varintLength(v));
      assert.equal(new BufferReader(buf, 1, end).varintBig(), v);
      assert.equal(readVarint(buf, 1).value, Number(v));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.oneof(fc.maxSafeNat(), fc.integer({ min: 0, max: 20000 })), (v) => {
      const w = BufferWriter.alloc(8);
      w.varint(v);
      assert.deepEqual(readVarint(w.buffer, 0), { value: v, length: varintLength(v) });
    }),
    { numRuns: 2000 },
  );
  assert.equal(varintLength(MAX_VARINT), 8);
});

test('property: long headers round-trip through writeLongHeader / parsePacket, coalesced with a short header', () => {
  fc.assert(
    fc.property(
      fc.record({
        version: fc.constantFrom(QUIC_V1, QUIC_V2),
        type: fc.constantFrom(PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake),
        dcid: cid,
        scid: cid,
        token: fc.uint8Array({ maxLength: 80 }),
        packetNumber: fc.maxSafeNat(),
        packetNumberLength: pnLength,
        payload: fc.integer({ min: 0, max: 300 }),
        spin: fc.boolean(),
        keyPhase: fc.boolean(),
      }),
      (h) => {
        const token = h.type === PacketType.Initial ? h.token : undefined;
        const w = BufferWriter.alloc(1500);
        const { lengthOffset, pnOffset } = writeLongHeader(w, { ...h, token });
        w.fill(0x33, h.payload);
        patchLongHeaderLength(w.buffer, lengthOffset, w.offset - pnOffset);
        const firstEnd = w.offset;
        const short = writeShortHeader(w, { ...h, dcid: h.dcid });
        w.fill(0x44, 20);
        const datagram = w.toBytes();
        const p = parsePacket(datagram, 0, h.dcid.length);
        assert.equal(p.type, h.type);
        assert.equal(p.version, h.version);
        assert.equal(hex(p.dcid), hex(h.dcid));
        assert.equal(hex(p.scid), hex(h.scid));
        assert.equal(hex(p.token), hex(token ?? new Uint8Array(0)));
        assert.equal(p.pnOffset, pnOffset);
        assert.equal(p.packetEnd, firstEnd);
        // The truncated packet number is the low bytes of the full one.
        let truncated = 0;
        for (let i = 0; i < h.packetNumberLength; i++) truncated = truncated * 256 + datagram[pnOffset + i]!;
        assert.equal(truncated, h.packetNumber % 2 ** (8 * h.packetNumberLength));
        assert.equal(datagram[0]! & 0x03, h.packetNumberLength - 1);
        const packets = splitDatagram(datagram, h.dcid.length);
        assert.deepEqual(
          packets.map((x) => [x.type, x.packetStart, x.packetEnd]),
          [
            [h.type, 0, firstEnd],
            [PacketType.OneRtt, firstEnd, datagram.length],
          ],
        );
        assert.equal(packets[1]!.type === PacketType.OneRtt && packets[1]!.pnOffset, short.pnOffset);
      },
    ),
    { numRuns: 1000 },
  );
});

test('property: Version Negotiation packets round-trip', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 255 }),
      fc.uint8Array({ maxLength: 255 }),
      fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { maxLength: 10 }),
      fc.integer({ min: 0, max: 255 }),
      (dcid, scid, versions, unused) => {
        const vn = encodeVersionNegotiation(dcid, scid, versions, unused);
        assert.equal(vn[0]! & 0xc0, 0xc0);
        const p = parsePacket(vn, 0, 0);
        assert.equal(p.type, PacketType.VersionNegotiation);
        if (p.type !== PacketType.VersionNegotiation) return;
        assert.deepEqual(p.versions, versions);
        assert.equal(hex(p.dcid), hex(dcid));
        assert.equal(hex(p.scid), hex(scid));
      },
    ),
    { numRuns: 500 },
  );
});

test('property: a packet number truncated to 1-4 bytes decodes back when within half a window of the next expected (RFC 9000 A.3)', () => {
  // Any packet number in (expected - win/2, expected + win/2] decodes to itself.
  const draws = fc.integer({ min: 1, max: 4 }).chain((bytes) => {
    const half = 2 ** (8 * bytes - 1);
    return fc.tuple(
      fc.constant(bytes),
      fc.integer({ min: -1, max: 2 ** 50 }),
      fc.integer({ min: 1 - half, max: half }),
    );
  });
  fc.assert(
    fc.property(draws, ([bytes, largestPn, offset]) => {
      const pn = Math.max(0, largestPn + 1 + offset);
      assert.equal(decodePacketNumber(largestPn, pn % 2 ** (8 * bytes), 8 * bytes), pn);
    }),
    { numRuns: 2000 },
  );
});

test('property: a short header carries the low 8-32 bits of any packet number up to 2^53, big-endian (RFC 9000 §17.1)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.maxSafeNat(), fc.integer({ min: 0, max: 2 ** 33 })), pnLength, (pn, len) => {
      const w = BufferWriter.alloc(16);
      const { pnOffset } = writeShortHeader(w, {
        dcid: new Uint8Array(0),
        packetNumber: pn,
        packetNumberLength: len,
        keyPhase: false,
        spin: false,
      });
      const expected = (BigInt(pn) % (1n << BigInt(8 * len))).toString(16).padStart(2 * len, '0');
      assert.equal(hex(w.toBytes().subarray(pnOffset)), expected);
    }),
    { numRuns: 3000 },
  );
});
