import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { chacha20KeyWords, chacha20Mask } from '../../src/crypto/chacha20.js';

test('the JS ChaCha20 mask equals node:crypto ChaCha20 over five zero bytes (RFC 9001 §5.4.4)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      (key, sample) => {
        const out = new Uint8Array(5);
        chacha20Mask(chacha20KeyWords(key), sample, 0, out);
        const expected = createCipheriv('chacha20', key, sample).update(Buffer.alloc(5));
        assert.deepEqual(Buffer.from(out), expected);
      },
    ),
    { numRuns: 500 },
  );
});
