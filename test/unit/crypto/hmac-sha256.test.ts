/**
 * The HMAC-SHA256 of the key schedule (src/crypto/hmac-sha256.ts), through its WebAssembly module and
 * through its node:crypto fallback: RFC 4231's test cases,
 * and equal to node:crypto's for any key and message (property), including keys longer than a block,
 * messages across the one/two padding-block boundary, and the cache of the last key's states (a key
 * repeated, and a caller's buffer reused for another key).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { hkdfExpandLabel, hkdfExtract, hmac } from '../../../src/crypto/hkdf.js';
import { hmacSha256, hmacSha256Into, sha256, useWasmSha256 } from '../../../src/crypto/hmac-sha256.js';
import { SHA256_LAYOUT } from '../../../src/crypto/wasm/sha256-layout.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const nodeHmac = (key: Uint8Array, data: Uint8Array) => createHmac('sha256', key).update(data).digest();

test('the WebAssembly module loads on this runtime (else every HMAC would go through node:crypto)', () => {
  assert.equal(useWasmSha256(true), true);
});

test('messages and keys longer than the module takes go through node:crypto, with the same bytes', () => {
  const long = Buffer.alloc(SHA256_LAYOUT.dataMax + 1, 0x5a);
  assert.deepEqual(hmacSha256(Buffer.from('k'), long), nodeHmac(Buffer.from('k'), long));
  assert.deepEqual(hmacSha256(long, Buffer.from('m')), nodeHmac(long, Buffer.from('m')));
  const justFits = long.subarray(1);
  assert.deepEqual(hmacSha256(Buffer.from('k'), justFits), nodeHmac(Buffer.from('k'), justFits));
  assert.deepEqual(hmacSha256(justFits, Buffer.from('m')), nodeHmac(justFits, Buffer.from('m')));
});

for (const path of ['WebAssembly', 'node:crypto'] as const) {
  describe(`through ${path}`, () => {
    before(() => useWasmSha256(path === 'WebAssembly'));
    after(() => useWasmSha256(true));

    test('RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (HMAC-SHA-256)', () => {
      const cases: Array<[Buffer, Buffer, string]> = [
        [
          Buffer.alloc(20, 0x0b),
          Buffer.from('Hi There'),
          'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
        ],
        [
          Buffer.from('Jefe'),
          Buffer.from('what do ya want for nothing?'),
          '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
        ],
        [
          Buffer.alloc(20, 0xaa),
          Buffer.alloc(50, 0xdd),
          '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
        ],
        [
          hex('0102030405060708090a0b0c0d0e0f10111213141516171819'),
          Buffer.alloc(50, 0xcd),
          '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
        ],
        [
          Buffer.alloc(131, 0xaa),
          Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
          '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
        ],
        [
          Buffer.alloc(131, 0xaa),
          Buffer.from(
            'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
          ),
          '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
        ],
      ];
      for (const [key, data, expected] of cases)
        assert.equal(hmacSha256(key, data).toString('hex'), expected);
    });

    test('property: equal to node:crypto for any key and message, also with the last key reused', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 200 }), fc.nat(3)),
            {
              minLength: 1,
              maxLength: 8,
            },
          ),
          (calls) => {
            for (const [key, data, repeat] of calls) {
              for (let i = 0; i <= repeat; i++) assert.deepEqual(hmacSha256(key, data), nodeHmac(key, data));
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    test('messages at the padding boundaries (55, 56, 63, 64, 119, 120 bytes) and every key length to 65', () => {
      for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128]) {
        const data = Buffer.alloc(n, n);
        assert.deepEqual(
          hmacSha256(Buffer.from('k'), data),
          nodeHmac(Buffer.from('k'), data),
          `message of ${n}`,
        );
      }
      for (let n = 0; n <= 65; n++) {
        const key = Buffer.alloc(n, 0x40 + n);
        assert.deepEqual(hmacSha256(key, Buffer.from('m')), nodeHmac(key, Buffer.from('m')), `key of ${n}`);
      }
    });

    test('a buffer reused for another key is not mistaken for the last key', () => {
      const key = Buffer.alloc(32, 1);
      const data = Buffer.from('quic key');
      assert.deepEqual(hmacSha256(key, data), nodeHmac(key, data));
      key[31] = 2;
      assert.deepEqual(hmacSha256(key, data), nodeHmac(key, data));
      // A prefix of the last key (same bytes, shorter) is another key.
      const shorter = key.subarray(0, 31);
      assert.deepEqual(hmacSha256(shorter, data), nodeHmac(shorter, data));
      // A key that differs only in trailing zero bytes (HMAC pads with zeros: the same HMAC key).
      const zeros = Buffer.alloc(20);
      assert.deepEqual(hmacSha256(zeros, data), nodeHmac(zeros, data));
      assert.deepEqual(hmacSha256(Buffer.alloc(21), data), nodeHmac(Buffer.alloc(21), data));
    });

    test('the key schedule through hmac(): SHA-256 here, SHA-384 through node:crypto, same bytes', () => {
      const secret = Buffer.alloc(32, 7);
      assert.deepEqual(hmac('sha256', secret, Buffer.from('x')), nodeHmac(secret, Buffer.from('x')));
      const s384 = Buffer.alloc(48, 7);
      assert.deepEqual(
        hmac('sha384', s384, Buffer.from('x')),
        createHmac('sha384', s384).update('x').digest(),
      );
      // HKDF-Extract with an empty salt (HashLen zeros) as RFC 5869 defines it.
      assert.deepEqual(
        hkdfExtract('sha256', new Uint8Array(0), secret),
        createHmac('sha256', Buffer.alloc(32)).update(secret).digest(),
      );
      assert.equal(hkdfExpandLabel('sha256', secret, 'quic key', new Uint8Array(0), 16).length, 16);
    });

    test('hmacSha256Into: HMAC of the first dataLength bytes, truncated to the length of out', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 80 }),
          fc.uint8Array({ maxLength: 140 }),
          fc.nat(140),
          fc.integer({ min: 1, max: 32 }),
          (key, data, cut, outLength) => {
            const n = Math.min(cut, data.length);
            const out = new Uint8Array(outLength);
            hmacSha256Into(key, data, n, out);
            const want = nodeHmac(key, data.subarray(0, n)).subarray(0, outLength);
            assert.deepEqual(Buffer.from(out), want);
          },
        ),
      );
      assert.throws(
        () => hmacSha256Into(Buffer.from('k'), Buffer.alloc(4), 5, new Uint8Array(32)),
        RangeError,
      );
      assert.throws(
        () => hmacSha256Into(Buffer.from('k'), Buffer.alloc(4), 4, new Uint8Array(33)),
        RangeError,
      );
    });

    test('keys interleaved beyond the cache of pad states, and a cached key changed in place', () => {
      // More keys than the cache holds, returning to each after others (as the key schedule does).
      const keys = Array.from({ length: SHA256_LAYOUT.slots + 3 }, (_, i) => Buffer.alloc(32, 0x10 + i));
      const data = Buffer.from('tls13 derived');
      const order = [0, 1, 0, 2, 1, 3, 4, 0, 5, 6, 1, 2, 3, 4, 5, 6, 0, 6, 5, 4, 3, 2, 1, 0];
      for (const i of [
        ...order,
        ...keys.map((_, i) => i),
        ...keys.map((_, i) => keys.length - 1 - i),
        ...order,
      ]) {
        assert.deepEqual(hmacSha256(keys[i]!, data), nodeHmac(keys[i]!, data), `key ${i}`);
      }
      // A buffer whose bytes change after it was cached is another key (compared by value).
      const k = keys[3]!;
      k[0] ^= 0xff;
      assert.deepEqual(hmacSha256(k, data), nodeHmac(k, data));
      assert.deepEqual(hmacSha256(keys[2]!, data), nodeHmac(keys[2]!, data));
    });
  });
}

test('sha256(): FIPS 180-4 digests, the same as node:crypto for any message (module or fallback)', () => {
  assert.equal(
    sha256(Buffer.from('abc')).toString('hex'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  assert.equal(
    sha256(new Uint8Array(0)).toString('hex'),
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (m) => {
      assert.deepEqual(sha256(m), createHash('sha256').update(m).digest());
    }),
    { numRuns: 200 },
  );
  const long = new Uint8Array(70_000).fill(7);
  assert.deepEqual(sha256(long), createHash('sha256').update(long).digest());
});
