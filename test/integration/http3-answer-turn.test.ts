/**
 * Over real UDP: a request whose handler answers at once (its response ended while the I/O loop
 * drains the connection's events, as an HTTP/3 handler on the core's streams does) leaves in the
 * flush that read the request, not from a send turn one event-loop turn later. A handler that
 * answers later (in a promise continuation) still gets its answer into the first datagram after the
 * request, sent from the send turn: that is what the send turn is for.
 *
 * Observed from the handler: it notes the server connection's packets sent, answers, and looks again
 * from an immediate it queues then. That immediate runs in the next turn, before a send turn queued
 * by the same flush would; so the answer was sent by the flush that read the request exactly when
 * the count has grown by then. Counts, not times.
 *
 * And the answer's sendmsg happens inside that flush, not from a later tick (src/node/
 * literal-lookup.ts): the client socket's receive queue (/proc/net/udp) already holds it when a
 * tick the handler queued runs. Bytes in a kernel queue, not times.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Http3ServerResponse } from '../../src/http3/node/server-response.js';
import type { QuicConnection } from '../../src/node/quic-connection.js';
import { directH3Server } from './h3-direct-server.js';
import { within } from './helpers.js';

const REQUESTS = 20;

async function serve(answer: (res: Http3ServerResponse, url: string) => void) {
  let conn: QuicConnection | undefined;
  const s = await directH3Server({
    handler: (req, res) => answer(res, req.url),
    onConnection: (c, serveIt) => {
      conn = c;
      serveIt();
    },
  });
  return {
    sent: () => conn?.stats().packetsSent ?? 0,
    remotePort: () => conn?.remoteAddress.port ?? 0,
    async get(path: string) {
      const res = await within(s.client.fetch(`${s.base}${path}`), 10_000, `GET ${path}`);
      return res.text();
    },
    close: () => s.close(),
  };
}

test('a response ended during the drain goes out from the flush that read the request', async () => {
  const seen: boolean[] = [];
  const s = await serve((res, url) => {
    const before = s.sent();
    res.end(`ok ${url}`);
    setImmediate(() => seen.push(s.sent() > before));
  });
  try {
    for (let i = 0; i < REQUESTS; i++) assert.equal(await s.get(`/r${i}`), `ok /r${i}`);
  } finally {
    await s.close();
  }
  // The first request comes with the client's control and QPACK streams: the peer opening
  // unidirectional streams still gets a send turn (only request streams can be seen answered).
  assert.equal(seen.length, REQUESTS);
  assert.deepEqual(seen.slice(1), Array(REQUESTS - 1).fill(true));
});

test('a response ended in a later microtask is answered too (from the send turn)', async () => {
  const s = await serve((res, url) => {
    void Promise.resolve().then(() => res.end(`later ${url}`));
  });
  try {
    for (let i = 0; i < REQUESTS; i++) assert.equal(await s.get(`/r${i}`), `later /r${i}`);
  } finally {
    await s.close();
  }
});

test('an answer is in the client socket before the ticks its handler queued run', async () => {
  // Per request: the bytes waiting in the client's socket when the handler answered, and when a
  // tick the handler queued right after answering ran. On loopback a datagram is in the receiver's
  // queue as soon as sendmsg returns.
  const queued: Array<[number, number]> = [];
  let clientPort = 0;
  const s = await serve((res, url) => {
    clientPort ||= s.remotePort();
    const before = udpReceiveQueue(clientPort);
    res.end(`ok ${url}`);
    process.nextTick(() => queued.push([before, udpReceiveQueue(clientPort)]));
  });
  try {
    for (let i = 0; i < REQUESTS; i++) assert.equal(await s.get(`/r${i}`), `ok /r${i}`);
  } finally {
    await s.close();
  }
  assert.equal(queued.length, REQUESTS);
  // The first request comes with the client's unidirectional streams: its answer has a send turn.
  assert.deepEqual(
    queued.slice(1).map(([before, atTick]) => atTick > before),
    Array(REQUESTS - 1).fill(true),
  );
});

/** The rx_queue (bytes) of the IPv4 UDP socket bound to 127.0.0.1:`port`, from /proc/net/udp. */
function udpReceiveQueue(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) return Number.parseInt(f[4]!.split(':')[1]!, 16);
  }
  throw new Error(`no UDP socket on ${local}`);
}
