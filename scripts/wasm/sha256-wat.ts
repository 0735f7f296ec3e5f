/**
 * The WebAssembly text of tsquic's SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the TLS and
 * QUIC key schedules, generated so that the 64 rounds of the compression are written out once here
 * rather than by hand.
 *
 * `npx tsx scripts/wasm/build.ts` turns this text into src/crypto/wasm/sha256.wat (to read) and
 * src/crypto/wasm/sha256-bytes.ts (the module, base64, what tsquic loads);
 * test/unit/crypto/wasm-build.test.ts fails when the committed files are not this text's output.
 *
 * Why WebAssembly: a handshake computes about forty HMACs on each side, each of one or two blocks.
 * node:crypto pays a fixed few microseconds per Hmac object; the compression in TypeScript cost about
 * 0.5 us per block; here about 0.2 us, with the rounds in registers and native rotates (issue 13).
 * Constant time: no branch and no memory index depends on a key or message byte, only on lengths.
 */
import { SHA256_LAYOUT as L } from '../../src/crypto/wasm/sha256-layout.js';

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

/** FIPS 180-4 §5.3.3: the initial hash value. */
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const get = (name: string) => `(local.get $${name})`;
const i32 = (n: number) => `(i32.const ${n | 0})`;
const rotr = (x: string, n: number) => `(i32.rotr ${x} (i32.const ${n}))`;

/** A 32-bit byte swap of `x` (an expression without side effects; WebAssembly has no bswap). */
function bswap(x: string): string {
  return `(i32.or (i32.or (i32.shl ${x} (i32.const 24)) (i32.and (i32.shl ${x} (i32.const 8)) (i32.const 0xff0000))) (i32.or (i32.and (i32.shr_u ${x} (i32.const 8)) (i32.const 0xff00)) (i32.shr_u ${x} (i32.const 24))))`;
}

/** `v` byte-swapped, computed here: stores that leave a constant word big-endian in memory. */
function swapped(v: number): number {
  return (v << 24) | ((v << 8) & 0xff0000) | ((v >>> 8) & 0xff00) | (v >>> 24) | 0;
}

const WORKING = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/**
 * $blocks(state, p, n): FIPS 180-4 §6.2.2 over the n 64-byte blocks at p, the state at `state` as eight
 * big-endian words. The working variables rotate by renaming (no moves); the message schedule is a
 * ring of sixteen locals.
 */
