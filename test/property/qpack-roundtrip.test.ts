/**
 * QPACK end to end through both instruction streams, with the disorder QUIC allows: random header
 * lists (from a small vocabulary, so lines repeat, plus random octet strings), random table
 * capacities and blocked-stream limits, sections delivered in any order across streams (in order
 * within one), encoder- and decoder-stream bytes split anywhere and delayed, streams cancelled.
 * Every decoded section must equal what was encoded, no error may occur, the encoder may never
 * have more blocking streams than allowed, and once everything is delivered the two tables agree
 * and every reference is released.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type FieldLine,
  QpackDecoder,
  QpackEncoder,
  type UnblockedSection,
} from '../../src/http3/qpack/index.js';

const octets = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 255 })), { maxLength })
    .map((a) => String.fromCharCode(...a));

const VOCABULARY: FieldLine[] = [
  { name: ':method', value: 'GET' },
  { name: ':method', value: 'PATCH' },
  { name: ':path', value: '/' },
  { name: ':path', value: '/index.html' },
  { name: ':path', value: '/api/v1/items?page=2' },
  { name: ':authority', value: 'example.com' },
  { name: ':status', value: '200' },
  { name: ':status', value: '418' },
  { name: 'user-agent', value: 'tsquic-property/1.0 (a fairly long user agent string)' },
  { name: 'accept-encoding', value: 'gzip, deflate, br' },
  { name: 'x-request-id', value: '0123456789abcdef' },
  { name: 'x-custom', value: 'a' },
  { name: 'x-custom', value: 'b' },
  { name: 'cookie', value: 'session=0123456789abcdef0123456789' },
  { name: 'authorization', value: 'Bearer secret-token-value' },
  { name: 'content-type', value: 'application/x-custom' },
  { name: 'x-empty', value: '' },
];

const fieldArb: fc.Arbitrary<FieldLine> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...VOCABULARY) },
  // Many distinct lines that still repeat: they fill small tables and force evictions.
  {
    weight: 4,
    arbitrary: fc.integer({ min: 0, max: 40 }).map((i) => ({ name: `x-h${i % 7}`, value: `value-${i}` })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ name: octets(12).map((s) => s.toLowerCase()), value: octets(40) }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ f: fc.constantFrom(...VOCABULARY), value: octets(30), neverIndex: fc.boolean() })
      .map(({ f, value, neverIndex }) =>
        neverIndex ? { name: f.name, value, neverIndex } : { name: f.name, value },
      ),
  },
);

type Op =
  | { kind: 'encode'; fields: FieldLine[]; sameStream: boolean }
  | { kind: 'encoderBytes'; n: number }
  | { kind: 'section'; pick: number }
  | { kind: 'decoderBytes'; n: number }
  | { kind: 'cancel'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('encode' as const),
      fields: fc.array(fieldArb, { maxLength: 12 }),
      sameStream: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('encoderBytes' as const), n: fc.integer({ min: 1, max: 80 }) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('section' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('decoderBytes' as const), n: fc.integer({ min: 1, max: 8 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
);

/** A byte pipe: written whole, read in arbitrary pieces. */
class Pipe {
  private chunks: Uint8Array[] = [];
  push(b: Uint8Array | undefined): void {
    if (b && b.length > 0) this.chunks.push(b);
  }
  get empty(): boolean {
    return this.chunks.length === 0;
  }
  take(n: number): Uint8Array | undefined {
    const first = this.chunks[0];
    if (first === undefined) return undefined;
    if (first.length <= n) {
      this.chunks.shift();
      return first;
    }
    this.chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  }
}

/** What the decoder must produce, per stream, in order. */
interface Stream {
  undelivered: Uint8Array[];
  expected: FieldLine[][];
}

function expectFields(got: FieldLine[], want: FieldLine[]): void {
  // Sensitive lines come back with neverIndex set even when the caller did not set it.
  assert.deepEqual(
    got.map((f) => [f.name, f.value]),
    want.map((f) => [f.name, f.value]),
  );
  for (let i = 0; i < want.length; i++) {
    if (want[i]!.neverIndex) assert.equal(got[i]!.neverIndex, true, `line ${i} lost its never-index bit`);
  }
}

