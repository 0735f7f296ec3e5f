/**
 * The WebAssembly text of tsquic's ChaCha20-Poly1305 AEAD (RFC 8439 §2.8), generated so that the
 * twenty quarter rounds and the Poly1305 limb products are written out once here rather than by hand.
 *
 * `npx tsx scripts/wasm/build.ts` turns this text into src/crypto/wasm/chacha20-poly1305.wat (to
 * read) and src/crypto/wasm/chacha20-poly1305-bytes.ts (the module, base64, what tsquic loads);
 * test/unit/crypto/wasm-build.test.ts fails when the committed files are not this text's output.
 *
 * Why WebAssembly: node:crypto creates a cipher object per packet (Node 20 cannot give one a new
 * nonce), 5-8 us per call whatever the size; this module keeps no object per call and no allocation.
 * Everything is constant time: no branch and no memory index depends on a key, keystream, tag or
 * plaintext byte (only on lengths, which are public).
 */
import { CHACHA20_POLY1305_LAYOUT as L } from '../../src/crypto/wasm/chacha20-poly1305-layout.js';

function g(name: string): string {
  return `(local.get $${name})`;
}

/** a += b; d ^= a; d <<<= 16; c += d; b ^= c; b <<<= 12; a += b; d ^= a; d <<<= 8; c += d; b ^= c; b <<<= 7 (RFC 8439 §2.1). */
function quarterRound(a: number, b: number, c: number, d: number): string {
  const [xa, xb, xc, xd] = [`x${a}`, `x${b}`, `x${c}`, `x${d}`];
  const add = (t: string, s: string) => `(local.set $${t} (i32.add ${g(t)} ${g(s)}))`;
  const xorRot = (t: string, s: string, n: number) =>
    `(local.set $${t} (i32.rotl (i32.xor ${g(t)} ${g(s)}) (i32.const ${n})))`;
  return [
    add(xa, xb),
    xorRot(xd, xa, 16),
    add(xc, xd),
    xorRot(xb, xc, 12),
    add(xa, xb),
    xorRot(xd, xa, 8),
    add(xc, xd),
    xorRot(xb, xc, 7),
  ]
    .map((line) => `          ${line}`)
    .join('\n');
}

const range16 = Array.from({ length: 16 }, (_, i) => i);
/** The initial state's words: the constant "expand 32-byte k", the key, the counter, the nonce (§2.3). */
const CONSTANTS = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];
/** A double round: four column rounds, then four diagonal rounds (§2.3), as state word indices. */
const QUARTER_ROUNDS: readonly (readonly [number, number, number, number])[] = [
  [0, 4, 8, 12],
  [1, 5, 9, 13],
  [2, 6, 10, 14],
  [3, 7, 11, 15],
  [0, 5, 10, 15],
  [1, 6, 11, 12],
  [2, 7, 8, 13],
  [3, 4, 9, 14],
];

/** The locals loadKeyAndNonce() fills. */
const KEY_AND_NONCE_LOCALS = [
  ...Array.from({ length: 8 }, (_, i) => `(local $k${i} i32)`),
  '(local $n0 i32) (local $n1 i32) (local $n2 i32)',
].join(' ');

/** The key's eight words into $k0..$k7 and the nonce's three into $n0..$n2. */
function loadKeyAndNonce(): string {
  const key = Array.from(
    { length: 8 },
    (_, i) => `    (local.set $k${i} (i32.load (i32.const ${L.key + 4 * i})))`,
  );
  const nonce = [0, 1, 2].map((i) => `    (local.set $n${i} (i32.load (i32.const ${L.nonce + 4 * i})))`);
  return [...key, ...nonce].join('\n');
}

function initialWord(i: number): string {
  if (i < 4) return `(i32.const ${CONSTANTS[i]! | 0})`;
  if (i < 12) return g(`k${i - 4}`);
  if (i === 12) return g('ctr');
  return g(`n${i - 13}`);
}

