/**
 * Address validation tokens (RFC 9000 §8.1.2-8.1.4): Retry and NEW_TOKEN tokens bound to the client
 * address and issue time (and, for Retry, the Original Destination Connection ID), sealed so that
 * neither kind passes for the other and any change is detected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressTokens } from '../../../src/endpoint/address-token.js';
import { Prng, seededRandomBytes } from '../../sim/prng.js';

const T0 = 1_767_225_600_000; // above 2^32: the time is split over two words
const ADDR = '192.0.2.7:51000';
const ODCID = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);

function tokens(opts: { retryLifetime?: number; newTokenLifetime?: number; key?: Uint8Array } = {}) {
  return new AddressTokens({
    key: opts.key ?? new Uint8Array(32).fill(5),
    random: seededRandomBytes(new Prng(7)),
    ...(opts.retryLifetime !== undefined ? { retryLifetime: opts.retryLifetime } : {}),
    ...(opts.newTokenLifetime !== undefined ? { newTokenLifetime: opts.newTokenLifetime } : {}),
  });
}

test('a Retry token carries the address, issue time and Original DCID', () => {
  const t = tokens();
  const raw = t.issue({ kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: ODCID });
  const v = t.validate(raw, 'retry', ADDR, T0 + 50);
  assert.deepEqual(
    { ...v, originalDcid: Uint8Array.from(v?.originalDcid ?? []) },
    { kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: ODCID },
  );
  // The ODCID is a real copy (the connection keeps it), not a view into a shared buffer.
  assert.equal(v?.originalDcid?.buffer.byteLength, ODCID.length);
  // A zero-length ODCID round-trips too.
  const empty = t.issue({ kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: new Uint8Array(0) });
  assert.equal(t.validate(empty, 'retry', ADDR, T0)?.originalDcid?.length, 0);
});

test('a NEW_TOKEN token carries the address and issue time, and no ODCID', () => {
  const t = tokens();
  const raw = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 });
  assert.deepEqual(t.validate(raw, 'new-token', ADDR, T0 + 3_600_000), {
    kind: 'new-token',
    address: ADDR,
    issuedAt: T0,
  });
});

test('RFC 9000 §8.1.1: one kind never validates as the other', () => {
  const t = tokens();
  const retry = t.issue({ kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: ODCID });
  const newToken = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 });
  assert.equal(t.validate(retry, 'new-token', ADDR, T0), undefined);
  assert.equal(t.validate(newToken, 'retry', ADDR, T0), undefined);
});

test('a token names its kind in its first byte, and the kind is also bound by the seal', () => {
  const t = tokens();
  const retry = t.issue({ kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: ODCID });
  const newToken = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 });
  assert.equal(AddressTokens.kindOf(retry), 'retry');
  assert.equal(AddressTokens.kindOf(newToken), 'new-token');
  assert.equal(AddressTokens.kindOf(new Uint8Array(0)), undefined);
  assert.equal(AddressTokens.kindOf(Uint8Array.of(0, 1, 2)), undefined);
  // The other kind's first byte on a token: it names that kind now, but its seal does not open as it.
  const relabelled = Buffer.from(newToken);
  relabelled[0] = retry[0]!;
  assert.equal(AddressTokens.kindOf(relabelled), 'retry');
  assert.equal(t.validate(relabelled, 'retry', ADDR, T0), undefined);
  assert.equal(t.validate(relabelled, 'new-token', ADDR, T0), undefined);
});

test('RFC 9000 §8.1.3: a token from another address (host or port) is not valid', () => {
  const t = tokens();
  for (const kind of ['retry', 'new-token'] as const) {
    const raw = t.issue({ kind, address: ADDR, issuedAt: T0, originalDcid: ODCID });
    assert.ok(t.validate(raw, kind, ADDR, T0));
    assert.equal(t.validate(raw, kind, '192.0.2.8:51000', T0), undefined);
    assert.equal(t.validate(raw, kind, '192.0.2.7:51001', T0), undefined);
    assert.equal(t.validate(raw, kind, '', T0), undefined);
    assert.equal(t.validate(raw, kind, `${ADDR} `, T0), undefined);
  }
  // IPv6 and non-ASCII addresses round-trip byte-exactly.
  const v6 = '[2001:db8::1]:443';
  assert.ok(t.validate(t.issue({ kind: 'new-token', address: v6, issuedAt: T0 }), 'new-token', v6, T0));
});

test('expiry: Retry tokens live 10 s and NEW_TOKEN tokens 24 h by default; 1 s of clock skew allowed', () => {
  const t = tokens();
  const retry = t.issue({ kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: ODCID });
  assert.ok(t.validate(retry, 'retry', ADDR, T0 + 10_000));
  assert.equal(t.validate(retry, 'retry', ADDR, T0 + 10_001), undefined);
  assert.ok(t.validate(retry, 'retry', ADDR, T0 - 1000));
  assert.equal(t.validate(retry, 'retry', ADDR, T0 - 1001), undefined);
  const nt = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 });
  assert.ok(t.validate(nt, 'new-token', ADDR, T0 + 24 * 3_600_000));
  assert.equal(t.validate(nt, 'new-token', ADDR, T0 + 24 * 3_600_000 + 1), undefined);
});

test('configured lifetimes apply per kind', () => {
  const t = tokens({ retryLifetime: 500, newTokenLifetime: 2000 });
  const retry = t.issue({ kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: ODCID });
  const nt = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 });
  assert.ok(t.validate(retry, 'retry', ADDR, T0 + 500));
  assert.equal(t.validate(retry, 'retry', ADDR, T0 + 501), undefined);
  assert.ok(t.validate(nt, 'new-token', ADDR, T0 + 2000));
  assert.equal(t.validate(nt, 'new-token', ADDR, T0 + 2001), undefined);
});

test('tampering with any byte, truncation or another key invalidates the token', () => {
  const t = tokens();
  const raw = t.issue({ kind: 'retry', address: ADDR, issuedAt: T0, originalDcid: ODCID });
  for (let i = 0; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i]! ^= 0x20;
    assert.equal(t.validate(bad, 'retry', ADDR, T0), undefined, `byte ${i}`);
  }
  assert.equal(t.validate(raw.subarray(0, raw.length - 1), 'retry', ADDR, T0), undefined);
  assert.equal(t.validate(new Uint8Array(0), 'retry', ADDR, T0), undefined);
  assert.equal(t.validate(new Uint8Array(100).fill(0xff), 'new-token', ADDR, T0), undefined);
  assert.equal(tokens({ key: new Uint8Array(32).fill(6) }).validate(raw, 'retry', ADDR, T0), undefined);
  // Servers sharing the key accept each other's tokens (RFC 9000 §8.1.4).
  assert.ok(tokens().validate(raw, 'retry', ADDR, T0));
});

test('two tokens for the same content differ (random nonce): tokens are unlinkable', () => {
  const t = tokens();
  const a = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 });
  const b = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 });
  assert.notDeepEqual(a, b);
  assert.ok(t.validate(a, 'new-token', ADDR, T0));
  assert.ok(t.validate(b, 'new-token', ADDR, T0));
});

test('a fractional issue time is kept to the millisecond', () => {
  const t = tokens();
  const raw = t.issue({ kind: 'new-token', address: ADDR, issuedAt: T0 + 0.75 });
  assert.equal(t.validate(raw, 'new-token', ADDR, T0 + 1)?.issuedAt, T0);
});
