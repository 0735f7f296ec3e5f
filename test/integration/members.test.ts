/**
 * The connection members users reach for (issue 11, "Should fix"): ALPN and resumption on the server
 * during 0-RTT, getPeerCertificate() shaped like node:tls, localAddress, a printable remoteAddress,
 * the 'session', 'close' and 'stream' events, stats(), diagnostics_channel lifecycle messages, and
 * IPv6 targets that need brackets.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, describe, test } from 'node:test';
import {
  type CloseReason,
  type ConnectionStats,
  diagnosticsChannels,
  dial,
  dialEarly,
  type QuicConnection,
  type QuicServer,
  type ResumptionSession,
  SessionCache,
  SocketAddress,
} from '../../src/index.js';
import { clientOptions, echoServer, readAll, startServer, testPki, within } from './helpers.js';

const TIMEOUT = 10_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(opts: Parameters<typeof startServer>[0] = {}): Promise<QuicServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

function target(s: QuicServer) {
  return { host: '127.0.0.1', port: s.address().port };
}

async function echo(conn: QuicConnection, text: string): Promise<string> {
  const st = await conn.openStream();
  st.end(text);
  return (await within(readAll(st), TIMEOUT, 'echo')).toString();
}

/** A session cache whose tickets can be awaited. */
class TicketCache extends SessionCache {
  private waiters: Array<() => void> = [];
  override saveSession(session: ResumptionSession): void {
    super.saveSession(session);
    for (const w of this.waiters.splice(0)) w();
  }
  whenTicket(): Promise<void> {
    return this.size > 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

describe('server side during 0-RTT', () => {
  test('conn.alpn and conn.resumed are known when listenEarly hands out the connection', async () => {
    const s = await server({ early: true, allow0RTT: true, alpn: ['other', 'test'] });
    const seen: Array<{ alpn: string | undefined; resumed: boolean; used0RTT: boolean; complete: boolean }> =
      [];
    s.on('connection', (conn: QuicConnection) => {
      let complete = false;
      conn.handshakeComplete.then(
        () => {
          complete = true;
        },
        () => {},
      );
      seen.push({ alpn: conn.alpn, resumed: conn.resumed, used0RTT: conn.used0RTT, complete });
    });
    echoServer(s);
    const cache = new TicketCache();
    const first = await dial(target(s), clientOptions({ sessionCache: cache }));
    await within(cache.whenTicket(), TIMEOUT, 'ticket');
    await first.close();
    const early = await dialEarly(target(s), clientOptions({ sessionCache: cache }));
    assert.equal(await echo(early, '0-RTT'), '0-RTT');
    assert.equal(early.used0RTT, true);
    assert.deepEqual(seen, [
      { alpn: 'test', resumed: false, used0RTT: false, complete: false },
      { alpn: 'test', resumed: true, used0RTT: true, complete: false },
    ]);
    await early.close();
  });
});

describe('connection members', () => {
  test('getPeerCertificate() is shaped like node:tls, with the chain when detailed', async () => {
    const p = testPki();
    // The server sends its chain: leaf, then the CA.
    const s = await server({ cert: p.leaf.certPem + p.ca.certPem });
    const accepted = new Promise<QuicConnection>((resolve) => s.once('connection', resolve));
    echoServer(s);
    const conn = await dial(target(s), clientOptions());
    const leaf = new X509Certificate(p.leaf.certPem);
    const ca = new X509Certificate(p.ca.certPem);
    const cert = conn.getPeerCertificate();
    assert.equal(cert.subject.CN, 'localhost');
    assert.equal(cert.issuer.CN, 'tsquic test CA');
    assert.match(cert.subjectaltname ?? '', /DNS:localhost/);
    assert.equal(cert.fingerprint256, leaf.fingerprint256);
    assert.equal(cert.valid_to, leaf.validTo);
    assert.deepEqual(cert.raw, leaf.raw);
    const detailed = conn.getPeerCertificate(true);
    assert.ok('issuerCertificate' in detailed);
    assert.equal(detailed.issuerCertificate.fingerprint256, ca.fingerprint256);
    assert.equal(
      detailed.issuerCertificate.issuerCertificate,
      detailed.issuerCertificate,
      'self-signed root',
    );
    // No client certificates in tsquic: the server sees none.
    assert.deepEqual((await within(accepted, TIMEOUT, 'accept')).getPeerCertificate(), {});
    await conn.close();
  });

  test('localAddress, and a remoteAddress that prints as host:port (IPv4 and IPv6)', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const s = await server({ host });
      const accepted = new Promise<QuicConnection>((resolve) => s.once('connection', resolve));
      echoServer(s);
      const port = s.address().port;
      const conn = await dial({ host, port }, clientOptions());
      const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      assert.ok(conn.remoteAddress instanceof SocketAddress);
      assert.equal(`${conn.remoteAddress}`, shown);
      assert.equal(String(s.address()), shown);
      assert.deepEqual(JSON.parse(JSON.stringify(conn.remoteAddress)), {
        address: host,
        port,
        family: host.includes(':') ? 'IPv6' : 'IPv4',
      });
      const local = conn.localAddress;
      assert.ok(local.port > 0 && local.port !== port);
      const sc = await within(accepted, TIMEOUT, 'accept');
      assert.equal(sc.localAddress.port, port);
      assert.equal(sc.remoteAddress.port, local.port);
      await conn.close();
    }
  });

  test("'session' fires when a ticket arrives, after the session cache has it", async () => {
    const s = await server();
    echoServer(s);
    const cache = new SessionCache();
    const conn = await dial(target(s), clientOptions({ sessionCache: cache }));
    const session = await within(
      new Promise<{ session: ResumptionSession; stored: number }>((resolve) =>
        conn.once('session', (session: ResumptionSession) => resolve({ session, stored: cache.size })),
      ),
      TIMEOUT,
      'session event',
    );
    assert.equal(session.stored, 1);
    assert.equal(session.session.alpn, 'test');
    assert.equal(session.session.serverName, '127.0.0.1');
    await conn.close();
  });

  test("'close' fires on both sides with how the connection ended", async () => {
    const s = await server();
    const accepted = new Promise<QuicConnection>((resolve) => s.once('connection', resolve));
    echoServer(s);
    const conn = await dial(target(s), clientOptions());
    const sc = await within(accepted, TIMEOUT, 'accept');
    const serverClose = new Promise<CloseReason>((resolve) => sc.once('close', resolve));
    const clientClose = new Promise<CloseReason>((resolve) => conn.once('close', resolve));
    await conn.close(7, 'done');
    assert.deepEqual(
      { ...(await within(clientClose, TIMEOUT, 'client close')), error: undefined },
      { source: 'local', errorCode: 7, reason: 'done', application: true, error: undefined },
    );
    const r = await within(serverClose, TIMEOUT, 'server close');
    assert.equal(r.source, 'remote');
    assert.equal(r.errorCode, 7);
  });

  test('stats(): every counter and estimate, moving with the traffic', async () => {
    const s = await server();
    echoServer(s);
    const conn = await dial(target(s), clientOptions());
    const before = conn.stats();
    assert.deepEqual(Object.keys(before).sort(), [
      'bytesInFlight',
      'bytesLost',
      'bytesReceived',
      'bytesSent',
      'congestionWindow',
      'keyUpdates',
      'latestRtt',
      'minRtt',
      'packetsLost',
      'packetsReceived',
      'packetsSent',
      'rttVariance',
      'sendBufferedBytes',
      'smoothedRtt',
    ]);
    const data = 'x'.repeat(256 * 1024);
    assert.equal((await echo(conn, data)).length, data.length);
    const after = conn.stats() satisfies ConnectionStats;
    assert.ok(after.bytesSent - before.bytesSent > data.length);
    assert.ok(after.bytesReceived - before.bytesReceived > data.length);
    assert.ok(after.packetsSent > before.packetsSent && after.packetsReceived > before.packetsReceived);
    assert.ok(after.latestRtt > 0 && after.minRtt > 0 && after.smoothedRtt > 0);
    assert.ok(after.minRtt <= after.latestRtt);
    assert.ok(after.congestionWindow > 0);
    assert.ok(after.packetsLost >= 0 && after.bytesLost >= 0 && after.bytesInFlight >= 0);
    await conn.close();
  });

  test('diagnostics_channel: start, handshake and close messages for each connection', async () => {
    const s = await server();
    echoServer(s);
    const messages: Array<{
      channel: string;
      id: number;
      role: string;
      connection?: unknown;
      reason?: CloseReason;
    }> = [];
    const record = (message: unknown, name: string | symbol) =>
      messages.push({ channel: String(name), ...(message as { id: number; role: string }) });
    for (const name of Object.values(diagnosticsChannels)) subscribe(name, record);
    try {
      const conn = await dial(target(s), clientOptions());
      await echo(conn, 'hi');
      await conn.close();
      await within(
        (async () => {
          const closedBoth = () => {
            const serverId = messages.find(
              (m) => m.role === 'server' && m.channel === diagnosticsChannels.start,
            )?.id;
            const closes = messages.filter((m) => m.channel === diagnosticsChannels.close);
            return closes.some((m) => m.role === 'client') && closes.some((m) => m.id === serverId);
          };
          while (!closedBoth()) await new Promise((r) => setTimeout(r, 5));
        })(),
        TIMEOUT,
        'close messages',
      );
      const client = messages.filter((m) => m.role === 'client');
      assert.deepEqual(
        client.map((m) => m.channel),
        [diagnosticsChannels.start, diagnosticsChannels.handshake, diagnosticsChannels.close],
      );
      assert.ok(client.every((m) => m.id === client[0]!.id));
      assert.equal(client[1]!.connection, conn);
      assert.equal(client[2]!.reason?.source, 'local');
      // (Connections of earlier tests may close meanwhile: follow the one that started here.)
      const serverId = messages.find(
        (m) => m.role === 'server' && m.channel === diagnosticsChannels.start,
      )?.id;
      const server = messages.filter((m) => m.role === 'server' && m.id === serverId);
      assert.deepEqual(
        server.map((m) => m.channel),
        [diagnosticsChannels.start, diagnosticsChannels.handshake, diagnosticsChannels.close],
      );
      assert.equal(server[2]!.reason?.source, 'remote');
    } finally {
      for (const name of Object.values(diagnosticsChannels)) unsubscribe(name, record);
    }
  });
});

describe('dial targets', () => {
  test('an IPv6 address with a port needs brackets: "::1:4433" is refused, not read as host ::1', async () => {
    for (const bad of [
      '::1:4433',
      '2001:db8::1:443',
      'localhost:abc',
      'localhost:',
      ':4433',
      'localhost:0',
      '[::1]:70000',
      '[nope]:4433',
    ]) {
      await assert.rejects(
        dial(bad, clientOptions()),
        (e: NodeJS.ErrnoException) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE',
        bad,
      );
    }
    await assert.rejects(dial('::1:4433', clientOptions()), /\[::1\]:4433/);
    await assert.rejects(
      dial(42 as unknown as string, clientOptions()),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_INVALID_ARG_TYPE',
    );
  });
});
