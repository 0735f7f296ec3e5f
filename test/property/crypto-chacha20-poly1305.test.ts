import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { ChaCha20Poly1305 } from '../../src/crypto/chacha20-poly1305.js';

test('the JS ChaCha20-Poly1305 seals like node:crypto and opens what it sealed (RFC 8439 §2.8)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 700, size: 'max' }),
      (key, nonce, aad, pt) => {
        const n = Buffer.from(nonce);
        const [n0, n1, n2] = [n.readUInt32LE(0), n.readUInt32LE(4), n.readUInt32LE(8)];
        const out = new Uint8Array(pt.length + 16);
        const aead = new ChaCha20Poly1305(key);
        aead.seal(n0, n1, n2, aad, pt, out, 0);
        const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
        c.setAAD(aad, { plaintextLength: pt.length });
        assert.deepEqual(Buffer.from(out), Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
        assert.deepEqual(Buffer.from(aead.open(n0, n1, n2, aad, out) ?? [1]), Buffer.from(pt));
      },
    ),
    { numRuns: 400 },
  );
});

test('the JS ChaCha20-Poly1305 opens nothing but null or the sealed plaintext, whatever bytes arrive', () => {
  const key = new Uint8Array(32).fill(9);
  const aead = new ChaCha20Poly1305(key);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300, size: 'max' }),
      fc.uint8Array({ maxLength: 30 }),
      (bytes, aad) => {
        // Random bytes are a forgery: authentication must fail (2^-128 chance otherwise).
        assert.equal(aead.open(1, 2, 3, aad, bytes), null);
      },
    ),
    { numRuns: 300 },
  );
});
