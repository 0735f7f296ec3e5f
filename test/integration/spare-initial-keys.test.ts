/**
 * Real UDP, client and server in this process: after its first dial, each client connection starts
 * from a DCID and Initial keys the shell derived after the turn that took the previous ones
 * (src/node/spare-initial-keys.ts, issue 13); every DCID goes to one connection only, and the
 * connections work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PreparedInitialKeys } from '../../src/crypto/packet-keys.js';
import { spareInitialKeys } from '../../src/node/spare-initial-keys.js';
import { echoServer, sequentialEchoes, startServer } from './helpers.js';

test('dials take spare Initial keys, each DCID once', { timeout: 30_000 }, async () => {
  const server = await startServer();
  echoServer(server);
  const taken: Array<PreparedInitialKeys | undefined> = [];
  const take = spareInitialKeys.take;
  spareInitialKeys.take = function recorded(this: typeof spareInitialKeys, version: number) {
    const prepared = take.call(this, version);
    taken.push(prepared);
    return prepared;
  };
  try {
    await sequentialEchoes(server.address().port, 4);
  } finally {
    spareInitialKeys.take = take;
    await server.close();
  }
  // One take per dial (the server derives its Initial keys from the client's DCID). Another test
  // file's dials may have left one ready for the first; every later dial finds one.
  assert.equal(taken.length, 4);
  const pattern = taken.map((p) => (p ? 'S' : '-')).join('');
  assert.match(pattern, /^.SSS$/, pattern);
  const given = taken.filter((p): p is PreparedInitialKeys => p !== undefined);
  const dcids = new Set(given.map((p) => Buffer.from(p.dcid).toString('hex')));
  assert.equal(dcids.size, given.length, 'no DCID was handed out twice');
});
