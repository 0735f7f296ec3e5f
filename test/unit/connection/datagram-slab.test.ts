import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatagramSlab, SLAB_SIZE } from '../../../src/connection/datagram-slab.js';

/** Builds a datagram of `n` bytes of `fill` in place, as the packer does, and keeps it. */
function build(slab: DatagramSlab, max: number, n: number, fill: number): Uint8Array {
  const start = slab.reserve(max);
  slab.buffer.fill(fill, start, start + n);
  return slab.commit(start, n);
}

test('datagrams built in place are exact and never overlap one another', () => {
  const slab = new DatagramSlab();
  const out: Uint8Array[] = [];
  // Enough datagrams to fill several slabs.
  for (let i = 0; i < 200; i++) out.push(build(slab, 1452, 1000 + (i % 400), i & 0xff));
  // A reservation that is never committed (a datagram with nothing to send) takes nothing.
  const start = slab.reserve(1452);
  slab.buffer.fill(0xee, start, start + 1452);
  out.push(build(slab, 1452, 10, 200));
  out.forEach((d, i) => {
    assert.equal(d.length, i < 200 ? 1000 + (i % 400) : 10);
    assert.ok(
      d.every((b) => b === (i & 0xff)),
      `datagram ${i} changed after later ones`,
    );
  });
  const slabs = new Set(out.map((d) => d.buffer));
  assert.ok(slabs.size > 1 && slabs.size < 10, `${slabs.size} slabs for 201 datagrams`);
  for (const b of slabs) assert.equal(b.byteLength, SLAB_SIZE);
});

test('a datagram larger than a slab is refused; a commit must be the last reservation', () => {
  assert.throws(() => new DatagramSlab().reserve(SLAB_SIZE + 1), RangeError);
  const slab = new DatagramSlab();
  const start = slab.reserve(1452);
  assert.throws(() => slab.commit(start + 1, 10), RangeError);
  assert.throws(() => slab.commit(start, SLAB_SIZE + 1), RangeError);
  assert.equal(slab.commit(start, 10).length, 10);
});
