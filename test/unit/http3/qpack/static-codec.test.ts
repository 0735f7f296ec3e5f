/**
 * The encoder and decoder without the dynamic table (capacity 0): the static table, literals with
 * and without name references, Huffman, never-indexed fields, and the decoder's checks of sections
 * that need no table state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FieldLine,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_DECOMPRESSION_FAILED,
  QpackDecoder,
  QpackEncoder,
  QpackUsageError,
} from '../../../../src/http3/qpack/index.js';
import { assertQpackError, hex, toHex } from './helpers.js';

const decoderOpts = {
  maxTableCapacity: 0,
  maxBlockedStreams: 0,
  maxFieldSectionSize: Number.POSITIVE_INFINITY,
};

function done(d: QpackDecoder, streamId: number, section: Uint8Array): FieldLine[] {
  const r = d.decode(streamId, section);
  assert.equal(r.status, 'done');
  return r.status === 'done' ? r.fields : [];
}

test('RFC 9204 B.1: literal field line with a static name reference, byte-exact', () => {
  const enc = new QpackEncoder(undefined, { huffman: false });
  const section = enc.encode(0, [{ name: ':path', value: '/index.html' }]);
  assert.equal(toHex(section), '0000510b2f696e6465782e68746d6c');
  assert.equal(enc.takeEncoderStreamData(), undefined);
  const d = new QpackDecoder(decoderOpts);
  assert.deepEqual(done(d, 0, hex('0000 510b 2f69 6e64 6578 2e68 746d 6c')), [
    { name: ':path', value: '/index.html' },
  ]);
  assert.equal(d.takeDecoderStreamData(), undefined, 'nothing to acknowledge without dynamic references');
});

test('static exact matches are indexed; names in the static table are referenced; others are literal', () => {
  const enc = new QpackEncoder();
  const fields: FieldLine[] = [
    { name: ':method', value: 'GET' }, // 17
    { name: ':scheme', value: 'https' }, // 23
    { name: ':authority', value: 'example.com' }, // name 0
    { name: ':path', value: '/' }, // 1
    { name: 'x-custom', value: 'v' },
    { name: 'accept', value: '*/*' }, // 29
  ];
  const section = enc.encode(0, fields);
  // prefix 0000; d1 = static 17; d7 = static 23; 50 + huffman value; c1; literal name; dd = static 29.
  const h = toHex(section);
  assert.ok(h.startsWith('0000d1d750'), h);
  assert.ok(h.endsWith('dd'), h);
  assert.deepEqual(done(new QpackDecoder(decoderOpts), 0, section), fields);
  assert.equal(enc.takeEncoderStreamData(), undefined, 'no encoder instructions with capacity 0');
});

test('never-indexed fields are literals with the N bit, and the decoder reports it', () => {
  const enc = new QpackEncoder(undefined, { huffman: false });
  const section = enc.encode(0, [
    { name: ':method', value: 'GET', neverIndex: true }, // static exact match, but must be literal
    { name: 'x-secret', value: 's', neverIndex: true },
    { name: 'authorization', value: 'Bearer abc' }, // sensitive by default
    { name: 'cookie', value: 'a=b' }, // a short cookie is sensitive too
    { name: 'cookie', value: 'session=0123456789abcdef0123' },
  ]);
  // 0x7f 0x00+...: Literal with static name ref, N=1, index 15 (:method) = 0x70 | 15 = 7f 00.
  assert.equal(toHex(section).slice(0, 8), '00007f00');
  const fields = done(new QpackDecoder(decoderOpts), 0, section);
  assert.deepEqual(fields, [
    { name: ':method', value: 'GET', neverIndex: true },
    { name: 'x-secret', value: 's', neverIndex: true },
    { name: 'authorization', value: 'Bearer abc', neverIndex: true },
    { name: 'cookie', value: 'a=b', neverIndex: true },
    { name: 'cookie', value: 'session=0123456789abcdef0123' },
  ]);
});

test('empty sections, empty values, octets above 0x7f, long values', () => {
  const enc = new QpackEncoder();
  const d = new QpackDecoder(decoderOpts);
  assert.equal(toHex(enc.encode(0, [])), '0000');
  assert.deepEqual(done(d, 0, hex('0000')), []);
  const fields = [
    { name: 'x-empty', value: '' },
    { name: 'x-latin1', value: 'caf\u00e9\u00ff\u0000' },
    { name: 'x-long', value: 'v'.repeat(100_000) },
    { name: '', value: '' },
  ];
  assert.deepEqual(done(d, 4, enc.encode(4, fields)), fields);
});

test('the encoder refuses characters above U+00FF with a QpackUsageError', () => {
  const enc = new QpackEncoder();
  assert.throws(
    () => enc.encode(0, [{ name: 'x', value: '\u20ac' }]),
    (e) => e instanceof QpackUsageError && e.code === 'ERR_QPACK_INVALID_FIELD',
  );
  assert.throws(() => enc.encode(0, [{ name: 'n\u0101', value: '' }]), QpackUsageError);
  // The encoder still works afterwards.
  assert.equal(toHex(enc.encode(0, [{ name: ':path', value: '/' }])), '0000c1');
});

