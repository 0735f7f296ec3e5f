import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ErrorCode } from '../../../src/http3/error-codes.js';
import { FrameReader, type FrameReaderItem } from '../../../src/http3/frame-reader.js';
import { encodeFrame, encodeFrameHeader, H3FrameType } from '../../../src/http3/frames.js';
import { H3ProtocolError } from '../../../src/http3/h3-protocol-error.js';

function drain(r: FrameReader): FrameReaderItem[] {
  const out: FrameReaderItem[] = [];
  for (let i = r.next(); i; i = r.next()) out.push(i);
  return out;
}

function expectH3(fn: () => unknown, code: H3ErrorCode) {
  assert.throws(fn, (e: unknown) => e instanceof H3ProtocolError && e.errorCode === code);
}

const headers = encodeFrame({ type: H3FrameType.Headers, fieldSection: Buffer.from('field section') });
const data = encodeFrame({ type: H3FrameType.Data, data: Buffer.from('0123456789') });
const unknown = encodeFrame({ type: 'unknown', frameType: 0x21, payload: Buffer.alloc(50, 1) });
const stream = Buffer.concat([
  headers,
  unknown,
  data,
  encodeFrame({ type: H3FrameType.Data, data: new Uint8Array(0) }),
]);

/** Summarise items: DATA bytes joined, frames by type. */
function summary(items: FrameReaderItem[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const it of items) {
    if (it.kind === 'data') {
      pending += Buffer.from(it.data).toString();
      continue;
    }
    if (pending) out.push(`data:${pending}`);
    pending = '';
    out.push(
      it.frame.type === H3FrameType.Headers
        ? `headers:${Buffer.from(it.frame.fieldSection)}`
        : `${it.frame.type}`,
    );
  }
  if (pending) out.push(`data:${pending}`);
  return out;
}

test('frames split at every byte boundary read the same', () => {
  const expected = ['headers:field section', 'data:0123456789'];
  for (let cut = 0; cut <= stream.length; cut++) {
    const seen: number[] = [];
    const r = new FrameReader((t) => seen.push(t));
    const items: FrameReaderItem[] = [];
    r.push(stream.subarray(0, cut));
    items.push(...drain(r));
    r.push(stream.subarray(cut));
    items.push(...drain(r));
    assert.deepEqual(summary(items), expected, `cut ${cut}`);
    assert.deepEqual(seen, [H3FrameType.Headers, 0x21, H3FrameType.Data, H3FrameType.Data]);
    assert.ok(r.atFrameBoundary);
    r.finish();
  }
  // One byte at a time.
  const r = new FrameReader(() => {});
  const items: FrameReaderItem[] = [];
  for (const b of stream) {
    r.push(Uint8Array.of(b));
    items.push(...drain(r));
  }
  assert.deepEqual(summary(items), expected);
});

test('DATA is delivered as it arrives, without waiting for the whole frame', () => {
  const r = new FrameReader(() => {});
  r.push(encodeFrameHeader(H3FrameType.Data, 1_000_000));
  r.push(Buffer.from('abc'));
  const items = drain(r);
  assert.deepEqual(summary(items), ['data:abc']);
  assert.equal(r.atFrameBoundary, false);
  expectH3(() => r.finish(), H3ErrorCode.H3_FRAME_ERROR);
});

test('a stream ending inside a frame header or payload is H3_FRAME_ERROR', () => {
  for (let cut = 1; cut < headers.length; cut++) {
    const r = new FrameReader(() => {});
    r.push(headers.subarray(0, cut));
    assert.deepEqual(drain(r), []);
    expectH3(() => r.finish(), H3ErrorCode.H3_FRAME_ERROR);
  }
});

test('the check sees each header before the payload and can refuse it', () => {
  const r = new FrameReader((type) => {
    if (type === H3FrameType.Data)
      throw new H3ProtocolError('connection', H3ErrorCode.H3_FRAME_UNEXPECTED, 'no');
  });
  r.push(encodeFrameHeader(H3FrameType.Data, 5));
  expectH3(() => r.next(), H3ErrorCode.H3_FRAME_UNEXPECTED);
});

test('HTTP/2 frame types are H3_FRAME_UNEXPECTED (RFC 9114 §7.2.8)', () => {
  for (const t of [0x02, 0x06, 0x08, 0x09]) {
    const r = new FrameReader(() => {});
    r.push(encodeFrame({ type: 'unknown', frameType: t, payload: new Uint8Array(0) }));
    expectH3(() => r.next(), H3ErrorCode.H3_FRAME_UNEXPECTED);
  }
});

test('size limits: oversized field sections and SETTINGS are refused at the header', () => {
  const r = new FrameReader(() => {}, { maxFieldSectionFrame: 100, maxSettingsFrame: 10 });
  r.push(encodeFrameHeader(H3FrameType.Headers, 101));
  expectH3(() => r.next(), H3ErrorCode.H3_EXCESSIVE_LOAD);
  const s = new FrameReader(() => {}, { maxFieldSectionFrame: 100, maxSettingsFrame: 10 });
  s.push(encodeFrameHeader(H3FrameType.Settings, 11));
  expectH3(() => s.next(), H3ErrorCode.H3_EXCESSIVE_LOAD);
  // A GOAWAY cannot be longer than one varint: refused before its payload arrives.
  const g = new FrameReader(() => {});
  g.push(encodeFrameHeader(H3FrameType.Goaway, 1_000_000));
  expectH3(() => g.next(), H3ErrorCode.H3_FRAME_ERROR);
});

test('a huge unknown frame is skipped without buffering', () => {
  const r = new FrameReader(() => {});
  r.push(encodeFrameHeader(0x21, 10_000_000));
  for (let i = 0; i < 100; i++) {
    r.push(new Uint8Array(100_000));
    assert.equal(r.next(), undefined);
    assert.equal(r.bufferedBytes, 0);
  }
  r.push(encodeFrame({ type: H3FrameType.Goaway, id: 8 }));
  assert.deepEqual(r.next(), { kind: 'frame', frame: { type: H3FrameType.Goaway, id: 8 } });
});

test('prefix varints: a stream type and a push ID, split anywhere', () => {
  const bytes = Uint8Array.of(0x01, 0x80, 0, 0x12, 0x34);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const r = new FrameReader(() => {});
    const got: number[] = [];
    r.push(bytes.subarray(0, cut));
    for (let v = r.readPrefixVarint(); v !== undefined; v = r.readPrefixVarint()) got.push(v);
    r.push(bytes.subarray(cut));
    for (let v = r.readPrefixVarint(); v !== undefined; v = r.readPrefixVarint()) got.push(v);
    assert.deepEqual(got, [1, 0x1234]);
  }
});
