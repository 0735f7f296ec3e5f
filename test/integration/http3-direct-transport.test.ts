/**
 * Over real UDP: the HTTP/3 server takes a connection's streams at the core level
 * (QuicConnection._takeStreams, src/http3/node/direct-transport.ts) rather than through stream
 * objects, when it can:
 * - peer streams that arrived before serveConnection() (queued for acceptStream(), not handed out)
 *   are taken over with what they carry: the requests on them are answered;
 * - a connection whose application holds a stream already is served over the stream objects
 *   (QuicH3Transport), and its requests are answered too;
 * - a connection served straight on the core creates no stream object per request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QuicConnection } from '../../src/node/quic-connection.js';
import { directH3Server } from './h3-direct-server.js';
import { within } from './helpers.js';

function h3Server(onConnection: (conn: QuicConnection, serve: () => void) => void) {
  return directH3Server({ onConnection });
}

/** The peer's bidirectional streams waiting for acceptStream() (internal state of QuicConnection). */
function queued(conn: QuicConnection): Array<{ id: number }> {
  return (conn as unknown as { incomingBidi: Array<{ id: number }> }).incomingBidi;
}

/** Resolves once `cond()` holds, looking once per event-loop turn (bounded by the caller). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

test('requests on streams the peer opened before serveConnection() are answered', async () => {
  let conn: QuicConnection | undefined;
  let serve: (() => void) | undefined;
  const s = await h3Server((c, sv) => {
    conn = c;
    serve = sv;
  });
  try {
    const res = s.client.fetch(`${s.base}/early-bird`);
    // The client's request stream (0) has arrived and waits in the acceptStream() queue.
    await within(
      until(() => conn !== undefined && queued(conn).some((q) => q.id === 0)),
      10_000,
      'request stream queued at the server',
    );
    serve!();
    const r = await within(res, 10_000, 'response');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'ok /early-bird');
  } finally {
    await s.close();
  }
});

test('a connection whose application holds a stream is served over stream objects', async () => {
  const held: Promise<unknown>[] = [];
  const s = await h3Server((conn, serve) => {
    held.push(
      conn.openUniStream().then((u) => {
        // An unknown stream type (RFC 9114 §6.2: the peer ignores it), held open.
        u.write(Buffer.from([0x21]));
        serve();
      }),
    );
  });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await within(s.client.fetch(`${s.base}/held${i}`), 10_000, `GET ${i}`);
      assert.equal(await r.text(), `ok /held${i}`);
    }
    await Promise.all(held);
  } finally {
    await s.close();
  }
});

test('served straight on the core: no stream object per request', async () => {
  let conn: QuicConnection | undefined;
  const s = await h3Server((c, serve) => {
    conn = c;
    serve();
  });
  try {
    for (let i = 0; i < 5; i++) {
      const r = await within(s.client.fetch(`${s.base}/r${i}`), 10_000, `GET ${i}`);
      assert.equal(await r.text(), `ok /r${i}`);
    }
    // Neither the requests nor the client's control and QPACK streams became stream objects.
    const streams = (conn as unknown as { streams: Map<number, unknown> }).streams;
    assert.equal(streams.size, 0);
  } finally {
    await s.close();
  }
});
