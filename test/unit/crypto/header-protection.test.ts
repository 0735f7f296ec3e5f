import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { ecbPoolStats, HeaderProtection, setEcbPoolCapacity } from '../../../src/crypto/header-protection.js';
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

describe('pooled 1-RTT header protection ciphers (issue 13: bounded OpenSSL contexts)', () => {
  const aes128 = (i: number) => Uint8Array.from({ length: 16 }, (_, j) => (i * 37 + j * 11) & 0xff);
  const reference = (key: Uint8Array, sample: Uint8Array) =>
    createCipheriv('aes-128-ecb', key, null).update(sample).subarray(0, 5).toString('hex');

  test('never more live ciphers than the bound; evicted keys still give the right mask', () => {
    const previous = setEcbPoolCapacity(3);
    try {
      const base = ecbPoolStats().live;
      assert.equal(base, 0);
      const keys = Array.from({ length: 8 }, (_, i) => aes128(i));
      const hps = keys.map((k) => new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, k, true));
      // A pooled key makes no cipher before its first mask.
      assert.equal(ecbPoolStats().live, 0);
      const sample = hex(V1.clientSample);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < hps.length; i++) {
          assert.equal(toHex(hps[i]!.mask(sample)), reference(keys[i]!, sample), `key ${i} round ${round}`);
          assert.ok(ecbPoolStats().live <= 3);
        }
      }
      // The RFC 9001 A.2 vector through an evicted and remade cipher.
      const client = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hex(V1.client.hp), true);
      assert.equal(toHex(client.mask(hex(V1.clientSample))), V1.clientMask);
      for (const hp of hps) hp.mask(sample);
      assert.equal(toHex(client.mask(hex(V1.clientSample))), V1.clientMask);
      for (const hp of [...hps, client]) hp.release();
      assert.equal(ecbPoolStats().live, 0);
    } finally {
      setEcbPoolCapacity(previous);
    }
  });

  test('a key in steady use keeps its cipher while keys used once cycle through (CLOCK)', () => {
    const previous = setEcbPoolCapacity(3);
    try {
      const sample = hex(V1.serverSample);
      const hot = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, aes128(100), true);
      const cold = Array.from(
        { length: 20 },
        (_, i) => new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, aes128(i), true),
      );
      const made = ecbPoolStats().made;
      for (const c of cold) {
        hot.mask(sample);
        c.mask(sample);
      }
      // One cipher for the hot key, one per cold key: the hot key was never evicted.
      assert.equal(ecbPoolStats().made - made, 1 + cold.length);
      for (const hp of [hot, ...cold]) hp.release();
    } finally {
      setEcbPoolCapacity(previous);
    }
  });

  test('release frees the slot and keeps the pool consistent; keys outside the pool are untouched', () => {
    const previous = setEcbPoolCapacity(4);
    try {
      const hps = Array.from(
        { length: 4 },
        (_, i) => new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, aes128(i + 50), true),
      );
      const sample = hex(V1.clientSample);
      for (const hp of hps) hp.mask(sample);
      assert.equal(ecbPoolStats().live, 4);
      hps[1]!.release();
      hps[1]!.release();
      assert.equal(ecbPoolStats().live, 3);
      // The moved entry still releases its own slot.
      hps[3]!.release();
      hps[0]!.release();
      hps[2]!.release();
      assert.equal(ecbPoolStats().live, 0);
      const owned = new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hex(V1.client.hp));
      assert.equal(toHex(owned.mask(hex(V1.clientSample))), V1.clientMask);
      owned.release();
      assert.equal(ecbPoolStats().live, 0);
      assert.equal(toHex(owned.mask(hex(V1.clientSample))), V1.clientMask);
    } finally {
      setEcbPoolCapacity(previous);
    }
  });
});
