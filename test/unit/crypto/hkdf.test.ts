import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hkdfExpand, hkdfExpandLabel, hkdfExtract } from '../../../src/crypto/hkdf.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('HKDF RFC 5869 test case 1 (SHA-256)', () => {
  const ikm = hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b');
  const salt = hex('000102030405060708090a0b0c');
  const info = hex('f0f1f2f3f4f5f6f7f8f9');
  const prk = hkdfExtract('sha256', salt, ikm);
  assert.equal(prk.toString('hex'), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
  const okm = hkdfExpand('sha256', prk, info, 42);
  assert.equal(
    okm.toString('hex'),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  );
});

test('HKDF-Expand-Label: RFC 9001 A.1 client initial key', () => {
  // client_initial_secret from RFC 9001 Appendix A.1
  const secret = hex('c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
  assert.equal(
    hkdfExpandLabel('sha256', secret, 'quic key', new Uint8Array(0), 16).toString('hex'),
    '1f369613dd76d5467730efcbe3b1a22d',
  );
  assert.equal(
    hkdfExpandLabel('sha256', secret, 'quic iv', new Uint8Array(0), 12).toString('hex'),
    'fa044b2f42a3fd3b46fb255c',
  );
  assert.equal(
    hkdfExpandLabel('sha256', secret, 'quic hp', new Uint8Array(0), 16).toString('hex'),
    '9f50449e04a0e810283a1e9933adedd2',
  );
});
