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
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, createServer } from '../../src/http3/index.js';
import type { Http3ServerResponse } from '../../src/http3/node/server-response.js';
import { listenEarly } from '../../src/node/api.js';
import type { QuicConnection } from '../../src/node/quic-connection.js';
import { testPki, within } from './helpers.js';

const REQUESTS = 20;

async function serve(answer: (res: Http3ServerResponse, url: string) => void) {
  const pki = testPki();
  const h3 = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, (req, res) =>
    answer(res, req.url),
  );
  const quic = await listenEarly({
    host: '127.0.0.1',
    port: 0,
    cert: pki.leaf.certPem,
    key: pki.leaf.keyPem,
    alpn: ['h3'],
  });
  let conn: QuicConnection | undefined;
  quic.on('connection', (c: QuicConnection) => {
    conn = c;
    h3.serveConnection(c, quic.address());
  });
  const client = new Client({ ca: pki.ca.certPem });
  const base = `https://localhost:${quic.address().port}`;
  return {
    sent: () => conn?.stats().packetsSent ?? 0,
    async get(path: string) {
      const res = await within(client.fetch(`${base}${path}`), 10_000, `GET ${path}`);
      return res.text();
    },
    async close() {
      await client.close();
      await h3.close();
      await quic.close();
    },
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
