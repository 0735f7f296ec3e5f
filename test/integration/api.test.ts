/**
 * The public API over real UDP on loopback: streams as Node streams, errors, lifecycle.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import {
  AbortError,
  ConnectionClosedError,
  dial,
  HandshakeError,
  IdleTimeoutError,
  QuicEndpoint,
  QuicError,
  type QuicServer,
  StreamResetError,
} from '../../src/index.js';
import { createTestPki } from '../../src/tls/x509-builder.js';
import { collectGarbage } from '../support/memory.js';
import { clientOptions, echoServer, readAll, serve, startServer, testPki, within } from './helpers.js';

const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

describe('streams', () => {
  test('echo on 50 concurrent streams, byte-exact', async () => {
    const s = await server();
    echoServer(s);
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    assert.equal(conn.alpn, 'test');
    const payloads = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i * 997));
    const results = await within(
      Promise.all(
        payloads.map(async (p) => {
          const st = await conn.openStream();
          st.end(p);
          return readAll(st);
        }),
      ),
      20_000,
      'echo',
    );
    for (let i = 0; i < payloads.length; i++) assert.ok(results[i]!.equals(payloads[i]!), `stream ${i}`);
    await conn.close();
  });

  test('stream.pipeline of 20 MiB through an echo, with backpressure', async () => {
    const s = await server();
    echoServer(s);
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    const st = await conn.openStream();
    const total = 20 * 1024 * 1024;
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        const n = Math.min(64 * 1024, total - produced);
        const chunk = Buffer.alloc(n);
        for (let i = 0; i < n; i++) chunk[i] = (produced + i) % 251;
        produced += n;
        this.push(chunk);
      },
    });
    let received = 0;
    let mismatch = -1;
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (let i = 0; i < chunk.length && mismatch < 0; i++) {
          if (chunk[i] !== (received + i) % 251) mismatch = received + i;
        }
        received += chunk.length;
        cb();
      },
    });
    await within(Promise.all([pipeline(source, st), pipeline(st, sink)]), 60_000, 'pipeline');
    assert.equal(received, total);
    assert.equal(mismatch, -1);
    await conn.close();
  });

  test('unidirectional streams both ways', async () => {
    const s = await server();
    serve(s, async (conn) => {
      const incoming = await conn.acceptUniStream();
      const data = await readAll(incoming);
      const out = await conn.openUniStream();
      out.end(Buffer.concat([data, Buffer.from('!')]));
    });
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    const out = await conn.openUniStream();
    out.end(Buffer.from('hello'));
    const back = await within(conn.acceptUniStream(), 5_000, 'uni stream');
    assert.equal((await readAll(back)).toString(), 'hello!');
    await conn.close();
  });

  test('cancelWrite: the peer reads StreamResetError with our code', async () => {
    const s = await server();
    const seen = new Promise<unknown>((resolve) => {
      serve(s, async (conn) => {
        const st = await conn.acceptStream();
        st.on('error', resolve);
        st.resume();
      });
    });
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    const st = await conn.openStream();
    st.write(Buffer.alloc(1000));
    setTimeout(() => st.cancelWrite(77), 50);
    const err = await within(seen, 5_000, 'reset');
    assert.ok(err instanceof StreamResetError);
    assert.equal(err.code, 'ERR_QUIC_STREAM_RESET');
    assert.equal(err.errorCode, 77);
    assert.equal(err.kind, 'reset');
    await conn.close();
  });

  test('cancelRead: the peer writing gets StreamResetError (stop-sending) with our code', async () => {
    const s = await server();
    const seen = new Promise<unknown>((resolve) => {
      serve(s, async (conn) => {
        const st = await conn.acceptStream();
        st.on('error', resolve);
        const chunk = Buffer.alloc(64 * 1024);
        const writeMore = () => {
          while (st.write(chunk)) {
            /* until backpressure */
          }
          st.once('drain', writeMore);
        };
        writeMore();
      });
    });
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    const st = await conn.openStream();
    st.write(Buffer.from('go'));
    st.once('data', () => st.cancelRead(99));
    const err = await within(seen, 5_000, 'stop sending');
    assert.ok(err instanceof StreamResetError);
    assert.equal(err.errorCode, 99);
    assert.equal(err.kind, 'stop-sending');
    await conn.close();
  });
});

