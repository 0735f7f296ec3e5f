import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { Aead } from '../../../src/crypto/aead.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { HeaderProtection } from '../../../src/crypto/header-protection.js';
import {
  deriveAead,
  deriveInitialKeys,
  derivePacketKeys,
  initialPacketKeys,
} from '../../../src/crypto/packet-keys.js';
import { retryIntegrityTag } from '../../../src/crypto/retry.js';
import { AES128_GCM_LAYOUT } from '../../../src/crypto/wasm/aes128-gcm-layout.js';
import { PublicAes128Gcm, wasmAes128Gcm } from '../../../src/crypto/wasm-aes128-gcm.js';
import { hex } from './rfc-vectors.js';

const MODULE = wasmAes128Gcm;
assert.ok(MODULE !== undefined, 'WebAssembly is available in the test runtime');
const gcm = (key: Uint8Array) => new PublicAes128Gcm(MODULE!, key);

function nodeSeal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, pt: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

function seal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, pt: Uint8Array): Buffer {
  const out = Buffer.alloc(pt.length + 16);
  assert.equal(gcm(key).seal(iv, aad, pt, out, 0), pt.length + 16);
  return out;
}

test('FIPS 197 Appendix C.1: AES-128 of one block', () => {
  const out = new Uint8Array(16);
  gcm(hex('000102030405060708090a0b0c0d0e0f')).encryptBlockAt(
    hex('00112233445566778899aabbccddeeff'),
    0,
    out,
    16,
  );
  assert.equal(Buffer.from(out).toString('hex'), '69c4e0d86a7b0430d8cdb78070b4c55a');
});

// The GCM specification's test cases 1-4 (McGrew and Viega, AES-128, 96-bit IV).
const GCM_CASES = [
  {
    key: '00000000000000000000000000000000',
    iv: '000000000000000000000000',
    aad: '',
    pt: '',
    ct: '',
    tag: '58e2fccefa7e3061367f1d57a4e7455a',
  },
  {
    key: '00000000000000000000000000000000',
    iv: '000000000000000000000000',
    aad: '',
    pt: '00000000000000000000000000000000',
    ct: '0388dace60b6a392f328c2b971b2fe78',
    tag: 'ab6e47d42cec13bdf53a67b21257bddf',
  },
  {
    key: 'feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    aad: '',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
    ct: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
    tag: '4d5c2af327cd64a62cf35abd2ba6fab4',
  },
  {
    key: 'feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    ct: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
];

test('GCM test cases 1-4: ciphertext and tag byte-exact, and open() returns the plaintext', () => {
  for (const c of GCM_CASES) {
    const [key, iv, aad, pt] = [hex(c.key), hex(c.iv), hex(c.aad), hex(c.pt)];
    const sealed = seal(key, iv, aad, pt);
    assert.equal(sealed.toString('hex'), c.ct + c.tag);
    assert.deepEqual(nodeSeal(key, iv, aad, pt), sealed, 'node:crypto agrees');
    const opened = gcm(key).open(iv, aad, sealed);
    assert.ok(opened !== null);
    assert.equal(Buffer.from(opened).toString('hex'), c.pt);
  }
});

test('any key, IV, additional data and payload: the same bytes as node:crypto, and back', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ maxLength: 1500 }),
      (key, iv, aad, pt) => {
        const sealed = seal(key, iv, aad, pt);
        assert.deepEqual(sealed, nodeSeal(key, iv, aad, pt));
        const inPlace = new Uint8Array(sealed);
        const opened = gcm(key).open(iv, aad, inPlace, true);
        assert.ok(opened !== null);
        assert.deepEqual(Buffer.from(opened), Buffer.from(pt));
        assert.equal(opened.buffer, inPlace.buffer, 'in place: a view of the input');
      },
    ),
    { numRuns: 200 },
  );
});

test('a changed byte anywhere (additional data, ciphertext, tag) fails to open and leaves the input as it was', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (key, aad, pt, where, flip) => {
        const iv = new Uint8Array(12).fill(7);
        const sealed = seal(key, iv, aad, pt);
        const inAad = where % 2 === 0;
        const badAad = new Uint8Array(aad);
        const badSealed = new Uint8Array(sealed);
        if (inAad) badAad[where % badAad.length]! ^= flip;
        else badSealed[where % badSealed.length]! ^= flip;
        const before = new Uint8Array(badSealed);
        assert.equal(gcm(key).open(iv, badAad, badSealed, true), null);
        assert.deepEqual(badSealed, before, 'the ciphertext is left as it was');
      },
    ),
    { numRuns: 200 },
  );
});

