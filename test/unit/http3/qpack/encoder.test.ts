/**
 * The encoder's use of the dynamic table: RFC 9204 B.2 byte-exact, the insertion policy, Known
 * Received Count, the blocked-streams limit, the eviction rule, draining and Duplicate, the
 * decoder-stream checks, and 0-RTT remembered settings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FieldLine,
  QPACK_DECODER_STREAM_ERROR,
  QpackDecoder,
  QpackEncoder,
  type QpackEncoderTuning,
} from '../../../../src/http3/qpack/index.js';
import { assertQpackError, hex, toHex } from './helpers.js';

function table(e: QpackEncoder): Array<[number, string, string, number]> {
  return e.tableEntries().map((x) => [x.absoluteIndex, x.name, x.value, x.refs]);
}

/** An encoder with the peer's settings applied, and the peer's decoder to check what it sends. */
function pair(capacity: number, blocked: number, tuning?: QpackEncoderTuning) {
  const enc = new QpackEncoder(undefined, tuning);
  enc.applyPeerSettings({ maxTableCapacity: capacity, blockedStreams: blocked });
  const dec = new QpackDecoder({
    maxTableCapacity: capacity,
    maxBlockedStreams: blocked,
    maxFieldSectionSize: Number.POSITIVE_INFINITY,
  });
  /** Sends the encoder stream, then decodes the section, returns the fields. */
  const roundTrip = (streamId: number, fields: FieldLine[]): { section: Uint8Array; fields: FieldLine[] } => {
    const section = enc.encode(streamId, fields);
    const ins = enc.takeEncoderStreamData();
    if (ins) assert.deepEqual(dec.onEncoderStreamData(ins), []);
    const r = dec.decode(streamId, section);
    assert.equal(r.status, 'done');
    return { section, fields: r.status === 'done' ? r.fields : [] };
  };
  const acks = () => {
    const d = dec.takeDecoderStreamData();
    if (d) enc.onDecoderStreamData(d);
    return toHex(d);
  };
  return { enc, dec, roundTrip, acks };
}

