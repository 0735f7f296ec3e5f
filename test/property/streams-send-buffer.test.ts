/**
 * Property: streams sharing one PagePool, written, acknowledged, read and reset in any order, each
 * read back exactly what it wrote: a page recycled from one stream to another never shows up in the
 * first one's bytes, and no page is held twice (the pool throws on that).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SendBuffer } from '../../src/streams/send-buffer.js';
import { PAGE_SIZE, PagePool } from '../../src/streams/send-pages.js';

/** The byte stream `s` carries at `offset`: a function, so nothing has to be kept. */
function byteAt(s: number, offset: number): number {
  return (offset * 31 + (offset >>> 9) + s * 101) & 0xff;
}

function bytes(s: number, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = byteAt(s, i);
  return out;
}

const STREAMS = 3;
const op = fc.oneof(
  // Writes: small ones (into the stream's blocks, between the pages' chunks) and large ones.
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      s: fc.nat(STREAMS - 1),
      len: fc.oneof(fc.integer({ min: 1, max: 2100 }), fc.integer({ min: 2048, max: 2 * PAGE_SIZE + 10 })),
    }),
  },
  // Acknowledge up to a fraction of what is held.
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('release' as const),
      s: fc.nat(STREAMS - 1),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), s: fc.nat(STREAMS - 1) }) },
);

test('property: SendBuffers sharing a PagePool read back their own bytes, whatever the order of writes, acks and resets', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (maxFree, ops) => {
      const pool = new PagePool(maxFree);
      const buffers = Array.from({ length: STREAMS }, () => new SendBuffer(pool));
      for (const o of ops) {
        const b = buffers[o.s]!;
        if (o.kind === 'write') b.append(bytes(o.s, b.end, b.end + o.len));
        else if (o.kind === 'release') b.release(b.start + Math.floor((b.end - b.start) * o.at));
        else b.clear();
        assert.ok(pool.size <= maxFree);
        // After every step, every stream still holds its own bytes: a slice of 16 every 509 bytes,
        // and the last ones written.
        for (let s = 0; s < STREAMS; s++) {
          const held = buffers[s]!;
          for (let from = held.start; from < held.end; from += 509) {
            const to = Math.min(held.end, from + 16);
            assert.deepEqual(
              Buffer.from(held.slice(from, to)),
              Buffer.from(bytes(s, from, to)),
              `stream ${s} [${from}, ${to})`,
            );
          }
        }
      }
    }),
    { numRuns: 1000 },
  );
});
