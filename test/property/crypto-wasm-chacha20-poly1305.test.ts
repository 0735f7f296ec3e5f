import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { WasmChaCha20Poly1305, wasmChaCha20Poly1305 } from '../../src/crypto/wasm-chacha20-poly1305.js';

const MODULE = wasmChaCha20Poly1305;
assert.ok(MODULE !== undefined, 'WebAssembly is available in the test runtime');

test('the WebAssembly ChaCha20-Poly1305 seals like node:crypto and opens what it sealed (RFC 8439 §2.8)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 1500, size: 'max' }),
      (key, nonce, aad, pt) => {
        const out = new Uint8Array(pt.length + 16);
        const aead = new WasmChaCha20Poly1305(MODULE, key);
        aead.seal(nonce, aad, pt, out, 0);
        const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
        c.setAAD(aad, { plaintextLength: pt.length });
        assert.deepEqual(Buffer.from(out), Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
        assert.deepEqual(Buffer.from(aead.open(nonce, aad, out) ?? [1]), Buffer.from(pt));
      },
    ),
    { numRuns: 400 },
  );
});

test('the WebAssembly ChaCha20-Poly1305 opens nothing but null or the sealed plaintext, whatever bytes arrive', () => {
  const key = new Uint8Array(32).fill(9);
  const aead = new WasmChaCha20Poly1305(MODULE, key);
  const NONCE = new Uint8Array(12).fill(1);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300, size: 'max' }),
      fc.uint8Array({ maxLength: 30 }),
      (bytes, aad) => {
        // Random bytes are a forgery: authentication must fail (2^-128 chance otherwise).
        assert.equal(aead.open(NONCE, aad, bytes), null);
      },
    ),
    { numRuns: 300 },
  );
});
