/**
 * A connection's `handshakeComplete` and `closed` promises are made when first read (issue 13: an
 * idle server connection whose application never reads them holds neither; src/node/lazy-outcome.ts).
 * Read late they settle as if read at once, and 'close' fires once, with the value `closed` resolves
 * to, before the reactions to `closed`.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type CloseReason, dial, type QuicConnection, type QuicServer } from '../../src/index.js';
import { clientOptions, readAll, serve, startServer, within } from './helpers.js';

const TIMEOUT = 10_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A server whose handler echoes streams and hands each connection to `onConn`. */
async function server(onConn: (conn: QuicConnection) => void): Promise<QuicServer> {
  const s = await startServer();
  servers.push(s);
  serve(s, async (conn) => {
    onConn(conn);
    for await (const st of conn) {
      st.on('error', () => {});
      st.pipe(st);
    }
  });
  return s;
}

async function dialAccepted(s: QuicServer): Promise<QuicConnection> {
  const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
  const st = await conn.openStream();
  st.end('hello');
  assert.equal((await within(readAll(st), TIMEOUT, 'echo')).toString(), 'hello');
  return conn;
}

test('read only after the close: handshakeComplete resolves, closed gives the reason the close event gave', async () => {
  let accepted: QuicConnection | undefined;
  const events: CloseReason[] = [];
  const s = await server((conn) => {
    accepted = conn;
    conn.on('close', (r: CloseReason) => events.push(r));
  });
  const client = await dialAccepted(s);
  await client.close(7, 'bye');
  await within(
    new Promise<void>((r) => {
      const t = setInterval(() => {
        if (events.length > 0) {
          clearInterval(t);
          r();
        }
      }, 5);
    }),
    TIMEOUT,
    "the server's close event",
  );
  const conn = accepted!;
  await within(conn.handshakeComplete, TIMEOUT, 'handshakeComplete read late');
  const reason = await within(conn.closed, TIMEOUT, 'closed read late');
  assert.equal(reason.source, 'remote');
  assert.equal(reason.errorCode, 7);
  assert.equal(reason.reason, 'bye');
  assert.equal(reason.application, true);
  assert.equal(events.length, 1);
  assert.equal(events[0], reason);
  assert.equal(await client.closed, await client.closed);
});

test("'close' fires once, before the reactions to closed registered earlier", async () => {
  const order: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const s = await server((conn) => {
    void conn.closed.then(() => {
      order.push('closed');
      done();
    });
    conn.on('close', () => order.push('close'));
  });
  const client = await dialAccepted(s);
  await client.close(0, 'done');
  await within(finished, TIMEOUT, 'server closed');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, ['close', 'closed']);
});
