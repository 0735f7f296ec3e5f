import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FrameReader, type FrameReaderItem } from '../../src/http3/frame-reader.js';
import { decodeFrame, encodeFrame, type H3Frame, H3FrameType } from '../../src/http3/frames.js';
import { H3ProtocolError } from '../../src/http3/h3-protocol-error.js';
import { settingsFromEntries } from '../../src/http3/settings.js';
import { MAX_VARINT } from '../../src/wire/varint.js';

const varint = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 0, max: 16383 }),
  fc.integer({ min: 0, max: 2 ** 30 - 1 }),
  fc.maxSafeNat(),
  fc.constant(MAX_VARINT),
);
/** IDs beyond 2^53 - 1 are saturated and setting IDs beyond it dropped (unit tests in frames.test.ts). */
const safeVarint = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 0, max: 16383 }),
  fc.integer({ min: 0, max: 2 ** 30 - 1 }),
  fc.maxSafeNat(),
);
const bytes = fc.uint8Array({ maxLength: 300 });
/** Frame types that are neither known nor HTTP/2-reserved. */
const unknownType = varint.filter((t) => t > 0x0d || t === 0x0a || t === 0x0b || t === 0x0c);

const frameArb: fc.Arbitrary<H3Frame> = fc.oneof(
  bytes.map((data): H3Frame => ({ type: H3FrameType.Data, data })),
  bytes.map((fieldSection): H3Frame => ({ type: H3FrameType.Headers, fieldSection })),
  safeVarint.map((pushId): H3Frame => ({ type: H3FrameType.CancelPush, pushId })),
  fc
    .array(fc.record({ id: safeVarint, value: varint }), { maxLength: 10 })
    .map((entries): H3Frame => ({ type: H3FrameType.Settings, entries })),
  fc
    .tuple(safeVarint, bytes)
    .map(([pushId, fieldSection]): H3Frame => ({ type: H3FrameType.PushPromise, pushId, fieldSection })),
  safeVarint.map((id): H3Frame => ({ type: H3FrameType.Goaway, id })),
  safeVarint.map((pushId): H3Frame => ({ type: H3FrameType.MaxPushId, pushId })),
  fc
    .tuple(unknownType, bytes)
    .map(([frameType, payload]): H3Frame => ({ type: 'unknown', frameType, payload })),
);

const BIG_LIMITS = { maxFieldSectionFrame: 1 << 20, maxSettingsFrame: 1 << 20 };

/** Read everything; DATA pieces are joined into one DATA frame per frame header. */
function readAll(chunks: Uint8Array[]): H3Frame[] {
  const out: H3Frame[] = [];
  const types: number[] = [];
  const r = new FrameReader((t) => {
    types.push(t);
    if (t === H3FrameType.Data) out.push({ type: H3FrameType.Data, data: new Uint8Array(0) });
  }, BIG_LIMITS);
  const take = (it: FrameReaderItem) => {
    if (it.kind === 'frame') out.push(it.frame);
    else {
      const last = out[out.length - 1]!;
      assert.equal(last.type, H3FrameType.Data);
      if (last.type === H3FrameType.Data) last.data = Buffer.concat([last.data, it.data]);
    }
  };
  for (const c of chunks) {
    r.push(c);
    for (let it = r.next(); it; it = r.next()) take(it);
  }
  r.finish();
  return out;
}

/** Cut `buf` at the given relative points. */
function split(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * buf.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

test('every frame round-trips through encodeFrame/decodeFrame', () => {
  fc.assert(
    fc.property(frameArb, (f) => {
      const enc = encodeFrame(f);
      const dec = decodeFrame(enc);
      assert.ok(dec);
      assert.equal(dec.length, enc.length);
      assert.deepEqual(encodeFrame(dec.frame), enc);
    }),
    { numRuns: 2000 },
  );
});

test('a sequence of frames split anywhere reads back the same (unknown types skipped)', () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { maxLength: 8 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
      (frames, cuts) => {
        const wire = Buffer.concat(frames.map(encodeFrame));
        const got = readAll(split(wire, cuts));
        const expected = frames.filter((f) => f.type !== 'unknown');
        assert.deepEqual(got.map(encodeFrame), expected.map(encodeFrame));
      },
    ),
    { numRuns: 1000 },
  );
});

test('random bytes into the frame reader and SETTINGS give frames or H3ProtocolError, nothing else', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
      (buf, cuts) => {
        try {
          const frames = readAll(split(buf, cuts));
          for (const f of frames) if (f.type === H3FrameType.Settings) settingsFromEntries(f.entries);
        } catch (err) {
          if (!(err instanceof H3ProtocolError)) throw err;
        }
      },
    ),
    { numRuns: 3000 },
  );
});
