/**
 * Interop: tsquic client -> quic-go 0.29 server (interop/server), over loopback UDP, through tsquic's
 * public API (dial, dialEarly, SessionCache) and its HTTP/0.9 client (src/hq). What tsquic sees is
 * checked on the tsquic side; what quic-go saw is checked in the Go server's events (interop/README.md).
 * Without `go` or the quic-go sources these tests fail with an install hint (ensureGoPeers).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CipherSuite, dial, dialEarly, SessionCache } from '../../src/index.js';
import {
  type GoEvent,
  type GoServer,
  killAllGoPeers,
  makeTempDir,
  patternBytes,
  removeDir,
  sha256Hex,
  startGoServerFor,
  waitForCount,
  writeTestFile,
} from './go-peers.js';
import { clientOptionsFor, echoOnce, fetchAll, fetchHashed, until, within } from './tsquic-peers.js';

const MiB = 1024 * 1024;
const TEST_TIMEOUT = 90_000;

let work = '';
let root = '';
const hashes = new Map<string, string>();
const sizes = new Map<string, number>();

before(async () => {
  work = makeTempDir();
  root = join(work, 'www');
  await mkdir(join(root, 'sub'), { recursive: true });
  const files: Array<[string, number, number]> = [
    ['small.txt', 13, 1],
    ['1m.bin', MiB, 2],
    ['10m.bin', 10 * MiB, 3],
    ['sub/empty', 0, 4],
  ];
  for (const [name, size, seed] of files) {
    hashes.set(`/${name}`, await writeTestFile(root, name, size, seed));
    sizes.set(`/${name}`, size);
  }
});

after(async () => {
  await killAllGoPeers();
  if (work) removeDir(work);
});

function of(events: readonly GoEvent[], name: string, id?: number): GoEvent[] {
  return events.filter((e) => e.event === name && (id === undefined || e.id === id));
}

function target(server: GoServer) {
  return { host: server.address.host, port: server.address.port };
}

/** Asserts that every fetched path arrived whole (size and SHA-256 of the file on disk). */
function assertWhole(fetched: Map<string, { bytes: number; sha256: string }>): void {
  for (const [path, f] of fetched) {
    assert.equal(f.bytes, sizes.get(path), `${path}: size`);
    assert.equal(f.sha256, hashes.get(path), `${path}: SHA-256`);
  }
}

/**
 * The Go server (started with `frames: ['STREAM']`) first received each of `count` request streams of
 * connection `id` in a 0-RTT packet (a later copy, if tsquic retransmitted, may be 1-RTT).
 */
function assertRequestsIn0Rtt(server: GoServer, id: unknown, count: number): void {
  const firstFrames = new Map<unknown, GoEvent>();
  for (const e of of(server.events, 'frame', Number(id))) {
    if (e.offset === 0 && !firstFrames.has(e.stream)) firstFrames.set(e.stream, e);
  }
  assert.equal(firstFrames.size, count, `request streams: ${JSON.stringify([...firstFrames.values()])}`);
  for (const e of firstFrames.values())
    assert.equal(e.packet, '0RTT', `stream ${e.stream}: ${JSON.stringify(e)}`);
}

