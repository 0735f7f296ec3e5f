/**
 * SendBuffer (src/streams/send-buffer.ts): what a stream keeps of its written bytes until they are
 * acknowledged, and the pages bulk streams share through a PagePool (src/streams/send-pages.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BULK_STREAM, SendBuffer } from '../../../src/streams/send-buffer.js';
import { PAGE_SIZE, PagePool } from '../../../src/streams/send-pages.js';
import { pattern } from './harness.js';

test('SendBuffer: slices within a chunk are views, across chunks copies; release drops acked chunks', () => {
  const b = new SendBuffer();
  const data = pattern(10000, 5);
  b.append(data.subarray(0, 3000));
  for (let i = 3000; i < 4000; i += 100) b.append(data.subarray(i, i + 100));
  b.append(data.subarray(4000));
  assert.equal(b.end, 10000);
  for (const [s, e] of [
    [0, 10],
    [2990, 3010],
    [3050, 3950],
    [0, 10000],
    [3999, 4001],
  ]) {
    assert.deepEqual(Buffer.from(b.slice(s!, e!)), Buffer.from(data.subarray(s!, e!)));
  }
  b.release(3050);
  assert.equal(b.start, 3000);
  assert.deepEqual(Buffer.from(b.slice(3050, 5000)), Buffer.from(data.subarray(3050, 5000)));
  b.release(10000);
  assert.equal(b.start, 10000);
});

test('SendBuffer: small writes go into blocks that start small and double up to 16 KiB', () => {
  // One small write (an HTTP/3 response) holds a small block, not 16 KiB.
  const one = new SendBuffer();
  one.append(pattern(40, 1));
  assert.ok(one.slice(0, 40).buffer.byteLength <= 256, `${one.slice(0, 40).buffer.byteLength}`);
  // Many writes of every small size: every slice reads back what was written.
  const b = new SendBuffer();
  const data = pattern(300_000, 7);
  let off = 0;
  for (let n = 1; off < data.length; n = (n * 7 + 3) % 2047 || 1) {
    const k = Math.min(n, data.length - off);
    b.append(data.subarray(off, off + k));
    off += k;
  }
  assert.equal(b.end, data.length);
  for (let s = 0; s < data.length; s += 9973) {
    const e = Math.min(data.length, s + ((s * 31) % 5000) + 1);
    assert.deepEqual(Buffer.from(b.slice(s, e)), Buffer.from(data.subarray(s, e)));
  }
  // The blocks have grown to the largest size.
  assert.equal(b.slice(data.length - 1, data.length).buffer.byteLength, 16384);
});

test('SendBuffer: a large write on a stream below BULK_STREAM is an exact-size copy, not a page', () => {
  const pool = new PagePool();
  const b = new SendBuffer(pool);
  const data = pattern(5000, 3);
  b.append(data);
  assert.equal(b.slice(0, 10).buffer.byteLength, 5000, 'an HTTP/3 body holds what it needs');
  assert.deepEqual(Buffer.from(b.slice(0, 5000)), Buffer.from(data));
  b.release(5000);
  assert.equal(pool.size, 0);
});

test('SendBuffer: a bulk stream writes into pooled pages, each back in the pool once all of it is acknowledged', () => {
  const pool = new PagePool();
  const b = new SendBuffer(pool);
  const data = pattern(3 * PAGE_SIZE + 1000, 9);
  // Writes of 40000 bytes: the first reaches BULK_STREAM only with the second.
  for (let off = 0; off < data.length; off += 40_000)
    b.append(data.subarray(off, Math.min(off + 40_000, data.length)));
  assert.ok(BULK_STREAM <= 80_000);
  assert.equal(b.end, data.length);
  // The first write is an exact-size copy; the rest went into pages, written across page ends.
  assert.equal(b.slice(0, 1).buffer.byteLength, 40_000);
  const inPage = b.slice(40_000, 40_100);
  assert.equal(inPage.buffer.byteLength, PAGE_SIZE);
  // Consecutive writes into one page are one chunk: a slice across them is a view, not a copy.
  const across = b.slice(79_990, 80_010);
  assert.equal(across.buffer, inPage.buffer, 'a view of the page');
  for (let s = 0; s < data.length; s += 7919) {
    const e = Math.min(data.length, s + 3000);
    assert.deepEqual(Buffer.from(b.slice(s, e)), Buffer.from(data.subarray(s, e)));
  }
  // The first page holds [40000, 40000 + PAGE_SIZE): acknowledged but for its last byte, it stays.
  b.release(40_000 + PAGE_SIZE - 1);
  assert.equal(pool.size, 0);
  b.release(40_000 + PAGE_SIZE);
  assert.equal(pool.size, 1, 'the first page is back');
  assert.deepEqual(
    Buffer.from(b.slice(40_000 + PAGE_SIZE, data.length)),
    Buffer.from(data.subarray(40_000 + PAGE_SIZE)),
  );
  // Everything acknowledged: the full second page and the one being filled go back too.
  b.release(data.length);
  assert.equal(pool.size, 3);
  assert.equal(b.start, data.length);
  // The next write takes a page from the pool (not the half-filled one it had: that one is free).
  const more = pattern(10_000, 11);
  b.append(more);
  assert.equal(pool.size, 2);
  assert.deepEqual(Buffer.from(b.slice(data.length, data.length + 10_000)), Buffer.from(more));
});

test('SendBuffer: a page recycled to another stream leaves the first stream its own bytes', () => {
  const pool = new PagePool();
  const a = new SendBuffer(pool);
  const b = new SendBuffer(pool);
  const da = pattern(2 * PAGE_SIZE, 1);
  const db = pattern(2 * PAGE_SIZE, 2);
  a.append(da);
  a.release(PAGE_SIZE);
  assert.equal(pool.size, 1);
  b.append(db);
  assert.equal(pool.size, 0, 'b took the page a gave back');
  assert.deepEqual(Buffer.from(a.slice(PAGE_SIZE, 2 * PAGE_SIZE)), Buffer.from(da.subarray(PAGE_SIZE)));
  assert.deepEqual(Buffer.from(b.slice(0, 2 * PAGE_SIZE)), Buffer.from(db));
});

test('SendBuffer: clear() (a reset stream) gives no page back', () => {
  const pool = new PagePool();
  const b = new SendBuffer(pool);
  b.append(pattern(3 * PAGE_SIZE, 5));
  b.clear();
  assert.equal(pool.size, 0);
  assert.equal(b.start, b.end);
});

test('PagePool: keeps at most maxFree pages, ignores other sizes, refuses a page given twice', () => {
  const pool = new PagePool(2);
  const pages = [pool.take(), pool.take(), pool.take()];
  for (const p of pages) assert.equal(p.byteLength, PAGE_SIZE);
  pool.give(new ArrayBuffer(1000));
  assert.equal(pool.size, 0);
  pool.give(pages[0]!.buffer);
  assert.throws(() => pool.give(pages[0]!.buffer), /given back twice/);
  pool.give(pages[1]!.buffer);
  pool.give(pages[2]!.buffer);
  assert.equal(pool.size, 2, 'the third is left to GC');
  assert.equal(pool.take().buffer, pages[1]!.buffer, 'last in, first out');
});

test('SendBuffer: a page with a small write between its chunks goes back only with its last chunk', () => {
  const pool = new PagePool();
  const b = new SendBuffer(pool);
  const data = pattern(2 * PAGE_SIZE, 13);
  b.append(data.subarray(0, 70_000)); // the first page, [0, PAGE_SIZE), then 4464 bytes of the second
  b.append(data.subarray(70_000, 70_001)); // a small write: a chunk of its own block
  b.append(data.subarray(70_001, 100_000)); // the second page again, in a chunk of its own
  b.release(70_001);
  assert.equal(pool.size, 1, 'the first page only: the second still holds [70001, 100000)');
  // Another stream takes the free page and fills it; this one's bytes stay.
  new SendBuffer(pool).append(pattern(PAGE_SIZE, 14));
  assert.deepEqual(Buffer.from(b.slice(70_001, 100_000)), Buffer.from(data.subarray(70_001, 100_000)));
});
