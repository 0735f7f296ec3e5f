/**
 * The Node shell's spare Initial keys (node/spare-initial-keys.ts, issue 13): a client's next first
 * DCID with its Initial keys (RFC 9001 §5.2), made after the turn that took the previous one, each
 * DCID handed out once, its keys exactly those the DCID gives, per QUIC version.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deriveInitialSecrets } from '../../../src/crypto/initial-secrets.js';
import { SpareInitialKeys } from '../../../src/node/spare-initial-keys.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';
import { manualTurns } from './manual-turns.js';

test('spare Initial keys: none before a dial asks; then a fresh 8-byte DCID with its own keys, once', () => {
  const turns = manualTurns();
  const source = new SpareInitialKeys((n) => randomBytes(n), turns.later);
  assert.equal(source.take(QUIC_V1), undefined);
  assert.equal(source.readyCount(QUIC_V1), 0, 'nothing is made inside the turn that asked');
  assert.equal(turns.endTurn(), 1);
  assert.equal(source.readyCount(QUIC_V1), 1);
  assert.equal(source.readyCount(QUIC_V2), 0, 'never asked for');
  const first = source.take(QUIC_V1);
  assert.ok(first);
  assert.equal(source.take(QUIC_V1), undefined, 'taken means gone until the next turn');
  turns.endTurn();
  const seen = new Set<string>([Buffer.from(first.dcid).toString('hex')]);
  for (let i = 0; i < 5; i++) {
    const p = source.take(QUIC_V1);
    assert.ok(p, `turn ${i}`);
    assert.equal(p.dcid.length, 8, 'RFC 9000 §7.2: at least 8 bytes');
    const hex = Buffer.from(p.dcid).toString('hex');
    assert.ok(!seen.has(hex), 'a DCID handed out before');
    seen.add(hex);
    // RFC 9001 §5.2: the keys are the DCID's, for this version.
    const secrets = deriveInitialSecrets(QUIC_V1, p.dcid);
    assert.deepEqual(Buffer.from(p.client.secret), Buffer.from(secrets.client));
    assert.deepEqual(Buffer.from(p.server.secret), Buffer.from(secrets.server));
    turns.endTurn();
  }
});

test('spare Initial keys: each QUIC version has its own, derived with its own salt (RFC 9369 §3.3.1)', () => {
  const turns = manualTurns();
  const source = new SpareInitialKeys((n) => randomBytes(n), turns.later);
  source.take(QUIC_V2);
  turns.endTurn();
  assert.equal(source.readyCount(QUIC_V1), 0);
  const p = source.take(QUIC_V2);
  assert.ok(p);
  assert.deepEqual(Buffer.from(p.client.secret), Buffer.from(deriveInitialSecrets(QUIC_V2, p.dcid).client));
  assert.notDeepEqual(
    Buffer.from(p.client.secret),
    Buffer.from(deriveInitialSecrets(QUIC_V1, p.dcid).client),
  );
});

test('spare Initial keys: a failing random source leaves none ready, and nothing throws from the refill', () => {
  const turns = manualTurns();
  const source = new SpareInitialKeys(() => new Uint8Array(3), turns.later);
  assert.equal(source.take(QUIC_V1), undefined);
  assert.doesNotThrow(() => turns.endTurn());
  assert.equal(source.readyCount(QUIC_V1), 0);
});