function blocks(): string {
  const locals = [...WORKING, ...Array.from({ length: 16 }, (_, i) => `w${i}`), 't1', 't2', 'x']
    .map((n) => `(local $${n} i32)`)
    .join(' ');
  const out: string[] = [];
  WORKING.forEach((n, i) => {
    out.push(`(local.set $x (i32.load offset=${4 * i} ${get('state')}))`);
    out.push(`(local.set $${n} ${bswap(get('x'))})`);
  });
  out.push('(block $done (loop $next');
  out.push(`(br_if $done (i32.eqz ${get('n')}))`);
  for (let t = 0; t < 16; t++) {
    out.push(`(local.set $x (i32.load offset=${4 * t} align=1 ${get('p')}))`);
    out.push(`(local.set $w${t} ${bswap(get('x'))})`);
  }
  let v = [...WORKING];
  for (let t = 0; t < 64; t++) {
    const w = `w${t % 16}`;
    if (t >= 16) {
      // §6.2.2 step 1: W_t = σ1(W_t-2) + W_t-7 + σ0(W_t-15) + W_t-16 (§4.1.2 (4.6), (4.7)).
      const x15 = get(`w${(t - 15) % 16}`);
      const x2 = get(`w${(t - 2) % 16}`);
      const s0 = `(i32.xor (i32.xor ${rotr(x15, 7)} ${rotr(x15, 18)}) (i32.shr_u ${x15} (i32.const 3)))`;
      const s1 = `(i32.xor (i32.xor ${rotr(x2, 17)} ${rotr(x2, 19)}) (i32.shr_u ${x2} (i32.const 10)))`;
      out.push(
        `(local.set $${w} (i32.add (i32.add ${get(w)} ${s0}) (i32.add ${get(`w${(t - 7) % 16}`)} ${s1})))`,
      );
    }
    const [a, b, c, d, e, f, g, h] = v as [string, string, string, string, string, string, string, string];
    // §6.2.2 step 3 with Σ0, Σ1 (4.4), (4.5), Ch (4.2) as g ^ (e & (f ^ g)), Maj (4.3) as (a & b) | (c & (a | b)).
    const S1 = `(i32.xor (i32.xor ${rotr(get(e), 6)} ${rotr(get(e), 11)}) ${rotr(get(e), 25)})`;
    const ch = `(i32.xor ${get(g)} (i32.and ${get(e)} (i32.xor ${get(f)} ${get(g)})))`;
    out.push(
      `(local.set $t1 (i32.add (i32.add (i32.add ${get(h)} ${S1}) (i32.add ${ch} ${i32(K[t]!)})) ${get(w)}))`,
    );
    const S0 = `(i32.xor (i32.xor ${rotr(get(a), 2)} ${rotr(get(a), 13)}) ${rotr(get(a), 22)})`;
    const maj = `(i32.or (i32.and ${get(a)} ${get(b)}) (i32.and ${get(c)} (i32.or ${get(a)} ${get(b)})))`;
    out.push(`(local.set $t2 (i32.add ${S0} ${maj}))`);
    // e' = d + T1 and a' = T1 + T2 land in d's and h's locals; the names rotate.
    out.push(`(local.set $${d} (i32.add ${get(d)} ${get('t1')}))`);
    out.push(`(local.set $${h} (i32.add ${get('t1')} ${get('t2')}))`);
    v = [h, a, b, c, d, e, f, g];
  }
  // §6.2.2 step 4, for the next block in registers; 64 rounds bring the names back in place.
  WORKING.forEach((n, i) => {
    out.push(`(local.set $${n} (i32.add ${get(n)} ${bswap(`(i32.load offset=${4 * i} ${get('state')})`)}))`);
    out.push(`(local.set $x ${get(n)})`);
    out.push(`(i32.store offset=${4 * i} ${get('state')} ${bswap(get('x'))})`);
  });
  out.push(`(local.set $p (i32.add ${get('p')} (i32.const 64)))`);
  out.push(`(local.set $n (i32.sub ${get('n')} (i32.const 1)))`);
  out.push('(br $next)))');
  return `  ;; FIPS 180-4 §6.2.2: the compression of the $n blocks at $p into the big-endian state at $state.
  (func $blocks (param $state i32) (param $p i32) (param $n i32) ${locals}
    ${out.join('\n    ')})`;
}

/** Stores H(0) (FIPS 180-4 §5.3.3) big-endian at the address in local $at. */
function initialState(at: string): string {
  return H0.map((h, i) => `(i32.store offset=${4 * i} ${at} ${i32(swapped(h))})`).join('\n    ');
}

/** FIPS 180-4 §5.1.1 padding, the message of $len bytes at data after $prefix bytes already hashed. */
function pad(): string {
  return `  ;; FIPS 180-4 §5.1.1: pads the $len bytes at data (after $prefix bytes hashed before) with 0x80,
  ;; zeros and the 64-bit big-endian bit length (its high word zero: messages here are below 2^29
  ;; bytes); returns the number of blocks.
  (func $pad (param $len i32) (param $prefix i32) (result i32) (local $n i32) (local $bits i32)
    (local.set $n (i32.shr_u (i32.add (local.get $len) (i32.const 72)) (i32.const 6)))
    (memory.fill (i32.add (i32.const ${L.data}) (local.get $len)) (i32.const 0)
      (i32.sub (i32.shl (local.get $n) (i32.const 6)) (local.get $len)))
    (i32.store8 offset=${L.data} (local.get $len) (i32.const 0x80))
    (local.set $bits (i32.shl (i32.add (local.get $len) (local.get $prefix)) (i32.const 3)))
    (i32.store offset=${L.data - 4} (i32.shl (local.get $n) (i32.const 6)) ${bswap(get('bits'))})
    (local.get $n))`;
}

