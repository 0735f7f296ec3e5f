import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteReader } from '../../../../src/http3/qpack/byte-reader.js';
import { ByteWriter } from '../../../../src/http3/qpack/byte-writer.js';
import { QPACK_DECOMPRESSION_FAILED, QpackError } from '../../../../src/http3/qpack/errors.js';
import { RecentLiterals } from '../../../../src/http3/qpack/recent-literals.js';
import { readString, writeString } from '../../../../src/http3/qpack/string-literal.js';

/** Every literal of `values` in one buffer, read back in order through one reader with a cache. */
function readAll(
  values: readonly string[],
  huffman: boolean,
  literals: RecentLiterals,
  max = 1000,
): string[] {
  const w = new ByteWriter(16);
  for (const v of values) writeString(w, 0, 8, v, huffman);
  const bytes = w.copy();
  const r = new ByteReader(bytes, 0, bytes.length, QPACK_DECOMPRESSION_FAILED, false, literals);
  const out: string[] = [];
  while (r.pos < r.end) out.push(readString(r, 8, max, 'test'));
  return out;
}

test('a literal read again comes back as the string read before, for the same bytes only', () => {
  const cache = new RecentLiterals();
  const first = readAll(['localhost:4433', 'quic-go HTTP/3'], true, cache);
  const again = readAll(['localhost:4433', 'quic-go HTTP/3'], true, cache);
  assert.deepEqual(again, first);
  // The same string object: nothing was decoded or built the second time.
  const w = new ByteWriter(16);
  writeString(w, 0, 8, 'localhost:4433', true);
  const bytes = w.copy();
  const r = new ByteReader(bytes, 0, bytes.length, QPACK_DECOMPRESSION_FAILED, false, cache);
  const s = readString(r, 8, 1000, 'test');
  assert.equal(s, 'localhost:4433');
  assert.equal(cache.get(bytes, 1, bytes.length - 1, true), s);
  // The same bytes without the Huffman flag are another string.
  assert.equal(cache.get(bytes, 1, bytes.length - 1, false), undefined);
});

test('many literals of one length share slots: every read still returns its own string', () => {
  // 32 slots: 400 distinct five-character values must collide in slot and length.
  const values: string[] = [];
  for (let i = 0; i < 400; i++) values.push(`v${String(i).padStart(4, '0')}`);
  const mixed = [...values, ...values.slice(0, 50).reverse(), ...values.filter((_, i) => i % 7 === 0)];
  for (const huffman of [true, false]) {
    const cache = new RecentLiterals();
    assert.deepEqual(readAll(mixed, huffman, cache), mixed);
    assert.deepEqual(readAll(mixed, huffman, cache), mixed);
  }
});

test('a cached literal longer than this reader allows is still an error', () => {
  const cache = new RecentLiterals();
  assert.deepEqual(readAll(['a-rather-long-value'], true, cache), ['a-rather-long-value']);
  assert.throws(
    () => readAll(['a-rather-long-value'], true, cache, 10),
    (e: unknown) => e instanceof QpackError && e.h3Code === QPACK_DECOMPRESSION_FAILED,
  );
});

test('literals longer than the cache keeps, and empty ones, are read as always', () => {
  const long = 'x'.repeat(200);
  const cache = new RecentLiterals();
  assert.deepEqual(readAll([long, '', long, ''], true, cache), [long, '', long, '']);
  assert.deepEqual(readAll([long, ''], false, cache), [long, '']);
});

test('the same bytes as a raw and as a Huffman-coded literal are two strings', () => {
  // Bytes H are Huffman(s); read raw they are the string of H's octets. Among 300 values some land
  // in one slot both ways: each read must still give its own string.
  for (let i = 0; i < 300; i++) {
    const s = `value-${i}`;
    const w = new ByteWriter(16);
    writeString(w, 0, 8, s, true);
    const h = w.copy().subarray(1);
    const raw = Buffer.from(h).toString('latin1');
    const cache = new RecentLiterals();
    assert.deepEqual(readAll([raw], false, cache), [raw]);
    assert.deepEqual(readAll([s], true, cache), [s]);
    assert.deepEqual(readAll([raw], false, cache), [raw]);
  }
});