/** The SIMD quarter round on four blocks at once: lane b of $vI is word I of block b. */
function quarterRound4(a: number, b: number, c: number, d: number): string {
  const [va, vb, vc, vd] = [`v${a}`, `v${b}`, `v${c}`, `v${d}`];
  const add = (t: string, s: string) => `(local.set $${t} (i32x4.add ${g(t)} ${g(s)}))`;
  const xor = (t: string, s: string) => `(local.set $${t} (v128.xor ${g(t)} ${g(s)}))`;
  // Rotations by 16 and 8 bits move whole bytes within each lane: one byte shuffle.
  const rotBytes = (t: string, lanes: number[]) => {
    const idx = [0, 4, 8, 12].flatMap((base) => lanes.map((l) => base + l)).join(' ');
    return `(local.set $${t} (i8x16.shuffle ${idx} ${g(t)} ${g(t)}))`;
  };
  const rotBits = (t: string, n: number) =>
    `(local.set $${t} (v128.or (i32x4.shl ${g(t)} (i32.const ${n})) (i32x4.shr_u ${g(t)} (i32.const ${32 - n}))))`;
  return [
    add(va, vb),
    xor(vd, va),
    rotBytes(vd, [2, 3, 0, 1]),
    add(vc, vd),
    xor(vb, vc),
    rotBits(vb, 12),
    add(va, vb),
    xor(vd, va),
    rotBytes(vd, [3, 0, 1, 2]),
    add(vc, vd),
    xor(vb, vc),
    rotBits(vb, 7),
  ]
    .map((line) => `        ${line}`)
    .join('\n');
}

function initialVector(i: number): string {
  if (i < 4) return `(i32x4.splat (i32.const ${CONSTANTS[i]! | 0}))`;
  if (i < 12) return `(i32x4.splat ${g(`k${i - 4}`)})`;
  if (i === 12) return `(i32x4.add (i32x4.splat ${g('ctr')}) (v128.const i32x4 0 1 2 3))`;
  return `(i32x4.splat ${g(`n${i - 13}`)})`;
}

/** i8x16.shuffle byte indices taking i32 lanes (0-3 of the first operand, 4-7 of the second). */
function lanes(...l: number[]): string {
  return l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]).join(' ');
}

/**
 * The twenty rounds of a block state (RFC 8439 §2.3): its sixteen locals set from the initial
 * state, ten double rounds, the initial state added. `simd`: four blocks side by side in $v0..$v15,
 * else one block in $x0..$x15. `indent`: the indentation of the statements.
 */
function twentyRounds(simd: boolean, indent: string): string {
  const word = simd ? 'v' : 'x';
  const initial = simd ? initialVector : initialWord;
  const add = simd ? 'i32x4.add' : 'i32.add';
  const quarter = simd ? quarterRound4 : quarterRound;
  const init = range16.map((i) => `${indent}(local.set $${word}${i} ${initial(i)})`).join('\n');
  const rounds = QUARTER_ROUNDS.map(([a, b, c, d]) => quarter(a, b, c, d)).join('\n');
  const addInitial = range16
    .map((i) => `${indent}(local.set $${word}${i} (${add} ${g(`${word}${i}`)} ${initial(i)}))`)
    .join('\n');
  return `${init}
${indent}(local.set $round (i32.const 10))
${indent}(loop $doubleRounds
${rounds}
${indent}  (local.set $round (i32.sub ${g('round')} (i32.const 1)))
${indent}  (br_if $doubleRounds ${g('round')}))
${addInitial}`;
}

/**
 * XORs four keystream blocks (counters $ctr to $ctr + 3) into the 256 bytes at $p, computed side by
 * side in 128-bit lanes; then each group of four words is transposed from "one word of four blocks"
 * to "four words of one block".
 */
