/**
 * `maxDatagramSize` is a ceiling on every path, loopback included, and `pmtuDiscoveryMax` caps or
 * turns off path MTU discovery (RFC 9000 §14.3). Checked over real UDP on 127.0.0.1 with a relay
 * between client and server that records the size of every datagram it forwards, so the figure does
 * not come from tsquic's own accounting.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, test } from 'node:test';
import { dial } from '../../src/index.js';
import { clientOptions, echoServer, readAll, startServer, within } from './helpers.js';

/** A UDP relay on 127.0.0.1: one socket facing the client, one (per client address) facing the server. */
interface Relay {
  port: number;
  /** Largest UDP payload seen in each direction, and how many datagrams. */
  up: { max: number; count: number };
  down: { max: number; count: number };
  close(): Promise<void>;
}

async function relay(serverPort: number): Promise<Relay> {
  const front = createSocket('udp4');
  const backs = new Map<string, Socket>();
  const r: Relay = {
    port: 0,
    up: { max: 0, count: 0 },
    down: { max: 0, count: 0 },
    async close() {
      for (const s of [front, ...backs.values()]) await new Promise<void>((done) => s.close(() => done()));
    },
  };
  front.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let back = backs.get(key);
    if (!back) {
      const s = createSocket('udp4');
      s.on('message', (m) => {
        r.down.max = Math.max(r.down.max, m.length);
        r.down.count++;
        front.send(m, from.port, from.address);
      });
      s.bind(0, '127.0.0.1');
      backs.set(key, s);
      back = s;
    }
    r.up.max = Math.max(r.up.max, msg.length);
    r.up.count++;
    back.send(msg, serverPort, '127.0.0.1');
  });
  await new Promise<void>((done) => front.bind(0, '127.0.0.1', done));
  r.port = front.address().port;
  return r;
}

/** 1 MiB up and back through the relay, both ends with `opts`; returns what the relay saw. */
async function echoThroughRelay(opts: Record<string, unknown>): Promise<Relay> {
  const server = await startServer(opts);
  const errors = echoServer(server);
  const r = await relay(server.address().port);
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
    return r;
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
