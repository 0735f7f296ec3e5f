/**
 * The quic-go 0.29 interop peers against each other (Go client <-> Go server), over loopback UDP: proof
 * that the peers the tsquic interop tests rely on do what interop/README.md says. Without `go` or the
 * quic-go sources these tests fail (ensureGoPeers rejects with build.sh's explanation).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  describeClientRun,
  ensureGoPeers,
  type GoClientResult,
  type GoEvent,
  killAllGoPeers,
  makeTempDir,
  patternBytes,
  removeDir,
  runGoClient,
  sha256Hex,
  startGoServer,
  startGoServerFor,
  waitForCount,
  writeTestFile,
} from './go-peers.js';

const MiB = 1024 * 1024;

let work = '';
let root = '';
const hashes = new Map<string, string>();

before(async () => {
  work = makeTempDir();
  root = join(work, 'www');
  await mkdir(join(root, 'sub'), { recursive: true });
  hashes.set('/small.txt', await writeTestFile(root, 'small.txt', 13, 1));
  hashes.set('/1m.bin', await writeTestFile(root, '1m.bin', MiB, 2));
  hashes.set('/10m.bin', await writeTestFile(root, '10m.bin', 10 * MiB, 3));
  hashes.set('/sub/empty', await writeTestFile(join(root, 'sub'), 'empty', 0, 4));
  await writeFile(join(work, 'secret.txt'), 'outside the root');
  await symlink(join(work, 'secret.txt'), join(root, 'link-out'));
});

after(async () => {
  await killAllGoPeers();
  if (work) removeDir(work);
});

function ok(r: GoClientResult): void {
  assert.equal(r.code, 0, describeClientRun(r));
}

function of(events: readonly GoEvent[], name: string): GoEvent[] {
  return events.filter((e) => e.event === name);
}

function caArgs(server: { pki: { caFile: string } }): string[] {
  return ['-ca', server.pki.caFile];
}

describe('quic-go interop peers: Go client <-> Go server', () => {
  test("the peers build offline against Debian's quic-go 0.29 (fails, not skips, without go)", async () => {
    const bins = await ensureGoPeers();
    assert.match(bins.server, /interop\/bin\/server$/);
    assert.match(bins.client, /interop\/bin\/client$/);
  });

  test('fetches several files, one of 10 MiB, byte-exact, and writes the key log', async (t) => {
    const server = await startGoServerFor(t, { root });
    const out = join(work, 'out-fetch');
    const keylog = join(work, 'client.keylog');
    const paths = ['/small.txt', '/1m.bin', '/10m.bin', '/sub/empty'];
    const r = await runGoClient([
      ...caArgs(server),
      '-output',
      out,
      '-keylog',
      keylog,
      ...paths.map((p) => server.url(p)),
    ]);
    ok(r);
    const conns = of(r.events, 'conn');
    assert.equal(conns.length, 1);
    assert.equal(conns[0].alpn, 'hq-interop');
    assert.equal(conns[0].used0RTT, false);
    assert.equal(conns[0].resumed, false);
    const files = of(r.events, 'file');
    assert.deepEqual(files.map((f) => f.path).sort(), [...paths].sort());
    for (const f of files) {
      const path = String(f.path);
      assert.equal(f.sha256, hashes.get(path), path);
      const written = await readFile(join(out, path));
      assert.equal(sha256Hex(written), hashes.get(path), `${path} on disk`);
    }
    const big = await readFile(join(out, '10m.bin'));
    assert.equal(big.length, 10 * MiB);
    assert.ok(big.equals(patternBytes(10 * MiB, 3)), '10 MiB file differs');

    const served = await waitForCount(
      server,
      (e) => e.event === 'request' && e.status === 'ok',
      paths.length,
    );
    assert.equal(served.id, 1);
    const sizes = of(server.events, 'request').map((e) => [e.path, e.bytes]);
    assert.deepEqual(
      sizes.sort(),
      [
        ['/10m.bin', 10 * MiB],
        ['/1m.bin', MiB],
        ['/small.txt', 13],
        ['/sub/empty', 0],
      ].sort(),
    );
    const conn = await server.waitFor((e) => e.event === 'conn');
    assert.equal(conn.alpn, 'hq-interop');
    assert.equal(conn.cipher, 'TLS_AES_128_GCM_SHA256');
    const secrets = await readFile(keylog, 'utf8');
    assert.match(secrets, /^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64}$/m);
    assert.match(secrets, /^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64}$/m);
  });

  test('never serves outside the root: .. and symbolic links are refused with a reset', async (t) => {
    const server = await startGoServerFor(t, { root });
    for (const path of ['/../secret.txt', '/link-out', '/sub/../../secret.txt', '/missing']) {
      const r = await runGoClient([...caArgs(server), server.url(path)]);
      assert.notEqual(r.code, 0, `${path} must not be served\n${describeClientRun(r)}`);
      assert.equal(of(r.events, 'file').length, 0, path);
      const failure = of(r.events, 'error')[0];
      assert.match(String(failure?.error), /canceled with error code 2/, path);
    }
    const refused = await waitForCount(server, (e) => e.event === 'request' && e.status === 'not-found', 4);
    assert.equal(refused.path, '/missing');
    assert.equal(of(server.events, 'request').filter((e) => e.status === 'ok').length, 0);
  });

  test('echo: four concurrent streams of 1 MiB come back unchanged', async (t) => {
    const server = await startGoServerFor(t, { echo: true });
    const r = await runGoClient([...caArgs(server), '-echo', '1m', '-streams', '4', server.url()]);
    ok(r);
    assert.equal(of(r.events, 'conn')[0].alpn, 'echo');
    const echoes = of(r.events, 'echo');
    assert.deepEqual(
      echoes.map((e) => Number(e.stream)).sort((a, b) => a - b),
      [0, 4, 8, 12],
    );
    assert.ok(echoes.every((e) => e.bytes === MiB));
    await waitForCount(server, (e) => e.event === 'echo' && e.bytes === MiB, 4);
  });

  test('echo of explicit hex bytes; a server with both modes dispatches on the ALPN', async (t) => {
    const server = await startGoServerFor(t, { echo: true, root });
    const r = await runGoClient([...caArgs(server), '-echo', '0x00ff10', server.url()]);
    ok(r);
    assert.equal(of(r.events, 'echo')[0].bytes, 3);
    const f = await runGoClient([...caArgs(server), server.url('/small.txt')]);
    ok(f);
    assert.equal(of(f.events, 'file')[0].sha256, hashes.get('/small.txt'));
  });

  test('Retry: the server validates the address first, the transfer still completes', async (t) => {
    const server = await startGoServerFor(t, { root, retry: true });
    const r = await runGoClient([...caArgs(server), server.url('/1m.bin')]);
    ok(r);
    assert.equal(of(r.events, 'retry').length, 1);
    assert.equal(of(r.events, 'file')[0].sha256, hashes.get('/1m.bin'));
    const retry = await server.waitFor((e) => e.event === 'retry');
    assert.match(String(retry.remote), /^127\.0\.0\.1:\d+$/);
  });

  test('resumption without 0-RTT', async (t) => {
    const server = await startGoServerFor(t, { root });
    const r = await runGoClient([...caArgs(server), '-resume', server.url('/small.txt')]);
    ok(r);
    const conns = of(r.events, 'conn');
    assert.deepEqual(
      conns.map((c) => [c.index, c.resumed, c.used0RTT, c.early]),
      [
        [0, false, false, false],
        [1, true, false, false],
      ],
    );
    const second = await waitForCount(server, (e) => e.event === 'conn', 2);
    assert.equal(second.resumed, true);
    assert.equal(second.used0RTT, false);
  });

  test('0-RTT accepted: the second connection sends its requests early and the server uses them', async (t) => {
    const server = await startGoServerFor(t, { root, zeroRtt: true });
    const r = await runGoClient([
      ...caArgs(server),
      '-0rtt',
      server.url('/small.txt'),
      server.url('/1m.bin'),
    ]);
    ok(r);
    const conns = of(r.events, 'conn');
    assert.equal(conns.length, 2);
    assert.equal(conns[0].used0RTT, false);
    assert.equal(conns[1].early, true);
    assert.equal(conns[1].used0RTT, true);
    assert.equal(conns[1].resumed, true);
    assert.equal(of(r.events, 'retry-after-0rtt-rejection').length, 0);
    const files = of(r.events, 'file');
    assert.equal(files.length, 4);
    assert.ok(files.every((f) => f.sha256 === hashes.get(String(f.path))));
    const second = await waitForCount(server, (e) => e.event === 'conn', 2);
    assert.equal(second.used0RTT, true);
    await waitForCount(server, (e) => e.event === 'request' && e.id === second.id, 2);
  });

  test('0-RTT rejected (-reject-0rtt): used0RTT is false and the files still arrive', async (t) => {
    const server = await startGoServerFor(t, { root, reject0Rtt: true });
    const r = await runGoClient([
      ...caArgs(server),
      '-0rtt',
      server.url('/small.txt'),
      server.url('/1m.bin'),
    ]);
    ok(r);
    const conns = of(r.events, 'conn');
    assert.equal(conns.length, 2);
    assert.equal(conns[1].early, true, 'the client must have attempted 0-RTT');
    assert.equal(conns[1].used0RTT, false);
    assert.equal(conns[1].rejected0RTT, true);
    assert.equal(conns[1].resumed, false, 'a fresh ticket key per ClientHello also defeats resumption');
    assert.equal(of(r.events, 'retry-after-0rtt-rejection').length, 1);
    const files = of(r.events, 'file');
    assert.equal(files.length, 4);
    assert.ok(files.every((f) => f.sha256 === hashes.get(String(f.path))));
    const second = await waitForCount(server, (e) => e.event === 'conn', 2);
    assert.equal(second.used0RTT, false);
    assert.equal(second.resumed, false);
  });

  test('a second server sharing the ticket key but with lower limits resumes and rejects 0-RTT', async (t) => {
    const ticketKey = patternBytes(32, 99);
    const first = await startGoServerFor(t, { root, zeroRtt: true, ticketKey });
    const lower = await startGoServerFor(t, {
      root,
      zeroRtt: true,
      ticketKey,
      pki: first.pki,
      maxStreams: 10,
      streamWindow: 64 * 1024,
      connWindow: 128 * 1024,
    });
    const nextAddr = `127.0.0.1:${lower.address.port}`;
    const r = await runGoClient([...caArgs(first), '-0rtt', '-next-addr', nextAddr, first.url('/1m.bin')]);
    ok(r);
    const conns = of(r.events, 'conn');
    assert.equal(conns[1].early, true);
    assert.equal(conns[1].resumed, true, 'the shared ticket key must make resumption work');
    assert.equal(
      conns[1].used0RTT,
      false,
      'lower limits must make the server reject 0-RTT (RFC 9000 §7.4.1)',
    );
    assert.equal(of(r.events, 'file').length, 2);
    const resumed = await lower.waitFor((e) => e.event === 'conn');
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.used0RTT, false);
    assert.equal(of(first.events, 'conn').length, 1);
  });

  test('50 sequential connections, each fetching a file', async (t) => {
    const server = await startGoServerFor(t, { root });
    const r = await runGoClient([...caArgs(server), '-n', '50', server.url('/small.txt')]);
    ok(r);
    assert.deepEqual(
      of(r.events, 'conn').map((c) => c.index),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.equal(of(r.events, 'file').length, 50);
    await waitForCount(server, (e) => e.event === 'closed', 50);
    // The server reports a connection from a goroutine of its own, which may run after the tracer
    // reported the connection closed: wait for all 50 reports, not only for the closes.
    await waitForCount(server, (e) => e.event === 'conn', 50);
    const ids = new Set(of(server.events, 'conn').map((e) => e.id));
    assert.equal(ids.size, 50);
  });

  test('the server reports the RESET_STREAM and STOP_SENDING frames it receives', async (t) => {
    const server = await startGoServerFor(t, { echo: true });
    const r = await runGoClient([...caArgs(server), '-cancel', '42', '-echo', '1k', server.url()]);
    ok(r);
    assert.deepEqual(of(r.events, 'cancel')[0], { event: 'cancel', stream: 0, code: 42 });
    const reset = await server.waitFor((e) => e.event === 'frame' && e.frame === 'RESET_STREAM');
    const stop = await server.waitFor((e) => e.event === 'frame' && e.frame === 'STOP_SENDING');
    for (const f of [reset, stop]) {
      assert.equal(f.stream, 0);
      assert.equal(f.code, 42);
      assert.equal(f.packet, '1RTT');
    }
    const failed = await server.waitFor((e) => e.event === 'stream-error' && e.stream === 0);
    assert.equal(failed.code, 42);
    // The echo on the next stream was not disturbed.
    const echoed = await server.waitFor((e) => e.event === 'echo');
    assert.equal(echoed.stream, 4);
    assert.equal(echoed.bytes, 1024);
    assert.equal(of(server.events, 'frame').filter((e) => e.stream !== 0).length, 0);
  });

  test('cancel frames sent as 0-RTT are reported with their packet type', async (t) => {
    const server = await startGoServerFor(t, { echo: true, zeroRtt: true });
    const r = await runGoClient([...caArgs(server), '-0rtt', '-cancel', '7', '-echo', '100', server.url()]);
    ok(r);
    assert.equal(of(r.events, 'conn')[1].used0RTT, true);
    const second = await waitForCount(server, (e) => e.event === 'conn', 2);
    await waitForCount(server, (e) => e.event === 'frame' && e.id === second.id, 2);
    const frames = of(server.events, 'frame').filter((e) => e.id === second.id);
    assert.deepEqual(frames.map((e) => e.frame).sort(), ['RESET_STREAM', 'STOP_SENDING']);
    // quic-go's client sends the cancels in 0-RTT packets, or in 1-RTT ones when its handshake has
    // completed by then (timing): either way the server reports which packet type carried them.
    assert.ok(
      frames.every((e) => (e.packet === '0RTT' || e.packet === '1RTT') && e.code === 7 && e.stream === 0),
    );
  });

  test('ChaCha20-only and key updates initiated by the client every 20 packets', async (t) => {
    const server = await startGoServerFor(t, { root, chacha: true });
    const r = await runGoClient([...caArgs(server), '-key-update', '20', server.url('/1m.bin')]);
    ok(r);
    assert.equal(of(r.events, 'conn')[0].cipher, 'TLS_CHACHA20_POLY1305_SHA256');
    assert.equal(of(r.events, 'file')[0].sha256, hashes.get('/1m.bin'));
    assert.ok(of(r.events, 'key-update').some((e) => e.remote === false));
    const update = await server.waitFor((e) => e.event === 'key-update' && e.remote === true);
    assert.equal(update.generation, 1);
    const conn = await server.waitFor((e) => e.event === 'conn');
    assert.equal(conn.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
  });

  test('the harness bounds everything: waitFor times out, stop() ends the server, a stuck client is reported', async () => {
    const server = await startGoServer({ echo: true });
    try {
      await assert.rejects(
        server.waitFor((e) => e.event === 'never', 200),
        /no matching event.*200 ms/s,
      );
    } finally {
      await server.stop();
    }
    await assert.rejects(
      server.waitFor((e) => e.event === 'conn', 200),
      /the Go server exited/,
    );
    // Nothing answers: a socket of ours that drops every datagram (not the stopped server's port, which
    // a server of a test file running in parallel may have been given meanwhile). The client gives up
    // by itself.
    const blackHole = createSocket('udp4');
    blackHole.on('message', () => {});
    await new Promise<void>((resolve) => blackHole.bind(0, '127.0.0.1', resolve));
    const r = await runGoClient(
      ['-insecure', '-echo', '1', `https://127.0.0.1:${blackHole.address().port}/`],
      4000,
    ).finally(() => blackHole.close());
    assert.notEqual(r.code, 0);
    assert.equal(r.timedOut, false, describeClientRun(r));
    assert.equal(of(r.events, 'error').length, 1);
  });
});
