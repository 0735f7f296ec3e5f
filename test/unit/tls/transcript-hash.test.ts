/**
 * TranscriptHash (RFC 8446 §4.4.1): the running hash, a digest per moment of the handshake, copied
 * from node:crypto's Hash object only when something was added since the last digest, and finish()
 * for the last use (the resumption master secret, RFC 8446 §7.1).
 */
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { test } from 'node:test';
import { TranscriptHash } from '../../../src/tls/transcript-hash.js';

const sha256 = (...parts: string[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Calls of Hash#copy while `fn` runs. */
function copies(fn: () => void): number {
  const proto = Object.getPrototypeOf(createHash('sha256')) as Hash;
  const original = proto.copy;
  let n = 0;
  proto.copy = function (this: Hash, ...args: Parameters<Hash['copy']>) {
    n++;
    return original.apply(this, args);
  };
  try {
    fn();
  } finally {
    proto.copy = original;
  }
  return n;
}

test('a digest is copied out of the hash once per state: repeated digests without an add reuse it', () => {
  const t = new TranscriptHash();
  t.add(Buffer.from('client hello'));
  t.init('sha256');
  let a: Buffer | undefined;
  let b: Buffer | undefined;
  assert.equal(
    copies(() => {
      a = t.digest();
      b = t.digest();
    }),
    1,
  );
  assert.deepEqual(a, sha256('client hello'));
  assert.deepEqual(b, a);
  t.add(Buffer.from('server hello'));
  let c: Buffer | undefined;
  assert.equal(
    copies(() => {
      c = t.digest();
      t.digest();
    }),
    1,
  );
  assert.deepEqual(c, sha256('client hello', 'server hello'));
  // digestWith does not add: the cached digest stays right.
  assert.deepEqual(t.digestWith(Buffer.from('x')), sha256('client hello', 'server hello', 'x'));
  assert.deepEqual(t.digest(), c);
});

test('finish(): the last digest without a copy; nothing can be added afterwards', () => {
  const t = new TranscriptHash();
  t.init('sha256');
  t.add(Buffer.from('a'));
  let d: Buffer | undefined;
  assert.equal(
    copies(() => {
      d = t.finish();
    }),
    0,
  );
  assert.deepEqual(d, sha256('a'));
  assert.deepEqual(t.digest(), d);
  assert.deepEqual(t.finish(), d);
  assert.throws(() => t.add(Buffer.from('b')), /finished/);
  assert.throws(() => t.digestWith(Buffer.from('b')), /finished/);
  // A digest taken just before finish() is what finish() returns.
  const u = new TranscriptHash();
  u.init('sha256');
  u.add(Buffer.from('a'));
  const before = u.digest();
  assert.deepEqual(u.finish(), before);
});

test('after a HelloRetryRequest the transcript restarts: no stale digest', () => {
  const t = new TranscriptHash();
  t.init('sha256');
  t.add(Buffer.from('ch1'));
  const ch1 = t.digest();
  t.replaceWithMessageHash();
  const synthetic = Buffer.concat([Buffer.from([254, 0, 0, 32]), ch1]);
  assert.deepEqual(t.digest(), createHash('sha256').update(synthetic).digest());
});
