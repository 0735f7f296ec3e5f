/**
 * The Node shell's spare key shares (node/spare-key-shares.ts, issue 13): a share taken is replaced
 * after the current turn, never handed out twice, only groups a handshake asked for are made, and as
 * many are kept as one turn has taken, up to the bound.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MAX_SPARES_PER_GROUP, SpareKeyShares, spareKeyShares } from '../../../src/node/spare-key-shares.js';
import { NamedGroup } from '../../../src/tls/codepoints.js';
import { type KeyShare, newKeyShare } from '../../../src/tls/key-exchange.js';
import { manualTurns } from './manual-turns.js';

function spares() {
  const turns = manualTurns();
  return { turns, source: new SpareKeyShares((n) => randomBytes(n), turns.later) };
}

const hex = (s: KeyShare) => Buffer.from(s.publicKey).toString('hex');

test('spare key shares: none before a handshake asks; one per group asked for after the turn', () => {
  const { turns, source } = spares();
  assert.equal(source.take(NamedGroup.x25519), undefined);
  assert.equal(source.readyCount(NamedGroup.x25519), 0, 'nothing is made inside the turn that asked');
  assert.equal(turns.endTurn(), 1);
  assert.equal(source.readyCount(NamedGroup.x25519), 1);
  assert.equal(source.readyCount(NamedGroup.secp256r1), 0, 'never asked for');
  const share = source.take(NamedGroup.x25519);
  assert.equal(share?.group, NamedGroup.x25519);
  assert.equal(share?.publicKey.length, 32);
  assert.equal(source.readyCount(NamedGroup.x25519), 0, 'taken means gone');
});

test('spare key shares: a share is handed out once; the next one is new', () => {
  const { turns, source } = spares();
  source.take(NamedGroup.x25519);
  turns.endTurn();
  const first = source.take(NamedGroup.x25519);
  assert.ok(first);
  // A second handshake in the same turn finds none and makes its own.
  assert.equal(source.take(NamedGroup.x25519), undefined);
  assert.equal(turns.endTurn(), 1, 'one refill per turn, however many were taken');
  const seen = new Set([hex(first)]);
  for (let i = 0; i < 6; i++) {
    const s = source.take(NamedGroup.x25519);
    assert.ok(s, `turn ${i}`);
    assert.ok(!seen.has(hex(s)), 'a share handed out before');
    seen.add(hex(s));
    turns.endTurn();
  }
});

test('spare key shares: as many are kept as one turn took, at most MAX_SPARES_PER_GROUP', () => {
  const { turns, source } = spares();
  source.take(NamedGroup.x25519);
  source.take(NamedGroup.x25519);
  turns.endTurn();
  assert.equal(source.readyCount(NamedGroup.x25519), 2, 'a client and a server in one process');
  for (let i = 0; i < 10; i++) source.take(NamedGroup.x25519);
  turns.endTurn();
  assert.equal(source.readyCount(NamedGroup.x25519), MAX_SPARES_PER_GROUP);
  // A quiet turn with one handshake: the bound stays (handshakes come in bursts), nothing more is made.
  source.take(NamedGroup.x25519);
  turns.endTurn();
  assert.equal(source.readyCount(NamedGroup.x25519), MAX_SPARES_PER_GROUP);
});

test('spare key shares: each group is refilled on its own and the shares agree with a peer', () => {
  const { turns, source } = spares();
  source.take(NamedGroup.x25519);
  source.take(NamedGroup.secp256r1);
  turns.endTurn();
  for (const group of [NamedGroup.x25519, NamedGroup.secp256r1]) {
    assert.equal(source.readyCount(group), 1);
    const mine = source.take(group)!;
    assert.equal(mine.group, group);
    const peer = newKeyShare(group, (n) => randomBytes(n));
    assert.deepEqual(mine.computeSecret(peer.publicKey), peer.computeSecret(mine.publicKey));
  }
});

test('spare key shares: the process-wide source refills after the real event-loop turn', async () => {
  spareKeyShares.take(NamedGroup.x25519);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(spareKeyShares.readyCount(NamedGroup.x25519) >= 1);
});

test('spare key shares: a share that cannot be made throws nowhere; the handshake makes its own', () => {
  const turns = manualTurns();
  const source = new SpareKeyShares(() => {
    throw new Error('no random bytes');
  }, turns.later);
  assert.equal(source.take(NamedGroup.x25519), undefined);
  assert.doesNotThrow(() => turns.endTurn());
  assert.equal(source.readyCount(NamedGroup.x25519), 0);
});