describe('connections', () => {
  test('server close while streams are open: the client sees ConnectionClosedError', async () => {
    const s = await server();
    const accepted = new Promise<void>((resolve) => {
      serve(s, async (conn) => {
        await conn.acceptStream();
        resolve();
      });
    });
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    const st = await conn.openStream();
    const failed = new Promise<unknown>((resolve) => st.on('error', resolve));
    st.write(Buffer.from('x'));
    await within(accepted, 5_000, 'accept');
    await s.close();
    const err = await within(failed, 5_000, 'stream error');
    assert.ok(err instanceof ConnectionClosedError);
    assert.equal(err.remote, true);
    const reason = await conn.closed;
    assert.equal(reason.source, 'remote');
    await assert.rejects(conn.openStream(), ConnectionClosedError);
  });

  test('client abort via AbortSignal rejects dial with AbortError, whose cause is signal.reason', async () => {
    // A socket that never answers: the handshake cannot complete (and no ICMP refuses it).
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const ac = new AbortController();
    const reason = new Error('user gave up');
    setTimeout(() => ac.abort(reason), 100);
    const started = performance.now();
    await assert.rejects(
      dial({ host: '127.0.0.1', port: silent.address().port }, clientOptions({ signal: ac.signal })),
      (e: unknown) =>
        e instanceof AbortError &&
        e instanceof QuicError &&
        e.name === 'AbortError' &&
        e.code === 'ABORT_ERR' &&
        e.cause === reason,
    );
    assert.ok(performance.now() - started < 2_000);
    silent.close();
    // Already aborted: rejected before anything is bound, with the same cause.
    await assert.rejects(
      dial('127.0.0.1:9', clientOptions({ signal: AbortSignal.abort(reason) })),
      (e: unknown) => e instanceof AbortError && e.cause === reason,
    );
  });

  test('idle timeout closes both sides with IdleTimeoutError', async () => {
    const s = await server({ idleTimeout: 400 });
    const serverSide = new Promise<unknown>((resolve) => {
      serve(s, async (conn) => {
        resolve((await conn.closed).error);
      });
    });
    const conn = await dial(
      { host: '127.0.0.1', port: s.address().port },
      clientOptions({ idleTimeout: 400 }),
    );
    const reason = await within(conn.closed, 5_000, 'idle');
    assert.equal(reason.source, 'idle-timeout');
    assert.ok(reason.error instanceof IdleTimeoutError);
    assert.equal(reason.error.code, 'ERR_QUIC_IDLE_TIMEOUT');
    assert.ok((await within(serverSide, 5_000, 'server idle')) instanceof IdleTimeoutError);
  });

  test('a certificate for another name fails with HandshakeError (bad_certificate)', async () => {
    const other = createTestPki({ names: ['other.example'], now: Date.now() });
    const s = await server({ cert: other.leaf.certPem, key: other.leaf.keyPem });
    await assert.rejects(
      dial({ host: '127.0.0.1', port: s.address().port }, clientOptions({ ca: other.ca.certPem })),
      (e: unknown) => e instanceof HandshakeError && e.alert === 42 && e.code === 'ERR_QUIC_HANDSHAKE_FAILED',
    );
  });

  test('an untrusted CA fails with HandshakeError (unknown_ca) on the client', async () => {
    const s = await server();
    const other = createTestPki({ names: ['localhost'], now: Date.now() });
    await assert.rejects(
      dial({ host: '127.0.0.1', port: s.address().port }, clientOptions({ ca: other.ca.certPem })),
      (e: unknown) => e instanceof HandshakeError && e.alert === 48,
    );
  });

  test('ALPN mismatch fails with HandshakeError (no_application_protocol)', async () => {
    const s = await server();
    await assert.rejects(
      dial({ host: '127.0.0.1', port: s.address().port }, clientOptions({ alpn: ['other'] })),
      (e: unknown) => e instanceof HandshakeError && e.alert === 120,
    );
  });

  test('many connections dialled from one socket', async () => {
    const s = await server();
    echoServer(s);
    const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
    const conns = await Promise.all(
      Array.from({ length: 10 }, () =>
        ep.dial({ host: '127.0.0.1', port: s.address().port }, clientOptions()),
      ),
    );
    for (const [i, c] of conns.entries()) {
      const st = await c.openStream();
      st.end(Buffer.from(`hello ${i}`));
      assert.equal((await readAll(st)).toString(), `hello ${i}`);
      assert.equal(c.remoteAddress.port, s.address().port);
    }
    await Promise.all(conns.map((c) => c.close()));
    await ep.close();
  });

  test('IPv6 loopback', async (t) => {
    let s: QuicServer;
    try {
      s = await server({ host: '::1' });
    } catch {
      t.diagnostic('no IPv6 loopback on this machine');
      return;
    }
    echoServer(s);
    const conn = await dial({ host: '::1', port: s.address().port }, clientOptions());
    assert.equal(conn.remoteAddress.family, 'IPv6');
    const st = await conn.openStream();
    st.end(Buffer.from('v6'));
    assert.equal((await readAll(st)).toString(), 'v6');
    await conn.close();
  });

  test('misuse gives typed errors: bad ALPN option, bad close code, write after end', async () => {
    const s = await server();
    echoServer(s);
    await assert.rejects(dial({ host: '127.0.0.1', port: s.address().port }, { alpn: [] }), TypeError);
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    await assert.rejects(
      conn.close(-1),
      (e: Error & { code?: string }) => e.code === 'ERR_QUIC_INVALID_ERROR_CODE',
    );
    const st = await conn.openStream();
    const streamError = new Promise<Error & { code?: string }>((resolve) => st.once('error', resolve));
    st.end(Buffer.from('a'));
    st.write(Buffer.from('b'));
    assert.equal((await streamError).code, 'ERR_STREAM_WRITE_AFTER_END');
    const st2 = await conn.openStream();
    assert.throws(
      () => st2.cancelWrite(2 ** 62),
      (e: Error & { code?: string }) => e.code === 'ERR_QUIC_INVALID_ERROR_CODE',
    );
    // The misuse did not hurt the connection.
    st2.end(Buffer.from('still fine'));
    assert.equal((await readAll(st2)).toString(), 'still fine');
    await conn.close();
  });
});

