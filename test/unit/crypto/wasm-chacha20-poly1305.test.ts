import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  WASM_AEAD_MAX_AAD,
  WASM_AEAD_MAX_PAYLOAD,
  WasmChaCha20Poly1305,
  wasmChaCha20Poly1305,
} from '../../../src/crypto/wasm-chacha20-poly1305.js';
import { hex } from './rfc-vectors.js';

const MODULE = wasmChaCha20Poly1305;
assert.ok(MODULE !== undefined, 'WebAssembly is available in the test runtime');
class ChaCha20Poly1305 extends WasmChaCha20Poly1305 {
  constructor(key: Uint8Array) {
    super(MODULE!, key);
  }
}

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
  const n = new ChaCha20Poly1305(KEY).seal(NONCE, AAD, PLAINTEXT, out, 0);
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
  aead.seal(NONCE, AAD, buf.subarray(5, 5 + PLAINTEXT.length), buf, 5);
  assert.deepEqual(buf.subarray(0, 5), Buffer.alloc(5, 0xee));
  assert.deepEqual(buf.subarray(5), nodeSeal(KEY, NONCE, AAD, PLAINTEXT));
  assert.deepEqual(Buffer.from(aead.open(NONCE, AAD, buf.subarray(5)) ?? []), PLAINTEXT);
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
    assert.equal(aead.open(NONCE, flip(AAD, 11, bit), sealed), null, `aad bit ${bit}`);
    assert.equal(aead.open(NONCE, AAD, flip(sealed, 0, bit)), null, `ciphertext bit ${bit}`);
    assert.equal(aead.open(NONCE, AAD, flip(sealed, sealed.length - 1, bit)), null, `tag bit ${bit}`);
  }
  assert.equal(aead.open(flip(NONCE, 11), AAD, sealed), null, 'other nonce');
  assert.equal(new ChaCha20Poly1305(flip(KEY, 0)).open(NONCE, AAD, sealed), null, 'other key');
  assert.equal(aead.open(NONCE, AAD, sealed.subarray(0, 15)), null, 'shorter than a tag');
  assert.equal(aead.open(NONCE, AAD, sealed.subarray(PLAINTEXT.length + 1)), null, 'tag bytes only, cut');
  // An empty plaintext is a valid message: its sealed form is the tag alone.
  const empty = nodeSeal(KEY, NONCE, AAD, new Uint8Array(0));
  assert.deepEqual(aead.open(NONCE, AAD, empty), new Uint8Array(0));
});

test('lengths around the 16-byte Poly1305 and 64-byte ChaCha20 block edges match node:crypto', () => {
  const aead = new ChaCha20Poly1305(KEY);
  for (const aadLength of [0, 1, 15, 16, 17, 33]) {
    // 192: the payload the one-time key's four-block call encrypts; 192 + 128 / 256: where the
    // rest switches from four blocks at a time to the last part and to single blocks.
    for (const length of [
      0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 300, 319, 320, 321, 447, 448,
      449, 1425, 1452,
    ]) {
      const aad = Buffer.alloc(aadLength, 0xa5);
      const pt = Buffer.alloc(length);
      for (let i = 0; i < length; i++) pt[i] = (i * 7 + aadLength) & 0xff;
      const out = new Uint8Array(length + 16);
      aead.seal(NONCE, aad, pt, out, 0);
      assert.deepEqual(Buffer.from(out), nodeSeal(KEY, NONCE, aad, pt), `aad ${aadLength} pt ${length}`);
      assert.deepEqual(Buffer.from(aead.open(NONCE, aad, out) ?? [1]), pt);
    }
  }
});

