/**
 * What an idle connection does not hold until it is used (issue 13, idle memory), used late:
 * - `handshakeComplete` and `closed` are made when first read (src/node/lazy-outcome.ts). Read late
 *   they settle as if read at once, and 'close' fires once, with the value `closed` resolves to,
 *   before the reactions to `closed`.
 * - the stream map and the accept queues are made with the first stream: streams opened after the
 *   connection sat idle reach the loops and acceptStream() calls that waited all along.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type CloseReason, dial, type QuicConnection, type QuicServer } from '../../src/index.js';
import { clientOptions, readAll, serve, startServer, within } from './helpers.js';

const TIMEOUT = 10_000;

/** Resolves once the server's connection callback has run (`get` returns what it stored). */
function acceptedBy(get: () => QuicConnection | undefined): Promise<void> {
  return within(
    new Promise<void>((r) => {
      const t = setInterval(() => {
        if (get()) {
          clearInterval(t);
          r();
        }
      }, 5);
    }),
    TIMEOUT,
    'accepted',
  );
}
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

test('streams opened after the connection sat idle reach a waiting for-await loop and acceptStream()', async () => {
  let accepted: QuicConnection | undefined;
  const s = await startServer();
  servers.push(s);
  const echoed: string[] = [];
  serve(s, async (conn) => {
    accepted = conn;
    for await (const st of conn) {
      st.on('error', () => {});
      echoed.push('loop');
      st.pipe(st);
    }
  });
  const client = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
  await acceptedBy(() => accepted);
  // Idle for a while: nothing sent either way.
  await new Promise((r) => setTimeout(r, 200));
  for (const text of ['one', 'two']) {
    const st = await client.openStream();
    st.end(text);
    assert.equal((await within(readAll(st), TIMEOUT, `echo ${text}`)).toString(), text);
  }
  assert.deepEqual(echoed, ['loop', 'loop']);
  // The server opens one late too: the client, idle since, accepts it.
  const waiting = client.acceptStream();
  const fromServer = await accepted!.openStream();
  fromServer.end('late');
  const got = await within(waiting, TIMEOUT, 'client acceptStream');
  assert.equal((await within(readAll(got), TIMEOUT, 'server stream')).toString(), 'late');
  await client.close();
});

test('the datagram channel, made on first use: late on an idle connection it works; after the close it is ended', async () => {
  let accepted: QuicConnection | undefined;
  const s = await startServer({ maxDatagramFrameSize: 65535 });
  servers.push(s);
  serve(s, (conn) => {
    accepted = conn;
  });
  const client = await dial(
    { host: '127.0.0.1', port: s.address().port },
    clientOptions({ maxDatagramFrameSize: 65535 }),
  );
  await acceptedBy(() => accepted);
  await new Promise((r) => setTimeout(r, 100));
  // The first datagram reaches a connection that has not touched datagrams yet: held for its loop.
  assert.equal(client.sendDatagram(Buffer.from('late')), true);
  const it = accepted!.datagrams();
  const first = await within(it.next(), TIMEOUT, 'first datagram');
  assert.equal(Buffer.from(first.value as Buffer).toString(), 'late');
  await client.close();
  // A connection that never touched datagrams, closed: its channel, first used now, is ended at
  // once: its loop finishes instead of waiting forever.
  const other = await dial(
    { host: '127.0.0.1', port: s.address().port },
    clientOptions({ maxDatagramFrameSize: 65535 }),
  );
  await other.close();
  const done = await within(other.datagrams().next(), TIMEOUT, 'datagrams() after close');
  assert.equal(done.done, true);
  assert.equal(other.sendDatagram(Buffer.from('x')), false);
});
