/**
 * Arbitrary bytes into every QPACK input -- field sections, the encoder stream, the decoder stream
 * -- raw and as mutations of valid input: the result is a value or a QpackError with the code of
 * that input (RFC 9204 §6), never another exception, and what the instruction parsers buffer
 * stays bounded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type FieldLine,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
  QpackDecoder,
  QpackEncoder,
  QpackError,
} from '../../src/http3/qpack/index.js';

function valueOrQpackError(codes: readonly number[], fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof QpackError && codes.includes(e.h3Code)) return;
    throw new Error(`unexpected error: ${String(e)}`, { cause: e });
  }
}

const settingsArb = fc.record({
  maxTableCapacity: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 0, max: 5000 }),
  ),
  maxBlockedStreams: fc.integer({ min: 0, max: 3 }),
  maxFieldSectionSize: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 500 })),
});

/** Bytes biased towards each format's leading patterns. */
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .array(
      fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x10, 0x20, 0x3f, 0x40, 0x51, 0x7f, 0x80, 0x81, 0xc0, 0xff),
      {
        maxLength: 40,
      },
    )
    .map((a) => Uint8Array.from(a)),
  fc
    .tuple(fc.constantFrom(0x3f, 0x20, 0xc0, 0x40, 0x80, 0x00), fc.uint8Array({ maxLength: 60 }))
    .map(([first, rest]) => Uint8Array.of(first, ...rest)),
);

/** Splits `data` at random points. */
function chunks(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

test('fuzz: arbitrary field sections -> fields, blocked, too-large, or QPACK_DECOMPRESSION_FAILED', () => {
  fc.assert(
    fc.property(settingsArb, fc.array(bytesArb, { minLength: 1, maxLength: 6 }), (settings, sections) => {
      const d = new QpackDecoder(settings);
      // Some table state to refer to, when the capacity allows.
      if (settings.maxTableCapacity >= 220) {
        d.onEncoderStreamData(
          Uint8Array.from(Buffer.from('3fbd01c00f7777772e6578616d706c652e636f6d', 'hex')),
        );
      }
      sections.forEach((s, i) => {
        valueOrQpackError([QPACK_DECOMPRESSION_FAILED], () => d.decode(4 * i, s));
      });
    }),
    { numRuns: 2000 },
  );
});

test('fuzz: arbitrary encoder-stream bytes, split anywhere -> unblocked sections or QPACK_ENCODER_STREAM_ERROR', () => {
  fc.assert(
    fc.property(
      settingsArb,
      fc.array(bytesArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      fc.option(bytesArb, { nil: undefined }),
      (settings, data, cuts, blockedSection) => {
        const d = new QpackDecoder(settings);
        valueOrQpackError([QPACK_DECOMPRESSION_FAILED], () => {
          if (blockedSection) d.decode(0, blockedSection);
        });
        const all = Uint8Array.from(data.flatMap((b) => [...b]));
        valueOrQpackError([QPACK_ENCODER_STREAM_ERROR, QPACK_DECOMPRESSION_FAILED], () => {
          for (const c of chunks(all, cuts)) {
            d.onEncoderStreamData(c);
            assert.ok(d.bufferedEncoderStreamBytes <= 4 * settings.maxTableCapacity + 64);
            assert.ok(d.tableSize <= settings.maxTableCapacity);
          }
        });
      },
    ),
    { numRuns: 2000 },
  );
});

test('fuzz: arbitrary decoder-stream bytes, split anywhere -> accepted or QPACK_DECODER_STREAM_ERROR', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4 }),
      fc.array(bytesArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      (sectionsSent, data, cuts) => {
        const e = new QpackEncoder(undefined, { insert: 'all' });
        e.applyPeerSettings({ maxTableCapacity: 4096, blockedStreams: 3 });
        for (let i = 0; i < sectionsSent; i++) e.encode(4 * i, [{ name: 'x-a', value: `${i}` }]);
        const all = Uint8Array.from(data.flatMap((b) => [...b]));
        valueOrQpackError([QPACK_DECODER_STREAM_ERROR], () => {
          for (const c of chunks(all, cuts)) {
            e.onDecoderStreamData(c);
            assert.ok(e.bufferedDecoderStreamBytes <= 11);
            assert.ok(e.knownReceivedCount <= e.insertCount);
          }
        });
      },
    ),
    { numRuns: 2000 },
  );
});

const fieldsArb: fc.Arbitrary<FieldLine[]> = fc.array(
  fc.record({
    name: fc.constantFrom(':path', ':status', 'x-a', 'x-b', 'user-agent', 'cookie'),
    value: fc.constantFrom('/', '200', 'v1', 'v2', 'a much longer value that compresses'),
  }),
  { maxLength: 8 },
);

test('fuzz: mutations of valid encoder streams and sections -> values or the matching QpackError', () => {
  fc.assert(
    fc.property(
      fc.array(fieldsArb, { minLength: 1, maxLength: 5 }),
      fc.array(fc.record({ where: fc.nat(), xor: fc.integer({ min: 1, max: 255 }), stream: fc.boolean() }), {
        minLength: 1,
        maxLength: 4,
      }),
      (lists, mutations) => {
        const e = new QpackEncoder(undefined, { insert: 'all' });
        e.applyPeerSettings({ maxTableCapacity: 300, blockedStreams: 2 });
        const sections = lists.map((l, i) => e.encode(4 * i, l));
        const stream = e.takeEncoderStreamData() ?? new Uint8Array(0);
        for (const m of mutations) {
          const target = m.stream || sections.length === 0 ? stream : sections[m.where % sections.length]!;
          if (target.length > 0) target[m.where % target.length]! ^= m.xor;
        }
        const d = new QpackDecoder({
          maxTableCapacity: 300,
          maxBlockedStreams: 2,
          maxFieldSectionSize: 1000,
        });
        valueOrQpackError([QPACK_DECOMPRESSION_FAILED, QPACK_ENCODER_STREAM_ERROR], () => {
          sections.forEach((s, i) => {
            d.decode(4 * i, s);
          });
          d.onEncoderStreamData(stream);
        });
      },
    ),
    { numRuns: 1000 },
  );
});