test('RFC 9204 B.2 from the encoder, byte-exact: capacity, two inserts, post-Base references; then the ack', () => {
  const enc = new QpackEncoder(undefined, { huffman: false, insert: 'all' });
  enc.applyPeerSettings({ maxTableCapacity: 220, blockedStreams: 1 });
  const section = enc.encode(4, [
    { name: ':authority', value: 'www.example.com' },
    { name: ':path', value: '/sample/path' },
  ]);
  assert.equal(
    toHex(enc.takeEncoderStreamData()),
    toHex(hex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468')),
  );
  assert.equal(toHex(section), '03811011');
  assert.deepEqual(table(enc), [
    [0, ':authority', 'www.example.com', 1],
    [1, ':path', '/sample/path', 1],
  ]);
  assert.equal(enc.tableSize, 106);
  assert.equal(enc.knownReceivedCount, 0);
  assert.equal(enc.blockingStreamCount, 1);
  enc.onDecoderStreamData(hex('84'));
  assert.deepEqual(table(enc), [
    [0, ':authority', 'www.example.com', 0],
    [1, ':path', '/sample/path', 0],
  ]);
  assert.equal(enc.knownReceivedCount, 2);
  assert.equal(enc.blockingStreamCount, 0);
  // B.3's Insert Count Increment is an error here: both insertions are already acknowledged.
  assertQpackError(() => enc.onDecoderStreamData(hex('01')), QPACK_DECODER_STREAM_ERROR, /Increment 1/);
});

test('default policy: a line is inserted the second time it is sent, then referenced', () => {
  const { enc, roundTrip, acks } = pair(4096, 10);
  const req: FieldLine[] = [
    { name: ':method', value: 'GET' },
    { name: ':authority', value: 'example.com' },
    { name: 'user-agent', value: 'tsquic-test/1.0' },
    { name: 'x-once', value: 'a' },
  ];
  const first = roundTrip(0, req);
  assert.deepEqual(first.fields, req);
  assert.equal(enc.insertCount, 0, 'first sight: literals only');
  assert.equal(toHex(first.section).slice(0, 4), '0000');
  const second = roundTrip(4, [...req.slice(0, 3), { name: 'x-twice', value: 'b' }]);
  assert.deepEqual(second.fields.slice(0, 3), req.slice(0, 3));
  assert.deepEqual(table(enc), [
    [0, ':authority', 'example.com', 1],
    [1, 'user-agent', 'tsquic-test/1.0', 1],
  ]);
  // Base 0, two post-Base references: RIC 2 (encoded 3), sign 1, delta 1.
  assert.equal(toHex(second.section).slice(0, 4), '0381');
  assert.equal(acks(), '84');
  assert.equal(enc.knownReceivedCount, 2);
  const third = roundTrip(8, req.slice(0, 3));
  // Acknowledged entries: Base 2, relative references; d1 for :method GET.
  assert.equal(toHex(third.section), '0300d18180');
  assert.equal(enc.insertCount, 2, 'nothing new inserted');
});

test("'all' inserts on first sight; a literal name not in the static table is inserted with a literal name", () => {
  const { enc, roundTrip } = pair(4096, 10, { insert: 'all' });
  roundTrip(0, [{ name: 'x-custom', value: 'one' }]);
  assert.deepEqual(table(enc), [[0, 'x-custom', 'one', 1]]);
  // Same name, another value: inserted with a dynamic name reference (relative 0).
  roundTrip(4, [{ name: 'x-custom', value: 'two' }]);
  assert.deepEqual(table(enc), [
    [0, 'x-custom', 'one', 1],
    [1, 'x-custom', 'two', 1],
  ]);
});

test('blockedStreams 0: never a reference to an unacknowledged entry; inserted entries are used once acknowledged', () => {
  const { enc, dec, acks } = pair(4096, 0, { insert: 'all' });
  const fields = [{ name: 'x-a', value: '1' }];
  const s1 = enc.encode(0, fields);
  assert.equal(toHex(s1).slice(0, 4), '0000', 'a literal although the line was inserted');
  assert.equal(enc.insertCount, 1);
  // Decoded before the encoder stream arrives: not blocked (a blocked one would be an error here).
  assert.equal(dec.decode(0, s1).status, 'done');
  dec.onEncoderStreamData(enc.takeEncoderStreamData()!);
  assert.equal(acks(), '01', 'Insert Count Increment');
  const s2 = enc.encode(4, fields);
  assert.equal(toHex(s2), '020080', 'RIC 1, Base 1, relative 0');
  assert.equal(dec.decode(4, s2).status, 'done');
});

test('never more blocking streams than SETTINGS_QPACK_BLOCKED_STREAMS', () => {
  const { enc, dec } = pair(4096, 2, { insert: 'all' });
  const sections: Array<[number, Uint8Array]> = [];
  for (let i = 0; i < 4; i++) {
    const id = 4 * i;
    sections.push([id, enc.encode(id, [{ name: 'x-n', value: `v${i}` }])]);
    assert.ok(enc.blockingStreamCount <= 2);
  }
  assert.equal(enc.blockingStreamCount, 2);
  assert.equal(enc.insertCount, 4, 'all inserted; only two streams reference them');
  // The same stream may add more references while it is blocking.
  sections.push([0, enc.encode(0, [{ name: 'x-n', value: 'v3' }])]);
  assert.equal(enc.blockingStreamCount, 2);
  // The decoder, before any encoder-stream data: two streams block, the others decode.
  const statuses = sections.map(([id, s]) => dec.decode(id, s).status);
  assert.deepEqual(statuses, ['blocked', 'blocked', 'done', 'done', 'blocked']);
  const unblocked = dec.onEncoderStreamData(enc.takeEncoderStreamData()!);
  assert.deepEqual(
    unblocked.map((u) => [u.streamId, u.status === 'done' ? u.fields[0]!.value : '']),
    [
      [0, 'v0'],
      [0, 'v3'],
      [4, 'v1'],
    ],
  );
});

test('an entry referenced by an unacknowledged section is never evicted; insertions wait', () => {
  // Capacity 100: two entries of 40 (x-a: 3 + 5 + 32) fit, a third needs an eviction.
  const { enc, dec, acks } = pair(100, 10, { insert: 'all' });
  const s0 = enc.encode(0, [{ name: 'x-a', value: 'aaaaa' }]);
  const s4 = enc.encode(4, [{ name: 'x-b', value: 'bbbbb' }]);
  dec.onEncoderStreamData(enc.takeEncoderStreamData()!);
  assert.equal(dec.decode(0, s0).status, 'done');
  assert.equal(dec.decode(4, s4).status, 'done');
  // Not yet acknowledged: x-c cannot evict x-a; it is sent as a literal.
  const s8 = enc.encode(8, [{ name: 'x-c', value: 'ccccc' }]);
  assert.equal(enc.insertCount, 2);
  assert.equal(toHex(s8).slice(0, 4), '0000');
  assert.equal(dec.decode(8, s8).status, 'done');
  assert.equal(acks(), '8084');
  // Acknowledged and unreferenced: x-c evicts x-a (the oldest).
  const s12 = enc.encode(12, [{ name: 'x-c', value: 'ccccc' }]);
  assert.deepEqual(table(enc), [
    [1, 'x-b', 'bbbbb', 0],
    [2, 'x-c', 'ccccc', 1],
  ]);
  dec.onEncoderStreamData(enc.takeEncoderStreamData()!);
  assert.equal(dec.decode(12, s12).status, 'done');
  // x-b is referenced again by an unacknowledged section: x-d must not evict it.
  enc.onDecoderStreamData(dec.takeDecoderStreamData()!);
  const s16 = enc.encode(16, [{ name: 'x-b', value: 'bbbbb' }]);
  const s20 = enc.encode(20, [{ name: 'x-d', value: 'ddddd' }]);
  assert.equal(enc.insertCount, 3);
  assert.deepEqual(table(enc)[0], [1, 'x-b', 'bbbbb', 1]);
  assert.equal(toHex(s20).slice(0, 4), '0000');
  assert.equal(dec.decode(16, s16).status, 'done');
  assert.equal(dec.decode(20, s20).status, 'done');
});

test('Stream Cancellation releases the references of all the stream\u2019s sections', () => {
  const { enc } = pair(100, 10, { insert: 'all' });
  enc.encode(0, [{ name: 'x-a', value: 'aaaaa' }]);
  enc.encode(0, [{ name: 'x-a', value: 'aaaaa' }]);
  assert.deepEqual(table(enc), [[0, 'x-a', 'aaaaa', 2]]);
  assert.equal(enc.unacknowledgedSectionCount, 2);
  enc.onDecoderStreamData(hex('40')); // cancel stream 0
  assert.deepEqual(table(enc), [[0, 'x-a', 'aaaaa', 0]]);
  assert.equal(enc.unacknowledgedSectionCount, 0);
  // Cancellation does not acknowledge the insertion (RFC 9204 §4.4.2): still not evictable.
  enc.encode(4, [{ name: 'x-b', value: 'bbbbb' }]);
  enc.encode(8, [{ name: 'x-c', value: 'ccccc' }]);
  assert.equal(enc.insertCount, 2, 'x-c would have evicted the unacknowledged x-a');
  enc.onDecoderStreamData(hex('02')); // Insert Count Increment 2
  enc.encode(12, [{ name: 'x-c', value: 'ccccc' }]);
  assert.deepEqual(
    table(enc).map((e) => e[1]),
    ['x-b', 'x-c'],
  );
});

test('a draining entry is duplicated and the copy referenced (RFC 9204 §2.1.1.1, §4.3.4)', () => {
  // Capacity 200; the encoder keeps 50 bytes (a quarter) clear of references.
  const setup = (blocked: number) => {
    const p = pair(200, blocked, { insert: 'all', huffman: false });
    for (let i = 1; i <= 3; i++) {
      const s = p.enc.encode(4 * i, [{ name: `x-${i}`, value: 'vvvvv' }]); // 3 + 5 + 32 = 40 bytes
      p.dec.onEncoderStreamData(p.enc.takeEncoderStreamData() ?? new Uint8Array(0));
      assert.equal(p.dec.decode(4 * i, s).status, 'done');
      p.acks();
    }
    // Section Acknowledgments, or with blockedStreams 0 Insert Count Increments.
    assert.equal(p.enc.knownReceivedCount, 3);
    return p;
  };
  const { enc, dec, acks } = setup(10);
  // 120 of 200 bytes: nothing drains; x-1 is referenced directly (RIC 1, Base 3, relative 2).
  const direct = enc.encode(100, [{ name: 'x-1', value: 'vvvvv' }]);
  assert.equal(toHex(direct), '020282');
  assert.equal(enc.takeEncoderStreamData(), undefined);
  assert.equal(dec.decode(100, direct).status, 'done');
  acks();
  // A fourth entry: 160 bytes, 10 above the 150 the encoder lets references use: x-1 drains.
  const s4 = enc.encode(16, [{ name: 'x-4', value: 'vvvvv' }]);
  dec.onEncoderStreamData(enc.takeEncoderStreamData()!);
  assert.equal(dec.decode(16, s4).status, 'done');
  acks();
  const dup = enc.encode(104, [{ name: 'x-1', value: 'vvvvv' }]);
  assert.equal(toHex(enc.takeEncoderStreamData()), '03', 'Duplicate of relative index 3 (x-1)');
  // RIC 5 (encoded 5 % 12 + 1), Base 4: sign 1, delta 0; post-Base index 0.
  assert.equal(toHex(dup), '068010');
  assert.deepEqual(
    table(enc).map((e) => [e[1], e[3]]),
    [
      ['x-1', 0],
      ['x-2', 0],
      ['x-3', 0],
      ['x-4', 0],
      ['x-1', 1],
    ],
  );
  dec.onEncoderStreamData(hex('03'));
  assert.equal(dec.decode(104, dup).status, 'done');
  acks();
  // The old x-1 is now evicted by the next insertion.
  enc.encode(20, [{ name: 'x-5', value: 'vvvvv' }]);
  assert.deepEqual(
    table(enc).map((e) => e[1]),
    ['x-2', 'x-3', 'x-4', 'x-1', 'x-5'],
  );

  // With blockedStreams 0 the copy could not be referenced yet: the draining entry is used as is.
  const nb = setup(0);
  const s4b = nb.enc.encode(16, [{ name: 'x-4', value: 'vvvvv' }]);
  assert.equal(toHex(s4b).slice(0, 4), '0000');
  nb.dec.onEncoderStreamData(nb.enc.takeEncoderStreamData()!);
  nb.acks();
  assert.equal(toHex(nb.enc.encode(104, [{ name: 'x-1', value: 'vvvvv' }])), '020383');
  assert.equal(nb.enc.takeEncoderStreamData(), undefined);
});

test('decoder-stream errors: QPACK_DECODER_STREAM_ERROR', () => {
  const fresh = () => pair(4096, 10, { insert: 'all' }).enc;
  assertQpackError(() => fresh().onDecoderStreamData(hex('84')), QPACK_DECODER_STREAM_ERROR, /stream 4/);
  const e = fresh();
  e.encode(0, [{ name: 'x-a', value: '1' }]);
  e.onDecoderStreamData(hex('80'));
  assertQpackError(() => e.onDecoderStreamData(hex('80')), QPACK_DECODER_STREAM_ERROR, /stream 0/);
  assertQpackError(() => e.onDecoderStreamData(hex('01')), QPACK_DECODER_STREAM_ERROR, /1 of 1/);
  assertQpackError(() => fresh().onDecoderStreamData(hex('00')), QPACK_DECODER_STREAM_ERROR, /Increment 0/);
  const f = fresh();
  f.encode(0, [{ name: 'x-a', value: '1' }]);
  f.onDecoderStreamData(hex('01'));
  assert.equal(f.knownReceivedCount, 1);
  assertQpackError(() => f.onDecoderStreamData(hex('01')), QPACK_DECODER_STREAM_ERROR, /Increment 1/);
  // Stream Cancellation of an unknown stream is not an error.
  f.onDecoderStreamData(hex('7f 81 01'));
  // Split instructions are reassembled.
  const g = fresh();
  g.encode(300, [{ name: 'x-a', value: '1' }]);
  g.onDecoderStreamData(hex('ff'));
  g.onDecoderStreamData(hex('ad'));
  assert.equal(g.unacknowledgedSectionCount, 1);
  g.onDecoderStreamData(hex('01'));
  assert.equal(g.unacknowledgedSectionCount, 0);
  assert.equal(g.knownReceivedCount, 1);
});

test('peer maximum capacity 0 (or unknown yet): no encoder-stream data ever, static and literals only', () => {
  const enc = new QpackEncoder(undefined, { insert: 'all' });
  for (let i = 0; i < 3; i++) enc.encode(4 * i, [{ name: 'x-a', value: '1' }]);
  assert.equal(enc.takeEncoderStreamData(), undefined);
  enc.applyPeerSettings({ maxTableCapacity: 0, blockedStreams: 100 });
  for (let i = 0; i < 3; i++)
    assert.equal(toHex(enc.encode(4 * i, [{ name: 'x-a', value: '1' }])).slice(0, 4), '0000');
  assert.equal(enc.takeEncoderStreamData(), undefined);
  // A peer maximum below one entry (32 bytes) is as good as 0.
  const tiny = new QpackEncoder(undefined, { insert: 'all' });
  tiny.applyPeerSettings({ maxTableCapacity: 31, blockedStreams: 100 });
  tiny.encode(0, [{ name: '', value: '' }]);
  assert.equal(tiny.takeEncoderStreamData(), undefined);
});

test('the capacity used is the smaller of the peer maximum and our tuning; RIC wraps on the peer maximum', () => {
  const enc = new QpackEncoder(undefined, { insert: 'all', maxTableCapacity: 100 });
  enc.applyPeerSettings({ maxTableCapacity: 1000, blockedStreams: 1 });
  const dec = new QpackDecoder({ maxTableCapacity: 1000, maxBlockedStreams: 1, maxFieldSectionSize: 1e6 });
  const section = enc.encode(0, [{ name: 'x-a', value: '1' }]);
  const ins = enc.takeEncoderStreamData()!;
  assert.equal(toHex(ins).slice(0, 4), '3f45', 'Set Dynamic Table Capacity 100');
  assert.equal(enc.tableCapacity, 100);
  // MaxEntries from the peer's 1000: 31; RIC 1 -> 1 % 62 + 1 = 2.
  assert.equal(toHex(section), '028010');
  dec.onEncoderStreamData(ins);
  assert.equal(dec.decode(0, section).status, 'done');
  enc.onDecoderStreamData(dec.takeDecoderStreamData()!);
  // Seven insertions later (three fit in 100 bytes), RIC 7 is encoded 7 % 62 + 1 = 8, not 7 % 6 + 1.
  for (let i = 2; i <= 7; i++) {
    const s = enc.encode(4 * i, [{ name: 'x-a', value: `${i}` }]);
    dec.onEncoderStreamData(enc.takeEncoderStreamData()!);
    const r = dec.decode(4 * i, s);
    assert.deepEqual(r, { status: 'done', fields: [{ name: 'x-a', value: `${i}` }] });
    enc.onDecoderStreamData(dec.takeDecoderStreamData()!);
    if (i === 7) assert.equal(toHex(s).slice(0, 2), '08');
  }
  assert.equal(enc.insertCount, 7);
});

test('0-RTT: remembered settings are used at once; the peer must repeat a non-zero capacity (RFC 9204 §3.2.3)', () => {
  const enc = new QpackEncoder({ maxTableCapacity: 220, blockedStreams: 5 }, { insert: 'all' });
  enc.encode(0, [{ name: 'x-a', value: '1' }]);
  assert.ok(enc.takeEncoderStreamData(), 'the dynamic table is used before the peer SETTINGS');
  enc.applyPeerSettings({ maxTableCapacity: 220, blockedStreams: 5 });
  assertQpackError(
    () =>
      new QpackEncoder({ maxTableCapacity: 220 }).applyPeerSettings({
        maxTableCapacity: 440,
        blockedStreams: 0,
      }),
    QPACK_DECODER_STREAM_ERROR,
    /differs from the remembered 220/,
  );
  assertQpackError(
    () =>
      new QpackEncoder({ maxTableCapacity: 220 }).applyPeerSettings({
        maxTableCapacity: 0,
        blockedStreams: 0,
      }),
    QPACK_DECODER_STREAM_ERROR,
  );
  // Remembered 0: the server may raise it.
  const raised = new QpackEncoder({ maxTableCapacity: 0 }, { insert: 'all' });
  raised.applyPeerSettings({ maxTableCapacity: 300, blockedStreams: 1 });
  raised.encode(0, [{ name: 'x-a', value: '1' }]);
  assert.ok(raised.takeEncoderStreamData());
});

test('a rejected field leaves the encoder unchanged', () => {
  const { enc, roundTrip } = pair(4096, 10, { insert: 'all' });
  assert.throws(() =>
    enc.encode(0, [
      { name: 'x-a', value: '1' },
      { name: 'x-b', value: '\u0100' },
    ]),
  );
  assert.equal(enc.insertCount, 0);
  assert.equal(enc.takeEncoderStreamData(), undefined);
  assert.equal(enc.unacknowledgedSectionCount, 0);
  roundTrip(0, [{ name: 'x-a', value: '1' }]);
});

test('beyond maxUnacknowledgedSections, sections use the static table only until acknowledgments arrive', () => {
  const { enc, dec, acks } = pair(4096, 100, { insert: 'all', maxUnacknowledgedSections: 3 });
  const sections: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) sections.push(enc.encode(4 * i, [{ name: 'x-a', value: '1' }]));
  assert.equal(enc.unacknowledgedSectionCount, 3);
  assert.deepEqual(
    sections.map((s) => toHex(s).slice(0, 4)),
    ['0280', '0200', '0200', '0000', '0000'],
  );
  dec.onEncoderStreamData(enc.takeEncoderStreamData()!);
  sections.forEach((s, i) => {
    assert.equal(dec.decode(4 * i, s).status, 'done');
  });
  acks();
  assert.equal(enc.unacknowledgedSectionCount, 0);
  assert.equal(toHex(enc.encode(40, [{ name: 'x-a', value: '1' }])), '020080');
});
