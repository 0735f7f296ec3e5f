/**
 * src/util/byte-string.ts: byte strings round-trip any bytes, and the constant-time comparison (RFC
 * 9000 §10.3.1, stateless reset tokens) answers like `===` on the bytes while reading every byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesEqualConstantTime, fromByteString, toByteString } from '../../../src/util/byte-string.js';

test('any bytes round-trip through a byte string', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const s = toByteString(b);
      assert.equal(s.length, b.length);
      assert.deepEqual(fromByteString(s), b);
    }),
  );
});

test('bytesEqualConstantTime answers like a byte comparison', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), (a, b) => {
      assert.equal(bytesEqualConstantTime(toByteString(a), b), Buffer.from(a).equals(Buffer.from(b)));
      assert.equal(bytesEqualConstantTime(toByteString(a), a), true);
    }),
  );
});

test('bytesEqualConstantTime reads every byte, whichever differs first', () => {
  // A token that differs in its first byte and one that differs in its last cost the same reads:
  // count them through a Uint8Array whose element reads are observed.
  const token = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
  const s = toByteString(token);
  for (const at of [0, 7, 15]) {
    const other = Uint8Array.from(token);
    other[at]! ^= 0x80;
    let reads = 0;
    const observed = new Proxy(other, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : (v ?? Reflect.get(target, key, receiver));
      },
    });
    assert.equal(bytesEqualConstantTime(s, observed), false);
    assert.equal(reads, 16, `difference at ${at}: ${reads} bytes read`);
  }
});