test('property: QPACK round trip through both instruction streams under reordering, splitting, delay and cancellation', () => {
  fc.assert(
    fc.property(
      fc.record({
        capacity: fc.oneof(
          { weight: 1, arbitrary: fc.constant(0) },
          { weight: 4, arbitrary: fc.integer({ min: 32, max: 300 }) },
          { weight: 2, arbitrary: fc.integer({ min: 300, max: 1200 }) },
          { weight: 1, arbitrary: fc.integer({ min: 1200, max: 4096 }) },
        ),
        blocked: fc.integer({ min: 0, max: 4 }),
        insert: fc.constantFrom('repeated' as const, 'all' as const),
        huffman: fc.boolean(),
        settingsLate: fc.boolean(),
        /** Our own cap on the capacity, below the peer's maximum at times. */
        ownLimit: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
      }),
      fc.array(opArb, { minLength: 1, maxLength: 120, size: 'max' }),
      (cfg, ops) => {
        const enc = new QpackEncoder(undefined, {
          insert: cfg.insert,
          huffman: cfg.huffman,
          ...(cfg.ownLimit !== undefined ? { maxTableCapacity: cfg.ownLimit } : {}),
        });
        const dec = new QpackDecoder({
          maxTableCapacity: cfg.capacity,
          maxBlockedStreams: cfg.blocked,
          maxFieldSectionSize: Number.POSITIVE_INFINITY,
        });
        if (!cfg.settingsLate)
          enc.applyPeerSettings({ maxTableCapacity: cfg.capacity, blockedStreams: cfg.blocked });
        let settingsApplied = !cfg.settingsLate;
        const encoderPipe = new Pipe();
        const decoderPipe = new Pipe();
        const streams = new Map<number, Stream>();
        let nextId = 0;
        let lastId = -1;

        const onDecoded = (streamId: number, fields: FieldLine[]) => {
          const s = streams.get(streamId)!;
          const want = s.expected.shift();
          assert.ok(want, `unexpected section on stream ${streamId}`);
          expectFields(fields, want);
        };
        const onUnblocked = (list: UnblockedSection[]) => {
          for (const u of list) {
            assert.equal(u.status, 'done');
            if (u.status === 'done') onDecoded(u.streamId, u.fields);
          }
        };
        const deliverSection = (id: number) => {
          const s = streams.get(id)!;
          const section = s.undelivered.shift()!;
          const r = dec.decode(id, section);
          if (r.status === 'done') onDecoded(id, r.fields);
          else assert.equal(r.status, 'blocked');
          assert.ok(dec.blockedStreamCount <= cfg.blocked);
          decoderPipe.push(dec.takeDecoderStreamData());
        };

        for (const op of ops) {
          switch (op.kind) {
            case 'encode': {
              // Late SETTINGS: the first sections go out before them, static only.
              if (!settingsApplied && nextId >= 8) {
                enc.applyPeerSettings({ maxTableCapacity: cfg.capacity, blockedStreams: cfg.blocked });
                settingsApplied = true;
              }
              const reuse = op.sameStream && lastId >= 0 && streams.has(lastId);
              const id = reuse ? lastId : nextId;
              if (!reuse) {
                nextId += 4;
                streams.set(id, { undelivered: [], expected: [] });
              }
              lastId = id;
              const s = streams.get(id)!;
              s.undelivered.push(enc.encode(id, op.fields));
              s.expected.push(op.fields);
              encoderPipe.push(enc.takeEncoderStreamData());
              assert.ok(enc.blockingStreamCount <= (settingsApplied ? cfg.blocked : 0));
              break;
            }
            case 'encoderBytes': {
              const b = encoderPipe.take(op.n);
              if (b) onUnblocked(dec.onEncoderStreamData(b));
              decoderPipe.push(dec.takeDecoderStreamData());
              break;
            }
            case 'section': {
              const ids = [...streams].filter(([, s]) => s.undelivered.length > 0).map(([id]) => id);
              if (ids.length > 0) deliverSection(ids[op.pick % ids.length]!);
              break;
            }
            case 'decoderBytes': {
              const b = decoderPipe.take(op.n);
              if (b) enc.onDecoderStreamData(b);
              break;
            }
            case 'cancel': {
              const ids = [...streams].filter(([, s]) => s.expected.length > 0).map(([id]) => id);
              if (ids.length === 0) break;
              const id = ids[op.pick % ids.length]!;
              dec.cancelStream(id);
              streams.delete(id);
              decoderPipe.push(dec.takeDecoderStreamData());
              break;
            }
          }
        }

        // Deliver everything that is left, then let the acknowledgments settle.
        for (;;) {
          const b = encoderPipe.take(1 << 20);
          if (b === undefined) break;
          onUnblocked(dec.onEncoderStreamData(b));
        }
        for (const [id, s] of streams) while (s.undelivered.length > 0) deliverSection(id);
        for (const [id, s] of streams)
          assert.equal(s.expected.length, 0, `stream ${id} still expects sections`);
        assert.equal(dec.blockedStreamCount, 0);
        decoderPipe.push(dec.takeDecoderStreamData());
        for (;;) {
          const b = decoderPipe.take(1 << 20);
          if (b === undefined) break;
          enc.onDecoderStreamData(b);
        }
        assert.equal(enc.unacknowledgedSectionCount, 0);
        assert.equal(enc.blockingStreamCount, 0);
        assert.equal(enc.knownReceivedCount, enc.insertCount);
        for (const e of enc.tableEntries())
          assert.equal(e.refs, 0, `entry ${e.absoluteIndex} still referenced`);
        assert.deepEqual(
          enc.tableEntries().map((e) => [e.absoluteIndex, e.name, e.value]),
          dec.tableEntries().map((e) => [e.absoluteIndex, e.name, e.value]),
        );
        assert.ok(enc.tableSize <= cfg.capacity);
      },
    ),
    { numRuns: Number(process.env.QPACK_RUNS ?? 400) },
  );
});

test('property: with a generous table, repeated header lists shrink to a few bytes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...VOCABULARY.slice(0, 12)), { minLength: 3, maxLength: 10 }),
      (fields) => {
        const enc = new QpackEncoder();
        enc.applyPeerSettings({ maxTableCapacity: 4096, blockedStreams: 10 });
        const dec = new QpackDecoder({
          maxTableCapacity: 4096,
          maxBlockedStreams: 10,
          maxFieldSectionSize: 1e6,
        });
        let last: Uint8Array = new Uint8Array(0);
        for (let i = 0; i < 4; i++) {
          last = enc.encode(4 * i, fields);
          const ins = enc.takeEncoderStreamData();
          if (ins) dec.onEncoderStreamData(ins);
          const r = dec.decode(4 * i, last);
          assert.equal(r.status, 'done');
          const acks = dec.takeDecoderStreamData();
          if (acks) enc.onDecoderStreamData(acks);
        }
        // Every line indexed: at most 2 prefix bytes + 2 bytes per line.
        assert.ok(last.length <= 2 + 2 * fields.length, `${last.length} bytes for ${fields.length} lines`);
      },
    ),
    { numRuns: 100 },
  );
});
