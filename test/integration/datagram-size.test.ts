/**
 * `maxDatagramSize` is a ceiling on every path, loopback included, and `pmtuDiscoveryMax` caps or
 * turns off path MTU discovery (RFC 9000 §14.3). Checked over real UDP on 127.0.0.1 with a relay
 * between client and server that records the size of every datagram it forwards, so the figure does
 * not come from tsquic's own accounting.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dial } from '../../src/index.js';
import { clientOptions, echoServer, readAll, startServer, within } from './helpers.js';
import { UdpRelay } from './udp-relay.js';

/** Largest UDP payload the relay saw in each direction, and how many datagrams. */
interface Seen {
  up: { max: number; count: number };
  down: { max: number; count: number };
}

function seen(r: UdpRelay): Seen {
  const of = (dir: 'up' | 'down') => {
    const sizes = r.flows.flatMap((_, i) => r.sizes(i, dir));
    return { max: Math.max(0, ...sizes), count: sizes.length };
  };
  return { up: of('up'), down: of('down') };
}

/** 1 MiB up and back through the relay, both ends with `opts`; returns what the relay saw. */
async function echoThroughRelay(opts: Record<string, unknown>): Promise<Seen> {
  const server = await startServer(opts);
  const errors = echoServer(server);
  const r = await UdpRelay.start(server.address().port);
  try {
    const conn = await dial({ host: '127.0.0.1', port: r.port }, clientOptions(opts));
    const s = await conn.openStream();
    const data = Buffer.alloc(1024 * 1024, 7);
    const back = readAll(s);
    s.end(data);
    const got = await within(back, 20_000, 'echo of 1 MiB through the relay');
    assert.equal(got.length, data.length);
    await conn.close();
    assert.deepEqual(errors, []);
    return seen(r);
  } finally {
    await server.close();
    await r.close();
  }
}

describe('datagram size ceilings over real UDP on loopback', () => {
  test('by default, PMTU discovery grows datagrams beyond 1452 bytes on loopback (the relay sees them)', async () => {
    const r = await echoThroughRelay({});
    assert.ok(r.up.max > 1452, `client -> server largest ${r.up.max}`);
    assert.ok(r.down.max > 1452, `server -> client largest ${r.down.max}`);
  });

  test('maxDatagramSize 1452: no datagram in either direction is larger, on loopback too', async () => {
    const r = await echoThroughRelay({ maxDatagramSize: 1452 });
    assert.equal(r.up.max, 1452);
    assert.equal(r.down.max, 1452);
    assert.ok(r.up.count > 700 && r.down.count > 700, `${r.up.count} / ${r.down.count} datagrams`);
  });

  test('pmtuDiscoveryMax 0: no datagram is larger than the initial 1252 bytes', async () => {
    const r = await echoThroughRelay({ pmtuDiscoveryMax: 0 });
    assert.equal(r.up.max, 1252);
    assert.equal(r.down.max, 1252);
    assert.ok(r.up.count > 800 && r.down.count > 800, `${r.up.count} / ${r.down.count} datagrams`);
  });

  test('pmtuDiscoveryMax 1452: discovery starts at 1252 and stops at 1452', async () => {
    const r = await echoThroughRelay({ pmtuDiscoveryMax: 1452 });
    assert.equal(r.up.max, 1452);
    assert.equal(r.down.max, 1452);
  });
});
