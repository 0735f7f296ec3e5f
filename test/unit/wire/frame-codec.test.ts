import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { BufferReader } from '../../../src/wire/buffer-reader.js';
import { BufferWriter } from '../../../src/wire/buffer-writer.js';
import {
  decodeFrame,
  decodeFrames,
  encodeFrame,
  frameLength,
  streamFrameOverhead,
} from '../../../src/wire/frame-codec.js';
import { type Frame, FrameType } from '../../../src/wire/frames.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const token16 = hex('000102030405060708090a0b0c0d0e0f');

function encode(frame: Frame, omitLength = false): Uint8Array {
  const w = BufferWriter.alloc(2048);
  encodeFrame(w, frame, omitLength);
  assert.equal(w.offset, frameLength(frame, omitLength), 'frameLength matches the encoding');
  return w.toBytes();
}

/** Byte fields as hex, so that deepEqual compares contents and not Buffer vs Uint8Array. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: toHex(v) };
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

function plain(frame: Frame): unknown {
  return normalize(frame);
}

function expectError(bytes: Uint8Array, code: number, frameType: number, message?: RegExp): void {
  assert.throws(
    () => decodeFrames(bytes),
    (e: unknown) => {
      assert.ok(e instanceof QuicTransportError, `not a QuicTransportError: ${String(e)}`);
      assert.equal(e.errorCode, code, e.message);
      assert.equal(e.frameType, frameType, e.message);
      if (message) assert.match(e.reason, message);
      return true;
    },
    toHex(bytes),
  );
}

const FEE = TransportErrorCode.FRAME_ENCODING_ERROR;

const examples: Array<{ frame: Frame; bytes: string; omitLength?: boolean }> = [
  { frame: { type: FrameType.Padding, length: 3 }, bytes: '000000' },
  { frame: { type: FrameType.Ping }, bytes: '01' },
  {
    frame: {
      type: FrameType.Ack,
      ackDelay: 5,
      ranges: [
        { smallest: 8, largest: 10 },
        { smallest: 2, largest: 5 },
      ],
    },
    bytes: '020a0501020103',
  },
  {
    frame: {
      type: FrameType.Ack,
      ackDelay: 0,
      ranges: [{ smallest: 0, largest: 0 }],
      ecn: { ect0: 1, ect1: 2, ce: 3 },
    },
    bytes: '0300000000010203',
  },
  {
    frame: { type: FrameType.ResetStream, streamId: 4, errorCode: 0x100, finalSize: 1000 },
    bytes: '0404410043e8',
  },
  { frame: { type: FrameType.StopSending, streamId: 3, errorCode: 7 }, bytes: '050307' },
  { frame: { type: FrameType.Crypto, offset: 0, data: hex('aabb') }, bytes: '060002aabb' },
  { frame: { type: FrameType.NewToken, token: hex('cafe') }, bytes: '0702cafe' },
  {
    frame: { type: FrameType.Stream, streamId: 4, offset: 0, data: hex('6869'), fin: true },
    bytes: '0b04026869',
  },
  {
    frame: { type: FrameType.Stream, streamId: 4, offset: 0, data: hex('6869'), fin: false },
    bytes: '08046869',
    omitLength: true,
  },
  {
    frame: { type: FrameType.Stream, streamId: 8, offset: 1000, data: hex('6869'), fin: false },
    bytes: '0e0843e8026869',
  },
  {
    frame: { type: FrameType.Stream, streamId: 8, offset: 1000, data: hex('6869'), fin: true },
    bytes: '0d0843e86869',
    omitLength: true,
  },
  { frame: { type: FrameType.Stream, streamId: 0, offset: 0, data: hex(''), fin: true }, bytes: '0b0000' },
  { frame: { type: FrameType.MaxData, maximumData: 16384 }, bytes: '1080004000' },
  { frame: { type: FrameType.MaxStreamData, streamId: 1, maximumStreamData: 63 }, bytes: '11013f' },
  { frame: { type: FrameType.MaxStreamsBidi, maximumStreams: 2 ** 60 }, bytes: '12d000000000000000' },
  { frame: { type: FrameType.MaxStreamsUni, maximumStreams: 3 }, bytes: '1303' },
  { frame: { type: FrameType.DataBlocked, maximumData: 64 }, bytes: '144040' },
  { frame: { type: FrameType.StreamDataBlocked, streamId: 2, maximumStreamData: 9 }, bytes: '150209' },
  { frame: { type: FrameType.StreamsBlockedBidi, maximumStreams: 100 }, bytes: '164064' },
  { frame: { type: FrameType.StreamsBlockedUni, maximumStreams: 0 }, bytes: '1700' },
  {
    frame: {
      type: FrameType.NewConnectionId,
      sequenceNumber: 1,
      retirePriorTo: 0,
      connectionId: hex('aabbccdd'),
      statelessResetToken: token16,
    },
    bytes: `18010004aabbccdd${toHex(token16)}`,
  },
  { frame: { type: FrameType.RetireConnectionId, sequenceNumber: 2 }, bytes: '1902' },
  { frame: { type: FrameType.PathChallenge, data: hex('0102030405060708') }, bytes: '1a0102030405060708' },
  { frame: { type: FrameType.PathResponse, data: hex('0102030405060708') }, bytes: '1b0102030405060708' },
  {
    frame: { type: FrameType.ConnectionCloseTransport, errorCode: 7, frameType: 6, reason: 'bad' },
    bytes: '1c070603626164',
  },
  {
    frame: { type: FrameType.ConnectionCloseApplication, errorCode: 0x101, reason: 'é' },
    bytes: '1d410102c3a9',
  },
  { frame: { type: FrameType.HandshakeDone }, bytes: '1e' },
  { frame: { type: FrameType.Datagram, data: hex('6869') }, bytes: '31026869' },
  { frame: { type: FrameType.Datagram, data: hex('6869') }, bytes: '306869', omitLength: true },
];

test('every frame type: byte-exact encoding and decoding back to the same frame', () => {
  for (const { frame, bytes, omitLength } of examples) {
    const encoded = encode(frame, omitLength);
    assert.equal(toHex(encoded), bytes, `encoding of ${FrameType[frame.type]}`);
    const decoded = decodeFrames(encoded);
    assert.equal(decoded.length, 1, bytes);
    assert.deepEqual(plain(decoded[0]!), plain(frame), `decoding of ${bytes}`);
  }
});

test('a packet of several frames decodes in order; PADDING runs merge into one frame', () => {
  const payload = hex('01 000000 1e 00 0b04026869 00');
  const frames = decodeFrames(payload);
  assert.deepEqual(
    frames.map((f) => (f.type === FrameType.Padding ? `pad${f.length}` : FrameType[f.type])),
    ['Ping', 'pad3', 'HandshakeDone', 'pad1', 'Stream', 'pad1'],
  );
  const r = new BufferReader(hex('0000000001'));
  assert.deepEqual(decodeFrame(r), { type: FrameType.Padding, length: 4 });
  assert.equal(r.offset, 4);
});

test('decoded data is a view into the payload, no copy', () => {
  const payload = hex('0b04026869');
  const frame = decodeFrames(payload)[0]!;
  assert.equal(frame.type, FrameType.Stream);
  if (frame.type !== FrameType.Stream) return;
  assert.equal(frame.data.buffer, payload.buffer);
});

test('STREAM: all eight OFF/LEN/FIN type bytes decode', () => {
  for (let type = 0x08; type <= 0x0f; type++) {
    const off = (type & 0x04) !== 0;
    const len = (type & 0x02) !== 0;
    const bytes = Buffer.concat([
      Buffer.from([type, 0x05]),
      off ? hex('4100') : hex(''),
      len ? hex('03') : hex(''),
      hex('aabbcc'),
      len ? hex('01') : hex(''),
    ]);
    const frames = decodeFrames(bytes);
    const f = frames[0]!;
    assert.equal(f.type, FrameType.Stream);
    if (f.type !== FrameType.Stream) return;
    assert.equal(f.streamId, 5);
    assert.equal(f.offset, off ? 256 : 0);
    assert.equal(toHex(f.data), 'aabbcc');
    assert.equal(f.fin, (type & 0x01) !== 0);
    assert.equal(frames.length, len ? 2 : 1);
  }
});

test('RFC 9000 §12.4: empty payload is PROTOCOL_VIOLATION; unknown type is FRAME_ENCODING_ERROR', () => {
  expectError(hex(''), TransportErrorCode.PROTOCOL_VIOLATION, 0);
  expectError(hex('1f'), FEE, 0x1f, /unknown/);
  expectError(hex('01 2f'), FEE, 0x2f, /unknown/);
  expectError(hex('4040'), FEE, 0x40, /unknown/);
  expectError(hex('80004000'), FEE, 0x4000, /unknown/);
  // A known type with a longer encoding than necessary (MAY be a PROTOCOL_VIOLATION).
  expectError(hex('4001'), TransportErrorCode.PROTOCOL_VIOLATION, 0x01);
  expectError(hex('8000001e'), TransportErrorCode.PROTOCOL_VIOLATION, 0x1e);
});

test('every proper prefix of a length-delimited frame is a FRAME_ENCODING_ERROR for its type', () => {
  for (const { frame, bytes, omitLength } of examples) {
    if (omitLength || frame.type === FrameType.Padding) continue;
    const full = hex(bytes);
    for (let cut = 1; cut < full.length; cut++) {
      expectError(full.subarray(0, cut), FEE, full[0]!);
    }
  }
});

test('RFC 9000 §19.3.1: ACK ranges that compute a negative packet number', () => {
  expectError(hex('02 05 00 00 06'), FEE, 0x02, /below/); // first range 6 > largest 5
  expectError(hex('03 05 00 01 02 00 02 000000'), FEE, 0x03, /below/); // largest 3 - 0 - 2 = 1, smallest -1
  expectError(hex('02 05 00 01 02 02 00'), FEE, 0x02, /below/); // 3 - 2 - 2 = -1
  expectError(hex('02 05 00 01 00 00 04'), FEE, 0x02, /below/); // largest 3, smallest 3 - 4 < 0
  // Exactly down to 0 is fine.
  const ok = decodeFrames(hex('02 05 00 01 00 00 03'))[0]!;
  assert.deepEqual(ok.type === FrameType.Ack && ok.ranges, [
    { smallest: 5, largest: 5 },
    { smallest: 0, largest: 3 },
  ]);
  // An absurd range count is rejected without looping.
  expectError(hex('02 05 00 bfffffffffffffff 00'), FEE, 0x02);
});

test('RFC 9000 §19.6, §19.8: offset + length beyond 2^62-1 is a FRAME_ENCODING_ERROR (exactly)', () => {
  // STREAM with offset 2^62-1: zero bytes are fine, one byte is not.
  assert.equal(decodeFrames(hex('0e 04 ffffffffffffffff 00')).length, 1);
  expectError(hex('0e 04 ffffffffffffffff 01 aa'), FEE, 0x0e, /2\^62/);
  expectError(hex('0c 04 ffffffffffffffff aa'), FEE, 0x0c, /2\^62/);
  // 2^62-2 rounds to 2^62 as a number: the check must be exact.
  assert.equal(decodeFrames(hex('0e 04 fffffffffffffffe 01 aa')).length, 1);
  expectError(hex('0e 04 fffffffffffffffe 02 aabb'), FEE, 0x0e, /2\^62/);
  // CRYPTO
  assert.equal(decodeFrames(hex('06 fffffffffffffffe 01 aa')).length, 1);
  expectError(hex('06 ffffffffffffffff 01 aa'), FEE, 0x06, /2\^62/);
});

test('RFC 9000 §19.11, §19.14: stream counts above 2^60 are FRAME_ENCODING_ERROR (exactly)', () => {
  for (const type of [0x12, 0x13, 0x16, 0x17]) {
    const t = type.toString(16);
    assert.equal(decodeFrames(hex(`${t} d000000000000000`)).length, 1);
    expectError(hex(`${t} d000000000000001`), FEE, type, /2\^60/);
    expectError(hex(`${t} ffffffffffffffff`), FEE, type, /2\^60/);
  }
});

test('RFC 9000 §19.15: NEW_CONNECTION_ID length 0 or > 20, Retire Prior To > Sequence Number', () => {
  const tok = toHex(token16);
  expectError(hex(`18 01 00 00 ${tok}`), FEE, 0x18, /length 0/);
  expectError(hex(`18 01 00 15 ${'aa'.repeat(21)} ${tok}`), FEE, 0x18, /length 21/);
  expectError(hex(`18 01 02 04 aabbccdd ${tok}`), FEE, 0x18, /Retire Prior To/);
  assert.equal(decodeFrames(hex(`18 02 02 14 ${'aa'.repeat(20)} ${tok}`)).length, 1);
  // Retire Prior To > Sequence Number where both round to the same double.
  expectError(hex(`18 c000000000000010 c000000000000011 04 aabbccdd ${tok}`), FEE, 0x18, /Retire Prior To/);
  expectError(hex(`18 01 00 04 aabbccdd ${tok.slice(2)}`), FEE, 0x18, /truncated/);
});

test('RFC 9000 §19.7: empty NEW_TOKEN is FRAME_ENCODING_ERROR', () => {
  expectError(hex('07 00'), FEE, 0x07, /empty/);
});

test('CONNECTION_CLOSE: invalid UTF-8 in the reason does not throw', () => {
  const f = decodeFrames(hex('1d 00 02 ff fe'))[0]!;
  assert.equal(f.type === FrameType.ConnectionCloseApplication && f.reason, '\ufffd\ufffd');
});

test('streamFrameOverhead: type + id + offset (if > 0) + length (unless omitted)', () => {
  assert.equal(streamFrameOverhead(0, 0, 10), 3);
  assert.equal(streamFrameOverhead(0, 0, 10, true), 2);
  assert.equal(streamFrameOverhead(64, 16384, 1200), 1 + 2 + 4 + 2);
  assert.equal(streamFrameOverhead(4, 2 ** 40, 1200, true), 1 + 1 + 8);
  const data = new Uint8Array(1200);
  const f: Frame = { type: FrameType.Stream, streamId: 64, offset: 16384, data, fin: false };
  assert.equal(encode(f).length, streamFrameOverhead(64, 16384, 1200) + 1200);
});

test('encoders reject invalid frames with RangeError', () => {
  const bad: Frame[] = [
    { type: FrameType.Padding, length: 0 },
    { type: FrameType.Ack, ackDelay: 0, ranges: [] },
    { type: FrameType.Ack, ackDelay: 0, ranges: [{ smallest: 5, largest: 4 }] },
    {
      type: FrameType.Ack,
      ackDelay: 0,
      ranges: [
        { smallest: 5, largest: 9 },
        { smallest: 1, largest: 4 },
      ],
    },
    {
      type: FrameType.Ack,
      ackDelay: 0,
      ranges: [
        { smallest: 5, largest: 9 },
        { smallest: 6, largest: 7 },
      ],
    },
    { type: FrameType.Ack, ackDelay: -1, ranges: [{ smallest: 5, largest: 9 }] },
    { type: FrameType.Ack, ackDelay: 0, ranges: [{ smallest: -1, largest: 9 }] },
    { type: FrameType.NewToken, token: new Uint8Array(0) },
    { type: FrameType.Stream, streamId: 0, offset: 2 ** 62 - 512, data: new Uint8Array(512), fin: false },
    { type: FrameType.Stream, streamId: 2 ** 62, offset: 0, data: new Uint8Array(1), fin: false },
    { type: FrameType.Crypto, offset: -1, data: new Uint8Array(1) },
    { type: FrameType.MaxStreamsBidi, maximumStreams: 2 ** 60 + 2 ** 10 },
    { type: FrameType.StreamsBlockedUni, maximumStreams: -1 },
    { type: FrameType.MaxData, maximumData: 2 ** 62 },
    {
      type: FrameType.NewConnectionId,
      sequenceNumber: 1,
      retirePriorTo: 2,
      connectionId: new Uint8Array(4),
      statelessResetToken: token16,
    },
    {
      type: FrameType.NewConnectionId,
      sequenceNumber: 1,
      retirePriorTo: 0,
      connectionId: new Uint8Array(0),
      statelessResetToken: token16,
    },
    {
      type: FrameType.NewConnectionId,
      sequenceNumber: 1,
      retirePriorTo: 0,
      connectionId: new Uint8Array(4),
      statelessResetToken: new Uint8Array(15),
    },
    { type: FrameType.PathChallenge, data: new Uint8Array(7) },
    { type: FrameType.PathResponse, data: new Uint8Array(9) },
  ];
  for (const frame of bad) {
    const w = BufferWriter.alloc(2048);
    assert.throws(() => encodeFrame(w, frame), RangeError, JSON.stringify(plain(frame)));
    assert.equal(w.offset, 0, 'nothing written');
  }
});

test('encodeFrame writes nothing when the frame does not fit', () => {
  const w = BufferWriter.alloc(10);
  w.u8(0xff);
  const frame: Frame = {
    type: FrameType.Stream,
    streamId: 0,
    offset: 0,
    data: new Uint8Array(7),
    fin: false,
  };
  assert.throws(() => encodeFrame(w, frame), RangeError);
  assert.equal(w.offset, 1);
  encodeFrame(w, frame, true);
  assert.equal(w.offset, 10);
});

test('issue 10 defect 1: frame types beyond 2^53 are FRAME_ENCODING_ERROR, not a RangeError', () => {
  // 2^62-1 read as a number rounds up to 2^62, which varintLength refused (INTERNAL_ERROR on the wire).
  expectError(hex('ffffffffffffffff'), FEE, 0, /unknown frame type 0x3fffffffffffffff/);
  expectError(hex('c020000000000000'), FEE, 0, /unknown/); // 2^53
  expectError(hex('c01fffffffffffff'), FEE, 2 ** 53 - 1, /unknown/); // exact as a number
  expectError(hex('c000000040000000'), FEE, 2 ** 30, /unknown/);
  // A one-byte type in eight bytes is still a non-minimal encoding.
  expectError(hex('c000000000000001'), TransportErrorCode.PROTOCOL_VIOLATION, 0x01);
  // After a valid frame too.
  expectError(hex('01 ffffffffffffffff'), FEE, 0);
});

test('varints beyond 2^53 decode to values that can be encoded again (RFC 9000 §16)', () => {
  const max = 'ffffffffffffffff';
  const reencode = (bytes: string) => {
    const frames = decodeFrames(hex(bytes));
    for (const f of frames) {
      if (f.type !== FrameType.Padding) encode(f);
    }
    return frames[0]!;
  };
  // STOP_SENDING and RESET_STREAM error codes are echoed back (RFC 9000 §3.5).
  const stop = reencode(`05 00 ${max}`);
  assert.ok(stop.type === FrameType.StopSending && stop.errorCode <= 2 ** 62 - 1);
  reencode(`04 00 ${max} 00`);
  reencode(`1c ${max} ${max} 00`);
  reencode(`1d ${max} 00`);
  reencode(`10 ${max}`);
  reencode(`11 00 ${max}`);
  reencode(`14 ${max}`);
  reencode(`15 00 ${max}`);
  reencode(`19 ${max}`);
  // An ACK's Largest Acknowledged must stay below 2^53 (the test below); its other fields may not.
  reencode(`02 c01fffffffffffff ${max} 00 00`);
  reencode(`03 c01fffffffffffff 00 00 00 ${max} ${max} ${max}`);
});

test('stream IDs beyond 2^53 keep their two type bits (RFC 9000 §2.1)', () => {
  for (const low of [0, 1, 2, 3]) {
    const id = Buffer.from((((1n << 62n) - 4n) | BigInt(low)).toString(16).padStart(16, '0'), 'hex');
    id[0]! |= 0xc0;
    for (const frame of [
      Buffer.concat([hex('08'), id]),
      Buffer.concat([hex('05'), id, hex('00')]),
      Buffer.concat([hex('04'), id, hex('00 00')]),
      Buffer.concat([hex('11'), id, hex('00')]),
      Buffer.concat([hex('15'), id, hex('00')]),
    ]) {
      const f = decodeFrames(frame)[0]! as { streamId: number };
      assert.equal(f.streamId % 4, low);
      assert.ok(f.streamId <= Number.MAX_SAFE_INTEGER && f.streamId > 2 ** 52);
    }
  }
});

test('ACK: Largest Acknowledged above 2^53 - 1 is a PROTOCOL_VIOLATION (RFC 9000 §13.1), 2^53 - 1 decodes', () => {
  const PV = TransportErrorCode.PROTOCOL_VIOLATION;
  // type 0x02, largest (8-byte varint), ack delay 0, 0 more ranges, first range 0.
  expectError(hex('02 c020000000000000 00 00 00'), PV, FrameType.Ack, /2\^53/);
  expectError(hex('02 ffffffffffffffff 00 00 00'), PV, FrameType.Ack, /2\^53/);
  // The fuzz finding: a huge largest with ranges that, rounded, would touch.
  expectError(hex('02 f5948b3ade39ce67 00 01 00 00 00'), PV, FrameType.Ack);
  const [ack] = decodeFrames(hex('02 c01fffffffffffff 00 01 05 02 03'));
  assert.ok(ack && ack.type === FrameType.Ack);
  assert.deepEqual(ack.ranges, [
    { smallest: 2 ** 53 - 6, largest: 2 ** 53 - 1 },
    { smallest: 2 ** 53 - 13, largest: 2 ** 53 - 10 },
  ]);
});