test('decoder: bad static index, truncation, dynamic references without a table are QPACK_DECOMPRESSION_FAILED', () => {
  const d = new QpackDecoder(decoderOpts);
  assertQpackError(() => d.decode(0, hex('0000 ff24')), QPACK_DECOMPRESSION_FAILED, /static table index 99/);
  assertQpackError(
    () => d.decode(0, hex('0000 5f54 00')),
    QPACK_DECOMPRESSION_FAILED,
    /static table index 99/,
  );
  assertQpackError(() => d.decode(0, hex('00')), QPACK_DECOMPRESSION_FAILED, /truncated/);
  assertQpackError(() => d.decode(0, hex('')), QPACK_DECOMPRESSION_FAILED, /truncated/);
  assertQpackError(() => d.decode(0, hex('0000 510b 2f69')), QPACK_DECOMPRESSION_FAILED, /truncated/);
  assertQpackError(() => d.decode(0, hex('0000 23')), QPACK_DECOMPRESSION_FAILED, /truncated/);
  // Required Insert Count 1 with a table of capacity 0 (MaxEntries 0).
  assertQpackError(() => d.decode(0, hex('0100 80')), QPACK_DECOMPRESSION_FAILED, /Required Insert Count/);
  // Dynamic references with Required Insert Count 0.
  assertQpackError(
    () => d.decode(0, hex('0000 80')),
    QPACK_DECOMPRESSION_FAILED,
    /outside Required Insert Count 0/,
  );
  assertQpackError(() => d.decode(0, hex('0000 10')), QPACK_DECOMPRESSION_FAILED, /outside/);
  assertQpackError(() => d.decode(0, hex('0000 4000')), QPACK_DECOMPRESSION_FAILED, /outside/);
  assertQpackError(() => d.decode(0, hex('0000 0000')), QPACK_DECOMPRESSION_FAILED, /outside/);
  // A Base of 5 and Required Insert Count 0: fine without dynamic references.
  assert.deepEqual(done(d, 0, hex('0005 c1')), [{ name: ':path', value: '/' }]);
  // Invalid Huffman padding in a literal value.
  assertQpackError(() => d.decode(0, hex('0000 5181 18')), QPACK_DECOMPRESSION_FAILED, /Huffman/);
});

test('decoder: the field section size limit (RFC 9114 §4.2.2: name + value + 32 per line)', () => {
  const enc = new QpackEncoder();
  const fields = [
    { name: ':path', value: '/' }, // 5 + 1 + 32 = 38
    { name: 'x-a', value: 'abcd' }, // 3 + 4 + 32 = 39
  ];
  const section = enc.encode(0, fields);
  assert.deepEqual(done(new QpackDecoder({ ...decoderOpts, maxFieldSectionSize: 77 }), 0, section), fields);
  const d = new QpackDecoder({ ...decoderOpts, maxFieldSectionSize: 76 });
  assert.deepEqual(d.decode(0, section), { status: 'too-large', size: 77, limit: 76 });
  // The decoder carries on with the next section.
  assert.deepEqual(done(d, 4, enc.encode(4, [fields[0]!])), [fields[0]]);
});

test('encoder with capacity 0: decoder instructions other than Stream Cancellation are errors', () => {
  const enc = new QpackEncoder();
  enc.onDecoderStreamData(hex('48')); // Stream Cancellation, stream 8: nothing to do
  assertQpackError(
    () => enc.onDecoderStreamData(hex('84')),
    QPACK_DECODER_STREAM_ERROR,
    /Section Acknowledgment/,
  );
  assertQpackError(
    () => new QpackEncoder().onDecoderStreamData(hex('01')),
    QPACK_DECODER_STREAM_ERROR,
    /Increment/,
  );
  assertQpackError(
    () => new QpackEncoder().onDecoderStreamData(hex('00')),
    QPACK_DECODER_STREAM_ERROR,
    /Increment/,
  );
});

test('settings are applied once and must be non-negative integers', () => {
  const enc = new QpackEncoder();
  enc.applyPeerSettings({ maxTableCapacity: 0, blockedStreams: 0 });
  assert.throws(() => enc.applyPeerSettings({ maxTableCapacity: 0, blockedStreams: 0 }), QpackUsageError);
  assert.throws(() => new QpackEncoder({ maxTableCapacity: -1 }), QpackUsageError);
  assert.throws(() => new QpackDecoder({ ...decoderOpts, maxBlockedStreams: 1.5 }), QpackUsageError);
  assert.throws(() => new QpackDecoder({ ...decoderOpts, maxTableCapacity: Number.NaN }), QpackUsageError);
  const d = new QpackDecoder(decoderOpts);
  for (const id of [-4, 1.5, Number.NaN, 2 ** 60]) {
    assert.throws(
      () => d.decode(id, hex('0000')),
      (e) => e instanceof QpackUsageError && e.code === 'ERR_QPACK_STREAM_ID',
    );
    assert.throws(() => d.cancelStream(id), QpackUsageError);
  }
});