describe('interop: tsquic client -> quic-go 0.29 server', () => {
  test('handshake and several files, one of 10 MiB, byte-exact; a clean close', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root });
    const conn = await within(dial(target(server), clientOptionsFor(server.pki, t)), 10_000, 'dial');
    assert.equal(conn.alpn, 'hq-interop');
    assert.equal(conn.used0RTT, false);
    assert.equal(conn.resumed, false);
    assert.equal(conn.remoteAddress.port, server.address.port);
    const paths = ['/small.txt', '/1m.bin', '/10m.bin', '/sub/empty'];
    const fetched = await within(fetchAll(conn, paths), 60_000, 'fetching 4 files');
    assert.deepEqual([...fetched.keys()], paths);
    assertWhole(fetched);
    const stats = conn.stats();
    assert.ok(stats.bytesReceived > 11 * MiB, `received ${stats.bytesReceived} bytes`);
    const reason = await within(conn.close(), 20_000, 'close');
    assert.equal(reason.error, undefined);

    const hello = await server.waitFor((e) => e.event === 'conn');
    assert.equal(hello.alpn, 'hq-interop');
    assert.equal(hello.used0RTT, false);
    assert.equal(hello.resumed, false);
    // tsquic offers ChaCha20-Poly1305 first, and Go's TLS takes that as the client's preference.
    assert.equal(hello.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
    await waitForCount(server, (e) => e.event === 'request' && e.status === 'ok', paths.length);
    assert.deepEqual(
      of(server.events, 'request')
        .map((e) => [e.path, e.bytes])
        .sort(),
      paths.map((p) => [p, sizes.get(p)]).sort(),
    );
    // quic-go saw tsquic's CONNECTION_CLOSE: application error 0, sent by the peer.
    const closed = await server.waitFor((e) => e.event === 'closed');
    assert.deepEqual([closed.kind, closed.code, closed.remote], ['application', 0, true]);
  });

  test('AES-128-GCM only: tsquic offers only TLS_AES_128_GCM_SHA256', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root });
    const conn = await within(
      dial(
        target(server),
        clientOptionsFor(server.pki, t, { cipherSuites: [CipherSuite.AES_128_GCM_SHA256] }),
      ),
      10_000,
      'dial',
    );
    const fetched = await within(fetchAll(conn, ['/1m.bin', '/small.txt']), 30_000, 'fetch');
    assertWhole(fetched);
    await conn.close();
    const hello = await server.waitFor((e) => e.event === 'conn');
    assert.equal(hello.cipher, 'TLS_AES_128_GCM_SHA256');
  });

  test('Retry: the quic-go server validates the address first', { timeout: TEST_TIMEOUT }, async (t) => {
    const server = await startGoServerFor(t, { root, retry: true });
    const conn = await within(dial(target(server), clientOptionsFor(server.pki, t)), 10_000, 'dial');
    assertWhole(await within(fetchAll(conn, ['/1m.bin']), 30_000, 'fetch'));
    await conn.close();
    const hello = await server.waitFor((e) => e.event === 'conn');
    const retries = of(server.events, 'retry');
    assert.equal(retries.length, 1, 'exactly one Retry');
    assert.equal(retries[0]!.remote, hello.remote, 'the Retry went to the client that then connected');
    assert.equal(of(server.events, 'conn').length, 1);
  });

  test('resumption: the second connection resumes with the ticket of the first', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root });
    const cache = new SessionCache();
    const opts = clientOptionsFor(server.pki, t, { sessionCache: cache });
    const first = await within(dial(target(server), opts), 10_000, 'first dial');
    assertWhole(await within(fetchAll(first, ['/small.txt']), 10_000, 'first fetch'));
    await until(() => cache.size > 0, 5000, 'a session ticket from quic-go');
    await first.close();
    assert.equal(first.resumed, false);

    const second = await within(dial(target(server), opts), 10_000, 'second dial');
    assert.equal(second.resumed, true);
    assert.equal(second.used0RTT, false);
    assertWhole(await within(fetchAll(second, ['/1m.bin']), 30_000, 'second fetch'));
    await second.close();
    const conns = await waitForCount(server, (e) => e.event === 'conn', 2).then(() =>
      of(server.events, 'conn'),
    );
    assert.deepEqual(
      conns.map((c) => [c.resumed, c.used0RTT]),
      [
        [false, false],
        [true, false],
      ],
    );
  });

  test('0-RTT accepted: dialEarly sends its requests as 0-RTT and quic-go uses them', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root, zeroRtt: true, frames: ['STREAM'] });
    const cache = new SessionCache();
    const opts = clientOptionsFor(server.pki, t, { sessionCache: cache });
    const first = await within(dial(target(server), opts), 10_000, 'first dial');
    assertWhole(await within(fetchAll(first, ['/small.txt']), 10_000, 'first fetch'));
    await until(() => cache.size > 0, 5000, 'a session ticket from quic-go');
    await first.close();

    const early = await within(dialEarly(target(server), opts), 10_000, 'dialEarly');
    let handshakeDone = false;
    early.handshakeComplete.then(() => {
      handshakeDone = true;
    });
    const paths = ['/small.txt', '/1m.bin', '/sub/empty'];
    const fetching = fetchAll(early, paths);
    // dialEarly returned with the ClientHello out: the handshake cannot be complete yet.
    assert.equal(handshakeDone, false, 'dialEarly must return before the handshake completes');
    assertWhole(await within(fetching, 30_000, 'fetch over 0-RTT'));
    await within(early.handshakeComplete, 20_000, 'handshake');
    assert.equal(early.used0RTT, true);
    assert.equal(early.resumed, true);
    assert.equal(await early.nextConnection(), early, 'accepted: nextConnection() is the same connection');
    await early.close();

    const second = await waitForCount(server, (e) => e.event === 'conn', 2);
    assert.equal(second.used0RTT, true);
    assert.equal(second.resumed, true);
    // The requests (stream frames at offset 0) arrived in 0-RTT packets.
    assertRequestsIn0Rtt(server, second.id, paths.length);
    await waitForCount(server, (e) => e.event === 'request' && e.id === second.id, paths.length);
  });

  test('Retry and 0-RTT: a NEW_TOKEN spares the Retry; without one, 0-RTT follows the Retry', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root, retry: true, zeroRtt: true, frames: ['STREAM'] });
    const cache = new SessionCache();
    const opts = clientOptionsFor(server.pki, t, { sessionCache: cache });
    const first = await within(dial(target(server), opts), 10_000, 'first dial');
    assertWhole(await within(fetchAll(first, ['/small.txt']), 10_000, 'first fetch'));
    await until(() => cache.size > 0, 5000, 'a session ticket from quic-go');
    await first.close();

    // With the token quic-go sent in NEW_TOKEN (RFC 9000 §8.1.3): no Retry.
    const withToken = await within(dialEarly(target(server), opts), 10_000, 'dialEarly with a token');
    assertWhole(await within(fetchAll(withToken, ['/small.txt', '/1m.bin']), 30_000, 'fetch'));
    assert.equal(withToken.used0RTT, true);
    await until(() => cache.size > 0, 5000, 'a second session ticket');
    await withToken.close();

    // The same session store without its tokens: quic-go sends a Retry, and the 0-RTT requests go
    // again after it (RFC 9000 §17.2.5.3), with the token from the Retry.
    const noTokens = {
      saveSession: cache.saveSession.bind(cache),
      takeSession: cache.takeSession.bind(cache),
    };
    const afterRetry = await within(
      dialEarly(target(server), { ...opts, sessionCache: noTokens }),
      10_000,
      'dialEarly without a token',
    );
    assertWhole(await within(fetchAll(afterRetry, ['/small.txt', '/1m.bin']), 30_000, 'fetch'));
    assert.equal(afterRetry.used0RTT, true);
    await afterRetry.close();

    const conns = await waitForCount(server, (e) => e.event === 'conn', 3).then(() =>
      of(server.events, 'conn'),
    );
    assert.deepEqual(
      conns.map((c) => c.used0RTT),
      [false, true, true],
    );
    const retries = of(server.events, 'retry');
    assert.deepEqual(
      retries.map((e) => e.remote),
      [conns[0]!.remote, conns[2]!.remote],
      'a Retry for the first and the third connection only',
    );
    for (const c of conns.slice(1)) {
      assertRequestsIn0Rtt(server, c.id, 2);
    }
  });

  test('key update initiated by tsquic (keyUpdateInterval 1000) during a 4 MiB echo', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { echo: true });
    const conn = await within(
      dial(target(server), clientOptionsFor(server.pki, t, { alpn: ['echo'], keyUpdateInterval: 1000 })),
      10_000,
      'dial',
    );
    const data = patternBytes(4 * MiB, 7);
    const echoed = await within(echoOnce(conn, data), 60_000, 'echo of 4 MiB');
    assert.equal(echoed.length, data.length);
    assert.equal(sha256Hex(echoed), sha256Hex(data));
    const updates = conn.stats().keyUpdates;
    await conn.close();
    assert.ok(updates >= 1, `tsquic completed ${updates} key updates`);
    // quic-go followed tsquic's updates (remote = initiated by tsquic), generation by generation.
    const seen = of(server.events, 'key-update');
    assert.ok(seen.length >= 1, 'quic-go saw no key update');
    assert.ok(seen.every((e) => e.remote === true));
    assert.deepEqual(
      seen.map((e) => e.generation),
      seen.map((_, i) => i + 1),
    );
  });

  test('key update initiated by quic-go (-key-update 200) during a 10 MiB download', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root, keyUpdate: 200 });
    const conn = await within(dial(target(server), clientOptionsFor(server.pki, t)), 10_000, 'dial');
    const fetched = await within(fetchHashed(conn, '/10m.bin'), 60_000, 'fetch of 10 MiB');
    assert.equal(fetched.bytes, 10 * MiB);
    assert.equal(fetched.sha256, hashes.get('/10m.bin'));
    const updates = conn.stats().keyUpdates;
    await conn.close();
    const seen = of(server.events, 'key-update');
    assert.ok(seen.length >= 2, `quic-go made ${seen.length} key updates`);
    assert.ok(seen.every((e) => e.remote === false));
    assert.ok(updates >= 2, `tsquic completed ${updates} key updates`);
  });

  test('50 sequential connections, each fetching a file and closing', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root });
    const opts = clientOptionsFor(server.pki, t);
    for (let i = 0; i < 50; i++) {
      const conn = await within(dial(target(server), opts), 10_000, `dial #${i}`);
      const f = await within(fetchHashed(conn, '/small.txt'), 10_000, `fetch #${i}`);
      assert.equal(f.sha256, hashes.get('/small.txt'), `connection #${i}`);
      const reason = await within(conn.close(), 20_000, `close #${i}`);
      assert.equal(reason.error, undefined, `connection #${i}`);
    }
    await waitForCount(server, (e) => e.event === 'closed', 50);
    const conns = of(server.events, 'conn');
    assert.equal(new Set(conns.map((e) => e.id)).size, 50);
    const closed = of(server.events, 'closed');
    assert.ok(
      closed.every((e) => e.kind === 'application' && e.code === 0 && e.remote === true),
      JSON.stringify(closed.filter((e) => e.kind !== 'application')),
    );
    assert.equal(of(server.events, 'request').filter((e) => e.status === 'ok').length, 50);
  });
});
