/**
 * secret-seal.ts: ChaCha20-Poly1305 under a server's own key (session tickets, address tokens), the
 * same bytes as node:crypto's, and nothing for altered input.
 */
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { secretOpen, secretSeal } from '../../../src/crypto/secret-seal.js';

function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: pt.length });
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

test('secretSeal is node:crypto ChaCha20-Poly1305, and secretOpen undoes it', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 600 }),
      (key, nonce, aad, pt) => {
        const sealed = secretSeal(key, nonce, aad, pt);
        assert.deepEqual(sealed, nodeSeal(key, nonce, aad, pt));
        assert.deepEqual(secretOpen(key, nonce, aad, sealed), Buffer.from(pt));
      },
    ),
    { numRuns: 150 },
  );
});

test('secretOpen: altered data, additional data, tag or key, or too short, is undefined', () => {
  const key = new Uint8Array(32).fill(1);
  const nonce = new Uint8Array(12).fill(2);
  const aad = Buffer.from('ticket header');
  const sealed = secretSeal(key, nonce, aad, Buffer.from('resumption state'));
  for (let i = 0; i < sealed.length; i++) {
    const bad = Buffer.from(sealed);
    bad[i]! ^= 0x40;
    assert.equal(secretOpen(key, nonce, aad, bad), undefined, `byte ${i}`);
  }
  assert.equal(secretOpen(key, nonce, Buffer.from('ticket headeR'), sealed), undefined);
  assert.equal(secretOpen(new Uint8Array(32).fill(3), nonce, aad, sealed), undefined);
  assert.equal(secretOpen(key, nonce, aad, sealed.subarray(0, 15)), undefined);
  assert.deepEqual(
    secretOpen(key, nonce, aad, secretSeal(key, nonce, aad, new Uint8Array(0))),
    Buffer.alloc(0),
  );
});