function xorKeyStream4(): string {
  const locals = [
    ...range16.map((i) => `(local $v${i} v128)`),
    '(local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)',
    KEY_AND_NONCE_LOCALS,
    '(local $round i32)',
  ].join(' ');
  const groups: string[] = [];
  for (let w = 0; w < 16; w += 4) {
    const [a, b, c, d] = [g(`v${w}`), g(`v${w + 1}`), g(`v${w + 2}`), g(`v${w + 3}`)];
    groups.push(`    ;; words ${w}-${w + 3}
    (local.set $t0 (i8x16.shuffle ${lanes(0, 4, 1, 5)} ${a} ${b}))
    (local.set $t1 (i8x16.shuffle ${lanes(2, 6, 3, 7)} ${a} ${b}))
    (local.set $t2 (i8x16.shuffle ${lanes(0, 4, 1, 5)} ${c} ${d}))
    (local.set $t3 (i8x16.shuffle ${lanes(2, 6, 3, 7)} ${c} ${d}))`);
    const out = [
      `(i8x16.shuffle ${lanes(0, 1, 4, 5)} ${g('t0')} ${g('t2')})`,
      `(i8x16.shuffle ${lanes(2, 3, 6, 7)} ${g('t0')} ${g('t2')})`,
      `(i8x16.shuffle ${lanes(0, 1, 4, 5)} ${g('t1')} ${g('t3')})`,
      `(i8x16.shuffle ${lanes(2, 3, 6, 7)} ${g('t1')} ${g('t3')})`,
    ];
    out.forEach((v, block) => {
      const offset = 64 * block + 4 * w;
      groups.push(
        `    (v128.store offset=${offset} ${g('p')} (v128.xor (v128.load offset=${offset} ${g('p')}) ${v}))`,
      );
    });
  }
  return `  ;; XORs keystream blocks $ctr .. $ctr + 3 into the 256 bytes at $p, four blocks side by side (SIMD).
  (func $xorKeyStream4 (param $p i32) (param $ctr i32) ${locals}
${loadKeyAndNonce()}
${twentyRounds(true, '    ')}
${groups.join('\n')})`;
}

/** XORs the ChaCha20 keystream from block `ctr` on into memory [p, p + len) (§2.4). */
function xorKeyStream(): string {
  const locals = [
    ...range16.map((i) => `(local $x${i} i32)`),
    KEY_AND_NONCE_LOCALS,
    '(local $i i32) (local $round i32)',
  ].join(' ');
  const xorFull = range16
    .map(
      (i) =>
        `          (i32.store offset=${4 * i} ${g('p')} (i32.xor (i32.load offset=${4 * i} ${g('p')}) ${g(`x${i}`)}))`,
    )
    .join('\n');
  const storeBlock = range16
    .map((i) => `          (i32.store (i32.const ${L.block + 4 * i}) ${g(`x${i}`)})`)
    .join('\n');
  return `  ;; XORs the ChaCha20 keystream from block $ctr on into memory [$p, $p + $len) (RFC 8439 §2.4).
  (func $xorKeyStream (param $p i32) (param $len i32) (param $ctr i32) ${locals}
    ;; Four blocks at a time while 256 bytes are left; a last part of 129-255 bytes from four
    ;; blocks of keystream in memory; what is left (at most 128 bytes) one block at a time.
    (block $wide
      (loop $fours
        (br_if $wide (i32.lt_u ${g('len')} (i32.const 256)))
        (call $xorKeyStream4 ${g('p')} ${g('ctr')})
        (local.set $p (i32.add ${g('p')} (i32.const 256)))
        (local.set $len (i32.sub ${g('len')} (i32.const 256)))
        (local.set $ctr (i32.add ${g('ctr')} (i32.const 4)))
        (br $fours)))
    (if (i32.gt_u ${g('len')} (i32.const 128))
      (then
        (memory.fill (i32.const ${L.blocks4}) (i32.const 0) (i32.const 256))
        (call $xorKeyStream4 (i32.const ${L.blocks4}) ${g('ctr')})
        (call $xorBytes ${g('p')} (i32.const ${L.blocks4}) ${g('len')})
        (local.set $len (i32.const 0))))
${loadKeyAndNonce()}
    (block $done
      (loop $blocks
        (br_if $done (i32.eqz ${g('len')}))
${twentyRounds(false, '        ')}
        (if (i32.ge_u ${g('len')} (i32.const 64))
          (then
${xorFull}
            (local.set $p (i32.add ${g('p')} (i32.const 64)))
            (local.set $len (i32.sub ${g('len')} (i32.const 64))))
          (else
${storeBlock}
            (local.set $i (i32.const 0))
            (loop $bytes
              (i32.store8 (i32.add ${g('p')} ${g('i')})
                (i32.xor (i32.load8_u (i32.add ${g('p')} ${g('i')}))
                  (i32.load8_u offset=${L.block} ${g('i')})))
              (local.set $i (i32.add ${g('i')} (i32.const 1)))
              (br_if $bytes (i32.lt_u ${g('i')} ${g('len')})))
            (local.set $len (i32.const 0))))
        (local.set $ctr (i32.add ${g('ctr')} (i32.const 1)))
        (br $blocks))))`;
}

