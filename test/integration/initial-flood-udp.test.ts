/**
 * An Initial flood over real UDP on 127.0.0.1 (issue 10): a tsquic server started through the public
 * API gets 4,000 datagrams in about 4 s from 16 sockets that never answer, half of them junk behind a
 * v1 Initial header and half real ClientHellos (each under its own DCID, so each would start a
 * handshake), while a legitimate client dials in the middle and completes a request. Asserts: the
 * half-open table stays within its limits at every datagram, the automatic switch to Retry
 * (retryThreshold, RFC 9000 §8.1.2) answers the flood, junk leaves no state, and memory stays bounded
 * (heap after a real GC, RSS). The simulator version is test/sim/initial-flood.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { after, test } from 'node:test';
import type { Endpoint } from '../../src/endpoint/endpoint.js';
import { dial, type QuicServer } from '../../src/index.js';
import { forgeInitial, junkInitial } from '../sim/forged-initials.js';
import { Prng } from '../sim/network.js';
import { collectGarbage } from '../support/memory.js';
import { clientOptions, echoServer, readAll, startServer, within } from './helpers.js';

const DATAGRAMS = 4_000;
const PER_TICK = 10; // every 10 ms: about 1,000 datagrams per second
const SOCKETS = 16;
const RETRY_THRESHOLD = 40;
const MAX_HALF_OPEN = 120;
const MiB = 1024 * 1024;

const servers: QuicServer[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** The JS heap plus ArrayBuffer memory (Node Buffers live outside the heap). */
function jsMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function flooders(n: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    s.on('message', () => {}); // the server's answers (handshake flights, Retries) are ignored
    s.on('error', () => {});
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    sockets.push(s);
    out.push(s);
  }
  return out;
}

/** One request on a fresh connection: 64 KiB echoed back, byte-exact. */
async function request(port: number): Promise<void> {
  const conn = await dial({ host: '127.0.0.1', port }, clientOptions());
  const body = randomBytes(64 * 1024);
  const st = await conn.openStream();
  st.end(body);
  const echoed = await readAll(st);
  assert.ok(echoed.equals(body), 'the echo is byte-exact');
  await conn.close();
}

test('Initial flood over real UDP: bounded half-open state and memory, Retry kicks in, a client connects', async () => {
  // 'hq-interop' is the ALPN of the ClientHello the flood reuses (forged-initials.ts).
  const s = await startServer({
    alpn: ['test', 'hq-interop'],
    retryThreshold: RETRY_THRESHOLD,
    maxHalfOpen: MAX_HALF_OPEN,
  });
  servers.push(s);
  echoServer(s);
  const port = s.address().port;
  const endpoint = (s as unknown as { driver: { endpoint: Endpoint } }).driver.endpoint;

  // The half-open table, observed after every datagram the server takes in.
  let maxHalfOpen = 0;
  let maxUnvalidated = 0;
  const receive = endpoint.receive.bind(endpoint);
  endpoint.receive = (datagram, from, now) => {
    receive(datagram, from, now);
    maxHalfOpen = Math.max(maxHalfOpen, endpoint.halfOpenCount);
    maxUnvalidated = Math.max(maxUnvalidated, endpoint.unvalidatedHalfOpenCount);
  };

  // Warm up (JIT, TLS, the client's caches) so the memory measured after is what the flood left.
  await request(port);
  const socks = await flooders(SOCKETS);
  // Build every datagram up front: the flood is then only sends.
  const prng = new Prng(1010);
  const flood: Uint8Array[] = [];
  for (let i = 0; i < DATAGRAMS; i++) {
    flood.push(i % 2 === 0 ? forgeInitial({ dcid: randomBytes(8), size: 1200 }) : junkInitial(prng, i));
  }
  collectGarbage();
  const heapBefore = jsMemory();
  const rssBefore = process.memoryUsage().rss;

  let sent = 0;
  let legit: Promise<void> | undefined;
  await within(
    new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let k = 0; k < PER_TICK && sent < DATAGRAMS; k++, sent++) {
          socks[sent % SOCKETS]!.send(flood[sent]!, port, '127.0.0.1');
        }
        // The legitimate client dials once a quarter of the flood is out.
        if (!legit && sent >= DATAGRAMS / 4) legit = request(port);
        if (sent >= DATAGRAMS) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    }),
    60_000,
    'the flood is sent',
  );
  assert.ok(legit);
  await within(legit, 30_000, 'the legitimate request completes during the flood');
  // Let the last datagrams of the flood reach the server.
  await new Promise((r) => setTimeout(r, 200));

  collectGarbage();
  const heapGrowth = jsMemory() - heapBefore;
  const rssGrowth = process.memoryUsage().rss - rssBefore;
  const stats = endpoint.acceptStats;
  console.log(
    `# flood: ${sent} datagrams, half-open max ${maxHalfOpen} (unvalidated ${maxUnvalidated}), ` +
      `retried ${stats.retried}, junk ${stats.notClientHello}, heap+buffers +${(heapGrowth / MiB).toFixed(2)} MiB, ` +
      `RSS +${(rssGrowth / MiB).toFixed(1)} MiB`,
  );
  // What may stay: RETRY_THRESHOLD half-open connections (~40 KiB each) until their handshake
  // timeout. Without the Retry switch MAX_HALF_OPEN of them stay; with state for every junk datagram
  // or ClientHello, far more.
  assert.ok(heapGrowth < 8 * MiB, `heap + buffers grew by ${(heapGrowth / MiB).toFixed(1)} MiB`);
  assert.ok(rssGrowth < 96 * MiB, `RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);
  // RFC 9000 §8.1.2: past the threshold, ClientHellos from unvalidated addresses get a Retry.
  assert.ok(maxUnvalidated <= RETRY_THRESHOLD, `unvalidated half-open reached ${maxUnvalidated}`);
  assert.ok(maxHalfOpen <= MAX_HALF_OPEN, `half-open reached ${maxHalfOpen}`);
  assert.ok(
    maxHalfOpen >= RETRY_THRESHOLD,
    `the flood did fill the table up to the threshold (${maxHalfOpen})`,
  );
  // Loopback may drop a few datagrams when the socket buffer is full: the counts are lower bounds.
  assert.ok(stats.retried >= DATAGRAMS / 4, `Retries sent: ${stats.retried}`);
  assert.ok(stats.notClientHello >= DATAGRAMS / 4, `junk dropped: ${stats.notClientHello}`);
  assert.equal(stats.halfOpenFull, 0, 'nobody was turned away for a full table');
});
