import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferWriter } from '../../../src/wire/buffer-writer.js';
import {
  encodeRetryWithoutTag,
  encodeVersionNegotiation,
  longPacketTypeBits,
  PacketParseError,
  PacketType,
  parseInvariantHeader,
  parsePacket,
  patchLongHeaderLength,
  writeLongHeader,
  writeShortHeader,
} from '../../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `header` followed by zero bytes up to `total`. */
function padded(header: Uint8Array, total: number): Uint8Array {
  const out = new Uint8Array(total);
  out.set(header);
  return out;
}

test('RFC 9001 A.2: client Initial header parses (v1)', () => {
  const header = hex('c300000001088394c8f03e5157080000449e00000002');
  const datagram = padded(header, 18 + 1182);
  const p = parsePacket(datagram, 0, 8);
  assert.equal(p.type, PacketType.Initial);
  if (p.type !== PacketType.Initial) return;
  assert.equal(p.form, 'long');
  assert.equal(p.version, QUIC_V1);
  assert.equal(toHex(p.dcid), '8394c8f03e515708');
  assert.equal(p.scid.length, 0);
  assert.equal(p.token.length, 0);
  assert.equal(p.packetStart, 0);
  assert.equal(p.pnOffset, 18);
  assert.equal(p.packetEnd, 18 + 1182);
});

test('RFC 9001 A.2: writeLongHeader + patchLongHeaderLength reproduce the client Initial header', () => {
  const w = BufferWriter.alloc(64);
  const { lengthOffset, pnOffset } = writeLongHeader(w, {
    type: PacketType.Initial,
    version: QUIC_V1,
    dcid: hex('8394c8f03e515708'),
    scid: new Uint8Array(0),
    token: new Uint8Array(0),
    packetNumber: 2,
    packetNumberLength: 4,
  });
  assert.equal(lengthOffset, 16);
  assert.equal(pnOffset, 18);
  patchLongHeaderLength(w.buffer, lengthOffset, 1182);
  assert.equal(toHex(w.toBytes()), 'c300000001088394c8f03e5157080000449e00000002');
});

test('RFC 9369 A.2: the v2 client Initial header uses type bits 0b01', () => {
  const w = BufferWriter.alloc(64);
  const { lengthOffset } = writeLongHeader(w, {
    type: PacketType.Initial,
    version: QUIC_V2,
    dcid: hex('8394c8f03e515708'),
    scid: new Uint8Array(0),
    packetNumber: 2,
    packetNumberLength: 4,
  });
  patchLongHeaderLength(w.buffer, lengthOffset, 1182);
  assert.equal(toHex(w.toBytes()), 'd36b3343cf088394c8f03e5157080000449e00000002');
  const p = parsePacket(padded(w.toBytes(), 18 + 1182), 0, 8);
  assert.equal(p.type, PacketType.Initial);
  assert.equal(p.form === 'long' && 'version' in p ? p.version : 0, QUIC_V2);
});

test('RFC 9001 A.3 / RFC 9369 A.3: server Initial headers (2-byte packet number) for v1 and v2', () => {
  for (const [version, header] of [
    [QUIC_V1, 'c1000000010008f067a5502a4262b50040750001'],
    [QUIC_V2, 'd16b3343cf0008f067a5502a4262b50040750001'],
  ] as const) {
    const w = BufferWriter.alloc(64);
    const { lengthOffset, pnOffset } = writeLongHeader(w, {
      type: PacketType.Initial,
      version,
      dcid: new Uint8Array(0),
      scid: hex('f067a5502a4262b5'),
      packetNumber: 1,
      packetNumberLength: 2,
    });
    patchLongHeaderLength(w.buffer, lengthOffset, 0x75);
    assert.equal(toHex(w.toBytes()), header);
    const p = parsePacket(padded(hex(header), pnOffset + 0x75), 0, 0);
    assert.equal(p.type, PacketType.Initial);
    if (p.type !== PacketType.Initial) return;
    assert.equal(p.version, version);
    assert.equal(toHex(p.scid), 'f067a5502a4262b5');
    assert.equal(p.pnOffset, pnOffset);
    assert.equal(p.packetEnd, pnOffset + 0x75);
  }
});

