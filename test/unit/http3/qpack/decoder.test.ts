/**
 * The decoder's dynamic table, encoder-stream instructions, blocked streams and decoder-stream
 * output: RFC 9204 Appendix B processed step by step with the table states of the RFC, and every
 * check of what the peer sends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeRequiredInsertCount,
  encodeRequiredInsertCount,
} from '../../../../src/http3/qpack/field-lines.js';
import {
  type DecodeResult,
  type FieldLine,
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
  QpackDecoder,
  type QpackDecoderOptions,
} from '../../../../src/http3/qpack/index.js';
import { assertQpackError, hex, toHex } from './helpers.js';

const opts = (o: Partial<QpackDecoderOptions> = {}): QpackDecoderOptions => ({
  maxTableCapacity: 220,
  maxBlockedStreams: 2,
  maxFieldSectionSize: Number.POSITIVE_INFINITY,
  ...o,
});

function fieldsOf(r: DecodeResult): FieldLine[] {
  assert.equal(r.status, 'done');
  return r.status === 'done' ? r.fields : [];
}

function table(d: QpackDecoder): Array<[number, string, string]> {
  return d.tableEntries().map((e) => [e.absoluteIndex, e.name, e.value]);
}

test('RFC 9204 §4.5.1.1: the Required Insert Count example (100-byte table, 10 inserts, encoded 4 -> 9)', () => {
  assert.equal(decodeRequiredInsertCount(4, 3, 10), 9);
  assert.equal(encodeRequiredInsertCount(9, 3), 4);
  assert.equal(encodeRequiredInsertCount(0, 3), 0);
  // Every RIC in the window (TotalInserts - MaxEntries, TotalInserts + MaxEntries] round-trips.
  for (const maxEntries of [1, 3, 6, 100]) {
    for (let total = 0; total < 5 * maxEntries; total++) {
      for (let ric = Math.max(1, total - maxEntries + 1); ric <= total + maxEntries; ric++) {
        const e = encodeRequiredInsertCount(ric, maxEntries);
        assert.equal(
          decodeRequiredInsertCount(e, maxEntries, total),
          ric,
          `ME ${maxEntries} T ${total} R ${ric}`,
        );
      }
    }
  }
  assert.equal(decodeRequiredInsertCount(7, 3, 10), -1, 'above FullRange');
  assert.equal(decodeRequiredInsertCount(1, 0, 0), -1, 'no table');
  // MaxEntries 3, no inserts: an encoding that means RIC 0 is invalid (RFC: "value of 0 must be encoded as 0").
  assert.equal(decodeRequiredInsertCount(1, 3, 0), -1);
  assert.equal(decodeRequiredInsertCount(6, 3, 0), -1, 'wraps below zero');
});

test('RFC 9204 Appendix B, step by step: table states and decoder instructions', () => {
  const d = new QpackDecoder(opts());
  // B.1
  assert.deepEqual(fieldsOf(d.decode(0, hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'))), [
    { name: ':path', value: '/index.html' },
  ]);
  assert.equal(d.takeDecoderStreamData(), undefined);

  // B.2: the section on stream 4 first, blocked; then the encoder stream.
  const s4 = hex('0381 10 11');
  assert.equal(d.decode(4, s4).status, 'blocked');
  assert.equal(d.blockedStreamCount, 1);
  const unblocked = d.onEncoderStreamData(
    hex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468'),
  );
  assert.deepEqual(unblocked, [
    {
      streamId: 4,
      status: 'done',
      fields: [
        { name: ':authority', value: 'www.example.com' },
        { name: ':path', value: '/sample/path' },
      ],
    },
  ]);
  assert.equal(d.blockedStreamCount, 0);
  assert.deepEqual(table(d), [
    [0, ':authority', 'www.example.com'],
    [1, ':path', '/sample/path'],
  ]);
  assert.equal(d.tableCapacity, 220);
  assert.equal(d.tableSize, 106);
  // Section Acknowledgment for stream 4; it covers both inserts, so no Insert Count Increment.
  assert.equal(toHex(d.takeDecoderStreamData()), '84');

  // B.3: speculative insert, acknowledged by an Insert Count Increment.
  assert.deepEqual(
    d.onEncoderStreamData(hex('4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565')),
    [],
  );
  assert.equal(d.tableSize, 160);
  assert.equal(toHex(d.takeDecoderStreamData()), '01');
  assert.equal(d.takeDecoderStreamData(), undefined);

  // B.4: the section on stream 8 arrives before the Duplicate; the stream is cancelled.
  const s8 = hex('0500 80 c1 81');
  assert.equal(d.decode(8, s8).status, 'blocked');
  d.cancelStream(8);
  assert.equal(d.blockedStreamCount, 0);
  assert.equal(toHex(d.takeDecoderStreamData()), '48');
  assert.deepEqual(d.onEncoderStreamData(hex('02')), [], 'the cancelled section is gone');
  assert.deepEqual(table(d), [
    [0, ':authority', 'www.example.com'],
    [1, ':path', '/sample/path'],
    [2, 'custom-key', 'custom-value'],
    [3, ':authority', 'www.example.com'],
  ]);
  assert.equal(d.tableSize, 217);
  // Had it not been cancelled, the section decodes now (Base 4: relative 0 = abs 3, relative 1 = abs 2).
  assert.deepEqual(fieldsOf(d.decode(12, s8)), [
    { name: ':authority', value: 'www.example.com' },
    { name: ':path', value: '/' },
    { name: 'custom-key', value: 'custom-value' },
  ]);
  assert.equal(toHex(d.takeDecoderStreamData()), '8c', 'Section Ack (stream 12) covers the duplicate');

  // B.5: insert with a dynamic name reference; evicts entry 0.
  d.onEncoderStreamData(hex('810d 6375 7374 6f6d 2d76 616c 7565 32'));
  assert.deepEqual(table(d), [
    [1, ':path', '/sample/path'],
    [2, 'custom-key', 'custom-value'],
    [3, ':authority', 'www.example.com'],
    [4, 'custom-key', 'custom-value2'],
  ]);
  assert.equal(d.tableSize, 215);
  assert.equal(toHex(d.takeDecoderStreamData()), '01');
  // Entry 0 is gone: a section referring to it fails.
  assertQpackError(() => d.decode(16, hex('0200 80')), QPACK_DECOMPRESSION_FAILED, /evicted/);
});

test('the Appendix B encoder stream split at every byte leaves the same table', () => {
  const all = hex(
    '3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468 ' +
      '4a637573746f6d2d6b65790c637573746f6d2d76616c7565 02 810d637573746f6d2d76616c756532',
  );
  const whole = new QpackDecoder(opts());
  whole.onEncoderStreamData(all);
  const split = new QpackDecoder(opts());
  for (const b of all) split.onEncoderStreamData(Uint8Array.of(b));
  assert.deepEqual(table(split), table(whole));
  assert.equal(split.tableSize, 215);
});

test('an insert whose name comes from the entry it evicts keeps the name (RFC 9204 §3.2.2)', () => {
  const d = new QpackDecoder(opts({ maxTableCapacity: 100 }));
  // Capacity 80; insert x-name=v1 (6+2+32 = 40), then x-name2 ... a second entry by name reference
  // to relative 0 whose insertion evicts it: capacity 41 holds one entry.
  d.onEncoderStreamData(hex('3f0a')); // capacity 41
  d.onEncoderStreamData(hex('46 782d6e616d65 02 7631')); // x-name: v1 (40 bytes)
  d.onEncoderStreamData(hex('80 02 7632')); // name of relative 0 (x-name), value v2
  assert.deepEqual(table(d), [[1, 'x-name', 'v2']]);
  d.onEncoderStreamData(hex('00')); // Duplicate relative 0: evicts the source
  assert.deepEqual(table(d), [[2, 'x-name', 'v2']]);
});

test('Set Dynamic Table Capacity evicts down to the new capacity, and 0 clears the table', () => {
  const d = new QpackDecoder(opts());
  d.onEncoderStreamData(hex('3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468'));
  d.onEncoderStreamData(hex('3f 2d')); // 31 + 45 = 76: only the newer entry (49... no: 32+5+12 = 49) fits
  assert.deepEqual(table(d), [[1, ':path', '/sample/path']]);
  d.onEncoderStreamData(hex('20'));
  assert.deepEqual(table(d), []);
  assert.equal(d.insertCount, 2);
});

test('encoder-stream errors: QPACK_ENCODER_STREAM_ERROR', () => {
  const fresh = () => new QpackDecoder(opts());
  assertQpackError(
    () => fresh().onEncoderStreamData(hex('3fbe01')),
    QPACK_ENCODER_STREAM_ERROR,
    /above the maximum 220/,
  );
  // An insert before any Set Dynamic Table Capacity: capacity 0.
  assertQpackError(
    () => fresh().onEncoderStreamData(hex('c000')),
    QPACK_ENCODER_STREAM_ERROR,
    /exceeds the table capacity 0/,
  );
  // An entry larger than the capacity (220): 32 + 10 + 179.
  assertQpackError(
    () => fresh().onEncoderStreamData(hex(`3fbd01 c0 7f 34 ${'61'.repeat(179)}`)),
    QPACK_ENCODER_STREAM_ERROR,
    /exceeds/,
  );
  // Static index out of range.
  assertQpackError(
    () => fresh().onEncoderStreamData(hex('3fbd01 ff24 00')),
    QPACK_ENCODER_STREAM_ERROR,
    /static table index 99/,
  );
  // Dynamic name / duplicate of a missing entry.
  assertQpackError(
    () => fresh().onEncoderStreamData(hex('3fbd01 80 00')),
    QPACK_ENCODER_STREAM_ERROR,
    /no such entry/,
  );
  assertQpackError(
    () => fresh().onEncoderStreamData(hex('3fbd01 00')),
    QPACK_ENCODER_STREAM_ERROR,
    /no such entry/,
  );
  // Duplicate of an evicted entry.
  const d = fresh();
  d.onEncoderStreamData(hex('3f 2d c10c2f73616d706c652f70617468 c10c2f73616d706c652f70617468'));
  assert.equal(d.tableEntries().length, 1);
  assertQpackError(() => d.onEncoderStreamData(hex('01')), QPACK_ENCODER_STREAM_ERROR, /relative index 1/);
  // Invalid Huffman in an inserted value.
  assertQpackError(
    () => fresh().onEncoderStreamData(hex('3fbd01 c0 81 18')),
    QPACK_ENCODER_STREAM_ERROR,
    /Huffman/,
  );
  // Oversized integer.
  assertQpackError(
    () => fresh().onEncoderStreamData(hex('3f ffffffffffffffffff7f')),
    QPACK_ENCODER_STREAM_ERROR,
    /too large|too long/,
  );
});

test('field-section reference errors: QPACK_DECOMPRESSION_FAILED', () => {
  const d = new QpackDecoder(opts());
  d.onEncoderStreamData(hex('3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468'));
  // RIC 2, Base 2: relative 0 = abs 1, relative 1 = abs 0.
  assert.deepEqual(fieldsOf(d.decode(0, hex('0300 80 81'))), [
    { name: ':path', value: '/sample/path' },
    { name: ':authority', value: 'www.example.com' },
  ]);
  // Reference at/after the Required Insert Count: RIC 1, Base 1 (delta 0), post-base 0 = abs 1.
  assertQpackError(
    () => d.decode(0, hex('0200 10')),
    QPACK_DECOMPRESSION_FAILED,
    /outside Required Insert Count 1/,
  );
  // Relative index below 0: RIC 1, Base 1, relative 1 = abs -1.
  assertQpackError(() => d.decode(0, hex('0200 81')), QPACK_DECOMPRESSION_FAILED, /absolute index -1/);
  // Base above RIC with a relative reference beyond RIC: RIC 1, Base 2 (delta +1), relative 0 = abs 1.
  assertQpackError(() => d.decode(0, hex('0201 80')), QPACK_DECOMPRESSION_FAILED, /outside/);
  // Required Insert Count larger than needed: RIC 2 but only entry 0 referenced.
  assertQpackError(
    () => d.decode(0, hex('0301 82')),
    QPACK_DECOMPRESSION_FAILED,
    /largest reference is entry 0/,
  );
  assertQpackError(
    () => d.decode(0, hex('0300 c1')),
    QPACK_DECOMPRESSION_FAILED,
    /largest reference is entry -1/,
  );
  // Negative Base: RIC 2, sign 1, delta 2 -> Base -1.
  assertQpackError(() => d.decode(0, hex('0382 c1')), QPACK_DECOMPRESSION_FAILED, /negative Base/);
  // Encoded RIC above 2 * MaxEntries (2 * 6 = 12).
  assertQpackError(() => d.decode(0, hex('0d00')), QPACK_DECOMPRESSION_FAILED, /Required Insert Count 13/);
  // Literal with post-Base name reference and with a dynamic name reference.
  assert.deepEqual(fieldsOf(d.decode(0, hex('0381 00 0161 09 0162'))), [
    { name: ':authority', value: 'a' },
    { name: ':path', value: 'b', neverIndex: true },
  ]);
  assert.deepEqual(fieldsOf(d.decode(0, hex('0300 40 0163 61 0164'))), [
    { name: ':path', value: 'c' },
    { name: ':authority', value: 'd', neverIndex: true },
  ]);
  // Section Acknowledgments for the three decoded sections on stream 0.
  assert.equal(toHex(d.takeDecoderStreamData()), '808080');
});

test('blocked streams: up to maxBlockedStreams, then QPACK_DECOMPRESSION_FAILED; unblocked in order', () => {
  const d = new QpackDecoder(opts({ maxBlockedStreams: 2 }));
  // Sections needing 1 and 2 entries on streams 0 and 4; a second section on stream 0 queues behind.
  assert.equal(d.decode(0, hex('0200 80')).status, 'blocked');
  assert.equal(d.decode(4, hex('0300 80')).status, 'blocked');
  assert.equal(d.decode(0, hex('0000 d1')).status, 'blocked', 'behind the blocked section of its stream');
  assert.equal(d.blockedStreamCount, 2);
  assertQpackError(() => d.decode(8, hex('0200 80')), QPACK_DECOMPRESSION_FAILED, /2 of 2 allowed streams/);
  // A section that needs nothing decodes on an unblocked stream.
  assert.deepEqual(fieldsOf(d.decode(12, hex('0000 d1'))), [{ name: ':method', value: 'GET' }]);
  // One insert: stream 0's sections come out; stream 4 still waits.
  const first = d.onEncoderStreamData(hex('3fbd01 c0 01 61'));
  assert.deepEqual(first, [
    { streamId: 0, status: 'done', fields: [{ name: ':authority', value: 'a' }] },
    { streamId: 0, status: 'done', fields: [{ name: ':method', value: 'GET' }] },
  ]);
  assert.equal(d.blockedStreamCount, 1);
  assert.equal(
    toHex(d.takeDecoderStreamData()),
    '80',
    'Section Ack for stream 0 only (RIC 0 is not acknowledged)',
  );
  const second = d.onEncoderStreamData(hex('c1 01 62'));
  assert.deepEqual(second, [{ streamId: 4, status: 'done', fields: [{ name: ':path', value: 'b' }] }]);
  assert.equal(toHex(d.takeDecoderStreamData()), '84');
  assert.equal(d.blockedStreamCount, 0);
});

test('maxBlockedStreams 0: any section that would block is an error', () => {
  const d = new QpackDecoder(opts({ maxBlockedStreams: 0 }));
  assertQpackError(() => d.decode(0, hex('0200 80')), QPACK_DECOMPRESSION_FAILED, /0 of 0 allowed/);
});

test('a blocked section that turns out invalid fails when unblocked', () => {
  const d = new QpackDecoder(opts());
  assert.equal(d.decode(0, hex('0200 ff24')).status, 'blocked');
  assertQpackError(
    () => d.onEncoderStreamData(hex('3fbd01 c0 01 61')),
    QPACK_DECOMPRESSION_FAILED,
    /static table index 99/,
  );
});

test('too-large sections are still acknowledged, so the encoder can release its references', () => {
  const d = new QpackDecoder(opts({ maxFieldSectionSize: 40 }));
  d.onEncoderStreamData(hex('3fbd01 c00f7777772e6578616d706c652e636f6d'));
  // :authority www.example.com = 10 + 15 + 32 = 57 > 40
  assert.deepEqual(d.decode(0, hex('0200 80')), { status: 'too-large', size: 57, limit: 40 });
  assert.equal(toHex(d.takeDecoderStreamData()), '80');
  // Blocked, then too large when unblocked: :path bbbbb = 5 + 5 + 32 = 42.
  assert.equal(d.decode(4, hex('0300 80')).status, 'blocked');
  assert.deepEqual(d.onEncoderStreamData(hex('c1 05 6262626262')), [
    { streamId: 4, status: 'too-large', size: 42, limit: 40 },
  ]);
  assert.equal(toHex(d.takeDecoderStreamData()), '84');
});

test('cancelStream: Stream Cancellation when the table is allowed; nothing with capacity 0', () => {
  const d = new QpackDecoder(opts());
  d.cancelStream(4);
  assert.equal(toHex(d.takeDecoderStreamData()), '44');
  const none = new QpackDecoder(opts({ maxTableCapacity: 0 }));
  none.cancelStream(4);
  assert.equal(none.takeDecoderStreamData(), undefined);
});
