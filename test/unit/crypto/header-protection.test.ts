import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { HeaderProtection } from '../../../src/crypto/header-protection.js';
import { hex, V1 } from './rfc-vectors.js';

const toHex = (u: Uint8Array) => Buffer.from(u).toString('hex');

test('AES-128 mask of RFC 9001 A.2 and A.3 samples', () => {
  const client = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hex(V1.client.hp));
  const server = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hex(V1.server.hp));
  const m = client.mask(hex(V1.clientSample));
  assert.equal(m.length, 5);
  assert.equal(toHex(m), V1.clientMask);
  assert.equal(toHex(server.mask(hex(V1.serverSample))), V1.serverMask);
});

test('the reused ECB cipher gives the same mask for the same sample, in any order', () => {
  const hp = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hex(V1.client.hp));
  const a = hex(V1.clientSample);
  const b = hex(V1.serverSample);
  const first = toHex(hp.mask(a));
  hp.mask(b);
  hp.mask(b);
  assert.equal(toHex(hp.mask(a)), first);
});

test('AES-256 mask equals AES-256-ECB of the sample', () => {
  const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
  const sample = hex('6bc1bee22e409f96e93d7e117393172a');
  const hp = new HeaderProtection(CipherSuite.AES_256_GCM_SHA384, key);
  // FIPS-197 / SP 800-38A F.1.5 ECB-AES256 block 1.
  assert.equal(toHex(hp.mask(sample)), 'f3eed1bdb5');
  const ref = createCipheriv('aes-256-ecb', key, null).update(sample);
  assert.equal(toHex(hp.mask(sample)), ref.subarray(0, 5).toString('hex'));
});

test('ChaCha20 mask of RFC 9001 A.5', () => {
  const hp = new HeaderProtection(CipherSuite.CHACHA20_POLY1305_SHA256, hex(V1.chacha.hp));
  assert.equal(toHex(hp.mask(hex(V1.chacha.sample))), V1.chacha.mask);
  assert.equal(toHex(hp.maskAt(Buffer.concat([hex('ffff'), hex(V1.chacha.sample)]), 2)), V1.chacha.mask);
});

test('maskAt reads the sample at an offset', () => {
  const hp = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hex(V1.client.hp));
  const buf = Buffer.concat([Buffer.alloc(9, 0x55), hex(V1.clientSample), Buffer.alloc(3)]);
  assert.equal(toHex(hp.maskAt(buf, 9)), V1.clientMask);
});

test('wrong key or sample lengths throw RangeError', () => {
  assert.throws(() => new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, new Uint8Array(32)), RangeError);
  assert.throws(
    () => new HeaderProtection(CipherSuite.CHACHA20_POLY1305_SHA256, new Uint8Array(16)),
    RangeError,
  );
  const hp = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, new Uint8Array(16));
  assert.throws(() => hp.mask(new Uint8Array(15)), RangeError);
  assert.throws(() => hp.mask(new Uint8Array(17)), RangeError);
});