export function sha256Wat(): string {
  const slotAddress = `(i32.add (i32.const ${L.pads}) (i32.shl (local.get $slot) (i32.const 6)))`;
  return `;; Generated by scripts/wasm/build.ts from scripts/wasm/sha256-wat.ts: edit that, not this.
;; SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the TLS 1.3 and QUIC key schedules.
(module
  (memory (export "memory") ${L.pages} ${L.pages})

${blocks()}

${pad()}

  ;; SHA-256 of the $len bytes at data into digest; clears the data.
  (func (export "sha256") (param $len i32) (local $at i32) (local $n i32)
    (local.set $at (i32.const ${L.digest}))
    ${initialState(get('at'))}
    (local.set $n (call $pad (local.get $len) (i32.const 0)))
    (call $blocks (local.get $at) (i32.const ${L.data}) (local.get $n))
    (memory.fill (i32.const ${L.data}) (i32.const 0) (i32.shl (local.get $n) (i32.const 6))))

  ;; RFC 2104 §2: the states after (K ^ ipad) and (K ^ opad), the key zero-padded at key, into pad
  ;; slot $slot; clears the key.
  (func (export "keyPads") (param $slot i32) (local $at i32)
    (local.set $at ${slotAddress})
    (call $xorKey (i32.const 0x36))
    ${initialState(get('at'))}
    (call $blocks (local.get $at) (i32.const ${L.data}) (i32.const 1))
    (local.set $at (i32.add (local.get $at) (i32.const 32)))
    (call $xorKey (i32.const 0x5c))
    ${initialState(get('at'))}
    (call $blocks (local.get $at) (i32.const ${L.data}) (i32.const 1))
    (memory.fill (i32.const ${L.data}) (i32.const 0) (i32.const 64))
    (memory.fill (i32.const ${L.key}) (i32.const 0) (i32.const 64)))

  ;; The 64 bytes at data = the key block XOR $pad in every byte.
  (func $xorKey (param $pad i32) (local $v v128)
    (local.set $v (i8x16.splat (local.get $pad)))
    (v128.store offset=${L.data} (i32.const 0) (v128.xor (v128.load offset=${L.key} (i32.const 0)) (local.get $v)))
    (v128.store offset=${L.data + 16} (i32.const 0) (v128.xor (v128.load offset=${L.key + 16} (i32.const 0)) (local.get $v)))
    (v128.store offset=${L.data + 32} (i32.const 0) (v128.xor (v128.load offset=${L.key + 32} (i32.const 0)) (local.get $v)))
    (v128.store offset=${L.data + 48} (i32.const 0) (v128.xor (v128.load offset=${L.key + 48} (i32.const 0)) (local.get $v))))

  ;; HMAC-SHA256 (RFC 2104 §2) of the $len bytes at data under the key whose pad states are in slot
  ;; $slot: H(K ^ opad, H(K ^ ipad, text)), into digest. Clears the data and the inner state.
  (func (export "hmac") (param $slot i32) (param $len i32) (local $n i32)
    (memory.copy (i32.const ${L.inner}) ${slotAddress} (i32.const 32))
    (local.set $n (call $pad (local.get $len) (i32.const 64)))
    (call $blocks (i32.const ${L.inner}) (i32.const ${L.data}) (local.get $n))
    ;; The outer message: the 32-byte inner digest after one block, so 768 bits in all.
    (memory.copy (i32.const ${L.outerBlock}) (i32.const ${L.inner}) (i32.const 32))
    (memory.fill (i32.const ${L.outerBlock + 32}) (i32.const 0) (i32.const 32))
    (i32.store8 (i32.const ${L.outerBlock + 32}) (i32.const 0x80))
    (i32.store8 (i32.const ${L.outerBlock + 62}) (i32.const 0x03))
    (memory.copy (i32.const ${L.digest}) (i32.add ${slotAddress} (i32.const 32)) (i32.const 32))
    (call $blocks (i32.const ${L.digest}) (i32.const ${L.outerBlock}) (i32.const 1))
    (memory.fill (i32.const ${L.inner}) (i32.const 0) (i32.const 32))
    (memory.fill (i32.const ${L.outerBlock}) (i32.const 0) (i32.const 32))
    (memory.fill (i32.const ${L.data}) (i32.const 0) (i32.shl (local.get $n) (i32.const 6))))
)
`;
}
