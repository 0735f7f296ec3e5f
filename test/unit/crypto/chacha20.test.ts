import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { chacha20KeyWords, chacha20Mask } from '../../../src/crypto/chacha20.js';
import { hex, V1, V2 } from './rfc-vectors.js';

function mask(key: Uint8Array, sample: Uint8Array, offset = 0): string {
  const out = new Uint8Array(5);
  chacha20Mask(chacha20KeyWords(key), sample, offset, out);
  return Buffer.from(out).toString('hex');
}

test('RFC 8439 §2.3.2 block function test vector (first 5 bytes of the serialized block)', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  // Block count 1 (little-endian), nonce 000000090000004a00000000.
  const sample = hex('01000000 000000090000004a00000000');
  assert.equal(mask(key, sample), '10f1e7e4d1');
});

test('RFC 9001 A.5 and RFC 9369 A.5 header protection masks', () => {
  assert.equal(mask(hex(V1.chacha.hp), hex(V1.chacha.sample)), V1.chacha.mask);
  assert.equal(mask(hex(V2.chacha.hp), hex(V2.chacha.sample)), V2.chacha.mask);
  assert.equal(
    mask(hex(V1.chacha.hp), Buffer.concat([hex('aabbcc'), hex(V1.chacha.sample)]), 3),
    V1.chacha.mask,
  );
});

test('matches node:crypto ChaCha20 for counters near 2^32 and varied keys', () => {
  for (let i = 0; i < 64; i++) {
    const key = Buffer.alloc(32);
    for (let j = 0; j < 32; j++) key[j] = (i * 37 + j * 11) & 0xff;
    const sample = Buffer.alloc(16);
    for (let j = 0; j < 16; j++) sample[j] = (i * 53 + j * 29 + 0xf0) & 0xff;
    if (i % 4 === 0) sample.fill(0xff, 0, 4); // counter 0xffffffff
    const expected = createCipheriv('chacha20', key, sample).update(Buffer.alloc(5)).toString('hex');
    assert.equal(mask(key, sample), expected, `case ${i}`);
  }
});

test('key length is checked', () => {
  assert.throws(() => chacha20KeyWords(new Uint8Array(16)), RangeError);
});