test('RFC 9001 A.4 / RFC 9369 A.4: Retry packets parse (token and integrity tag), v1 and v2', () => {
  for (const [version, packet, tag] of [
    [
      QUIC_V1,
      'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba',
      '04a265ba2eff4d829058fb3f0f2496ba',
    ],
    [
      QUIC_V2,
      'cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6',
      'c8646ce8bfe33952d955543665dcc7b6',
    ],
  ] as const) {
    const p = parsePacket(hex(packet), 0, 0);
    assert.equal(p.type, PacketType.Retry);
    if (p.type !== PacketType.Retry) return;
    assert.equal(p.version, version);
    assert.equal(p.dcid.length, 0);
    assert.equal(toHex(p.scid), 'f067a5502a4262b5');
    assert.equal(Buffer.from(p.token).toString('latin1'), 'token');
    assert.equal(toHex(p.integrityTag), tag);
    assert.equal(p.packetEnd, hex(packet).length);
    // The unused bits of the vectors are 0xf: encodeRetryWithoutTag reproduces everything but the tag.
    const withoutTag = encodeRetryWithoutTag(
      version,
      new Uint8Array(0),
      hex('f067a5502a4262b5'),
      p.token,
      0x0f,
    );
    assert.equal(toHex(withoutTag), packet.slice(0, packet.length - 32));
  }
});

test('Retry: an empty token or a packet shorter than the tag is malformed; encoder refuses empty token', () => {
  assert.throws(
    () => parsePacket(hex('ff000000010008f067a5502a4262b504a265ba2eff4d829058fb3f0f2496ba'), 0, 0),
    PacketParseError,
  );
  assert.throws(() => parsePacket(hex('ff000000010008f067a5502a4262b5746f6b'), 0, 0), PacketParseError);
  assert.throws(
    () => encodeRetryWithoutTag(QUIC_V1, new Uint8Array(0), new Uint8Array(8), new Uint8Array(0), 0),
    RangeError,
  );
});

test('Initial with a token, 0-RTT and Handshake round-trip for v1 and v2, with the type codes of each', () => {
  const expectedBits: Record<number, Record<number, number>> = {
    [QUIC_V1]: { [PacketType.Initial]: 0, [PacketType.ZeroRtt]: 1, [PacketType.Handshake]: 2 },
    [QUIC_V2]: { [PacketType.Initial]: 1, [PacketType.ZeroRtt]: 2, [PacketType.Handshake]: 3 },
  };
  for (const version of [QUIC_V1, QUIC_V2]) {
    for (const type of [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake] as const) {
      const w = BufferWriter.alloc(200);
      w.u8(0xee); // the header need not start at 0
      const token = type === PacketType.Initial ? hex('aabbccdd'.repeat(20)) : undefined;
      const { lengthOffset, pnOffset } = writeLongHeader(w, {
        type,
        version,
        dcid: hex('0102030405'),
        scid: hex('a1a2a3a4a5a6a7a8a9'),
        token,
        packetNumber: 0x1234567,
        packetNumberLength: 3,
      });
      w.fill(0x55, 40);
      patchLongHeaderLength(w.buffer, lengthOffset, w.offset - pnOffset);
      const first = w.buffer[1]!;
      assert.equal((first >> 4) & 3, expectedBits[version][type], `type bits ${version} ${type}`);
      assert.equal(first & 0xc0, 0xc0);
      assert.equal(first & 0x0c, 0, 'reserved bits are 0');
      assert.equal(first & 0x03, 2, 'packet number length 3');
      assert.equal(toHex(w.buffer.subarray(pnOffset, pnOffset + 3)), '234567');
      const datagram = w.toBytes();
      const p = parsePacket(datagram, 1, 0);
      assert.equal(p.type, type);
      assert.equal(p.version, version);
      assert.equal(toHex(p.dcid), '0102030405');
      assert.equal(toHex(p.scid), 'a1a2a3a4a5a6a7a8a9');
      assert.equal(toHex(p.token), token ? toHex(token) : '');
      assert.equal(p.packetStart, 1);
      assert.equal(p.pnOffset, pnOffset);
      assert.equal(p.packetEnd, datagram.length);
    }
  }
  assert.throws(
    () =>
      writeLongHeader(BufferWriter.alloc(100), {
        type: PacketType.Handshake,
        version: QUIC_V1,
        dcid: new Uint8Array(0),
        scid: new Uint8Array(0),
        token: new Uint8Array(1),
        packetNumber: 0,
        packetNumberLength: 1,
      }),
    RangeError,
  );
});

