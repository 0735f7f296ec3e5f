import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STATIC_TABLE, staticLookup } from '../../../../src/http3/qpack/static-table.js';

test('RFC 9204 Appendix A: 99 entries, spot checks across the table', () => {
  assert.equal(STATIC_TABLE.length, 99);
  assert.deepEqual(STATIC_TABLE[0], [':authority', '']);
  assert.deepEqual(STATIC_TABLE[1], [':path', '/']);
  assert.deepEqual(STATIC_TABLE[17], [':method', 'GET']);
  assert.deepEqual(STATIC_TABLE[25], [':status', '200']);
  assert.deepEqual(STATIC_TABLE[29], ['accept', '*/*']);
  assert.deepEqual(STATIC_TABLE[52], ['content-type', 'text/html; charset=utf-8']);
  assert.deepEqual(STATIC_TABLE[85], [
    'content-security-policy',
    "script-src 'none'; object-src 'none'; base-uri 'none'",
  ]);
  assert.deepEqual(STATIC_TABLE[98], ['x-frame-options', 'sameorigin']);
  for (const [name] of STATIC_TABLE) assert.equal(name, name.toLowerCase());
});

test('lookups: exact entry by value, lowest index for the name', () => {
  const status = staticLookup(':status')!;
  assert.equal(status.nameIndex, 24);
  assert.equal(status.values.get('200'), 25);
  assert.equal(status.values.get('425'), 70);
  assert.equal(status.values.get('201'), undefined);
  assert.equal(staticLookup('cache-control')!.nameIndex, 36);
  assert.equal(staticLookup('x-unknown'), undefined);
  for (let i = 0; i < STATIC_TABLE.length; i++) {
    const [name, value] = STATIC_TABLE[i]!;
    assert.equal(staticLookup(name)!.values.get(value), i);
  }
});