test('1,000 sequential connections leave no state behind on the server', async () => {
  const s = await server();
  echoServer(s);
  const port = s.address().port;
  const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const driver = (
    s as unknown as {
      driver: { endpoint: { routeCount: number; connections: Set<unknown>; remnantCount: number } };
    }
  ).driver;
  const roundTrips = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const conn = await ep.dial({ host: '127.0.0.1', port }, clientOptions());
      const st = await conn.openStream();
      st.end(Buffer.from('ping'));
      assert.equal((await readAll(st)).toString(), 'ping');
      await conn.close();
    }
    // Closing and draining periods last 3 PTO (RFC 9000 §10.2), served by the endpoint once the
    // connection is done (closing-remnant.ts): give the last ones time to go. Under a loaded machine
    // the PTO grows with the RTT samples, so the bound is generous: it only turns a connection that
    // never goes into a failure instead of a hang.
    const deadline = performance.now() + 30_000;
    while ((s.connectionCount > 0 || driver.endpoint.remnantCount > 0) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  };
  // Warm up first (JIT, caches, session tickets), so the heap measured afterwards is what connections keep.
  await roundTrips(50);
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  await roundTrips(1000);
  assert.equal(s.connectionCount, 0, 'every server connection was released');
  assert.equal(driver.endpoint.connections.size, 0);
  assert.equal(driver.endpoint.remnantCount, 0);
  assert.equal(driver.endpoint.routeCount, 0);
  collectGarbage();
  const grown = process.memoryUsage().heapUsed - heapBefore;
  // A connection's state is well over 100 KB on each side; keeping even an 8 KB trace of each of the
  // 1,000 connections (both ends live in this process) would exceed this.
  assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes over 1,000 connections`);
  await ep.close();
  void testPki;
});

test('qlogDir writes a JSON-SEQ qlog per connection on both sides', async () => {
  const { mkdtempSync, readdirSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'tsquic-qlog-'));
  const s = await server({ qlogDir: dir });
  echoServer(s);
  const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions({ qlogDir: dir }));
  const st = await conn.openStream();
  st.end(Buffer.from('qlog me'));
  assert.equal((await readAll(st)).toString(), 'qlog me');
  await conn.close();
  // server.close() resolves once the server's qlog is on disk; the client's file is written
  // asynchronously (its connection ends after its closing period): wait until it is complete.
  await s.close();
  const clientDone = () =>
    readdirSync(dir).some(
      (f) => f.endsWith('_client.sqlog') && readFileSync(join(dir, f), 'utf8').includes('connection_close'),
    );
  await within(
    (async () => {
      while (!clientDone()) await new Promise((r) => setTimeout(r, 10));
    })(),
    10_000,
    'the client qlog up to its CONNECTION_CLOSE',
  );
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 2, files.join());
  assert.ok(files.some((f) => f.endsWith('_client.sqlog')) && files.some((f) => f.endsWith('_server.sqlog')));
  for (const f of files) {
    const records = readFileSync(join(dir, f), 'utf8')
      .split('\x1e')
      .filter((r) => r.trim())
      .map(
        (r) =>
          JSON.parse(r) as {
            qlog_format?: string;
            name?: string;
            data?: { frames: Array<{ frame_type: string }> };
          },
      );
    assert.equal(records[0]!.qlog_format, 'JSON-SEQ');
    const names = new Set(records.map((r) => r.name));
    assert.ok(names.has('transport:packet_sent') && names.has('transport:packet_received'));
    // Recovery events (issue 16): the first metrics report carries the congestion window and RTT.
    assert.ok(names.has('recovery:metrics_updated') && names.has('recovery:congestion_state_updated'), f);
    const metrics = records.find((r) => r.name === 'recovery:metrics_updated') as
      | { data: Record<string, number> }
      | undefined;
    assert.ok((metrics?.data.congestion_window ?? 0) > 0 && 'smoothed_rtt' in (metrics?.data ?? {}), f);
    const frames = records.flatMap((r) => r.data?.frames ?? []).map((fr) => fr.frame_type);
    assert.ok(frames.includes('crypto') && frames.includes('stream') && frames.includes('ack'), f);
  }
});

test('a stream the peer opens and resets at once cannot crash the server (errors wait for accept)', async () => {
  const s = await server();
  const errors: unknown[] = [];
  serve(s, async (conn) => {
    for await (const st of conn) {
      st.on('error', (e) => errors.push(e));
      st.resume();
    }
  });
  for (let i = 0; i < 3; i++) {
    const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
    const st = await conn.openStream();
    st.on('error', () => {});
    // STREAM and RESET_STREAM leave in the same packet.
    st.write(Buffer.from('hello'));
    st.cancelWrite(7);
    const deadline = performance.now() + 5_000;
    while (errors.length <= i && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await conn.close();
  }
  // The server process is alive and delivered each reset to the application.
  assert.equal(errors.length, 3);
  for (const e of errors) assert.ok(e instanceof StreamResetError && e.errorCode === 7);
});

test('for await over a connection: streams in order, break ends the iterator, a close ends a waiting loop', async () => {
  const s = await server();
  const seen: string[] = [];
  let afterBreak: IteratorResult<unknown> | undefined;
  let twoSeen: () => void = () => {};
  const gotTwo = new Promise<void>((r) => {
    twoSeen = r;
  });
  let loopEnded: () => void = () => {};
  const ended = new Promise<void>((r) => {
    loopEnded = r;
  });
  serve(s, async (conn) => {
    const it = conn[Symbol.asyncIterator]();
    // Two streams through one iterator, then break: later next() calls are done.
    for await (const st of it) {
      seen.push(`stream ${st.id}`);
      st.resume();
      if (seen.length === 2) break;
    }
    afterBreak = await it.next();
    twoSeen();
    // A fresh loop waits for the next stream; closing the connection ends it without an error.
    for await (const st of conn) seen.push(`late ${st.id}`);
    loopEnded();
  });
  const conn = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
  for (let i = 0; i < 2; i++) {
    const st = await conn.openStream();
    st.end('x');
  }
  await within(gotTwo, 5_000, 'two streams accepted');
  assert.deepEqual(afterBreak, { done: true, value: undefined });
  await conn.close();
  await within(ended, 5_000, 'the waiting loop ends when the connection closes');
  assert.deepEqual(seen, ['stream 0', 'stream 4']);
});