/** XORs the $len bytes at $src into the $len bytes at $p: 16 at a time, then one at a time. */
function xorBytes(): string {
  const at = (base: string) => `(i32.add ${g(base)} ${g('i')})`;
  return `  ;; XORs the $len bytes at $src into the $len bytes at $p.
  (func $xorBytes (param $p i32) (param $src i32) (param $len i32) (local $i i32)
    (block $wideDone
      (loop $wide
        (br_if $wideDone (i32.gt_u (i32.add ${g('i')} (i32.const 16)) ${g('len')}))
        (v128.store ${at('p')} (v128.xor (v128.load ${at('p')}) (v128.load ${at('src')})))
        (local.set $i (i32.add ${g('i')} (i32.const 16)))
        (br $wide)))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u ${g('i')} ${g('len')}))
        (i32.store8 ${at('p')} (i32.xor (i32.load8_u ${at('p')}) (i32.load8_u ${at('src')})))
        (local.set $i (i32.add ${g('i')} (i32.const 1)))
        (br $bytes))))`;
}

/** The payload bytes the first four keystream blocks encrypt (blocks 1-3; block 0 keys Poly1305). */
const FIRST_PAYLOAD_BYTES = 192;

const M26 = '(i64.const 0x3ffffff)';

/** One product row of Poly1305's h * r modulo 2^130 - 5 in 26-bit limbs (s_i = 5 * r_i). */
function productRow(row: number): string {
  const terms: string[] = [];
  for (let j = 0; j < 5; j++) {
    const k = row - j;
    const factor = k >= 0 ? `r${k}` : `s${k + 5}`;
    terms.push(`(i64.mul ${g(`h${j}`)} ${g(factor)})`);
  }
  return terms.reduce((acc, t) => `(i64.add ${acc} ${t})`);
}

/**
 * Poly1305 (§2.5) with the one-time key at LAYOUT.oneTimeKey, the tag written to $out. With $aead
 * set, the RFC 8439 §2.8 message: segment 1 and segment 2 each zero-padded to 16 bytes, then the two
 * lengths as 64-bit little-endian numbers. Without it, segment 1 alone as a plain Poly1305 message.
 */
