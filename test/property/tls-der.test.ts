import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AlertDescription } from '../../src/tls/alert.js';
import {
  dnsNameMatches,
  ipAddressToBytes,
  ipBytesToString,
  verifyCertificateChain,
} from '../../src/tls/certificate-verifier.js';
import {
  DerDecodeError,
  type DerNode,
  decodeOid,
  decodeTime,
  derChildren,
  derContext,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  parseDer,
  readCertificateInfo,
  readTlv,
} from '../../src/tls/der.js';
import { decodePem, encodePem } from '../../src/tls/private-key.js';
import { createTestPki } from '../../src/tls/x509-builder.js';

const NOW = Date.UTC(2026, 6, 1);
const { ca, leaf } = createTestPki({ names: ['prop.example'], now: NOW });

/** Runs `f`; a DerDecodeError is an accepted outcome, anything else thrown fails the property. */
function valueOrDerError<T>(f: () => T): T | DerDecodeError {
  try {
    return f();
  } catch (err) {
    if (err instanceof DerDecodeError) return err;
    throw err;
  }
}

/** Walks a decoded tree, checking every view lies inside the input. */
function walk(node: DerNode, depth: number): number {
  assert.ok(node.value.length <= node.bytes.length);
  if (!node.constructed || depth > 40) return 1;
  let count = 1;
  const children = valueOrDerError(() => derChildren(node));
  if (children instanceof DerDecodeError) return count;
  for (const c of children) count += walk(c, depth + 1);
  return count;
}

test('arbitrary bytes into the DER reader give a value or DerDecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 310 }), (bytes, offset) => {
      const tlv = valueOrDerError(() => readTlv(bytes, offset));
      if (!(tlv instanceof DerDecodeError)) {
        assert.ok(tlv.end > offset && tlv.end <= bytes.length);
        assert.equal(tlv.bytes.length, tlv.end - offset);
      }
      const whole = valueOrDerError(() => parseDer(bytes));
      if (!(whole instanceof DerDecodeError)) {
        assert.equal(whole.end, bytes.length);
        walk(whole, 0);
        valueOrDerError(() => decodeOid(whole));
        valueOrDerError(() => decodeTime(whole));
      }
      valueOrDerError(() => readCertificateInfo(bytes));
    }),
    { numRuns: 3000 },
  );
});

test('structured near-DER input (valid headers, random contents) gives a value or DerDecodeError', () => {
  const tlv = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 20 }))
        .map(([t, v]) => Buffer.concat([Buffer.of(t & ~0x20 & 0xff, v.length), v])),
      fc.array(tie('node'), { maxLength: 4 }).map((kids) => derSequence(...(kids as Buffer[]))),
      fc
        .array(tie('node'), { maxLength: 3 })
        .map((kids) => derContext(3, derSequence(...(kids as Buffer[])), true)),
    ),
  }));
  fc.assert(
    fc.property(tlv.node, (bytes) => {
      const b = bytes as Buffer;
      const node = valueOrDerError(() => parseDer(b));
      if (!(node instanceof DerDecodeError)) walk(node, 0);
      valueOrDerError(() => readCertificateInfo(b));
    }),
    { numRuns: 2000 },
  );
});

test('mutated certificates: the reader never throws anything else, the verifier never accepts them', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: leaf.certDer.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      fc.nat({ max: leaf.certDer.length }),
      (at, xor, cut) => {
        const flipped = Buffer.from(leaf.certDer);
        flipped[at]! ^= xor;
        valueOrDerError(() => readCertificateInfo(flipped));
        const r = verifyCertificateChain([flipped], { ca: [ca.certPem], now: NOW });
        assert.equal(r.ok, false);
        const truncated = leaf.certDer.subarray(0, cut);
        valueOrDerError(() => readCertificateInfo(truncated));
        const t = verifyCertificateChain([truncated], { ca: [ca.certPem], now: NOW });
        if (cut < leaf.certDer.length) {
          assert.equal(t.ok, false);
          assert.ok(!t.ok && t.alert === AlertDescription.bad_certificate);
        }
      },
    ),
    { numRuns: 400 },
  );
});

test('encoder round trips: INTEGER, OID, time, SET, nested SEQUENCE', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (mag) => {
      const node = parseDer(derInteger(mag));
      assert.equal(node.value[0]! & 0x80, 0);
      assert.equal(
        BigInt(`0x${Buffer.from(node.value).toString('hex')}`),
        BigInt(`0x${Buffer.from(mag).toString('hex')}`),
      );
    }),
  );
  const oid = fc
    .tuple(
      fc.integer({ min: 0, max: 2 }),
      fc.nat({ max: 39 }),
      fc.array(fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 130n })), { maxLength: 8 }),
    )
    .map(([a, b, rest]) => [a, b, ...rest].join('.'));
  fc.assert(fc.property(oid, (o) => assert.equal(decodeOid(parseDer(derOid(o))), o)));
  fc.assert(
    fc.property(
      fc.integer({ min: new Date(0).setUTCFullYear(0, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
      (ms) => {
        assert.equal(decodeTime(parseDer(derTime(ms))), Math.floor(ms / 1000) * 1000);
      },
    ),
  );
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), (parts) => {
      const encoded = parts.map((p) => derOctetString(p));
      const seq = derChildren(parseDer(derSequence(...encoded)));
      assert.deepEqual(
        seq.map((n) => Buffer.from(n.value)),
        parts.map((p) => Buffer.from(p)),
      );
      const set = derChildren(parseDer(derSet(...encoded))).map((n) => Buffer.from(n.bytes));
      for (let i = 1; i < set.length; i++) assert.ok(Buffer.compare(set[i - 1]!, set[i]!) <= 0);
    }),
  );
});

test('PEM: arbitrary text decodes or throws DerDecodeError; encode/decode round trips', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 40 }), (body, label) => {
      valueOrDerError(() => decodePem(body));
      valueOrDerError(() => decodePem(`-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`));
    }),
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 500 }),
      fc.constantFrom('CERTIFICATE', 'PRIVATE KEY', 'X509 CRL'),
      (der, label) => {
        assert.deepEqual(decodePem(`junk\n${encodePem(label, der)}more junk`), [
          { label, der: Buffer.from(der), hasHeaders: false },
        ]);
      },
    ),
  );
});

test('IP addresses: bytes -> text -> bytes is the identity; arbitrary text never throws', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ),
      (ip) => {
        assert.deepEqual(ipAddressToBytes(ipBytesToString(ip)), Buffer.from(ip));
      },
    ),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }), (a, b) => {
      const bytes = ipAddressToBytes(a);
      assert.ok(bytes === undefined || bytes.length === 4 || bytes.length === 16);
      assert.equal(typeof dnsNameMatches(a, b), 'boolean');
    }),
  );
  fc.assert(
    fc.property(fc.domain(), (d) => {
      assert.equal(dnsNameMatches(d, d.toUpperCase()), true);
      const dot = d.indexOf('.');
      const parent = d.slice(dot + 1);
      // A wildcard matches one label under a parent of at least two labels.
      assert.equal(dnsNameMatches(`*.${parent}`, d), parent.includes('.'));
      assert.equal(dnsNameMatches(`*.${d}`, d), false);
    }),
  );
});