test('RFC 9001 A.5: short header 4200bff4; spin and key phase bits round-trip', () => {
  const w = BufferWriter.alloc(32);
  const { pnOffset } = writeShortHeader(w, {
    dcid: new Uint8Array(0),
    packetNumber: 654360564,
    packetNumberLength: 3,
    keyPhase: false,
    spin: false,
  });
  assert.equal(toHex(w.toBytes()), '4200bff4');
  assert.equal(pnOffset, 1);
  for (const spin of [false, true]) {
    for (const keyPhase of [false, true]) {
      const out = BufferWriter.alloc(64);
      const { pnOffset: pn } = writeShortHeader(out, {
        dcid: hex('c0c1c2c3c4c5c6c7'),
        packetNumber: 7,
        packetNumberLength: 1,
        keyPhase,
        spin,
      });
      out.fill(1, 20);
      const first = out.buffer[0]!;
      assert.equal((first & 0x20) !== 0, spin);
      assert.equal((first & 0x04) !== 0, keyPhase);
      assert.equal(first & 0xd8, 0x40, 'form 0, fixed bit 1, reserved 0');
      const p = parsePacket(out.toBytes(), 0, 8);
      assert.equal(p.type, PacketType.OneRtt);
      if (p.type !== PacketType.OneRtt) return;
      assert.equal(p.form, 'short');
      assert.equal(toHex(p.dcid), 'c0c1c2c3c4c5c6c7');
      assert.equal(p.pnOffset, 9);
      assert.equal(pn, 9);
      assert.equal(p.packetEnd, 30);
    }
  }
});

test('Version Negotiation: encode and parse, unused bits with 0x40 set', () => {
  const vn = encodeVersionNegotiation(hex('0a0b'), hex('0c0d0e'), [QUIC_V1, QUIC_V2, 0x1a2a3a4a], 0x15);
  assert.equal(toHex(vn), 'd500000000020a0b030c0d0e000000016b3343cf1a2a3a4a');
  const p = parsePacket(vn, 0, 0);
  assert.equal(p.type, PacketType.VersionNegotiation);
  if (p.type !== PacketType.VersionNegotiation) return;
  assert.deepEqual(p.versions, [QUIC_V1, QUIC_V2, 0x1a2a3a4a]);
  assert.equal(toHex(p.dcid), '0a0b');
  assert.equal(toHex(p.scid), '0c0d0e');
  assert.equal(p.packetEnd, vn.length);
  // The fixed bit is not required on Version Negotiation; long CIDs (RFC 8999) are accepted.
  const long = encodeVersionNegotiation(new Uint8Array(200), new Uint8Array(0), [QUIC_V1], 0);
  long[0] = 0x80;
  const q = parsePacket(long, 0, 0);
  assert.equal(q.type, PacketType.VersionNegotiation);
  assert.equal(q.dcid.length, 200);
  // A version list that is not a multiple of 4 bytes is malformed.
  assert.throws(() => parsePacket(vn.subarray(0, vn.length - 1), 0, 0), PacketParseError);
});

test('longPacketTypeBits: RFC 9000 §17.2 and RFC 9369 §3.2 tables', () => {
  assert.deepEqual(
    [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake, PacketType.Retry].map((t) =>
      longPacketTypeBits(QUIC_V1, t),
    ),
    [0, 1, 2, 3],
  );
  assert.deepEqual(
    [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake, PacketType.Retry].map((t) =>
      longPacketTypeBits(QUIC_V2, t),
    ),
    [1, 2, 3, 0],
  );
  assert.throws(() => longPacketTypeBits(QUIC_V1, PacketType.OneRtt), RangeError);
  assert.throws(() => longPacketTypeBits(0xbabababa, PacketType.Initial), RangeError);
});