function mac(): string {
  const locals = [
    '(local $h0 i64) (local $h1 i64) (local $h2 i64) (local $h3 i64) (local $h4 i64)',
    '(local $r0 i64) (local $r1 i64) (local $r2 i64) (local $r3 i64) (local $r4 i64)',
    '(local $s1 i64) (local $s2 i64) (local $s3 i64) (local $s4 i64)',
    '(local $d0 i64) (local $d1 i64) (local $d2 i64) (local $d3 i64) (local $d4 i64)',
    '(local $g0 i64) (local $g1 i64) (local $g2 i64) (local $g3 i64) (local $g4 i64)',
    '(local $lo i64) (local $hi i64) (local $c i64) (local $mask i64) (local $hibit i64)',
    '(local $p i32) (local $len i32) (local $q i32) (local $seg i32)',
  ].join('\n    ');
  const carry = (from: string, to: string) =>
    `(local.set $c (i64.shr_u ${g(from)} (i64.const 26))) (local.set $${from} (i64.and ${g(from)} ${M26})) (local.set $${to} (i64.add ${g(to)} ${g('c')}))`;
  /** h += the block at $q (with its high bit $hibit), then h *= r modulo 2^130 - 5 (2^130 = 5) and a partial carry. */
  const absorb = (indent: string) =>
    `        ;; h += block (with its high bit), in limbs.
        (local.set $lo (i64.load ${g('q')}))
        (local.set $hi (i64.load offset=8 ${g('q')}))
        (local.set $h0 (i64.add ${g('h0')} (i64.and ${g('lo')} ${M26})))
        (local.set $h1 (i64.add ${g('h1')} (i64.and (i64.shr_u ${g('lo')} (i64.const 26)) ${M26})))
        (local.set $h2 (i64.add ${g('h2')} (i64.and (i64.or (i64.shr_u ${g('lo')} (i64.const 52)) (i64.shl ${g('hi')} (i64.const 12))) ${M26})))
        (local.set $h3 (i64.add ${g('h3')} (i64.and (i64.shr_u ${g('hi')} (i64.const 14)) ${M26})))
        (local.set $h4 (i64.add ${g('h4')} (i64.or (i64.shr_u ${g('hi')} (i64.const 40)) ${g('hibit')})))
        ;; h *= r, modulo 2^130 - 5 (2^130 = 5), then a partial carry.
        (local.set $d0 ${productRow(0)})
        (local.set $d1 ${productRow(1)})
        (local.set $d2 ${productRow(2)})
        (local.set $d3 ${productRow(3)})
        (local.set $d4 ${productRow(4)})
        ${carry('d0', 'd1')}
        ${carry('d1', 'd2')}
        ${carry('d2', 'd3')}
        ${carry('d3', 'd4')}
        (local.set $c (i64.shr_u ${g('d4')} (i64.const 26))) (local.set $d4 (i64.and ${g('d4')} ${M26}))
        (local.set $d0 (i64.add ${g('d0')} (i64.mul ${g('c')} (i64.const 5))))
        ${carry('d0', 'd1')}
        (local.set $h0 ${g('d0')}) (local.set $h1 ${g('d1')}) (local.set $h2 ${g('d2')}) (local.set $h3 ${g('d3')}) (local.set $h4 ${g('d4')})`
      .split('\n')
      .map((line) => `${indent}${line.trimStart()}`)
      .join('\n');
  return `  ;; Poly1305 (RFC 8439 §2.5): 26-bit limbs, every product and row sum below 2^64.
  (func $mac (param $p1 i32) (param $l1 i32) (param $p2 i32) (param $l2 i32) (param $aead i32) (param $out i32)
    ${locals}
    ;; r, clamped (§2.5.1), and s_i = 5 r_i for the reduction modulo 2^130 - 5.
    (local.set $lo (i64.and (i64.load (i32.const ${L.oneTimeKey})) (i64.const 0x0ffffffc0fffffff)))
    (local.set $hi (i64.and (i64.load (i32.const ${L.oneTimeKey + 8})) (i64.const 0x0ffffffc0ffffffc)))
    (local.set $r0 (i64.and ${g('lo')} ${M26}))
    (local.set $r1 (i64.and (i64.shr_u ${g('lo')} (i64.const 26)) ${M26}))
    (local.set $r2 (i64.and (i64.or (i64.shr_u ${g('lo')} (i64.const 52)) (i64.shl ${g('hi')} (i64.const 12))) ${M26}))
    (local.set $r3 (i64.and (i64.shr_u ${g('hi')} (i64.const 14)) ${M26}))
    (local.set $r4 (i64.shr_u ${g('hi')} (i64.const 40)))
    (local.set $s1 (i64.mul ${g('r1')} (i64.const 5)))
    (local.set $s2 (i64.mul ${g('r2')} (i64.const 5)))
    (local.set $s3 (i64.mul ${g('r3')} (i64.const 5)))
    (local.set $s4 (i64.mul ${g('r4')} (i64.const 5)))
    (local.set $p ${g('p1')})
    (local.set $len ${g('l1')})
    (block $done
      (loop $next
        ;; The segment's full blocks, one after another.
        (if (i32.ge_u ${g('len')} (i32.const 16))
          (then
            (local.set $hibit (i64.const 0x1000000))
            (loop $full
              (local.set $q ${g('p')})
              (local.set $p (i32.add ${g('p')} (i32.const 16)))
              (local.set $len (i32.sub ${g('len')} (i32.const 16)))
${absorb('              ')}
              (br_if $full (i32.ge_u ${g('len')} (i32.const 16))))))
        (if (i32.eqz ${g('len')})
          (then
            ;; This segment is done: the next one, or the end.
            (br_if $done (i32.eqz ${g('aead')}))
            (local.set $seg (i32.add ${g('seg')} (i32.const 1)))
            (if (i32.eq ${g('seg')} (i32.const 1))
              (then
                (local.set $p ${g('p2')})
                (local.set $len ${g('l2')})
                (br $next)))
            (br_if $done (i32.ne ${g('seg')} (i32.const 2)))
            (i64.store (i32.const ${L.lengths}) (i64.extend_i32_u ${g('l1')}))
            (i64.store (i32.const ${L.lengths + 8}) (i64.extend_i32_u ${g('l2')}))
            (local.set $p (i32.const ${L.lengths}))
            (local.set $len (i32.const 16))
            (br $next)))
        ;; A partial last block: zero-padded for the AEAD (§2.8), else followed by a 1 byte (§2.5.1).
        (i64.store (i32.const ${L.pad}) (i64.const 0))
        (i64.store (i32.const ${L.pad + 8}) (i64.const 0))
        (memory.copy (i32.const ${L.pad}) ${g('p')} ${g('len')})
        (if (i32.eqz ${g('aead')})
          (then
            (i32.store8 (i32.add (i32.const ${L.pad}) ${g('len')}) (i32.const 1))
            (local.set $hibit (i64.const 0)))
          (else (local.set $hibit (i64.const 0x1000000))))
        (local.set $q (i32.const ${L.pad}))
        (local.set $len (i32.const 0))
${absorb('        ')}
        (br $next)))
    ;; Full carry, then h - p chosen without a branch when h >= p = 2^130 - 5.
    ${carry('h1', 'h2')}
    ${carry('h2', 'h3')}
    ${carry('h3', 'h4')}
    (local.set $c (i64.shr_u ${g('h4')} (i64.const 26))) (local.set $h4 (i64.and ${g('h4')} ${M26}))
    (local.set $h0 (i64.add ${g('h0')} (i64.mul ${g('c')} (i64.const 5))))
    ${carry('h0', 'h1')}
    ;; Once more up to h4, so that every limb but h4 is below 2^26 (h1 can be 2^26 here).
    ${carry('h1', 'h2')}
    ${carry('h2', 'h3')}
    ${carry('h3', 'h4')}
    (local.set $g0 (i64.add ${g('h0')} (i64.const 5)))
    (local.set $c (i64.shr_u ${g('g0')} (i64.const 26))) (local.set $g0 (i64.and ${g('g0')} ${M26}))
    (local.set $g1 (i64.add ${g('h1')} ${g('c')}))
    (local.set $c (i64.shr_u ${g('g1')} (i64.const 26))) (local.set $g1 (i64.and ${g('g1')} ${M26}))
    (local.set $g2 (i64.add ${g('h2')} ${g('c')}))
    (local.set $c (i64.shr_u ${g('g2')} (i64.const 26))) (local.set $g2 (i64.and ${g('g2')} ${M26}))
    (local.set $g3 (i64.add ${g('h3')} ${g('c')}))
    (local.set $c (i64.shr_u ${g('g3')} (i64.const 26))) (local.set $g3 (i64.and ${g('g3')} ${M26}))
    (local.set $g4 (i64.sub (i64.add ${g('h4')} ${g('c')}) (i64.const 0x4000000)))
    ;; $mask: all ones when g4 < 0 (h < p: keep h), zero otherwise (take g = h - p).
    (local.set $mask (i64.shr_s ${g('g4')} (i64.const 63)))
    (local.set $h0 (i64.or (i64.and ${g('h0')} ${g('mask')}) (i64.and ${g('g0')} (i64.xor ${g('mask')} (i64.const -1)))))
    (local.set $h1 (i64.or (i64.and ${g('h1')} ${g('mask')}) (i64.and ${g('g1')} (i64.xor ${g('mask')} (i64.const -1)))))
    (local.set $h2 (i64.or (i64.and ${g('h2')} ${g('mask')}) (i64.and ${g('g2')} (i64.xor ${g('mask')} (i64.const -1)))))
    (local.set $h3 (i64.or (i64.and ${g('h3')} ${g('mask')}) (i64.and ${g('g3')} (i64.xor ${g('mask')} (i64.const -1)))))
    (local.set $h4 (i64.or (i64.and ${g('h4')} ${g('mask')}) (i64.and (i64.and ${g('g4')} ${M26}) (i64.xor ${g('mask')} (i64.const -1)))))
    ;; tag = (h + s) mod 2^128.
    (local.set $lo (i64.or (i64.or ${g('h0')} (i64.shl ${g('h1')} (i64.const 26))) (i64.shl ${g('h2')} (i64.const 52))))
    (local.set $hi (i64.or (i64.or (i64.shr_u ${g('h2')} (i64.const 12)) (i64.shl ${g('h3')} (i64.const 14))) (i64.shl ${g('h4')} (i64.const 40))))
    (local.set $c (i64.load (i32.const ${L.oneTimeKey + 16})))
    (local.set $lo (i64.add ${g('lo')} ${g('c')}))
    (local.set $hi (i64.add (i64.add ${g('hi')} (i64.load (i32.const ${L.oneTimeKey + 24}))) (i64.extend_i32_u (i64.lt_u ${g('lo')} ${g('c')}))))
    (i64.store ${g('out')} ${g('lo')})
    (i64.store offset=8 ${g('out')} ${g('hi')}))`;
}

