import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { test } from 'node:test';
import { Aead } from '../../../src/crypto/aead.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import {
  emptyHash,
  type HashName,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExpandLabelInto,
  hkdfExtract,
  hkdfLabel,
} from '../../../src/crypto/hkdf.js';
import { derivePacketKeyMaterial, derivePacketKeys } from '../../../src/crypto/packet-keys.js';

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

test('HKDF-Expand agrees with node:crypto hkdfSync at every block boundary, SHA-256 and SHA-384', () => {
  const ikm = Buffer.from('input keying material of some length');
  const salt = Buffer.from('a salt');
  for (const hash of ['sha256', 'sha384'] as HashName[]) {
    const prk = hkdfExtract(hash, salt, ikm);
    for (const info of [Buffer.alloc(0), Buffer.from('some info'), Buffer.alloc(300, 7)]) {
      for (const length of [1, 12, 16, 31, 32, 33, 47, 48, 49, 64, 65, 96, 97, 200, 255]) {
        const expected = Buffer.from(hkdfSync(hash, ikm, salt, info, length));
        assert.deepEqual(
          hkdfExpand(hash, prk, info, length),
          expected,
          `${hash} info ${info.length} L ${length}`,
        );
      }
    }
  }
});

test('HKDF-Expand-Label is HKDF-Expand over the HkdfLabel, for short and long outputs', () => {
  for (const hash of ['sha256', 'sha384'] as HashName[]) {
    const secret = hkdfExtract(hash, Buffer.alloc(0), Buffer.from('secret'));
    for (const [label, context] of [
      ['quic key', Buffer.alloc(0)],
      ['c hs traffic', createHash(hash).update('x').digest()],
      ['a label that is rather long for a label', Buffer.alloc(255, 1)],
    ] as const) {
      for (const length of [1, 12, 16, 32, 48, 49, 100]) {
        const expected = hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
        const got = hkdfExpandLabel(hash, secret, label, context, length);
        assert.equal(got.length, length);
        assert.deepEqual(got, expected, `${hash} ${label} L ${length}`);
      }
    }
  }
});

test('emptyHash is Hash("") and a copy nobody can spoil', () => {
  const a = emptyHash('sha256');
  assert.deepEqual(a, createHash('sha256').digest());
  a.fill(0);
  assert.deepEqual(emptyHash('sha256'), createHash('sha256').digest());
  assert.deepEqual(emptyHash('sha384'), createHash('sha384').digest());
});

test('hkdfExpandLabelInto writes HKDF-Expand-Label into exactly its view, whatever the hash and length', () => {
  for (const hash of ['sha256', 'sha384'] as HashName[]) {
    const secret = hkdfExtract(hash, Buffer.alloc(0), Buffer.from('secret'));
    for (const [label, context] of [
      ['quic iv', Buffer.alloc(0)],
      ['s ap traffic', createHash(hash).update('y').digest()],
      ['a label that is rather long for a label', Buffer.alloc(255, 2)],
    ] as const) {
      for (const length of [1, 12, 16, 31, 32, 33, 48, 60]) {
        const backing = new Uint8Array(length + 8).fill(0xee);
        const out = backing.subarray(4, 4 + length);
        hkdfExpandLabelInto(hash, secret, label, context, out);
        assert.deepEqual(
          Buffer.from(out),
          hkdfExpandLabel(hash, secret, label, context, length),
          `${hash} L ${length}`,
        );
        assert.deepEqual([...backing.subarray(0, 4), ...backing.subarray(4 + length)], Array(8).fill(0xee));
      }
    }
  }
});

test('derivePacketKeys: the same keys as the material, each set its own copy of it', () => {
  const suites = [
    CipherSuite.AES_128_GCM_SHA256,
    CipherSuite.AES_256_GCM_SHA384,
    CipherSuite.CHACHA20_POLY1305_SHA256,
  ];
  for (const suite of suites) {
    const hash: HashName = suite === CipherSuite.AES_256_GCM_SHA384 ? 'sha384' : 'sha256';
    const s1 = hkdfExtract(hash, Buffer.alloc(0), Buffer.from('one'));
    const s2 = hkdfExtract(hash, Buffer.alloc(0), Buffer.from('two'));
    const k1 = derivePacketKeys(suite, s1, 1);
    // A second derivation must not change the first keys (scratch buffers are copied, not kept).
    const k2 = derivePacketKeys(suite, s2, 1);
    for (const [keys, secret] of [
      [k1, s1],
      [k2, s2],
    ] as const) {
      const m = derivePacketKeyMaterial(suite, secret, 1);
      const want = new Aead(suite, m.key, m.iv);
      const aad = Buffer.from('header');
      const plain = Buffer.from('payload of a packet');
      const a = new Uint8Array(plain.length + 16);
      const b = new Uint8Array(plain.length + 16);
      keys.aead.seal(7, aad, plain, a, 0);
      want.seal(7, aad, plain, b, 0);
      assert.deepEqual(a, b, `suite ${suite}: AEAD key and IV`);
      const sample = new Uint8Array(16).fill(3);
      const ref = derivePacketKeys(suite, secret, 1).hp.mask(sample).slice(0, 5);
      assert.deepEqual(keys.hp.mask(sample).slice(0, 5), ref, `suite ${suite}: header protection key`);
    }
  }
});
