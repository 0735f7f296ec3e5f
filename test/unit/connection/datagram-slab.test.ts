import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatagramSlab, SLAB_SIZE } from '../../../src/connection/datagram-slab.js';

test('copies are exact, independent of the source, and never overlap one another', () => {
  const slab = new DatagramSlab();
  const scratch = new Uint8Array(1500);
  const out: Uint8Array[] = [];
  // Enough datagrams to fill several slabs; the scratch buffer is reused as the packer does.
  for (let i = 0; i < 200; i++) {
    scratch.fill(i & 0xff);
    const n = 1000 + (i % 400);
    const d = slab.copy(scratch.subarray(0, n));
    assert.equal(d.length, n);
    out.push(d);
  }
  scratch.fill(0xee);
  out.forEach((d, i) => {
    assert.ok(
      d.every((b) => b === (i & 0xff)),
      `datagram ${i} changed after later copies`,
    );
  });
  const slabs = new Set(out.map((d) => d.buffer));
  assert.ok(slabs.size > 1 && slabs.size < 10, `${slabs.size} slabs for 200 datagrams`);
  for (const b of slabs) assert.equal(b.byteLength, SLAB_SIZE);
});

test('a datagram larger than a slab is refused', () => {
  assert.throws(() => new DatagramSlab().copy(new Uint8Array(SLAB_SIZE + 1)), RangeError);
});
