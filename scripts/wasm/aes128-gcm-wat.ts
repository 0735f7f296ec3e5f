/**
 * The WebAssembly text of tsquic's AES-128-GCM (FIPS 197, NIST SP 800-38D) for keys that are not
 * secret: QUIC's Initial packets (RFC 9001 §5.2), whose keys anyone derives from the client's first
 * Destination Connection ID. Generated so that the ten rounds, the key expansion and GHASH's nibble
 * steps are written out once here rather than by hand.
 *
 * `npx tsx scripts/wasm/build.ts` turns this text into src/crypto/wasm/aes128-gcm.wat (to read) and
 * src/crypto/wasm/aes128-gcm-bytes.ts (the module, base64, what tsquic loads);
 * test/unit/crypto/wasm-build.test.ts fails when the committed files are not this text's output.
 *
 * Why: node:crypto makes an OpenSSL cipher object for every Initial packet (GCM) and for each
 * Initial header protection key (ECB); with the caches cold, as they are between one handshake and
 * the next, that is 5-14 us per object, about 0.1 ms of each side's CPU per connection (issue 13).
 * Here a call costs a key expansion and the blocks.
 *
 * NOT CONSTANT TIME, by design: the rounds look up tables indexed by key- and data-dependent bytes
 * (T-table AES), and GHASH indexes its table by data nibbles. Cache timing can reveal the key of
 * such code, so the module must only ever see keys an observer of the wire can compute anyway.
 * src/crypto/wasm-aes128-gcm.ts says so, and packet-keys.ts uses it for Initial keys only.
 */
import { AES128_GCM_LAYOUT as L } from '../../src/crypto/wasm/aes128-gcm-layout.js';

/** FIPS 197 §4.2: multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

/** FIPS 197 §5.1.1: the S-box, computed (inverse in GF(2^8), then the affine transformation). */
function sbox(): number[] {
  // Powers of the generator 3 give every non-zero element; the inverse of 3^i is 3^(255 - i).
  const exp: number[] = [];
  const log: number[] = new Array<number>(256).fill(0);
  let x = 1;
  for (let i = 0; i < 255; i++) {
    exp.push(x);
    log[x] = i;
    x ^= xtime(x);
  }
  const rotl8 = (b: number, n: number) => ((b << n) | (b >>> (8 - n))) & 0xff;
  return Array.from({ length: 256 }, (_, b) => {
    const inv = b === 0 ? 0 : exp[(255 - log[b]!) % 255]!;
    return inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63;
  });
}

const SBOX = sbox();

/**
 * T0[x] as a little-endian word: the column (2s, s, s, 3s) of MixColumns applied to s = S[x] in
 * row 0 (FIPS 197 §5.1.3). Rows 1-3 use T0 rotated left by 8, 16 and 24 bits.
 */
const TE0 = SBOX.map((s) => (xtime(s) | (s << 8) | (s << 16) | ((xtime(s) ^ s) << 24)) >>> 0);

/** FIPS 197 §5.2: Rcon[i] for the ten rounds of AES-128. */
const RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];

/**
 * GHASH's reduction for a shift by x^4 (NIST SP 800-38D §6.3, R = 11100001 || 0^120): the four
 * low bits that fall off the 128-bit value fold back into its top 16 bits, computed by shifting
 * them out one at a time.
 */
function last4(): bigint[] {
  return Array.from({ length: 16 }, (_, rem) => {
    let v = BigInt(rem);
    for (let i = 0; i < 4; i++) {
      const bit = v & 1n;
      v >>= 1n;
      if (bit) v ^= 0xe1n << 120n;
    }
    return v >> 64n;
  });
}

function dataSegment(at: number, bytes: readonly number[]): string {
  const text = bytes.map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  return `  (data (i32.const ${at}) "${text}")`;
}

function words(values: readonly number[]): number[] {
  return values.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]);
}

function quads(values: readonly bigint[]): number[] {
  return values.flatMap((q) => Array.from({ length: 8 }, (_, i) => Number((q >> BigInt(8 * i)) & 0xffn)));
}

const get = (name: string) => `(local.get $${name})`;
const i32 = (n: number) => `(i32.const ${n | 0})`;

