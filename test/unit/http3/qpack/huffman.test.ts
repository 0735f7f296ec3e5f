import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EOS,
  HUFFMAN_CODES,
  HUFFMAN_LENGTHS,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
} from '../../../../src/http3/qpack/huffman.js';
import { hex, toHex } from './helpers.js';

test('RFC 7541 Appendix B: codes derived from the lengths match the table', () => {
  // (symbol, code as hex, length) rows of RFC 7541 Appendix B, spread over the table.
  const rows: Array<[number, number, number]> = [
    [0, 0x1ff8, 13],
    [1, 0x7fffd8, 23],
    [9, 0xffffea, 24],
    [10, 0x3ffffffc, 30],
    [13, 0x3ffffffd, 30],
    [22, 0x3ffffffe, 30],
    [32, 0x14, 6], // ' '
    [33, 0x3f8, 10], // '!'
    [48, 0x0, 5], // '0'
    [49, 0x1, 5],
    [50, 0x2, 5],
    [58, 0x5c, 7], // ':'
    [65, 0x21, 6], // 'A'
    [97, 0x3, 5], // 'a'
    [101, 0x5, 5], // 'e'
    [116, 0x9, 5], // 't'
    [122, 0x7b, 7], // 'z'
    [127, 0xffffffc, 28],
    [128, 0xfffe6, 20],
    [200, 0x3ffffe2, 26],
    [254, 0x7fffff0, 27],
    [255, 0x3ffffee, 26],
    [EOS, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of rows) {
    assert.equal(HUFFMAN_LENGTHS[sym], len, `length of ${sym}`);
    assert.equal(HUFFMAN_CODES[sym], code, `code of ${sym}`);
  }
  // A complete prefix code: the Kraft sum is exactly 1.
  let kraft = 0;
  for (let s = 0; s <= EOS; s++) kraft += 2 ** -HUFFMAN_LENGTHS[s]!;
  assert.equal(kraft, 1);
});

// RFC 7541 Appendix C.4 and C.6: Huffman-coded strings of the request and response examples.
const VECTORS: Array<[string, string]> = [
  ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
  ['no-cache', 'a8eb 1064 9cbf'],
  ['custom-key', '25a8 49e9 5ba9 7d7f'],
  ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
  ['302', '6402'],
  ['private', 'aec3 771a 4b'],
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
  ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ['307', '640e ff'],
  ['gzip', '9bd9 ab'],
  [
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
    '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ],
];

test('RFC 7541 C.4/C.6: Huffman encoding of the example strings, byte-exact, and back', () => {
  for (const [s, h] of VECTORS) {
    const expected = hex(h);
    assert.equal(huffmanEncodedLength(s), expected.length, s);
    const out = new Uint8Array(expected.length + 4);
    const end = huffmanEncode(s, out, 2);
    assert.equal(toHex(out.subarray(2, end)), toHex(expected), s);
    assert.equal(huffmanDecode(expected, 0, expected.length), s);
  }
});

test('every octet round-trips, alone and in a string with long codes next to short ones', () => {
  let all = '';
  for (let c = 0; c < 256; c++) {
    const s = String.fromCharCode(c);
    all += `${s}a${String.fromCharCode(255 - c)}`;
    const out = new Uint8Array(8);
    const end = huffmanEncode(s, out, 0);
    assert.equal(end, Math.ceil(HUFFMAN_LENGTHS[c]! / 8));
    assert.equal(huffmanDecode(out, 0, end), s, `octet ${c}`);
  }
  const out = new Uint8Array(huffmanEncodedLength(all));
  assert.equal(huffmanEncode(all, out, 0), out.length);
  assert.equal(huffmanDecode(out, 0, out.length), all);
  assert.equal(huffmanEncodedLength('\u0100'), -1);
});

test('RFC 7541 §5.2: padding longer than 7 bits, padding not of EOS, and EOS itself are refused', () => {
  // 'a' is 00011 (5 bits): one byte with three bits of padding.
  assert.equal(huffmanDecode(hex('1f'), 0, 1), 'a');
  assert.equal(huffmanDecode(hex('18'), 0, 1), undefined, 'padding of zeros');
  assert.equal(huffmanDecode(hex('1b'), 0, 1), undefined, 'padding 011');
  assert.equal(huffmanDecode(hex('1fff'), 0, 2), undefined, '11 bits of padding');
  assert.equal(huffmanDecode(hex('ff'), 0, 1), undefined, 'a lone byte of padding');
  assert.equal(huffmanDecode(hex('fe'), 0, 1), undefined, 'seven ones then a zero: an unfinished code');
  // "aa" = 00011 00011 + 6 bits padding = 0001 1000 1111 1111
  assert.equal(huffmanDecode(hex('18ff'), 0, 2), 'aa');
  // 0x3fffffff shifted into 32 bits with 2 bits of padding: EOS, which must not be decoded.
  assert.equal(huffmanDecode(hex('ffffffff'), 0, 4), undefined, 'EOS');
  // 'a' then EOS.
  assert.equal(huffmanDecode(hex('1fffffff ff'), 0, 5), undefined, 'a then EOS');
  assert.equal(huffmanDecode(new Uint8Array(0), 0, 0), '');
});