test('keys take turns in the one module instance without mixing', () => {
  const a = gcm(new Uint8Array(16).fill(1));
  const b = gcm(new Uint8Array(16).fill(2));
  const iv = new Uint8Array(12);
  const pt = new Uint8Array(50).fill(9);
  const outA = new Uint8Array(66);
  const outB = new Uint8Array(66);
  a.seal(iv, new Uint8Array(0), pt, outA, 0);
  const mask = new Uint8Array(5);
  b.encryptBlockAt(pt, 0, mask, 5);
  b.seal(iv, new Uint8Array(0), pt, outB, 0);
  assert.deepEqual(Buffer.from(outA), nodeSeal(new Uint8Array(16).fill(1), iv, new Uint8Array(0), pt));
  assert.deepEqual(Buffer.from(outB), nodeSeal(new Uint8Array(16).fill(2), iv, new Uint8Array(0), pt));
  assert.notDeepEqual(outA, outB);
});

test('sizes beyond the module go to node:crypto through Aead, with the same bytes', () => {
  const key = new Uint8Array(16).fill(3);
  const iv = new Uint8Array(12).fill(4);
  const aad = new Uint8Array(AES128_GCM_LAYOUT.aadMax + 1).fill(5);
  const pt = new Uint8Array(64).fill(6);
  assert.equal(PublicAes128Gcm.fits(aad.length, pt.length), false);
  assert.throws(() => gcm(key).seal(iv, aad, pt, new Uint8Array(80), 0), RangeError);
  const aead = new Aead(CipherSuite.AES_128_GCM_SHA256, key, iv, true);
  const out = new Uint8Array(80);
  aead.seal(0, aad, pt, out, 0);
  assert.deepEqual(Buffer.from(out), nodeSeal(key, iv, aad, pt));
});

test('Aead and HeaderProtection with a public AES-128 key: the same bytes as with a secret one', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.uint8Array({ maxLength: 300 }),
      (key, iv, hpKey, pn, pt) => {
        const aad = new Uint8Array([0xc3, 1, 2, 3]);
        const outPublic = new Uint8Array(pt.length + 16);
        const outSecret = new Uint8Array(pt.length + 16);
        new Aead(CipherSuite.AES_128_GCM_SHA256, key, iv, true).seal(pn, aad, pt, outPublic, 0);
        new Aead(CipherSuite.AES_128_GCM_SHA256, key, iv).seal(pn, aad, pt, outSecret, 0);
        assert.deepEqual(outPublic, outSecret);
        const opened = new Aead(CipherSuite.AES_128_GCM_SHA256, key, iv, true).open(pn, aad, outSecret);
        assert.ok(opened !== null);
        assert.deepEqual(Buffer.from(opened), Buffer.from(pt));
        const sample = outSecret.length >= 16 ? outSecret.subarray(0, 16) : new Uint8Array(16);
        const m1 = new Uint8Array(
          new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hpKey, false, true).mask(sample),
        );
        const m2 = new Uint8Array(new HeaderProtection(CipherSuite.AES_128_GCM_SHA256, hpKey).mask(sample));
        assert.deepEqual(m1, m2);
      },
    ),
    { numRuns: 150 },
  );
});

test('only Initial keys reach the WebAssembly AES: keys from TLS secrets stay with node:crypto', () => {
  for (const version of [0x00000001, 0x6b3343cf]) {
    const initial = deriveInitialKeys(version, hex('8394c8f03e515708'));
    for (const keys of [
      initial.client,
      initial.server,
      initialPacketKeys(new Uint8Array(32).fill(1), version),
    ]) {
      assert.equal(keys.aead.implementation, 'wasm-aes128-gcm-public');
      assert.equal(keys.hp.implementation, 'wasm-aes128-public');
    }
  }
  const secret = new Uint8Array(32).fill(9);
  for (const pooled of [false, true]) {
    const handshake = derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, secret, 1, pooled);
    assert.equal(handshake.aead.implementation, 'node:crypto');
    assert.equal(handshake.hp.implementation, 'node:crypto');
  }
  assert.equal(deriveAead(CipherSuite.AES_128_GCM_SHA256, secret, 1).implementation, 'node:crypto');
  const aes256 = derivePacketKeys(CipherSuite.AES_256_GCM_SHA384, new Uint8Array(48).fill(9), 1);
  assert.equal(aes256.aead.implementation, 'node:crypto');
  assert.equal(
    new Aead(CipherSuite.AES_128_GCM_SHA256, new Uint8Array(16), new Uint8Array(12)).implementation,
    'node:crypto',
  );
});

test("Retry integrity tags (a public key) come from the WebAssembly AES with node:crypto's bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 20 }),
      fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      (odcid, retry) => {
        const pseudo = Buffer.concat([Buffer.of(odcid.length), odcid, retry]);
        const c = createCipheriv(
          'aes-128-gcm',
          hex('be0c690b9f66575a1d766b54e368c84e'),
          hex('461599d35d632bf2239825bb'),
        );
        c.setAAD(pseudo);
        c.final();
        assert.deepEqual(retryIntegrityTag(0x00000001, odcid, retry), c.getAuthTag());
      },
    ),
    { numRuns: 100 },
  );
});
