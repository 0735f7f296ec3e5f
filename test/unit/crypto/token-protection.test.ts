/**
 * TokenProtector (RFC 9000 §8.1.1-8.1.4): self-validating tokens sealed with ChaCha20-Poly1305, a random
 * nonce and purpose-binding associated data.
 */
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { test } from 'node:test';
import { TokenProtector } from '../../../src/crypto/token-protection.js';
import { Prng, seededRandomBytes } from '../../sim/prng.js';

const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const AAD = Buffer.from('purpose A');
const random = () => seededRandomBytes(new Prng(99));

test('seal then open returns the plaintext; layout is nonce(12) || ciphertext || tag(16)', () => {
  const p = new TokenProtector(KEY, random());
  const plain = Buffer.from('client 192.0.2.1:4433 at t=12345');
  const token = p.seal(plain, AAD);
  assert.equal(token.length, 12 + plain.length + 16);
  assert.deepEqual(p.open(token, AAD), plain);
  // Independent check of the layout with node:crypto directly.
  const d = createDecipheriv('chacha20-poly1305', KEY, token.subarray(0, 12), { authTagLength: 16 });
  d.setAAD(AAD, { plaintextLength: plain.length });
  d.setAuthTag(token.subarray(token.length - 16));
  assert.deepEqual(Buffer.concat([d.update(token.subarray(12, token.length - 16)), d.final()]), plain);
  // An empty plaintext still authenticates.
  assert.deepEqual(p.open(p.seal(new Uint8Array(0), AAD), AAD), Buffer.alloc(0));
});

test('every token uses a fresh nonce from the injected random source', () => {
  const draws: number[] = [];
  const r = random();
  const p = new TokenProtector(KEY, (n) => {
    draws.push(n);
    return r(n);
  });
  const a = p.seal(Buffer.from('same'), AAD);
  const b = p.seal(Buffer.from('same'), AAD);
  assert.deepEqual(draws, [12, 12]);
  assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
  assert.notDeepEqual(a, b);
});

test('a token bound to one purpose does not open for another', () => {
  const p = new TokenProtector(KEY, random());
  const token = p.seal(Buffer.from('x'), Buffer.from('retry'));
  assert.equal(p.open(token, Buffer.from('new-token')), undefined);
  assert.equal(p.open(token, new Uint8Array(0)), undefined);
  assert.deepEqual(p.open(token, Buffer.from('retry')), Buffer.from('x'));
});

test('any altered bit, truncation or extension makes open return undefined', () => {
  const p = new TokenProtector(KEY, random());
  const token = p.seal(Buffer.from('address and time'), AAD);
  for (let i = 0; i < token.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const t = Buffer.from(token);
      t[i]! ^= bit;
      assert.equal(p.open(t, AAD), undefined, `byte ${i} bit ${bit}`);
    }
  }
  assert.equal(p.open(token.subarray(0, token.length - 1), AAD), undefined);
  assert.equal(p.open(Buffer.concat([token, Buffer.from([0])]), AAD), undefined);
  // Shorter than nonce + tag: rejected without throwing.
  for (let n = 0; n < 28; n++) assert.equal(p.open(new Uint8Array(n), AAD), undefined);
  assert.equal(p.open(new Uint8Array(28), AAD), undefined);
});

test('a token sealed under another key does not open; a copied key does', () => {
  const a = new TokenProtector(KEY, random());
  const other = Uint8Array.from(KEY);
  other[31]! ^= 1;
  const b = new TokenProtector(other, random());
  const token = a.seal(Buffer.from('hello'), AAD);
  assert.equal(b.open(token, AAD), undefined);
  // Servers sharing the key accept each other's tokens (RFC 9000 §8.1.4).
  const c = new TokenProtector(Uint8Array.from(KEY), random());
  assert.deepEqual(c.open(token, AAD), Buffer.from('hello'));
});

test('the key is copied at construction and must be 32 bytes', () => {
  // A Buffer on purpose: Buffer#slice shares memory, so the copy must not rely on it.
  const key = Buffer.from(KEY);
  const p = new TokenProtector(key, random());
  const token = p.seal(Buffer.from('v'), AAD);
  key.fill(0);
  assert.deepEqual(p.open(token, AAD), Buffer.from('v'));
  for (const n of [0, 16, 31, 33, 64]) {
    assert.throws(() => new TokenProtector(new Uint8Array(n), random()), RangeError, `${n} bytes`);
  }
});