/** The byte of word `w` in row `row` (0 = the lowest byte), times 4: an offset into T0. */
function tableOffset(w: string, row: number): string {
  switch (row) {
    case 0:
      return `(i32.and (i32.shl ${w} (i32.const 2)) (i32.const 0x3fc))`;
    case 3:
      return `(i32.and (i32.shr_u ${w} (i32.const 22)) (i32.const 0x3fc))`;
    default:
      return `(i32.and (i32.shr_u ${w} (i32.const ${8 * row - 2})) (i32.const 0x3fc))`;
  }
}

/** The byte of word `w` in row `row`: an index into the S-box. */
function byteOf(w: string, row: number): string {
  return row === 3
    ? `(i32.shr_u ${w} (i32.const 24))`
    : `(i32.and (i32.shr_u ${w} (i32.const ${8 * row})) (i32.const 0xff))`;
}

const roundKey = (i: number) => `(i32.load offset=${L.roundKeys + 4 * i} (i32.const 0))`;

/**
 * $encrypt(src, dst): FIPS 197 §5.1 Cipher() of the block at src into dst (which may be src).
 * State columns are little-endian words; ShiftRows is the choice of column per row (column j of the
 * result takes row r from column j + r).
 */
function encrypt(): string {
  const out: string[] = [];
  const cols = [0, 1, 2, 3];
  let from = 's';
  let to = 't';
  for (const j of cols) {
    out.push(`(local.set $s${j} (i32.xor (i32.load offset=${4 * j} align=1 ${get('src')}) ${roundKey(j)}))`);
  }
  for (let round = 1; round < 10; round++) {
    for (const j of cols) {
      const terms = cols.map((row) => {
        const t = `(i32.load offset=${L.te0} ${tableOffset(get(`${from}${(j + row) % 4}`), row)})`;
        return row === 0 ? t : `(i32.rotl ${t} (i32.const ${8 * row}))`;
      });
      out.push(
        `(local.set $${to}${j} (i32.xor (i32.xor (i32.xor ${terms[0]} ${terms[1]}) (i32.xor ${terms[2]} ${terms[3]})) ${roundKey(4 * round + j)}))`,
      );
    }
    [from, to] = [to, from];
  }
  // The last round has no MixColumns: S-box bytes in place.
  for (const j of cols) {
    const terms = cols.map((row) => {
      const s = `(i32.load8_u offset=${L.sbox} ${byteOf(get(`${from}${(j + row) % 4}`), row)})`;
      return row === 0 ? s : `(i32.shl ${s} (i32.const ${8 * row}))`;
    });
    out.push(
      `(i32.store offset=${4 * j} align=1 ${get('dst')} (i32.xor (i32.or (i32.or ${terms[0]} ${terms[1]}) (i32.or ${terms[2]} ${terms[3]})) ${roundKey(40 + j)}))`,
    );
  }
  const locals = ['s0', 's1', 's2', 's3', 't0', 't1', 't2', 't3'].map((n) => `(local $${n} i32)`).join(' ');
  return `  (func $encrypt (param $src i32) (param $dst i32) ${locals}
    ${out.join('\n    ')})`;
}

/** SubWord (FIPS 197 §5.2) of the local `w`. */
function subWord(w: string): string {
  const s = [0, 1, 2, 3].map((row) => {
    const b = `(i32.load8_u offset=${L.sbox} ${byteOf(get(w), row)})`;
    return row === 0 ? b : `(i32.shl ${b} (i32.const ${8 * row}))`;
  });
  return `(i32.or (i32.or ${s[0]} ${s[1]}) (i32.or ${s[2]} ${s[3]}))`;
}

/**
 * setKey: FIPS 197 §5.2 KeyExpansion() of the key at `key` into roundKeys, then GHASH's H = E(K, 0^128)
 * (SP 800-38D §6.4) and its table: hh/hl[n] = n * H for each 4-bit n, bit 3 of n being x^0.
 */
