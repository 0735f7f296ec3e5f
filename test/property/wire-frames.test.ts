import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BufferWriter } from '../../src/wire/buffer-writer.js';
import { decodeFrames, encodeFrame, frameLength } from '../../src/wire/frame-codec.js';
import { type AckRange, type Frame, FrameType } from '../../src/wire/frames.js';
import { MAX_VARINT } from '../../src/wire/varint.js';

/** Varints across all four lengths, including exact doubles up to MAX_VARINT. */
const varint = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 0, max: 16383 }),
  fc.integer({ min: 0, max: 2 ** 30 - 1 }),
  fc.maxSafeNat(),
  fc
    .bigInt({ min: 0n, max: (1n << 62n) - 1n })
    .map(Number)
    .filter((v) => v <= MAX_VARINT),
);
/** Stream IDs beyond 2^53 - 1 are saturated (keeping their type bits): frame-codec.test.ts covers them. */
const streamId = varint.filter((v) => v <= Number.MAX_SAFE_INTEGER);
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const streamCount = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.constant(2 ** 60),
  fc.integer({ min: 0, max: 2 ** 52 }),
);
const reason = fc.string({ unit: 'grapheme', maxLength: 20 });

/** Descending, disjoint, non-adjacent ranges (RFC 9000 §19.3.1). */
const ackRanges: fc.Arbitrary<AckRange[]> = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2 ** 40 })),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 20 }), fc.integer({ min: 0, max: 2 ** 20 })), {
      minLength: 1,
      maxLength: 20,
    }),
  )
  .map(([base, pairs]) => {
    const ranges: AckRange[] = [];
    let next = base;
    for (const [length, gap] of pairs) {
      ranges.push({ smallest: next, largest: next + length });
      next += length + gap + 2;
    }
    return ranges.reverse();
  });

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((length): Frame => ({ type: FrameType.Padding, length })),
  fc.constant<Frame>({ type: FrameType.Ping }),
  fc
    .record({
      ackDelay: varint,
      ranges: ackRanges,
      ecn: fc.option(fc.record({ ect0: varint, ect1: varint, ce: varint }), { nil: undefined }),
    })
    .map(
      ({ ackDelay, ranges, ecn }): Frame =>
        ecn === undefined
          ? { type: FrameType.Ack, ackDelay, ranges }
          : { type: FrameType.Ack, ackDelay, ranges, ecn },
    ),
  fc
    .record({ streamId, errorCode: varint, finalSize: varint })
    .map((f): Frame => ({ type: FrameType.ResetStream, ...f })),
  fc.record({ streamId, errorCode: varint }).map((f): Frame => ({ type: FrameType.StopSending, ...f })),
  fc
    .record({ offset: varint.map((v) => Math.min(v, 2 ** 62 - 4096)), data: bytes(0, 64) })
    .map((f): Frame => ({ type: FrameType.Crypto, ...f })),
  bytes(1, 64).map((token): Frame => ({ type: FrameType.NewToken, token })),
  fc
    .record({
      streamId,
      offset: varint.map((v) => Math.min(v, 2 ** 62 - 4096)),
      data: bytes(0, 64),
      fin: fc.boolean(),
    })
    .map((f): Frame => ({ type: FrameType.Stream, ...f })),
  varint.map((maximumData): Frame => ({ type: FrameType.MaxData, maximumData })),
  fc
    .record({ streamId, maximumStreamData: varint })
    .map((f): Frame => ({ type: FrameType.MaxStreamData, ...f })),
  fc
    .tuple(fc.constantFrom(FrameType.MaxStreamsBidi, FrameType.MaxStreamsUni), streamCount)
    .map(([type, maximumStreams]): Frame => ({ type, maximumStreams })),
  varint.map((maximumData): Frame => ({ type: FrameType.DataBlocked, maximumData })),
  fc
    .record({ streamId, maximumStreamData: varint })
    .map((f): Frame => ({ type: FrameType.StreamDataBlocked, ...f })),
  fc
    .tuple(fc.constantFrom(FrameType.StreamsBlockedBidi, FrameType.StreamsBlockedUni), streamCount)
    .map(([type, maximumStreams]): Frame => ({ type, maximumStreams })),
  fc
    .record({
      sequenceNumber: fc.maxSafeNat(),
      connectionId: bytes(1, 20),
      statelessResetToken: bytes(16, 16),
    })
    .chain((f) =>
      fc
        .integer({ min: 0, max: f.sequenceNumber })
        .map((retirePriorTo): Frame => ({ type: FrameType.NewConnectionId, retirePriorTo, ...f })),
    ),
  varint.map((sequenceNumber): Frame => ({ type: FrameType.RetireConnectionId, sequenceNumber })),
  bytes(8, 8).map((data): Frame => ({ type: FrameType.PathChallenge, data })),
  bytes(8, 8).map((data): Frame => ({ type: FrameType.PathResponse, data })),
  fc
    .record({ errorCode: varint, frameType: varint, reason })
    .map((f): Frame => ({ type: FrameType.ConnectionCloseTransport, ...f })),
  fc
    .record({ errorCode: varint, reason })
    .map((f): Frame => ({ type: FrameType.ConnectionCloseApplication, ...f })),
  fc.constant<Frame>({ type: FrameType.HandshakeDone }),
  bytes(0, 64).map((data): Frame => ({ type: FrameType.Datagram, data })),
);

function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

/** What decoding yields: adjacent PADDING frames merge into one. */
function expected(frames: Frame[]): Frame[] {
  const out: Frame[] = [];
  for (const f of frames) {
    const last = out[out.length - 1];
    if (f.type === FrameType.Padding && last?.type === FrameType.Padding) {
      out[out.length - 1] = { type: FrameType.Padding, length: last.length + f.length };
    } else {
      out.push(f);
    }
  }
  return out;
}

test('property: any sequence of frames encodes to frameLength bytes and decodes back to itself', () => {
  fc.assert(
    fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.boolean(), (frames, omitLast) => {
      const w = BufferWriter.alloc(16384);
      frames.forEach((frame, i) => {
        const omit = omitLast && i === frames.length - 1;
        const before = w.offset;
        encodeFrame(w, frame, omit);
        assert.equal(w.offset - before, frameLength(frame, omit));
      });
      const decoded = decodeFrames(w.toBytes());
      assert.deepEqual(normalize(decoded), normalize(expected(frames)));
    }),
    { numRuns: 1500 },
  );
});

test('property: every frame type is generated and round-trips on its own', () => {
  const seen = new Set<number>();
  fc.assert(
    fc.property(frameArb, (frame) => {
      seen.add(frame.type);
      const w = BufferWriter.alloc(4096);
      encodeFrame(w, frame);
      assert.deepEqual(normalize(decodeFrames(w.toBytes())), normalize([frame]));
    }),
    { numRuns: 2000 },
  );
  const all = Object.values(FrameType).filter(
    (v): v is FrameType =>
      typeof v === 'number' && v !== FrameType.AckEcn && v !== FrameType.DatagramWithLength,
  );
  for (const t of all) assert.ok(seen.has(t), `frame type 0x${t.toString(16)} was generated`);
});
