/**
 * connectAndRun (the client's and the demo's connection logic) and TicketWatch, in-process over
 * loopback: the handshake kinds, and the work repeated on nextConnection() after a 0-RTT rejection.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { connectAndRun, type HandshakeKind } from '../../src/cli/connect.js';
import { TicketWatch } from '../../src/cli/ticket-watch.js';
import {
  createTestPki,
  listenEarly,
  type QuicConnection,
  type QuicServer,
  SessionCache,
  ZeroRTTRejectedError,
} from '../../src/index.js';

const pki = createTestPki({ names: ['localhost'], now: Date.now() });
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** An echo server whose 0-RTT policy is read at each attempt. */
async function echoServer(policy: { allow: boolean }): Promise<number> {
  const server = await listenEarly({
    host: '127.0.0.1',
    port: 0,
    cert: pki.leaf.certPem,
    key: pki.leaf.keyPem,
    alpn: ['echo'],
    allow0RTT: () => policy.allow,
  });
  servers.push(server);
  void (async () => {
    for await (const conn of server) {
      void (async () => {
        for await (const s of conn) {
          s.on('error', () => {});
          s.pipe(s);
        }
      })();
    }
  })();
  return server.address().port;
}

async function echo(conn: QuicConnection, text: string): Promise<string> {
  const s = await conn.openStream();
  s.end(Buffer.from(text));
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('connectAndRun', () => {
  test('full, resumed, 0-RTT accepted, 0-RTT rejected (work repeated on the next connection)', async () => {
    const policy = { allow: true };
    const port = await echoServer(policy);
    const cache = new SessionCache();
    const target = { host: '127.0.0.1', port };

    const attempt = async (early: boolean) => {
      const watch = new TicketWatch(cache);
      const runs: Array<{ conn: QuicConnection; error?: unknown }> = [];
      const verdicts: Array<{ kind: HandshakeKind; err: unknown }> = [];
      const r = await connectAndRun(
        target,
        { alpn: ['echo'], ca: pki.ca.certPem, serverName: 'localhost', sessionCache: watch },
        early,
        async (conn) => {
          const run: { conn: QuicConnection; error?: unknown } = { conn };
          runs.push(run);
          try {
            return await echo(conn, `run ${runs.length}`);
          } catch (err) {
            run.error = err;
            throw err;
          }
        },
        { onHandshake: (kind, err) => verdicts.push({ kind, err }) },
      );
      assert.equal(await watch.waitForTicket(2000), true, 'a ticket arrives after the handshake');
      assert.ok(watch.ticketsReceived >= 1);
      await r.conn.close();
      return { r, runs, verdicts };
    };

    const full = await attempt(false);
    assert.equal(full.r.kind, 'full');
    assert.equal(full.r.result, 'run 1');
    assert.deepEqual(full.verdicts, [{ kind: 'full', err: undefined }]);

    const resumed = await attempt(false);
    assert.equal(resumed.r.kind, 'resumed');

    const accepted = await attempt(true);
    assert.equal(accepted.r.kind, '0-RTT accepted');
    assert.equal(accepted.runs.length, 1, 'nothing repeated');
    assert.equal(accepted.r.conn, accepted.runs[0]!.conn);
    assert.equal(accepted.r.conn.used0RTT, true);

    policy.allow = false;
    const rejected = await attempt(true);
    assert.equal(rejected.r.kind, '0-RTT rejected');
    assert.equal(rejected.runs.length, 2, 'the work ran again');
    assert.ok(rejected.runs[0]!.error instanceof ZeroRTTRejectedError, 'first run failed with the rejection');
    assert.notEqual(rejected.runs[1]!.conn, rejected.runs[0]!.conn, 'second run on nextConnection()');
    assert.equal(rejected.r.conn, rejected.runs[1]!.conn);
    assert.equal(rejected.r.result, 'run 2');
    assert.equal(rejected.verdicts.length, 1);
    assert.equal(rejected.verdicts[0]!.kind, '0-RTT rejected');
    assert.ok(rejected.verdicts[0]!.err instanceof ZeroRTTRejectedError);

    // --0rtt without a ticket: dialEarly behaves like dial.
    const fresh = new SessionCache();
    const r = await connectAndRun(
      target,
      { alpn: ['echo'], ca: pki.ca.certPem, serverName: 'localhost', sessionCache: fresh },
      true,
      (conn) => echo(conn, 'no ticket'),
    );
    assert.equal(r.kind, 'full');
    assert.equal(r.result, 'no ticket');
    await r.conn.close();
  });

  test('a failing work closes the connection and rejects with its error', async () => {
    const port = await echoServer({ allow: true });
    let seen: QuicConnection | undefined;
    const boom = new Error('boom');
    await assert.rejects(
      connectAndRun(
        { host: '127.0.0.1', port },
        { alpn: ['echo'], ca: pki.ca.certPem, serverName: 'localhost' },
        false,
        async (c) => {
          seen = c;
          throw boom;
        },
      ),
      (e: unknown) => e === boom,
    );
    const reason = await seen!.closed;
    assert.equal(reason.source, 'local');
    assert.equal(reason.errorCode, 0);
  });
});

describe('TicketWatch', () => {
  test('delegates to the cache and reports a ticket or a timeout', async () => {
    const cache = new SessionCache();
    const watch = new TicketWatch(cache);
    assert.equal(await watch.waitForTicket(10), false);
    watch.saveToken('h:1', new Uint8Array([1, 2, 3]));
    assert.deepEqual(cache.takeToken('h:1'), new Uint8Array([1, 2, 3]));
    assert.equal(watch.takeSession('nobody', Date.now()), undefined);
    assert.equal(watch.ticketsReceived, 0);
  });
});
