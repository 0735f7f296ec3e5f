import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { ChaCha20Poly1305 } from '../../../src/crypto/chacha20-poly1305.js';
import { hex } from './rfc-vectors.js';

const words = (nonce: Uint8Array): [number, number, number] => {
  const b = Buffer.from(nonce);
  return [b.readUInt32LE(0), b.readUInt32LE(4), b.readUInt32LE(8)];
};

function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: pt.length });
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

// RFC 8439 §2.8.2.
const KEY = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
const NONCE = hex('070000004041424344454647');
const AAD = hex('50515253c0c1c2c3c4c5c6c7');
const PLAINTEXT = Buffer.from(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  'latin1',
);

test('RFC 8439 §2.8.2 AEAD example: the tag, and the same bytes as node:crypto', () => {
  const out = new Uint8Array(PLAINTEXT.length + 16);
  const n = new ChaCha20Poly1305(KEY).seal(...words(NONCE), AAD, PLAINTEXT, out, 0);
  assert.equal(n, PLAINTEXT.length + 16);
  assert.equal(
    Buffer.from(out.subarray(PLAINTEXT.length)).toString('hex'),
    '1ae10b594f09e26a7e902ecbd0600691',
  );
  assert.equal(Buffer.from(out.subarray(0, 4)).toString('hex'), 'd31a8d34');
  assert.deepEqual(Buffer.from(out), nodeSeal(KEY, NONCE, AAD, PLAINTEXT));
});

test('seal in place, at an offset, then open', () => {
  const aead = new ChaCha20Poly1305(KEY);
  const buf = Buffer.alloc(5 + PLAINTEXT.length + 16, 0xee);
  PLAINTEXT.copy(buf, 5);
  aead.seal(...words(NONCE), AAD, buf.subarray(5, 5 + PLAINTEXT.length), buf, 5);
  assert.deepEqual(buf.subarray(0, 5), Buffer.alloc(5, 0xee));
  assert.deepEqual(buf.subarray(5), nodeSeal(KEY, NONCE, AAD, PLAINTEXT));
  assert.deepEqual(Buffer.from(aead.open(...words(NONCE), AAD, buf.subarray(5)) ?? []), PLAINTEXT);
});

test('open: any flipped bit of the AAD, ciphertext or tag, another nonce or key, or a short input gives null', () => {
  const aead = new ChaCha20Poly1305(KEY);
  const sealed = nodeSeal(KEY, NONCE, AAD, PLAINTEXT);
  const flip = (b: Uint8Array, i: number, bit = 0) => {
    const c = Buffer.from(b);
    c[i]! ^= 1 << bit;
    return c;
  };
  for (let bit = 0; bit < 8; bit++) {
    assert.equal(aead.open(...words(NONCE), flip(AAD, 11, bit), sealed), null, `aad bit ${bit}`);
    assert.equal(aead.open(...words(NONCE), AAD, flip(sealed, 0, bit)), null, `ciphertext bit ${bit}`);
    assert.equal(
      aead.open(...words(NONCE), AAD, flip(sealed, sealed.length - 1, bit)),
      null,
      `tag bit ${bit}`,
    );
  }
  assert.equal(aead.open(...words(flip(NONCE, 11)), AAD, sealed), null, 'other nonce');
  assert.equal(new ChaCha20Poly1305(flip(KEY, 0)).open(...words(NONCE), AAD, sealed), null, 'other key');
  assert.equal(aead.open(...words(NONCE), AAD, sealed.subarray(0, 15)), null, 'shorter than a tag');
  assert.equal(
    aead.open(...words(NONCE), AAD, sealed.subarray(PLAINTEXT.length + 1)),
    null,
    'tag bytes only, cut',
  );
  // An empty plaintext is a valid message: its sealed form is the tag alone.
  const empty = nodeSeal(KEY, NONCE, AAD, new Uint8Array(0));
  assert.deepEqual(aead.open(...words(NONCE), AAD, empty), new Uint8Array(0));
});

test('lengths around the 16-byte Poly1305 and 64-byte ChaCha20 block edges match node:crypto', () => {
  const aead = new ChaCha20Poly1305(KEY);
  for (const aadLength of [0, 1, 15, 16, 17, 33]) {
    for (const length of [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 300]) {
      const aad = Buffer.alloc(aadLength, 0xa5);
      const pt = Buffer.alloc(length);
      for (let i = 0; i < length; i++) pt[i] = (i * 7 + aadLength) & 0xff;
      const out = new Uint8Array(length + 16);
      aead.seal(...words(NONCE), aad, pt, out, 0);
      assert.deepEqual(Buffer.from(out), nodeSeal(KEY, NONCE, aad, pt), `aad ${aadLength} pt ${length}`);
      assert.deepEqual(Buffer.from(aead.open(...words(NONCE), aad, out) ?? [1]), pt);
    }
  }
});

test('the key must be 32 bytes', () => {
  assert.throws(() => new ChaCha20Poly1305(new Uint8Array(16)), RangeError);
});
