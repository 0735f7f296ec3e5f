/**
 * Property tests for packet protection (RFC 9001 §5.3, §5.4): seal/open round trips over all three
 * cipher suites and both versions, single-bit corruption always detected, and arbitrary input never
 * throwing out of the opening functions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Aead } from '../../src/crypto/aead.js';
import { CipherSuite } from '../../src/crypto/cipher-suite.js';
import { derivePacketKeys, type PacketKeys } from '../../src/crypto/packet-keys.js';
import {
  decryptPayload,
  openPacket,
  removeHeaderProtection,
  sealPacket,
} from '../../src/crypto/packet-protection.js';
import { QUIC_V1, QUIC_V2 } from '../../src/crypto/quic-version.js';
import { verifyRetryIntegrity } from '../../src/crypto/retry.js';

const SUITES = [
  CipherSuite.AES_128_GCM_SHA256,
  CipherSuite.AES_256_GCM_SHA384,
  CipherSuite.CHACHA20_POLY1305_SHA256,
];

const keysArb = fc
  .record({
    suite: fc.constantFrom(...SUITES),
    version: fc.constantFrom(QUIC_V1, QUIC_V2),
    secret: fc.uint8Array({ minLength: 48, maxLength: 48 }),
  })
  .map(({ suite, version, secret }) => {
    const s = suite === CipherSuite.AES_256_GCM_SHA384 ? secret : secret.subarray(0, 32);
    return { suite, version, secret: s };
  });

interface PacketCase {
  suite: CipherSuite;
  version: number;
  secret: Uint8Array;
  /** Bytes before the packet in the datagram (coalesced packets). */
  prefix: Uint8Array;
  long: boolean;
  /** Unprotected first-byte bits other than the pn length (reserved, key phase, spin, type). */
  firstBits: number;
  /** Header bytes between the first byte and the packet number. */
  middle: Uint8Array;
  pnLength: number;
  packetNumber: number;
  /** largest_pn the receiver has seen, chosen within the decoding window. */
  largestPn: number;
  payload: Uint8Array;
}

const packetArb: fc.Arbitrary<PacketCase> = fc
  .record({
    keys: keysArb,
    prefix: fc.uint8Array({ maxLength: 30 }),
    long: fc.boolean(),
    firstBits: fc.integer({ min: 0, max: 0xff }),
    middle: fc.uint8Array({ maxLength: 60 }),
    pnLength: fc.integer({ min: 1, max: 4 }),
    packetNumber: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    window: fc.double({ min: 0, max: 1, noNaN: true }),
    payload: fc.uint8Array({ maxLength: 1400 }),
  })
  .map(({ keys, prefix, long, firstBits, middle, pnLength, packetNumber, window, payload }) => {
    // RFC 9000 §17.1 / A.3: decoding succeeds when the pn lies within half a window above
    // largest_pn + 1; pick largest_pn in [pn - hwin, pn - 1] (or -1 when pn is small).
    const hwin = 2 ** (8 * pnLength - 1);
    const delta = 1 + Math.floor(window * (hwin - 1));
    const largestPn = Math.max(-1, packetNumber - delta);
    // RFC 9001 §5.4.2: pad so that pn + payload covers the 4 + 16 - 16 sampled bytes.
    const minPayload = Math.max(0, 4 - pnLength);
    const padded = payload.length >= minPayload ? payload : new Uint8Array(minPayload);
    return {
      ...keys,
      prefix,
      long,
      firstBits: long ? 0xc0 | (firstBits & 0x3c) : 0x40 | (firstBits & 0x3c),
      middle,
      pnLength,
      packetNumber,
      largestPn,
      payload: padded,
    };
  });

/** Lays out prefix || header || payload || room for the tag; returns the offsets. */
function build(c: PacketCase) {
  const packetStart = c.prefix.length;
  const pnOffset = packetStart + 1 + c.middle.length;
  const headerEnd = pnOffset + c.pnLength;
  const payloadEnd = headerEnd + c.payload.length;
  const buf = Buffer.alloc(payloadEnd + 16);
  buf.set(c.prefix, 0);
  buf[packetStart] = c.firstBits | (c.pnLength - 1);
  buf.set(c.middle, packetStart + 1);
  buf.writeUIntBE(c.packetNumber % 2 ** (8 * c.pnLength), pnOffset, c.pnLength);
  buf.set(c.payload, headerEnd);
  return { buf, packetStart, pnOffset, headerEnd, payloadEnd };
}

function keysFor(c: { suite: CipherSuite; version: number; secret: Uint8Array }): PacketKeys {
  return derivePacketKeys(c.suite, c.secret, c.version);
}

