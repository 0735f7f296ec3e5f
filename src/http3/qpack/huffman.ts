/**
 * The static Huffman code of HPACK (RFC 7541 §5.2 and Appendix B), used unmodified by QPACK
 * (RFC 9204 §4.1.2).
 *
 * The code is canonical: every symbol's code follows from the code lengths alone (codes of equal
 * length are consecutive in symbol order, and each length starts where the previous one ended,
 * shifted). So only the lengths are listed here; `test/unit/http3/qpack/huffman.test.ts` checks the
 * derived codes against RFC 7541 Appendix B.
 *
 * Decoding walks the code tree four bits at a time through a table built at load time: 256 states
 * (the tree's inner nodes) x 16 nibbles, each giving the next state and at most one decoded symbol
 * (no code is shorter than five bits).
 */
import { latin1ToString } from './latin1.js';

/** Code lengths in bits of symbols 0..255, then EOS (256). RFC 7541 Appendix B. */
// biome-ignore format: a table
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

export const EOS = 256;

/** Code length in bits per symbol (0..256). */
export const HUFFMAN_LENGTHS: Uint8Array = Uint8Array.from(LENGTHS);
/** Code per symbol (0..256), right-aligned in `HUFFMAN_LENGTHS[sym]` bits. */
export const HUFFMAN_CODES: Uint32Array = canonicalCodes(HUFFMAN_LENGTHS);

function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const symbols = Array.from(lengths.keys()).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const codes = new Uint32Array(lengths.length);
  let code = 0;
  let prevLength = lengths[symbols[0]!]!;
  symbols.forEach((sym, i) => {
    const len = lengths[sym]!;
    if (i > 0) code = (code + 1) * 2 ** (len - prevLength);
    codes[sym] = code;
    prevLength = len;
  });
  return codes;
}

// ---- decoding table ----------------------------------------------------------------------------

/** Transition entry layout: bits 0-7 next state, bits 8-15 symbol, EMITS, FAILS. */
const EMITS = 1 << 16;
const FAILS = 1 << 17;

const { transitions: TRANSITIONS, accepting: ACCEPTING } = buildDecoder();

function buildDecoder(): { transitions: Uint32Array; accepting: Uint8Array } {
  // Tree: node 0 is the root; child[2n + bit]; leaf nodes hold symbol + 1 in `leaf` (0: inner).
  const child: number[] = [0, 0];
  const leaf: number[] = [0];
  for (let sym = 0; sym <= EOS; sym++) {
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      let next = child[2 * node + bit]!;
      if (next === 0) {
        next = leaf.length;
        leaf.push(i === 0 ? sym + 1 : 0);
        child.push(0, 0);
        child[2 * node + bit] = next;
      }
      node = next;
    }
  }
  // Number the inner nodes as decoder states, the root first; record each one's depth and whether
  // its path from the root is all ones (a prefix of EOS, i.e. valid padding if at most 7 bits).
  const stateOf = new Map<number, number>();
  const nodeOf: number[] = [];
  const accepting: number[] = [];
  const visit = (node: number, depth: number, allOnes: boolean) => {
    if (leaf[node] !== 0) return;
    stateOf.set(node, nodeOf.length);
    nodeOf.push(node);
    // RFC 7541 §5.2: padding is the most significant bits of EOS, strictly shorter than 8 bits.
    accepting.push(depth === 0 || (allOnes && depth <= 7) ? 1 : 0);
    visit(child[2 * node]!, depth + 1, false);
    visit(child[2 * node + 1]!, depth + 1, allOnes);
  };
  visit(0, 0, true);
  if (nodeOf.length !== 256) throw new Error(`Huffman tree has ${nodeOf.length} inner nodes`);

  const transitions = new Uint32Array(256 * 16);
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = nodeOf[state]!;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        node = child[2 * node + ((nibble >> i) & 1)]!;
        const sym = leaf[node]! - 1;
        if (sym >= 0) {
          // RFC 7541 §5.2: a string containing EOS is a decoding error.
          if (sym === EOS) entry |= FAILS;
          else entry |= EMITS | (sym << 8);
          node = 0;
        }
      }
      transitions[state * 16 + nibble] = entry | stateOf.get(node)!;
    }
  }
  return { transitions, accepting: Uint8Array.from(accepting) };
}

// ---- encoding -----------------------------------------------------------------------------------

/**
 * The number of bytes the Huffman encoding of `s` takes, or -1 if `s` has a code unit above 0xFF
 * (not an octet; see latin1.ts).
 */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return -1;
    bits += HUFFMAN_LENGTHS[c]!;
  }
  return (bits + 7) >>> 3;
}

/** Writes the Huffman encoding of `s` (octets only) at `offset`; returns the end offset. */
export function huffmanEncode(s: string, out: Uint8Array, offset: number): number {
  let acc = 0; // pending bits, right-aligned; fewer than 8 between symbols
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let len = HUFFMAN_LENGTHS[c]!;
    let code = HUFFMAN_CODES[c]!;
    if (n + len > 31) {
      // Keep the accumulator within 31 bits: emit the code's high part first.
      const high = len - 16;
      acc = (acc << high) | (code >>> 16);
      n += high;
      while (n >= 8) {
        n -= 8;
        out[offset++] = (acc >>> n) & 0xff;
      }
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) {
      n -= 8;
      out[offset++] = (acc >>> n) & 0xff;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) {
    // RFC 7541 §5.2: pad with the most significant bits of EOS (all ones).
    out[offset++] = ((acc << (8 - n)) | (0xff >>> n)) & 0xff;
  }
  return offset;
}

// ---- decoding -----------------------------------------------------------------------------------

let scratch = new Uint8Array(256);

/**
 * Decodes the Huffman-encoded bytes buf[start..end) into `out` (from 0); returns the decoded
 * length, or -1 for an invalid encoding: EOS inside the string, or padding that is 8 bits or longer
 * or not all ones (RFC 7541 §5.2). `out` must hold (end - start) * 8 / 5 bytes.
 */
export function huffmanDecodeInto(buf: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    let t = TRANSITIONS[(state << 4) | (b >>> 4)]!;
    if (t & FAILS) return -1;
    if (t & EMITS) out[n++] = (t >>> 8) & 0xff;
    t = TRANSITIONS[((t & 0xff) << 4) | (b & 0x0f)]!;
    if (t & FAILS) return -1;
    if (t & EMITS) out[n++] = (t >>> 8) & 0xff;
    state = t & 0xff;
  }
  return ACCEPTING[state] === 1 ? n : -1;
}

/** The largest number of symbols `encodedLength` Huffman bytes can hold (5-bit shortest code). */
export function huffmanMaxDecodedLength(encodedLength: number): number {
  return Math.floor((encodedLength * 8) / 5);
}

/** The smallest number of symbols `encodedLength` Huffman bytes can hold (30-bit longest code). */
export function huffmanMinDecodedLength(encodedLength: number): number {
  return Math.max(0, Math.ceil((encodedLength * 8 - 7) / 30));
}

/**
 * Decodes the Huffman-encoded bytes buf[start..end) to a string of octets (see latin1.ts), or
 * undefined for an invalid encoding (see `huffmanDecodeInto`).
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string | undefined {
  const max = huffmanMaxDecodedLength(end - start);
  if (scratch.length < max) scratch = new Uint8Array(Math.max(max, scratch.length * 2));
  const n = huffmanDecodeInto(buf, start, end, scratch);
  return n < 0 ? undefined : latin1ToString(scratch, 0, n);
}
