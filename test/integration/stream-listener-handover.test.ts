/**
 * A server application gets its connections from `for await (const conn of server)` or
 * `server.accept()`, in a microtask, and only then adds its 'stream' listener. A stream that arrived
 * in the same datagram that made the connection available (0-RTT requests beside the ClientHello, a
 * request beside a client's Finished) was opened before that: its 'stream' event waits for the next
 * check phase, so the listener still gets it. Found in session 30: the listener never heard of the
 * 0-RTT request, and the client waited for an answer that never came.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialEarly, type QuicConnection, type QuicServer, type QuicStream } from '../../src/index.js';
import { clientOptions, readAll, startServer, within } from './helpers.js';
import { cleanupZeroRtt, getTicket, TIMEOUT, TicketCache } from './zero-rtt-helpers.js';

/** Echoes every stream a 'stream' listener gets; records the stream IDs. */
function listenForStreams(conn: QuicConnection, seen: number[]): void {
  conn.on('stream', (s: QuicStream) => {
    seen.push(s.id);
    s.on('error', () => {});
    readAll(s).then(
      (b) => s.end(b),
      () => {},
    );
  });
}

async function earlyRequest(server: QuicServer): Promise<{ answer: string; used0RTT: boolean }> {
  const port = server.address().port;
  const cache = new TicketCache();
  await getTicket(port, cache, { alpn: ['test'] });
  const early = await dialEarly({ host: '127.0.0.1', port }, clientOptions({ sessionCache: cache }));
  try {
    const s = await early.openStream();
    s.end('early');
    const answer = (await within(readAll(s), TIMEOUT, 'the answer to the 0-RTT request')).toString();
    await within(early.handshakeComplete, TIMEOUT, 'handshake');
    return { answer, used0RTT: early.used0RTT };
  } finally {
    await early.close();
  }
}

test("a 'stream' listener added after `for await` hands out the connection gets the 0-RTT request", async (t) => {
  t.after(cleanupZeroRtt);
  const server = await startServer({ early: true, allow0RTT: true });
  const seen: number[][] = [];
  (async () => {
    for await (const conn of server) {
      const ids: number[] = [];
      seen.push(ids);
      listenForStreams(conn, ids);
    }
  })().catch(() => {});
  try {
    const r = await earlyRequest(server);
    assert.deepEqual(r, { answer: 'early', used0RTT: true });
    // The ticket's connection, then the 0-RTT one: stream 0 on each, seen by the listener.
    assert.deepEqual(seen, [[0], [0]]);
  } finally {
    await server.close();
  }
});

test('the same with `await server.accept()` and a listener added in a later microtask', async (t) => {
  t.after(cleanupZeroRtt);
  const server = await startServer({ early: true, allow0RTT: true });
  const seen: number[] = [];
  (async () => {
    for (;;) {
      const conn = await server.accept();
      await Promise.resolve();
      listenForStreams(conn, seen);
    }
  })().catch(() => {});
  try {
    const r = await earlyRequest(server);
    assert.deepEqual(r, { answer: 'early', used0RTT: true });
    assert.deepEqual(seen, [0, 0]);
  } finally {
    await server.close();
  }
});
