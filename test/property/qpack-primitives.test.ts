/**
 * QPACK's primitives round-trip: prefixed integers for every prefix size, string literals (raw or
 * Huffman, whichever is shorter) for every prefix size, Huffman coding of any octet string, and
 * arbitrary bytes into the Huffman decoder give a string or "invalid", never an exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteReader } from '../../src/http3/qpack/byte-reader.js';
import { ByteWriter } from '../../src/http3/qpack/byte-writer.js';
import { QPACK_DECOMPRESSION_FAILED } from '../../src/http3/qpack/errors.js';
import {
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
} from '../../src/http3/qpack/huffman.js';
import { integerLength, readInteger, writeInteger } from '../../src/http3/qpack/prefixed-integer.js';
import { readString, stringLength, writeString } from '../../src/http3/qpack/string-literal.js';

const octetString = fc
  .array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 })
  .map((a) => String.fromCharCode(...a));
const textString = fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));

test('property: prefixed integers round-trip for every prefix size and keep the bits above it', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.oneof(fc.integer({ min: 0, max: 300 }), fc.maxSafeNat()),
      fc.nat(255),
      (prefix, value, high) => {
        const flags = high & ~((1 << prefix) - 1) & 0xff;
        const w = new ByteWriter(1);
        writeInteger(w, flags, prefix, value);
        assert.equal(w.length, integerLength(prefix, value));
        assert.equal(w.buf[0]! & ~((1 << prefix) - 1) & 0xff, flags);
        const r = new ByteReader(w.buf, 0, w.length, QPACK_DECOMPRESSION_FAILED, false);
        assert.equal(readInteger(r, prefix, 'x'), value);
        assert.equal(r.pos, w.length);
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: string literals round-trip for every prefix size, raw or Huffman, the shorter', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 8 }),
      fc.oneof(octetString, textString),
      fc.boolean(),
      (prefix, s, huffman) => {
        const w = new ByteWriter(1);
        writeString(w, 0, prefix, s, huffman);
        assert.equal(w.length, stringLength(prefix, s, huffman));
        const hBit = (w.buf[0]! >> (prefix - 1)) & 1;
        if (!huffman) assert.equal(hBit, 0);
        else assert.equal(hBit, huffmanEncodedLength(s) < s.length ? 1 : 0);
        const r = new ByteReader(w.buf, 0, w.length, QPACK_DECOMPRESSION_FAILED, false);
        assert.equal(readString(r, prefix, s.length, 'x'), s);
        assert.equal(r.pos, w.length);
      },
    ),
    { numRuns: 1000 },
  );
});

test('property: Huffman coding round-trips any octet string; any bytes decode to a string or undefined', () => {
  fc.assert(
    fc.property(fc.oneof(octetString, textString), (s) => {
      const out = new Uint8Array(huffmanEncodedLength(s));
      assert.equal(huffmanEncode(s, out, 0), out.length);
      assert.equal(huffmanDecode(out, 0, out.length), s);
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const s = huffmanDecode(b, 0, b.length);
      if (s !== undefined) {
        assert.ok(s.length <= huffmanMaxDecodedLength(b.length));
        // A valid encoding is the canonical one: re-encoding gives the same bytes.
        const out = new Uint8Array(huffmanEncodedLength(s));
        huffmanEncode(s, out, 0);
        assert.deepEqual(out, b);
      }
    }),
    { numRuns: 3000 },
  );
});
