/**
 * The I/O loop's socket lookup (src/node/literal-lookup.ts): once the socket is bound, an IP literal
 * resolves inside the call (so socket.send() hands the datagram to the kernel at once); before that,
 * and for names, Node's dns.lookup answers as usual (asynchronously).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { literalLookup } from '../../src/node/literal-lookup.js';

function resolveOnce(
  l: ReturnType<typeof literalLookup>,
  host: string,
): { sync: boolean; result: Promise<[string, number]> } {
  let sync = true;
  let settled = false;
  const result = new Promise<[string, number]>((resolve, reject) => {
    l.lookup(host, { family: 0 }, (err, address, family) => {
      settled = true;
      if (err) reject(err);
      else resolve([address, family]);
    });
  });
  sync = settled;
  return { sync, result };
}

test('literals resolve synchronously once ready, to themselves', async () => {
  const l = literalLookup();
  const early = resolveOnce(l, '127.0.0.1');
  assert.equal(early.sync, false, 'before ready(): dns.lookup, asynchronous');
  assert.deepEqual(await early.result, ['127.0.0.1', 4]);
  l.ready();
  for (const [host, family] of [
    ['127.0.0.1', 4],
    ['::1', 6],
    ['2001:db8::1', 6],
  ] as const) {
    const r = resolveOnce(l, host);
    assert.equal(r.sync, true, host);
    assert.deepEqual(await r.result, [host, family]);
  }
});

test('a name still goes to dns.lookup', async () => {
  const l = literalLookup();
  l.ready();
  const r = resolveOnce(l, 'localhost');
  assert.equal(r.sync, false);
  const [address, family] = await r.result;
  assert.ok(family === 4 || family === 6);
  assert.ok(address.length > 0);
});
