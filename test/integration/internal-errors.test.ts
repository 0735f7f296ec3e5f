/**
 * No swallowed errors (issue 15): a bug caught while a packet is processed closes the connection with
 * INTERNAL_ERROR, tells the peer only "internal error", and reaches the application (as the `cause` of
 * the close error) and the qlog; socket errors are published on a diagnostics channel; a failing
 * hq-interop request handler is reported.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { serveHq } from '../../src/hq/hq-server.js';
import {
  type CloseReason,
  ConnectionClosedError,
  ConnectionRefusedError,
  diagnosticsChannels,
  dial,
  type QuicConnection,
  type QuicServer,
  type SocketErrorMessage,
} from '../../src/index.js';
import { clientOptions, readAll, startServer, within } from './helpers.js';

const TIMEOUT = 10_000;
const servers: QuicServer[] = [];
const dirs: string[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function coreOf(conn: QuicConnection): Connection {
  return (conn as unknown as { host: { core: Connection } }).host.core;
}

test('a bug closes the connection with INTERNAL_ERROR; the peer learns no details, the application and qlog do', async () => {
  const qlogDir = mkdtempSync(join(tmpdir(), 'tsquic-internal-'));
  dirs.push(qlogDir);
  const s = await startServer();
  servers.push(s);
  const serverClosed = new Promise<CloseReason>((resolve) => {
    void (async () => {
      for await (const conn of s) {
        void conn.closed.then(resolve);
        for await (const st of conn) {
          st.on('error', () => {});
          st.pipe(st);
        }
      }
    })();
  });
  const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions({ qlogDir }));
  const st = await conn.openStream();
  st.on('error', () => {});
  st.write('first');
  // From now on the client trips over a "bug" on every packet it processes.
  const bug = new Error('bug at /home/secret/path');
  coreOf(conn).spaces[2].acks.onPacketReceived = () => {
    throw bug;
  };
  st.end(' and more');
  const clientReason = await within(conn.closed, TIMEOUT, 'client close');
  assert.equal(clientReason.source, 'local');
  assert.equal(clientReason.errorCode, 0x1);
  assert.ok(clientReason.error instanceof ConnectionClosedError);
  assert.equal(clientReason.error.cause, bug, 'the application gets the bug itself');
  assert.equal(clientReason.reason, 'internal error');

  const serverReason = await within(serverClosed, TIMEOUT, 'server close');
  assert.equal(serverReason.source, 'remote');
  assert.equal(serverReason.errorCode, 0x1);
  assert.equal(serverReason.reason, 'internal error', 'the peer sees no internal details');

  // The client's qlog records the bug with its stack once the connection is gone.
  const deadline = performance.now() + TIMEOUT;
  let closedEvent:
    | { data: { internal_error?: string; trigger?: string; connection_code?: number } }
    | undefined;
  while (!closedEvent && performance.now() < deadline) {
    for (const f of readdirSync(qlogDir).filter((n) => n.endsWith('_client.sqlog'))) {
      for (const rec of readFileSync(join(qlogDir, f), 'utf8').split('\x1e')) {
        if (rec.includes('connectivity:connection_closed')) closedEvent = JSON.parse(rec);
      }
    }
    if (!closedEvent) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(closedEvent, 'a connection_closed event in the client qlog');
  assert.equal(closedEvent.data.trigger, 'internal_error');
  assert.equal(closedEvent.data.connection_code, 0x1);
  assert.match(closedEvent.data.internal_error ?? '', /bug at \/home\/secret\/path/);
});

test('socket errors are published on tsquic:socket:error, not swallowed', async () => {
  // A port where nothing listens: the connected client socket gets ICMP port unreachable (ECONNREFUSED).
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise<void>((r) => probe.close(r));
  const seen: SocketErrorMessage[] = [];
  const onMessage = (m: unknown) => seen.push(m as SocketErrorMessage);
  subscribe(diagnosticsChannels.socketError, onMessage);
  try {
    await assert.rejects(
      within(dial({ host: '127.0.0.1', port }, clientOptions()), TIMEOUT, 'dial'),
      ConnectionRefusedError,
    );
  } finally {
    unsubscribe(diagnosticsChannels.socketError, onMessage);
  }
  assert.ok(seen.length >= 1, 'at least one socket error published');
  assert.equal(seen[0]?.error.code, 'ECONNREFUSED');
  assert.equal(seen[0]?.localAddress.address, '127.0.0.1');
});

test('a failing hq-interop request handler is reported, not swallowed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tsquic-hq-'));
  dirs.push(root);
  writeFileSync(join(root, 'a.txt'), 'hello');
  const s = await startServer({ alpn: ['hq-interop'] });
  servers.push(s);
  const reported: unknown[] = [];
  const failure = new Error('handler bug');
  void (async () => {
    for await (const conn of s) {
      void serveHq(conn, {
        root,
        onRequest: () => {
          throw failure;
        },
        onError: (err) => reported.push(err),
      });
    }
  })();
  const conn = await dial(
    { host: '127.0.0.1', port: s.address().port },
    clientOptions({ alpn: ['hq-interop'] }),
  );
  const st = await conn.openStream();
  st.on('error', () => {});
  st.end('GET /a.txt\r\n');
  await within(
    readAll(st).catch(() => Buffer.alloc(0)),
    TIMEOUT,
    'response',
  );
  const deadline = performance.now() + TIMEOUT;
  while (reported.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(reported, [failure]);
  await conn.close();
});
