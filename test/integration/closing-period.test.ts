/**
 * Issue 16: the closing period in a long-running process keeps RFC 9000 §10.2 behaviour, although
 * the socket no longer keeps the process alive once CONNECTION_CLOSE is sent: while it lasts, the
 * closing connection answers what the peer still sends with CONNECTION_CLOSE (§10.2.1), and the
 * connection ends only after 3 PTO.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { Endpoint } from '../../src/endpoint/endpoint.js';
import { dial, type QuicConnection } from '../../src/index.js';
import { FaultProxy } from '../fault/fault-proxy.js';
import { collectGarbage } from '../support/memory.js';
import { clientOptions, echoServer, serve, startServer, within } from './helpers.js';

function coreOf(conn: QuicConnection): Connection {
  return (conn as unknown as { host: { core: Connection } }).host.core;
}

/** The core endpoint of a dialled connection's own socket. */
function endpointOf(conn: QuicConnection): Endpoint {
  return (conn as unknown as { host: { driver: { endpoint: Endpoint } } }).host.driver.endpoint;
}

test('a closing client keeps answering with CONNECTION_CLOSE for 3 PTO, then ends', {
  timeout: 60_000,
}, async () => {
  const server = await startServer();
  // The server streams until its connection closes.
  serve(server, async (conn) => {
    for await (const s of conn) {
      s.on('error', () => {});
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (!s.destroyed && s.write(chunk)) {
          // fill the send buffer
        }
      };
      s.on('drain', pump);
      pump();
    }
  });
  const proxy = await FaultProxy.start({
    target: { host: '127.0.0.1', port: server.address().port },
    up: { delay: 20 },
    down: { delay: 20 },
  });
  try {
    const conn = await dial({ host: '127.0.0.1', port: proxy.port }, clientOptions());
    const st = await conn.openStream();
    st.on('error', () => {});
    st.write(Buffer.from('go'));
    let received = 0;
    await within(
      new Promise<void>((resolve) => {
        st.on('data', (d: Buffer) => {
          received += d.length;
          if (received > 256 * 1024) resolve();
        });
      }),
      20_000,
      'the download under way',
    );
    // From now on nothing the client sends reaches the server: it keeps sending (data, then probes)
    // as if the client were still there.
    proxy.set('up', { delay: 20, loss: 1 });
    const core = coreOf(conn);
    const sentBefore = proxy.stats('up').sent;
    const closedAt = performance.now();
    await conn.close();
    assert.ok(core.isClosed);
    const pto = core.ptoPeriod();
    // Once its CONNECTION_CLOSE is sent, the connection leaves the period to its endpoint
    // (closing-remnant.ts), which keeps answering and keeps the socket open until the period ends.
    const endpoint = endpointOf(conn);
    await within(
      (async () => {
        while (!core.isTerminated || endpoint.remnantCount > 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      30_000,
      'the end of the closing period',
    );
    const lasted = performance.now() - closedAt;
    const closesSent = proxy.stats('up').sent - sentBefore;
    // RFC 9000 §10.2.1: the CONNECTION_CLOSE is sent again in answer to packets that keep arriving.
    assert.ok(closesSent >= 2, `${closesSent} datagrams (CONNECTION_CLOSE) sent during the closing period`);
    // RFC 9000 §10.2: the closing state lasts three times the PTO.
    assert.ok(lasted >= 3 * pto * 0.9, `closing lasted ${lasted.toFixed(0)} ms, PTO ${pto.toFixed(0)} ms`);
  } finally {
    proxy.close();
    await server.close();
  }
});

test('during the closing period the connection itself is gone: only its remnant stays (issue 13)', {
  timeout: 60_000,
}, async () => {
  const server = await startServer();
  echoServer(server);
  try {
    // Everything that refers to the connection stays in this function: what outlives it is what
    // the library keeps.
    const closeOne = async (): Promise<{ core: WeakRef<Connection>; endpoint: Endpoint }> => {
      const conn = await dial({ host: '127.0.0.1', port: server.address().port }, clientOptions());
      const st = await conn.openStream();
      st.end(Buffer.from('ping'));
      for await (const _ of st) {
        // drain the echo
      }
      await conn.close();
      return { core: new WeakRef(coreOf(conn)), endpoint: endpointOf(conn) };
    };
    const { core, endpoint } = await closeOne();
    // Let the close go out and the shell see the connection end.
    await within(
      (async () => {
        while (endpoint.remnantCount === 0) await new Promise((r) => setTimeout(r, 1));
      })(),
      10_000,
      'the remnant',
    );
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    assert.equal(endpoint.remnantCount, 1, 'still within the closing period');
    assert.equal(core.deref(), undefined, 'the closed connection was collected');
  } finally {
    await server.close();
  }
});