test('parsePacket rejects malformed headers with PacketParseError', () => {
  const good = hex('c300000001088394c8f03e5157080000449e00000002');
  const datagram = padded(good, 1200);
  const cases: Array<[string, Uint8Array, number, RegExp]> = [
    ['empty', new Uint8Array(0), 0, /empty/],
    ['fixed bit 0 (long)', Uint8Array.from(datagram, (b, i) => (i === 0 ? b & ~0x40 : b)), 8, /fixed bit/],
    ['fixed bit 0 (short)', hex('0201020304050607080910'), 8, /fixed bit/],
    ['short header without packet number', hex('4101020304050607 08'), 8, /truncated short/],
    ['truncated version', hex('c30000'), 8, /truncated long/],
    ['truncated DCID', hex('c300000001088394c8'), 8, /truncated destination/],
    [
      'unsupported version',
      padded(hex('c3babababa088394c8f03e5157080000449e00000002'), 1200),
      8,
      /unsupported/,
    ],
    [
      'DCID of 21 bytes',
      padded(Buffer.concat([hex('c30000000115'), new Uint8Array(21), hex('000041000000')]), 400),
      8,
      /longer than 20/,
    ],
    ['Length beyond datagram', good, 8, /beyond/],
    ['truncated token', hex('c300000001000005aabb'), 0, /truncated token/],
    ['truncated Length', hex('c30000000100000080'), 0, /truncated length/],
    ['Length 0', hex('c3000000010000004000'), 0, /too small/],
  ];
  for (const [name, bytes, dcidLength, message] of cases) {
    assert.throws(
      () => parsePacket(bytes, 0, dcidLength),
      (e: unknown) => e instanceof PacketParseError && message.test(e.message),
      name,
    );
  }
  assert.throws(() => parsePacket(datagram, 1200, 8), PacketParseError);
});

test('parseInvariantHeader reads any version, long CIDs and short headers', () => {
  const unknown = Buffer.concat([
    hex('80babababa'),
    Buffer.from([255]),
    new Uint8Array(255),
    hex('03aabbcc'),
    new Uint8Array(5),
  ]);
  const h = parseInvariantHeader(unknown, 0, 0);
  assert.equal(h.form, 'long');
  assert.equal(h.version, 0xbabababa);
  assert.equal(h.dcid.length, 255);
  assert.equal(toHex(h.scid), 'aabbcc');
  const s = parseInvariantHeader(hex('00 0102030405 ffff'.replace(/ /g, '')), 0, 5);
  assert.deepEqual(
    { form: s.form, version: s.version, dcid: toHex(s.dcid), scid: s.scid.length },
    {
      form: 'short',
      version: 0,
      dcid: '0102030405',
      scid: 0,
    },
  );
  assert.throws(() => parseInvariantHeader(hex('0001'), 0, 5), PacketParseError);
  assert.throws(() => parseInvariantHeader(hex('8000000001050102'), 0, 0), PacketParseError);
  assert.throws(() => parseInvariantHeader(hex('800000000100'), 0, 0), PacketParseError);
  assert.throws(() => parseInvariantHeader(new Uint8Array(0), 0, 0), PacketParseError);
});

test('writers reject invalid input', () => {
  const base = { version: QUIC_V1, dcid: new Uint8Array(8), scid: new Uint8Array(8), packetNumber: 0 };
  assert.throws(
    () =>
      writeLongHeader(BufferWriter.alloc(100), {
        ...base,
        type: PacketType.Initial,
        packetNumberLength: 5 as 4,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      writeLongHeader(BufferWriter.alloc(100), {
        ...base,
        dcid: new Uint8Array(21),
        type: PacketType.Initial,
        packetNumberLength: 1,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      writeLongHeader(BufferWriter.alloc(100), {
        ...base,
        version: 0xbabababa,
        type: PacketType.Initial,
        packetNumberLength: 1,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      writeLongHeader(BufferWriter.alloc(10), { ...base, type: PacketType.Initial, packetNumberLength: 1 }),
    RangeError,
  );
  assert.throws(() => patchLongHeaderLength(new Uint8Array(4), 0, 16384), RangeError);
  assert.throws(() => patchLongHeaderLength(new Uint8Array(4), 3, 10), RangeError);
  const b = new Uint8Array(2);
  patchLongHeaderLength(b, 0, 16383);
  assert.equal(toHex(b), '7fff');
  assert.throws(
    () =>
      writeShortHeader(BufferWriter.alloc(100), {
        dcid: new Uint8Array(21),
        packetNumber: 0,
        packetNumberLength: 1,
        keyPhase: false,
        spin: false,
      }),
    RangeError,
  );
});
