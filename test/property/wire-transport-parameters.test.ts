import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from '../../src/wire/transport-parameters.js';
import { MAX_VARINT } from '../../src/wire/varint.js';

const varint = fc.oneof(
  fc.integer({ min: 0, max: 16383 }),
  fc.maxSafeNat(),
  fc
    .bigInt({ min: 0n, max: (1n << 62n) - 1n })
    .map(Number)
    .filter((v) => v <= MAX_VARINT),
);
const cid = fc.uint8Array({ maxLength: 20 });
const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const version = fc.integer({ min: 1, max: 0xffff_ffff });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

function params(server: boolean): fc.Arbitrary<TransportParameters> {
  return fc
    .record({
      originalDestinationConnectionId: server ? opt(cid) : fc.constant(undefined),
      maxIdleTimeout: varint,
      statelessResetToken: server ? opt(bytes16) : fc.constant(undefined),
      maxUdpPayloadSize: fc.oneof(
        fc.integer({ min: 1200, max: 65527 }),
        varint.filter((v) => v >= 1200),
      ),
      initialMaxData: varint,
      initialMaxStreamDataBidiLocal: varint,
      initialMaxStreamDataBidiRemote: varint,
      initialMaxStreamDataUni: varint,
      initialMaxStreamsBidi: fc.integer({ min: 0, max: 2 ** 52 }),
      initialMaxStreamsUni: fc.oneof(fc.constant(2 ** 60), fc.integer({ min: 0, max: 1000 })),
      ackDelayExponent: fc.integer({ min: 0, max: 20 }),
      maxAckDelay: fc.integer({ min: 0, max: 2 ** 14 - 1 }),
      disableActiveMigration: fc.boolean(),
      preferredAddress: server
        ? opt(
            fc.record({
              ipv4Address: fc.uint8Array({ minLength: 4, maxLength: 4 }),
              ipv4Port: fc.integer({ min: 0, max: 65535 }),
              ipv6Address: bytes16,
              ipv6Port: fc.integer({ min: 0, max: 65535 }),
              connectionId: fc.uint8Array({ minLength: 1, maxLength: 20 }),
              statelessResetToken: bytes16,
            }),
          )
        : fc.constant(undefined),
      activeConnectionIdLimit: fc.integer({ min: 2, max: 2 ** 40 }),
      initialSourceConnectionId: opt(cid),
      retrySourceConnectionId: server ? opt(cid) : fc.constant(undefined),
      maxDatagramFrameSize: opt(varint),
      versionInformation: opt(
        fc.record({ chosenVersion: version, availableVersions: fc.array(version, { maxLength: 5 }) }),
      ),
    })
    .map((p) => {
      // Absent optional fields are absent keys, as the decoder produces them.
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = v;
      return out as unknown as TransportParameters;
    });
}

function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

test('property: transport parameters round-trip (server and client sets, with and without GREASE)', () => {
  for (const sender of ['server', 'client'] as const) {
    fc.assert(
      fc.property(
        params(sender === 'server'),
        fc.option(fc.uint8Array({ minLength: 64, maxLength: 64 })),
        (p, seed) => {
          const grease = seed === null ? undefined : (n: number) => seed.subarray(0, n);
          const encoded = encodeTransportParameters(p, grease);
          const decoded = decodeTransportParameters(encoded, sender);
          assert.deepEqual(normalize(decoded), normalize(p));
        },
      ),
      { numRuns: 500 },
    );
  }
});

test('property: parameters in any order decode the same', () => {
  fc.assert(
    fc.property(params(true), fc.integer(), (p, seed) => {
      const encoded = encodeTransportParameters(p);
      // Split into (id, length, value) tuples and shuffle them deterministically.
      const parts: Uint8Array[] = [];
      let o = 0;
      while (o < encoded.length) {
        const start = o;
        o += 1 << (encoded[o]! >> 6);
        const first = encoded[o]!;
        const lenBytes = 1 << (first >> 6);
        let len = first & 0x3f;
        for (let i = 1; i < lenBytes; i++) len = len * 256 + encoded[o + i]!;
        o += lenBytes + len;
        parts.push(encoded.subarray(start, o));
      }
      const shuffled = parts
        .map((part, i) => ({ part, key: ((i + 1) * 2654435761 + seed) >>> 0 }))
        .sort((a, b) => a.key - b.key)
        .map((x) => x.part);
      const decoded = decodeTransportParameters(Buffer.concat(shuffled), 'server');
      assert.deepEqual(normalize(decoded), normalize(p));
    }),
    { numRuns: 300 },
  );
});
