/**
 * Prompt failures and shutdowns (issue 11, item 7): a dial to a port where nothing listens fails at
 * once with ConnectionRefusedError (the ICMP port unreachable a connected socket reports), a failed
 * dial leaves nothing holding the process, `server.close()` closes the socket as soon as its
 * CONNECTION_CLOSE frames are out (it does not wait out the closing periods, RFC 9000 §10.2), and
 * `server.close({ drain: true })` lets accepted connections finish first.
 */
import assert from 'node:assert/strict';

import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Connection } from '../../src/connection/connection.js';
import type { Endpoint } from '../../src/endpoint/endpoint.js';
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  dial,
  dialEarly,
  type QuicConnection,
  type QuicServer,
} from '../../src/index.js';
import { runTsx } from '../support/child-process.js';
import { clientOptions, echoServer, readAll, startServer, testPki, within } from './helpers.js';

const TIMEOUT = 10_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** The core connection under a public one (to assert on its state). */
function coreOf(conn: QuicConnection): Connection {
  return (conn as unknown as { host: { core: Connection } }).host.core;
}

/** The core endpoint under a server (its closing and draining periods). */
function endpointOf(s: QuicServer): Endpoint {
  return (s as unknown as { driver: { endpoint: Endpoint } }).driver.endpoint;
}

/** Dial and make sure the server has accepted the connection (one echo round trip). */
async function dialAccepted(s: QuicServer): Promise<QuicConnection> {
  const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
  const st = await conn.openStream();
  st.end('hello');
  assert.equal((await within(readAll(st), TIMEOUT, 'first echo')).toString(), 'hello');
  return conn;
}