test('seal then open returns the header, packet number and payload (all suites, both versions)', () => {
  fc.assert(
    fc.property(packetArb, (c) => {
      const { buf, packetStart, pnOffset, headerEnd, payloadEnd } = build(c);
      const plainHeader = Buffer.from(buf.subarray(packetStart, headerEnd));
      const end = sealPacket(keysFor(c), buf, packetStart, pnOffset, c.pnLength, c.packetNumber, payloadEnd);
      assert.equal(end, payloadEnd + 16);
      assert.deepEqual(buf.subarray(0, packetStart), Buffer.from(c.prefix), 'prefix untouched');
      // Unprotected header fields stay in clear (RFC 9001 §5.4.1).
      const clearMask = c.long ? 0xf0 : 0xe0;
      assert.equal(buf[packetStart]! & clearMask, plainHeader[0]! & clearMask);
      assert.deepEqual(buf.subarray(packetStart + 1, pnOffset), Buffer.from(c.middle));

      // The receiver has its own key objects derived from the same secret.
      const opened = openPacket(keysFor(c), buf, packetStart, pnOffset, end, c.largestPn);
      assert.ok(opened);
      assert.equal(opened.packetNumber, c.packetNumber);
      assert.equal(opened.pnLength, c.pnLength);
      assert.equal(opened.firstByte, plainHeader[0]);
      assert.equal(opened.headerEnd, headerEnd);
      assert.deepEqual(Buffer.from(opened.payload), Buffer.from(c.payload));
      assert.deepEqual(buf.subarray(packetStart, headerEnd), plainHeader, 'header unprotected in place');
    }),
    { numRuns: 300 },
  );
});

test('any single flipped bit in a protected packet makes openPacket return null', () => {
  fc.assert(
    fc.property(packetArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (c, at, bit) => {
      const { buf, packetStart, pnOffset, payloadEnd } = build(c);
      const end = sealPacket(keysFor(c), buf, packetStart, pnOffset, c.pnLength, c.packetNumber, payloadEnd);
      const i = packetStart + (at % (end - packetStart));
      buf[i]! ^= 1 << bit;
      const keys = keysFor(c);
      assert.equal(openPacket(keys, buf, packetStart, pnOffset, end, c.largestPn), null);
    }),
    { numRuns: 300 },
  );
});

const offsetArb = fc.integer({ min: -5, max: 300 });

test('arbitrary bytes and offsets: openPacket and removeHeaderProtection return null or a result, never throw', () => {
  fc.assert(
    fc.property(
      keysArb,
      fc.uint8Array({ maxLength: 260 }),
      offsetArb,
      offsetArb,
      offsetArb,
      fc.integer({ min: -1, max: 2 ** 40 }),
      (k, bytes, packetStart, pnOffset, packetEnd, largestPn) => {
        const keys = keysFor(k);
        const buf = Buffer.from(bytes);
        // Random bytes never authenticate (a forgery would need to guess a 128-bit tag).
        assert.equal(openPacket(keys, Buffer.from(bytes), packetStart, pnOffset, packetEnd, largestPn), null);
        const header = removeHeaderProtection(keys.hp, buf, packetStart, pnOffset, packetEnd);
        if (header !== null) {
          assert.ok(pnOffset + 20 <= packetEnd && packetEnd <= bytes.length);
          assert.ok(header.pnLength >= 1 && header.pnLength <= 4);
          assert.ok(header.truncatedPn >= 0 && header.truncatedPn < 2 ** (8 * header.pnLength));
          assert.equal(header.firstByte, buf[packetStart]);
        } else {
          assert.deepEqual(buf, Buffer.from(bytes), 'nothing written when null');
        }
        assert.equal(
          decryptPayload(keys.aead, buf, packetStart, pnOffset, packetEnd, Math.max(0, largestPn)),
          null,
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('arbitrary bytes into Aead.open and verifyRetryIntegrity: null/false, never a throw', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SUITES),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      (suite, key, iv, aad, ct, pn) => {
        const aead = new Aead(
          suite,
          suite === CipherSuite.AES_128_GCM_SHA256 ? key.subarray(0, 16) : key,
          iv,
        );
        assert.equal(aead.open(pn, aad, ct), null);
        assert.equal(aead.openFailures, 1);
        assert.equal(verifyRetryIntegrity(QUIC_V1, aad, ct), false);
        assert.equal(verifyRetryIntegrity(QUIC_V2, aad, ct), false);
      },
    ),
    { numRuns: 300 },
  );
});