function setKey(): string {
  const out: string[] = [];
  for (let j = 0; j < 4; j++) {
    out.push(`(local.set $w${j} (i32.load offset=${L.key + 4 * j} align=1 (i32.const 0)))`);
    out.push(`(i32.store offset=${L.roundKeys + 4 * j} (i32.const 0) ${get(`w${j}`)})`);
  }
  for (let i = 1; i <= 10; i++) {
    // RotWord is a right rotation of a little-endian word; Rcon goes into its first (lowest) byte.
    out.push(`(local.set $t (i32.rotr ${get('w3')} (i32.const 8)))`);
    out.push(`(local.set $w0 (i32.xor ${get('w0')} (i32.xor ${subWord('t')} ${i32(RCON[i - 1]!)})))`);
    out.push(`(local.set $w1 (i32.xor ${get('w1')} ${get('w0')}))`);
    out.push(`(local.set $w2 (i32.xor ${get('w2')} ${get('w1')}))`);
    out.push(`(local.set $w3 (i32.xor ${get('w3')} ${get('w2')}))`);
    for (let j = 0; j < 4; j++)
      out.push(`(i32.store offset=${L.roundKeys + 16 * i + 4 * j} (i32.const 0) ${get(`w${j}`)})`);
  }
  out.push(`(v128.store offset=${L.keystream} (i32.const 0) (v128.const i64x2 0 0))`);
  out.push(`(call $encrypt (i32.const ${L.keystream}) (i32.const ${L.keystream}))`);
  out.push(`(local.set $vh (call $loadBE64 (i32.const ${L.keystream})))`);
  out.push(`(local.set $vl (call $loadBE64 (i32.const ${L.keystream + 8})))`);
  const store = (n: number) => [
    `(i64.store offset=${L.hh + 8 * n} (i32.const 0) ${get('vh')})`,
    `(i64.store offset=${L.hl + 8 * n} (i32.const 0) ${get('vl')})`,
  ];
  out.push(
    `(i64.store offset=${L.hh} (i32.const 0) (i64.const 0))`,
    `(i64.store offset=${L.hl} (i32.const 0) (i64.const 0))`,
  );
  out.push(...store(8));
  for (const n of [4, 2, 1]) {
    // Multiply by x: a right shift in GCM's bit order, reduced by R when x^127's bit falls off.
    out.push(
      `(local.set $r (i64.and (i64.sub (i64.const 0) (i64.and ${get('vl')} (i64.const 1))) (i64.const 0xe100000000000000)))`,
      `(local.set $vl (i64.or (i64.shl ${get('vh')} (i64.const 63)) (i64.shr_u ${get('vl')} (i64.const 1))))`,
      `(local.set $vh (i64.xor (i64.shr_u ${get('vh')} (i64.const 1)) ${get('r')}))`,
      ...store(n),
    );
  }
  for (const n of [2, 4, 8]) {
    for (let m = 1; m < n; m++) {
      for (const half of [L.hh, L.hl]) {
        out.push(
          `(i64.store offset=${half + 8 * (n + m)} (i32.const 0) (i64.xor (i64.load offset=${half + 8 * n} (i32.const 0)) (i64.load offset=${half + 8 * m} (i32.const 0))))`,
        );
      }
    }
  }
  const locals = ['w0', 'w1', 'w2', 'w3', 't'].map((n) => `(local $${n} i32)`).join(' ');
  return `  (func (export "setKey") ${locals} (local $vh i64) (local $vl i64) (local $r i64)
    ${out.join('\n    ')})`;
}

/**
 * $ghashBlock(p): Y = (Y ^ X) * H for the 16-byte block X at p (SP 800-38D §6.4), Y in the globals
 * $yh/$yl (big-endian halves). Shoup's method: the bytes from last to first, each low nibble then
 * high nibble, Z = Z * x^4 + n * H.
 */
function ghashBlock(): string {
  const out: string[] = [];
  const x = (i: number) => {
    const y = i < 8 ? '(global.get $yh)' : '(global.get $yl)';
    const shift = 56 - 8 * (i % 8);
    const yByte = `(i32.wrap_i64 (i64.shr_u ${y} (i64.const ${shift})))`;
    return `(local.set $x (i32.and (i32.xor (i32.load8_u offset=${i} ${get('p')}) ${yByte}) (i32.const 0xff)))`;
  };
  const step = (nibble: string) => [
    `(local.set $rem (i32.and (i32.wrap_i64 ${get('zl')}) (i32.const 15)))`,
    `(local.set $zl (i64.or (i64.shl ${get('zh')} (i64.const 60)) (i64.shr_u ${get('zl')} (i64.const 4))))`,
    `(local.set $zh (i64.xor (i64.shr_u ${get('zh')} (i64.const 4)) (i64.load offset=${L.last4} (i32.shl ${get('rem')} (i32.const 3)))))`,
    `(local.set $n (i32.shl ${nibble} (i32.const 3)))`,
    `(local.set $zh (i64.xor ${get('zh')} (i64.load offset=${L.hh} ${get('n')})))`,
    `(local.set $zl (i64.xor ${get('zl')} (i64.load offset=${L.hl} ${get('n')})))`,
  ];
  const low = `(i32.and ${get('x')} (i32.const 15))`;
  const high = `(i32.shr_u ${get('x')} (i32.const 4))`;
  out.push(x(15));
  out.push(`(local.set $n (i32.shl ${low} (i32.const 3)))`);
  out.push(`(local.set $zh (i64.load offset=${L.hh} ${get('n')}))`);
  out.push(`(local.set $zl (i64.load offset=${L.hl} ${get('n')}))`);
  out.push(...step(high));
  for (let i = 14; i >= 0; i--) {
    out.push(x(i), ...step(low), ...step(high));
  }
  out.push(`(global.set $yh ${get('zh')})`, `(global.set $yl ${get('zl')})`);
  return `  (func $ghashBlock (param $p i32) (local $x i32) (local $n i32) (local $rem i32) (local $zh i64) (local $zl i64)
    ${out.join('\n    ')})`;
}

