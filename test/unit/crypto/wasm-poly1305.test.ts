import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CHACHA20_POLY1305_LAYOUT as L } from '../../../src/crypto/wasm/chacha20-poly1305-layout.js';
import { wasmChaCha20Poly1305 } from '../../../src/crypto/wasm-chacha20-poly1305.js';
import { hex } from './rfc-vectors.js';

/** Poly1305 from its definition (RFC 8439 §2.5.1), with BigInt: the oracle for the limb arithmetic. */
function reference(key: Uint8Array, msg: Uint8Array): string {
  const le = (b: Uint8Array) => {
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
    return n;
  };
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  const p = (1n << 130n) - 5n;
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, Math.min(i + 16, msg.length));
    acc = ((acc + le(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  let tag = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    out[i] = Number(tag & 0xffn);
    tag >>= 8n;
  }
  return out.toString('hex');
}

const MODULE = wasmChaCha20Poly1305;
assert.ok(MODULE !== undefined, 'WebAssembly is available in the test runtime');

/** Poly1305 alone, through the module's `poly1305` export (the AEAD's MAC without its padding). */
function tag(key: Uint8Array, msg: Uint8Array): string {
  const mem = MODULE!.memory;
  mem.set(key, L.oneTimeKey);
  mem.set(msg, L.data);
  MODULE!.exports.poly1305(msg.length);
  return Buffer.from(mem.subarray(L.tag, L.tag + 16)).toString('hex');
}

test('RFC 8439 §2.5.2 test vector', () => {
  const key = hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
  const msg = Buffer.from('Cryptographic Forum Research Group', 'latin1');
  assert.equal(tag(key, msg), 'a8061dc1305136c6c22b8baf0c0127a9');
  assert.equal(reference(key, msg), 'a8061dc1305136c6c22b8baf0c0127a9');
});

test('the final reduction modulo 2^130 - 5 at its edges (r = 2 or 1, h next to p)', () => {
  const key = (r: number, sByte: number) => {
    const k = new Uint8Array(32);
    k[0] = r;
    k.fill(sByte, 16);
    return k;
  };
  // h = 2 * (2^129 - 1) = 2^130 - 2 = p + 3.
  assert.equal(tag(key(2, 0), new Uint8Array(16).fill(0xff)), `03${'00'.repeat(15)}`);
  // h = 2 * (2^128 + 2) < p; adding s = 2^128 - 1 wraps modulo 2^128 to 3.
  const two = new Uint8Array(16);
  two[0] = 2;
  assert.equal(tag(key(2, 0xff), two), `03${'00'.repeat(15)}`);
  // h = 2 * (2^129 - 3) = 2^130 - 6 = p - 1: not reduced.
  const m = new Uint8Array(16).fill(0xff);
  m[0] = 0xfd;
  assert.equal(tag(key(2, 0), m), `fa${'ff'.repeat(15)}`);
  // h = p exactly reduces to 0: r = 1 and the block 2^130 - 5 - 2^128.
  const almost = new Uint8Array(16).fill(0xff);
  almost[0] = 0xfb;
  almost[15] = 0xff;
  assert.equal(tag(key(1, 0), almost), reference(key(1, 0), almost));
});

test('equals the BigInt definition for any key and message, including all-0xff data', () => {
  const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0xfe, 0xfb, 0x03));
  fc.assert(
    fc.property(
      fc.array(byte, { minLength: 32, maxLength: 32 }),
      fc.array(byte, { minLength: 0, maxLength: 200, size: 'max' }),
      (k, m) => {
        const key = Uint8Array.from(k);
        const msg = Uint8Array.from(m);
        assert.equal(tag(key, msg), reference(key, msg));
      },
    ),
    { numRuns: 600 },
  );
});

test('a long message (several hundred blocks, the size of a full packet and more)', () => {
  const key = hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
  for (const length of [1452, 4099, 65536]) {
    const msg = new Uint8Array(length);
    for (let i = 0; i < length; i++) msg[i] = 0xff - (i & 0x0f);
    assert.equal(tag(key, msg), reference(key, msg), `${length}`);
  }
});
