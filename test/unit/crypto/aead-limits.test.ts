import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confidentialityLimit, integrityLimit } from '../../../src/crypto/aead-limits.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';

test('AES-GCM limits (RFC 9001 §6.6): 2^23 sealed, 2^52 forged', () => {
  for (const suite of [CipherSuite.AES_128_GCM_SHA256, CipherSuite.AES_256_GCM_SHA384]) {
    assert.equal(confidentialityLimit(suite), 8_388_608);
    assert.equal(integrityLimit(suite), 4_503_599_627_370_496);
  }
});

test('ChaCha20-Poly1305 limits (RFC 9001 §6.6): beyond 2^62 sealed, 2^36 forged', () => {
  assert.equal(confidentialityLimit(CipherSuite.CHACHA20_POLY1305_SHA256), 2 ** 62);
  assert.equal(integrityLimit(CipherSuite.CHACHA20_POLY1305_SHA256), 68_719_476_736);
});

test('unknown suites throw RangeError', () => {
  assert.throws(() => confidentialityLimit(0x1304 as CipherSuite), RangeError);
  assert.throws(() => integrityLimit(0x1305 as CipherSuite), RangeError);
});