/** A 32-bit byte swap of `x` (an expression without side effects). */
function bswap32(x: string): string {
  return `(i32.or (i32.or (i32.shl ${x} (i32.const 24)) (i32.and (i32.shl ${x} (i32.const 8)) (i32.const 0xff0000))) (i32.or (i32.and (i32.shr_u ${x} (i32.const 8)) (i32.const 0xff00)) (i32.shr_u ${x} (i32.const 24))))`;
}

export function aes128GcmWat(): string {
  return `;; Generated by scripts/wasm/build.ts from scripts/wasm/aes128-gcm-wat.ts: edit that, not this.
;; AES-128-GCM (FIPS 197, NIST SP 800-38D) for QUIC Initial packets, whose keys are public.
;; NOT CONSTANT TIME (table lookups by key and data bytes): never give it a secret key.
(module
  (memory (export "memory") ${L.pages} ${L.pages})
  (global $yh (mut i64) (i64.const 0))
  (global $yl (mut i64) (i64.const 0))
${dataSegment(L.te0, words(TE0))}
${dataSegment(L.sbox, SBOX)}
${dataSegment(L.last4, quads(last4()))}

  ;; The 8 bytes at p as a big-endian integer.
  (func $loadBE64 (param $p i32) (result i64) (local $x i64)
    (local.set $x (i64.load align=1 (local.get $p)))
    (local.set $x (i64.or (i64.shl (i64.and (local.get $x) (i64.const 0x00ff00ff00ff00ff)) (i64.const 8)) (i64.and (i64.shr_u (local.get $x) (i64.const 8)) (i64.const 0x00ff00ff00ff00ff))))
    (local.set $x (i64.or (i64.shl (i64.and (local.get $x) (i64.const 0x0000ffff0000ffff)) (i64.const 16)) (i64.and (i64.shr_u (local.get $x) (i64.const 16)) (i64.const 0x0000ffff0000ffff))))
    (i64.rotl (local.get $x) (i64.const 32)))

  ;; Stores $v at p big-endian.
  (func $storeBE64 (param $p i32) (param $v i64)
    (local.set $v (i64.or (i64.shl (i64.and (local.get $v) (i64.const 0x00ff00ff00ff00ff)) (i64.const 8)) (i64.and (i64.shr_u (local.get $v) (i64.const 8)) (i64.const 0x00ff00ff00ff00ff))))
    (local.set $v (i64.or (i64.shl (i64.and (local.get $v) (i64.const 0x0000ffff0000ffff)) (i64.const 16)) (i64.and (i64.shr_u (local.get $v) (i64.const 16)) (i64.const 0x0000ffff0000ffff))))
    (i64.store align=1 (local.get $p) (i64.rotl (local.get $v) (i64.const 32))))

${encrypt()}

${setKey()}

${ghashBlock()}

  ;; GHASH over the $len bytes at p, the last block zero-padded (SP 800-38D §7.1 step 5).
  (func $ghash (param $p i32) (param $len i32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $len) (i32.const -16))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (call $ghashBlock (local.get $p))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $next)))
    (local.set $len (i32.and (local.get $len) (i32.const 15)))
    (if (local.get $len) (then
      (v128.store offset=${L.pad} (i32.const 0) (v128.const i64x2 0 0))
      (memory.copy (i32.const ${L.pad}) (local.get $p) (local.get $len))
      (call $ghashBlock (i32.const ${L.pad})))))

  ;; Y = GHASH(H, A || pad || C || pad || [len(A)]64 || [len(C)]64) (SP 800-38D §7.1 steps 5-6).
  (func $authenticate (param $aadLen i32) (param $len i32)
    (global.set $yh (i64.const 0))
    (global.set $yl (i64.const 0))
    (call $ghash (i32.const ${L.aad}) (local.get $aadLen))
    (call $ghash (i32.const ${L.data}) (local.get $len))
    (call $storeBE64 (i32.const ${L.pad}) (i64.shl (i64.extend_i32_u (local.get $aadLen)) (i64.const 3)))
    (call $storeBE64 (i32.const ${L.pad + 8}) (i64.shl (i64.extend_i32_u (local.get $len)) (i64.const 3)))
    (call $ghashBlock (i32.const ${L.pad})))

  ;; The counter block IV || [n]32 (SP 800-38D §7.1 steps 2-3: a 96-bit IV).
  (func $counter (param $n i32)
    (memory.copy (i32.const ${L.counter}) (i32.const ${L.iv}) (i32.const 12))
    (i32.store offset=${L.counter + 12} (i32.const 0) ${bswap32(get('n'))}))

  ;; GCTR (SP 800-38D §6.5) over the $len bytes at data, in place, from counter 2.
  (func $gctr (param $len i32) (local $p i32) (local $end i32) (local $n i32)
    (local.set $p (i32.const ${L.data}))
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $len) (i32.const -16))))
    (local.set $n (i32.const 2))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (call $counter (local.get $n))
      (call $encrypt (i32.const ${L.counter}) (i32.const ${L.keystream}))
      (v128.store align=1 (local.get $p) (v128.xor (v128.load align=1 (local.get $p)) (v128.load offset=${L.keystream} (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next)))
    (local.set $len (i32.and (local.get $len) (i32.const 15)))
    (if (local.get $len) (then
      (call $counter (local.get $n))
      (call $encrypt (i32.const ${L.counter}) (i32.const ${L.keystream}))
      (local.set $end (i32.add (local.get $p) (local.get $len)))
      (local.set $n (i32.const ${L.keystream}))
      (block $tail (loop $byte
        (br_if $tail (i32.ge_u (local.get $p) (local.get $end)))
        (i32.store8 (local.get $p) (i32.xor (i32.load8_u (local.get $p)) (i32.load8_u (local.get $n))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $byte))))))

  ;; tag = E(K, J0) XOR Y, written at $at (SP 800-38D §7.1 step 6).
  (func $tag (param $at i32)
    (call $counter (i32.const 1))
    (call $encrypt (i32.const ${L.counter}) (i32.const ${L.keystream}))
    (call $storeBE64 (local.get $at) (global.get $yh))
    (call $storeBE64 (i32.add (local.get $at) (i32.const 8)) (global.get $yl))
    (v128.store align=1 (local.get $at) (v128.xor (v128.load align=1 (local.get $at)) (v128.load offset=${L.keystream} (i32.const 0)))))

  ;; Encrypts the $len bytes at data in place and writes the 16-byte tag after them.
  (func (export "seal") (param $aadLen i32) (param $len i32)
    (call $gctr (local.get $len))
    (call $authenticate (local.get $aadLen) (local.get $len))
    (call $tag (i32.add (i32.const ${L.data}) (local.get $len))))

  ;; 1 and the plaintext in place when the tag after the $len bytes at data authenticates them and the
  ;; additional data; else 0 and the ciphertext left as it was.
  (func (export "open") (param $aadLen i32) (param $len i32) (result i32) (local $at i32)
    (call $authenticate (local.get $aadLen) (local.get $len))
    (call $tag (i32.const ${L.tag}))
    (local.set $at (i32.add (i32.const ${L.data}) (local.get $len)))
    (if (v128.any_true (v128.xor (v128.load align=1 (local.get $at)) (v128.load offset=${L.tag} (i32.const 0))))
      (then (return (i32.const 0))))
    (call $gctr (local.get $len))
    (i32.const 1))

  ;; E(K, block) in place (FIPS 197 §5.1): a header protection mask (RFC 9001 §5.4.3).
  (func (export "encryptBlock")
    (call $encrypt (i32.const ${L.block}) (i32.const ${L.block})))
)
`;
}