/** A UDP port on `host` where nothing listens (bound once, then released). */
async function closedPort(type: 'udp4' | 'udp6', host: string): Promise<number> {
  const s = createSocket(type);
  await new Promise<void>((r) => s.bind(0, host, r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

describe('dialling where nothing listens', () => {
  test('IPv4 and IPv6: ConnectionRefusedError (ERR_QUIC_CONNECTION_REFUSED), not a handshake timeout', async () => {
    for (const [type, host, target] of [
      ['udp4', '127.0.0.1', (p: number) => `127.0.0.1:${p}`],
      ['udp6', '::1', (p: number) => `[::1]:${p}`],
    ] as const) {
      const port = await closedPort(type, host);
      for (const fn of [dial, dialEarly]) {
        // A handshake timeout far beyond the test's bound: only the refusal can end the attempt in time.
        const attempt = fn(target(port), clientOptions({ handshakeTimeout: 600_000 }));
        const err = await within(
          attempt.then(
            () => undefined,
            (e: unknown) => e,
          ),
          TIMEOUT,
          `${fn.name} ${target(port)}`,
        );
        assert.ok(err instanceof ConnectionRefusedError, String(err));
        assert.equal(err.code, 'ERR_QUIC_CONNECTION_REFUSED');
        assert.match(err.message, /connection refused/);
      }
    }
  });
});

describe('nothing keeps the process alive after a connection ended', () => {
  test('refused dial, ALPN mismatch, conn.close(): no ref()ed socket left (in a child process)', async () => {
    const s = await startServer({ alpn: ['one'] });
    servers.push(s);
    echoServer(s);
    const refused = await closedPort('udp4', '127.0.0.1');
    const entry = pathToFileURL(join(import.meta.dirname, '../../src/index.ts')).href;
    const dir = mkdtempSync(join(tmpdir(), 'tsquic-closing-'));
    const qlogDir = join(dir, 'qlog');
    const script = join(dir, 'child.mts');
    writeFileSync(
      script,
      `import { dial } from ${JSON.stringify(entry)};
const ca = ${JSON.stringify(testPki().ca.certPem)};
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
const turn = () => new Promise((r) => setImmediate(r));
const out = {};
try { await dial('127.0.0.1:${refused}', { alpn: ['one'], ca }); } catch (e) { out.refused = [e.code, (await turn(), sockets())]; }
try { await dial('127.0.0.1:${s.address().port}', { alpn: ['two'], ca }); } catch (e) { out.alpn = [e.code, (await turn(), sockets())]; }
const conn = await dial('127.0.0.1:${s.address().port}', { alpn: ['one'], ca, qlogDir: ${JSON.stringify('QLOGDIR')} });
const during = sockets();
await conn.close();
await turn();
out.closed = [during, sockets()];
console.log(JSON.stringify(out));
`.replace('"QLOGDIR"', JSON.stringify(qlogDir)),
    );
    try {
      const run = await runTsx([script], { timeoutMs: 20_000 });
      const r = { code: run.code, out: run.stdout, err: run.stderr };
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(JSON.parse(r.out), {
        refused: ['ERR_QUIC_CONNECTION_REFUSED', 0],
        alpn: ['ERR_QUIC_HANDSHAKE_FAILED', 0],
        closed: [1, 0],
      });
      // The process exited during the closing period: its qlog still holds the CONNECTION_CLOSE it
      // sent (a server packet that crossed it may be logged after it).
      const [qlog] = readdirSync(qlogDir);
      assert.ok(qlog, 'a qlog file');
      const records = readFileSync(join(qlogDir, qlog), 'utf8')
        .split('\x1e')
        .filter((r) => r.trim());
      const sentClose = records.filter((r) => /packet_sent/.test(r) && /connection_close/.test(r));
      assert.ok(sentClose.length >= 1, `a CONNECTION_CLOSE sent in:\n${records.slice(-3).join('')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server.close()', () => {
  test('prompt: resolves once CONNECTION_CLOSE is sent, without waiting out closing or draining periods', async () => {
    const s = await startServer();
    const accepted: QuicConnection[] = [];
    s.on('connection', (c: QuicConnection) => accepted.push(c));
    echoServer(s);
    // One connection the client already closed (the server is draining it), one still open.
    const gone = await dialAccepted(s);
    const open = await dialAccepted(s);
    await gone.close();
    const goneReason = await within(accepted[0]!.closed, TIMEOUT, 'server side of the closed connection');
    assert.equal(goneReason.source, 'remote');
    // The periods are served by the endpoint once each CONNECTION_CLOSE is sent (closing-remnant.ts).
    const pto = Math.min(...accepted.map((c) => coreOf(c).ptoPeriod()));
    const closing = performance.now();
    assert.equal(endpointOf(s).remnantCount, 1, 'the draining period of the closed connection');
    await within(s.close(), TIMEOUT, 'server.close()');
    const took = performance.now() - closing;
    for (const c of accepted) assert.equal(coreOf(c).isClosed, true);
    assert.equal(endpointOf(s).remnantCount, 0);
    assert.ok(took < 3 * pto, `server.close() took ${took.toFixed(0)} ms: it waited out a period of 3 PTO`);
    // The open connection heard the server's CONNECTION_CLOSE.
    const reason = await within(open.closed, TIMEOUT, 'client sees the close');
    assert.equal(reason.source, 'remote');
    assert.ok(reason.error instanceof ConnectionClosedError);
    assert.equal(reason.reason, 'server closing');
  });

  test('drain: accepted connections keep working until they close; then the socket closes', async () => {
    const s = await startServer();
    echoServer(s);
    const conn = await dialAccepted(s);
    let closed = false;
    const closing = s.close({ drain: true }).then(() => {
      closed = true;
    });
    await assert.rejects(s.accept(), (e: NodeJS.ErrnoException) => e.code === 'ERR_QUIC_SERVER_CLOSED');
    // The accepted connection still serves streams while the server drains.
    const st = await conn.openStream();
    st.end('during drain');
    assert.equal((await within(readAll(st), TIMEOUT, 'echo during drain')).toString(), 'during drain');
    assert.equal(closed, false, 'server.close({ drain: true }) did not wait for the open connection');
    await conn.close();
    await within(closing, TIMEOUT, 'drained close');
  });

  test('drain with a timeout: connections still open then are closed', async () => {
    const s = await startServer();
    echoServer(s);
    const conn = await dialAccepted(s);
    await within(s.close({ drain: true, timeout: 50 }), TIMEOUT, 'close after the drain timeout');
    const reason = await within(conn.closed, TIMEOUT, 'client sees the close');
    assert.equal(reason.source, 'remote');
    assert.equal(reason.reason, 'server closing');
  });

  test('close() during a drain closes everything at once', async () => {
    const s = await startServer();
    echoServer(s);
    const conn = await dialAccepted(s);
    const draining = s.close({ drain: true });
    const forced = s.close();
    assert.equal(forced, draining, 'one close promise');
    await within(forced, TIMEOUT, 'forced close');
    assert.equal((await within(conn.closed, TIMEOUT, 'client close')).source, 'remote');
  });

  test('bad close options are typed errors', async () => {
    const s = await startServer();
    servers.push(s);
    assert.throws(
      () => s.close({ drain: 'yes' as unknown as boolean }),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_INVALID_ARG_TYPE',
    );
    assert.throws(
      () => s.close({ drain: true, timeout: -1 }),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_OUT_OF_RANGE',
    );
  });
});