test('any key, nonce, additional data and payload: the bytes node:crypto seals, and open gives the payload back', () => {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
  fc.assert(
    fc.property(bytes(32, 32), bytes(12, 12), bytes(0, 64), bytes(0, 1600), (key, nonce, aad, pt) => {
      const aead = new ChaCha20Poly1305(key);
      const out = new Uint8Array(pt.length + 16);
      aead.seal(nonce, aad, pt, out, 0);
      assert.deepEqual(Buffer.from(out), nodeSeal(key, nonce, aad, pt));
      assert.deepEqual(aead.open(nonce, aad, out), pt);
    }),
    { numRuns: 300 },
  );
});

test('the largest payload and additional data the module takes; one byte more is a RangeError, nothing written', () => {
  const aead = new ChaCha20Poly1305(KEY);
  const aad = Buffer.alloc(WASM_AEAD_MAX_AAD, 0x11);
  const pt = Buffer.alloc(WASM_AEAD_MAX_PAYLOAD);
  for (let i = 0; i < pt.length; i++) pt[i] = (i * 31) & 0xff;
  const out = new Uint8Array(pt.length + 16);
  aead.seal(NONCE, aad, pt, out, 0);
  assert.deepEqual(Buffer.from(out), nodeSeal(KEY, NONCE, aad, pt));
  assert.deepEqual(Buffer.from(aead.open(NONCE, aad, out) ?? [1]), pt);
  const big = new Uint8Array(WASM_AEAD_MAX_PAYLOAD + 1);
  const untouched = new Uint8Array(big.length + 16).fill(3);
  assert.throws(() => aead.seal(NONCE, aad, big, untouched, 0), RangeError);
  assert.throws(
    () => aead.seal(NONCE, Buffer.alloc(WASM_AEAD_MAX_AAD + 1), PLAINTEXT, untouched, 0),
    RangeError,
  );
  assert.throws(() => aead.open(NONCE, Buffer.alloc(WASM_AEAD_MAX_AAD + 1), out), RangeError);
  assert.deepEqual(untouched, new Uint8Array(big.length + 16).fill(3));
});

test('keys do not leak between objects sharing the module: each call uses its own key', () => {
  const a = new ChaCha20Poly1305(KEY);
  const other = Buffer.from(KEY).reverse();
  const b = new ChaCha20Poly1305(other);
  const sealedA = new Uint8Array(PLAINTEXT.length + 16);
  a.seal(NONCE, AAD, PLAINTEXT, sealedA, 0);
  const sealedB = new Uint8Array(PLAINTEXT.length + 16);
  b.seal(NONCE, AAD, PLAINTEXT, sealedB, 0);
  assert.deepEqual(Buffer.from(sealedB), nodeSeal(other, NONCE, AAD, PLAINTEXT));
  assert.deepEqual(Buffer.from(a.open(NONCE, AAD, sealedA) ?? [1]), PLAINTEXT);
  assert.equal(b.open(NONCE, AAD, sealedA), null);
});

test('the key must be 32 bytes', () => {
  assert.throws(() => new ChaCha20Poly1305(new Uint8Array(16)), RangeError);
});

test('open in place: the plaintext over the ciphertext, returned as a view of it; a forgery leaves the bytes as they were', () => {
  const aead = new ChaCha20Poly1305(KEY);
  const datagram = Buffer.concat([Buffer.from([1, 2, 3]), nodeSeal(KEY, NONCE, AAD, PLAINTEXT)]);
  const sealed = datagram.subarray(3);
  const forged = Buffer.from(datagram);
  forged[forged.length - 1]! ^= 0x80;
  const before = Buffer.from(forged);
  assert.equal(aead.open(NONCE, AAD, forged.subarray(3), true), null);
  assert.deepEqual(forged, before);
  const plain = aead.open(NONCE, AAD, sealed, true);
  assert.ok(plain !== null);
  assert.equal(plain.buffer, datagram.buffer, 'a view of the datagram');
  assert.equal(plain.byteOffset, datagram.byteOffset + 3);
  assert.deepEqual(Buffer.from(plain), PLAINTEXT);
  assert.deepEqual(datagram.subarray(0, 3), Buffer.from([1, 2, 3]));
});