export function chacha20Poly1305Wat(): string {
  return `;; Generated by scripts/wasm/build.ts from scripts/wasm/chacha20-poly1305-wat.ts: edit that, not this.
;; ChaCha20-Poly1305 (RFC 8439 §2.8) for QUIC packet protection (RFC 9001 §5.3).
(module
  (memory (export "memory") ${L.pages} ${L.pages})

${xorKeyStream4()}

${xorKeyStream()}

${xorBytes()}

  ;; Keystream blocks 0-3 (RFC 8439 §2.4), four side by side, at blocks4: block 0's first 32 bytes
  ;; are the Poly1305 one-time key (§2.6), copied to oneTimeKey; blocks 1-3 are the first
  ;; ${FIRST_PAYLOAD_BYTES} bytes of the payload's keystream (§2.8: the payload starts at counter 1).
  ;; One SIMD call instead of a block computed alone for the key (issue 13).
  (func $firstBlocks
    (memory.fill (i32.const ${L.blocks4}) (i32.const 0) (i32.const 256))
    (call $xorKeyStream4 (i32.const ${L.blocks4}) (i32.const 0))
    (memory.copy (i32.const ${L.oneTimeKey}) (i32.const ${L.blocks4}) (i32.const 32)))

  ;; Encrypts or decrypts the $len bytes at data: the first ${FIRST_PAYLOAD_BYTES} with blocks 1-3
  ;; from $firstBlocks, the rest from block 4 on.
  (func $cryptPayload (param $len i32)
    (if (i32.le_u (local.get $len) (i32.const ${FIRST_PAYLOAD_BYTES}))
      (then
        (call $xorBytes (i32.const ${L.data}) (i32.const ${L.blocks4 + 64}) (local.get $len))
        (return)))
    (call $xorBytes (i32.const ${L.data}) (i32.const ${L.blocks4 + 64}) (i32.const ${FIRST_PAYLOAD_BYTES}))
    (call $xorKeyStream (i32.const ${L.data + FIRST_PAYLOAD_BYTES}) (i32.sub (local.get $len) (i32.const ${FIRST_PAYLOAD_BYTES})) (i32.const 4)))

${mac()}

  ;; Encrypts the $len bytes at data in place and writes the tag after them (§2.8).
  (func (export "seal") (param $aadLen i32) (param $len i32)
    (call $firstBlocks)
    (call $cryptPayload (local.get $len))
    (call $mac (i32.const ${L.aad}) (local.get $aadLen) (i32.const ${L.data}) (local.get $len) (i32.const 1)
      (i32.add (i32.const ${L.data}) (local.get $len))))

  ;; Checks the tag after the $len bytes of ciphertext at data (every byte compared) and, when it
  ;; authenticates them, decrypts them in place: 1; else 0, the ciphertext left as it was.
  (func (export "open") (param $aadLen i32) (param $len i32) (result i32)
    (local $end i32)
    (call $firstBlocks)
    (call $mac (i32.const ${L.aad}) (local.get $aadLen) (i32.const ${L.data}) (local.get $len) (i32.const 1)
      (i32.const ${L.tag}))
    (local.set $end (i32.add (i32.const ${L.data}) (local.get $len)))
    (if (i64.ne (i64.const 0)
          (i64.or
            (i64.xor (i64.load (i32.const ${L.tag})) (i64.load (local.get $end)))
            (i64.xor (i64.load (i32.const ${L.tag + 8})) (i64.load offset=8 (local.get $end)))))
      (then (return (i32.const 0))))
    (call $cryptPayload (local.get $len))
    (i32.const 1))

  ;; Poly1305 alone (§2.5) of the $len bytes at data with the key at oneTimeKey; the tag at tag.
  (func (export "poly1305") (param $len i32)
    (call $mac (i32.const ${L.data}) (local.get $len) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const ${L.tag})))

  ;; The ChaCha20 keystream from block $ctr XORed into the $len bytes at data (§2.4).
  (func (export "chacha20") (param $len i32) (param $ctr i32)
    (call $xorKeyStream (i32.const ${L.data}) (local.get $len) (local.get $ctr))))
`;
}
