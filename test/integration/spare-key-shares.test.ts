/**
 * Real UDP, client and server in this process: each handshake takes its key share from the shell's
 * spares (src/node/spare-key-shares.ts, issue 13), made after the turn that took the previous one;
 * every share is used by one handshake only, and the connections work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spareKeyShares } from '../../src/node/spare-key-shares.js';
import type { NamedGroup } from '../../src/tls/codepoints.js';
import type { KeyShare } from '../../src/tls/key-exchange.js';
import { echoServer, sequentialEchoes, startServer } from './helpers.js';

test('dial and accept take spare key shares, each one once', { timeout: 30_000 }, async () => {
  const server = await startServer();
  echoServer(server);
  const taken: Array<KeyShare | undefined> = [];
  const take = spareKeyShares.take;
  spareKeyShares.take = function recorded(this: typeof spareKeyShares, group: NamedGroup) {
    const share = take.call(this, group);
    taken.push(share);
    return share;
  };
  try {
    await sequentialEchoes(server.address().port, 4);
  } finally {
    spareKeyShares.take = take;
    await server.close();
  }
  // A client and a server handshake per connection.
  assert.equal(taken.length, 8);
  // The first client and, once, a server in the turn of its ClientHello (two takes in one turn:
  // from then on two spares are kept) may find none; every later handshake has one.
  const pattern = taken.map((s) => (s ? 'S' : '-')).join('');
  assert.match(pattern, /^.{4}SSSS$/, pattern);
  const given = taken.filter((s): s is KeyShare => s !== undefined);
  const keys = new Set(given.map((s) => Buffer.from(s.publicKey).toString('hex')));
  assert.equal(keys.size, given.length, 'no share was handed out twice');
});
