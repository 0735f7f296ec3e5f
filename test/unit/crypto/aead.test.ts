import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Aead } from '../../../src/crypto/aead.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { WASM_AEAD_MAX_AAD, WASM_AEAD_MAX_PAYLOAD } from '../../../src/crypto/wasm-chacha20-poly1305.js';
import { hex } from './rfc-vectors.js';

const KEY_256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const KEY_128 = KEY_256.subarray(0, 16);
const IV = hex('a0a1a2a3a4a5a6a7a8a9aaab');
const AAD = hex('4100112233');
const PLAINTEXT = Buffer.from('a QUIC payload of some length, longer than one block', 'latin1');

/** Independent reference: nonce = iv XOR left-padded 62-bit packet number (RFC 9001 §5.3). */
function referenceNonce(iv: Uint8Array, pn: bigint): Buffer {
  const nonce = Buffer.from(iv);
  const padded = Buffer.alloc(12);
  padded.writeBigUInt64BE(pn, 4);
  for (let i = 0; i < 12; i++) nonce[i]! ^= padded[i]!;
  return nonce;
}

function referenceSeal(
  alg: 'aes-128-gcm' | 'aes-256-gcm',
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
) {
  const c = createCipheriv(alg, key, nonce);
  c.setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

test('AES-256-GCM round trip, output written at an offset', () => {
  const aead = new Aead(CipherSuite.AES_256_GCM_SHA384, KEY_256, IV);
  const out = Buffer.alloc(7 + PLAINTEXT.length + 16, 0xee);
  const n = aead.seal(42, AAD, PLAINTEXT, out, 7);
  assert.equal(n, PLAINTEXT.length + 16);
  assert.deepEqual(out.subarray(0, 7), Buffer.alloc(7, 0xee));
  const sealed = out.subarray(7);
  assert.deepEqual(sealed, referenceSeal('aes-256-gcm', KEY_256, referenceNonce(IV, 42n), AAD, PLAINTEXT));
  assert.deepEqual(Buffer.from(aead.open(42, AAD, sealed) ?? []), PLAINTEXT);
  assert.equal(aead.sealCount, 1);
  assert.equal(aead.openFailures, 0);
});

test('seal in place over the plaintext', () => {
  const aead = new Aead(CipherSuite.AES_128_GCM_SHA256, KEY_128, IV);
  const buf = Buffer.concat([AAD, PLAINTEXT, Buffer.alloc(16)]);
  const n = aead.seal(
    7,
    buf.subarray(0, AAD.length),
    buf.subarray(AAD.length, AAD.length + PLAINTEXT.length),
    buf,
    5,
  );
  assert.equal(n, PLAINTEXT.length + 16);
  assert.deepEqual(
    buf.subarray(5),
    referenceSeal('aes-128-gcm', KEY_128, referenceNonce(IV, 7n), AAD, PLAINTEXT),
  );
  assert.deepEqual(Buffer.from(aead.open(7, AAD, buf.subarray(5)) ?? []), PLAINTEXT);
});

test('empty plaintext seals to a bare tag and opens to an empty buffer', () => {
  for (const suite of [CipherSuite.AES_128_GCM_SHA256, CipherSuite.CHACHA20_POLY1305_SHA256]) {
    const key = suite === CipherSuite.AES_128_GCM_SHA256 ? KEY_128 : KEY_256;
    const aead = new Aead(suite, key, IV);
    const out = Buffer.alloc(16);
    assert.equal(aead.seal(0, AAD, new Uint8Array(0), out, 0), 16);
    const opened = aead.open(0, AAD, out);
    assert.ok(opened);
    assert.equal(opened.length, 0);
  }
});

test('nonce uses all 62 bits of large packet numbers', () => {
  const aead = new Aead(CipherSuite.AES_128_GCM_SHA256, KEY_128, IV);
  for (const pn of [0, 1, 0xff, 0x1_0000_0000, 2 ** 40 + 12345, 2 ** 53 - 1]) {
    const out = Buffer.alloc(PLAINTEXT.length + 16);
    aead.seal(pn, AAD, PLAINTEXT, out, 0);
    const expected = referenceSeal('aes-128-gcm', KEY_128, referenceNonce(IV, BigInt(pn)), AAD, PLAINTEXT);
    assert.deepEqual(out, expected, `pn ${pn}`);
  }
  assert.equal(aead.sealCount, 6);
});

test('authentication failures return null and are counted', () => {
  for (const suite of [
    CipherSuite.AES_128_GCM_SHA256,
    CipherSuite.AES_256_GCM_SHA384,
    CipherSuite.CHACHA20_POLY1305_SHA256,
  ]) {
    const key = suite === CipherSuite.AES_128_GCM_SHA256 ? KEY_128 : KEY_256;
    const aead = new Aead(suite, key, IV);
    const sealed = Buffer.alloc(PLAINTEXT.length + 16);
    aead.seal(9, AAD, PLAINTEXT, sealed, 0);
    const flip = (b: Buffer, i: number) => {
      const c = Buffer.from(b);
      c[i]! ^= 0x80;
      return c;
    };
    assert.equal(aead.open(9, flip(AAD, 2), sealed), null, 'flipped aad');
    assert.equal(aead.open(9, AAD, flip(sealed, 3)), null, 'flipped ciphertext');
    assert.equal(aead.open(9, AAD, flip(sealed, sealed.length - 1)), null, 'flipped tag');
    assert.equal(aead.open(10, AAD, sealed), null, 'wrong packet number');
    assert.equal(aead.open(9, AAD, sealed.subarray(0, 15)), null, 'shorter than a tag');
    assert.equal(aead.open(9, AAD, new Uint8Array(0)), null, 'empty');
    const wrongKey = Buffer.from(key);
    wrongKey[0]! ^= 1;
    const other = new Aead(suite, wrongKey, IV);
    assert.equal(other.open(9, AAD, sealed), null, 'wrong key');
    assert.equal(aead.openFailures, 6);
    assert.equal(other.openFailures, 1);
    // The failures left no state behind: the genuine packet still opens.
    assert.deepEqual(Buffer.from(aead.open(9, AAD, sealed) ?? []), PLAINTEXT);
    assert.equal(aead.openFailures, 6);
  }
});

test('constructor rejects wrong key and iv lengths and unknown suites', () => {
  assert.throws(() => new Aead(CipherSuite.AES_128_GCM_SHA256, KEY_256, IV), RangeError);
  assert.throws(() => new Aead(CipherSuite.AES_256_GCM_SHA384, KEY_128, IV), RangeError);
  assert.throws(() => new Aead(CipherSuite.CHACHA20_POLY1305_SHA256, KEY_256, IV.subarray(0, 8)), RangeError);
  assert.throws(() => new Aead(0x1304 as CipherSuite, KEY_128, IV), RangeError);
});

test('the key is copied: later changes to the caller buffer do not matter', () => {
  const key = Buffer.from(KEY_128);
  const iv = Buffer.from(IV);
  const aead = new Aead(CipherSuite.AES_128_GCM_SHA256, key, iv);
  key.fill(0);
  iv.fill(0);
  const out = Buffer.alloc(PLAINTEXT.length + 16);
  aead.seal(3, AAD, PLAINTEXT, out, 0);
  assert.deepEqual(out, referenceSeal('aes-128-gcm', KEY_128, referenceNonce(IV, 3n), AAD, PLAINTEXT));
});

test('keys used in turn each seal with their own whole IV (the nonce buffer is shared by all keys)', () => {
  const ivB = hex('0f0e0d0c0b0a090807060504');
  const a = new Aead(CipherSuite.AES_128_GCM_SHA256, KEY_128, IV);
  const b = new Aead(CipherSuite.AES_128_GCM_SHA256, KEY_128, ivB);
  for (const pn of [0, 1, 2 ** 32 + 5]) {
    for (const [aead, iv] of [
      [a, IV],
      [b, ivB],
      [a, IV],
    ] as const) {
      const out = Buffer.alloc(PLAINTEXT.length + 16);
      aead.seal(pn, AAD, PLAINTEXT, out, 0);
      const want = referenceSeal('aes-128-gcm', KEY_128, referenceNonce(iv, BigInt(pn)), AAD, PLAINTEXT);
      assert.deepEqual(out, want, `packet ${pn}`);
      assert.deepEqual(Buffer.from(aead.open(pn, AAD, out) ?? []), PLAINTEXT);
    }
  }
});

test('ChaCha20-Poly1305: payloads sealed in WebAssembly and the few above its limit (node:crypto) equal the reference', () => {
  const aead = new Aead(CipherSuite.CHACHA20_POLY1305_SHA256, KEY_256, IV);
  for (const length of [0, 1, 511, 1200, 1452, WASM_AEAD_MAX_PAYLOAD, WASM_AEAD_MAX_PAYLOAD + 1]) {
    const plaintext = Buffer.alloc(length);
    for (let i = 0; i < length; i++) plaintext[i] = (i * 13) & 0xff;
    for (const pn of [0, 7, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 40 + 3]) {
      const out = Buffer.alloc(length + 16);
      assert.equal(aead.seal(pn, AAD, plaintext, out, 0), length + 16);
      const c = createCipheriv('chacha20-poly1305', KEY_256, referenceNonce(IV, BigInt(pn)), {
        authTagLength: 16,
      });
      c.setAAD(AAD, { plaintextLength: length });
      assert.deepEqual(
        out,
        Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]),
        `${length} bytes, pn ${pn}`,
      );
      assert.deepEqual(Buffer.from(aead.open(pn, AAD, out) ?? [1]), plaintext);
      assert.equal(aead.open(pn + 1, AAD, out), null);
    }
  }
  assert.equal(aead.sealCount, 35);
  assert.equal(aead.openFailures, 35);
});

test('ChaCha20-Poly1305: additional data longer than the WebAssembly module takes goes through node:crypto, same bytes', () => {
  const aead = new Aead(CipherSuite.CHACHA20_POLY1305_SHA256, KEY_256, IV);
  for (const aadLength of [WASM_AEAD_MAX_AAD, WASM_AEAD_MAX_AAD + 1, 2000]) {
    const aad = Buffer.alloc(aadLength, 0x5a);
    const out = Buffer.alloc(PLAINTEXT.length + 16);
    aead.seal(9, aad, PLAINTEXT, out, 0);
    const c = createCipheriv('chacha20-poly1305', KEY_256, referenceNonce(IV, 9n), { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: PLAINTEXT.length });
    assert.deepEqual(out, Buffer.concat([c.update(PLAINTEXT), c.final(), c.getAuthTag()]), `${aadLength}`);
    assert.deepEqual(Buffer.from(aead.open(9, aad, out) ?? []), PLAINTEXT);
  }
});

// Without WebAssembly (node --jitless), or without the SIMD the module needs (V8 wants SSE4.1 on x64).
const NO_WASM_FLAGS = process.arch === 'x64' ? [['--jitless'], ['--no-enable-sse4-1']] : [['--jitless']];

for (const flags of NO_WASM_FLAGS) {
  test(`where the module cannot run (node ${flags.join(' ')}) ChaCha20-Poly1305 packets go through node:crypto, same bytes`, () => {
    const script = `
    import { Aead } from './src/crypto/aead.ts';
    import { CipherSuite } from './src/crypto/cipher-suite.ts';
    import { wasmChaCha20Poly1305 } from './src/crypto/wasm-chacha20-poly1305.ts';
    const aead = new Aead(CipherSuite.CHACHA20_POLY1305_SHA256, Buffer.alloc(32, 7), Buffer.alloc(12, 9));
    const out = Buffer.alloc(116);
    aead.seal(3, Buffer.from('head'), Buffer.alloc(100, 1), out, 0);
    console.log(JSON.stringify({ wasm: wasmChaCha20Poly1305 !== undefined, sealed: out.toString('hex'),
      opened: Buffer.from(aead.open(3, Buffer.from('head'), out) ?? []).toString('hex') }));`;
    const run = spawnSync(
      process.execPath,
      [...flags, '--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        timeout: 60_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
      wasm: boolean;
      sealed: string;
      opened: string;
    };
    assert.equal(result.wasm, false);
    const nonce = referenceNonce(Buffer.alloc(12, 9), 3n);
    const c = createCipheriv('chacha20-poly1305', Buffer.alloc(32, 7), nonce, { authTagLength: 16 });
    c.setAAD(Buffer.from('head'), { plaintextLength: 100 });
    assert.equal(
      result.sealed,
      Buffer.concat([c.update(Buffer.alloc(100, 1)), c.final(), c.getAuthTag()]).toString('hex'),
    );
    assert.equal(result.opened, Buffer.alloc(100, 1).toString('hex'));
  });
}

test('sealInPlace / openInPlace: the packet in a larger buffer gives the bytes of seal / open, for every suite and size', () => {
  const suites = [
    [CipherSuite.AES_128_GCM_SHA256, KEY_128, false],
    [CipherSuite.AES_128_GCM_SHA256, KEY_128, true],
    [CipherSuite.AES_256_GCM_SHA384, KEY_256, false],
    [CipherSuite.CHACHA20_POLY1305_SHA256, KEY_256, false],
  ] as const;
  for (const [suite, key, publicKey] of suites) {
    const inPlace = new Aead(suite, key, IV, publicKey);
    const reference = new Aead(suite, key, IV, publicKey);
    for (const [aadLength, length] of [
      [5, 0],
      [11, 1400],
      [WASM_AEAD_MAX_AAD + 1, 30],
      [9, WASM_AEAD_MAX_PAYLOAD + 1],
    ] as const) {
      const aad = Buffer.alloc(aadLength);
      for (let i = 0; i < aadLength; i++) aad[i] = (i * 7 + 1) & 0xff;
      const plaintext = Buffer.alloc(length);
      for (let i = 0; i < length; i++) plaintext[i] = (i * 13) & 0xff;
      const what = `suite ${suite}${publicKey ? ' public' : ''}, ${aadLength} + ${length} bytes`;
      // The packet at offset 3 of a buffer with bytes on both sides that must stay as they are.
      const at = 3;
      const buf = Buffer.alloc(at + aadLength + length + 16 + 4, 0xee);
      aad.copy(buf, at);
      plaintext.copy(buf, at + aadLength);
      const payloadStart = at + aadLength;
      const written = inPlace.sealInPlace(41, buf, at, payloadStart, payloadStart + length);
      assert.equal(written, length + 16, what);
      const expected = Buffer.alloc(length + 16);
      reference.seal(41, aad, plaintext, expected, 0);
      assert.deepEqual(buf.subarray(payloadStart, payloadStart + written), expected, what);
      assert.deepEqual(buf.subarray(at, payloadStart), aad, `${what}: header untouched`);
      assert.deepEqual(
        [...buf.subarray(0, at), ...buf.subarray(payloadStart + written)],
        [0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee],
        what,
      );
      // A wrong packet number fails and leaves the ciphertext as it was.
      const sealed = Buffer.from(buf);
      assert.equal(inPlace.openInPlace(42, buf, at, payloadStart, payloadStart + written), null, what);
      assert.deepEqual(buf, sealed, `${what}: a failed open changes nothing`);
      const opened = inPlace.openInPlace(41, buf, at, payloadStart, payloadStart + written);
      assert.deepEqual(Buffer.from(opened ?? [1, 2, 3]), plaintext, what);
    }
    assert.equal(inPlace.sealCount, 4);
    assert.equal(inPlace.openFailures, 4);
    // Shorter than a tag: a failure, never a throw.
    assert.equal(inPlace.openInPlace(1, Buffer.alloc(20), 0, 5, 20), null);
    assert.equal(inPlace.openFailures, 5);
  }
});
