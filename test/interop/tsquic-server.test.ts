/**
 * Interop: quic-go 0.29 client (interop/client) -> tsquic server, over loopback UDP. The tsquic server is
 * the public API (listen / listenEarly) serving files with its HTTP/0.9 server (src/hq); what quic-go
 * saw is checked in the Go client's events, what tsquic saw on the server's connections.
 * Without `go` or the quic-go sources these tests fail with an install hint (ensureGoPeers).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CipherSuite } from '../../src/index.js';
import {
  describeClientRun,
  type GoClientResult,
  type GoEvent,
  killAllGoPeers,
  makeTempDir,
  patternBytes,
  removeDir,
  runGoClient,
  sha256Hex,
  type TestPkiFiles,
  writeTestFile,
  writeTestPki,
} from './go-peers.js';
import { startTsquicHqServer, until } from './tsquic-peers.js';

const MiB = 1024 * 1024;
const TEST_TIMEOUT = 90_000;

let work = '';
let root = '';
let pki: TestPkiFiles;
const hashes = new Map<string, string>();
const sizes = new Map<string, number>();

before(async () => {
  work = makeTempDir();
  root = join(work, 'www');
  await mkdir(join(root, 'sub'), { recursive: true });
  pki = writeTestPki(work);
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

function of(events: readonly GoEvent[], name: string): GoEvent[] {
  return events.filter((e) => e.event === name);
}

function ok(r: GoClientResult): void {
  assert.equal(r.code, 0, describeClientRun(r));
}

/** Every file event names a known path, with its size and SHA-256. */
function assertFilesWhole(r: GoClientResult, expected: number): void {
  const files = of(r.events, 'file');
  assert.equal(files.length, expected, describeClientRun(r));
  for (const f of files) {
    const path = String(f.path);
    assert.equal(f.bytes, sizes.get(path), `${path}: size`);
    assert.equal(f.sha256, hashes.get(path), `${path}: SHA-256`);
  }
}

describe('interop: quic-go 0.29 client -> tsquic server', () => {
  test('handshake and several files, one of 10 MiB, byte-exact', { timeout: TEST_TIMEOUT }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki });
    const out = join(work, 'out-fetch');
    const paths = ['/small.txt', '/1m.bin', '/10m.bin', '/sub/empty'];
    const r = await runGoClient(['-ca', pki.caFile, '-output', out, ...paths.map((p) => hq.url(p))]);
    ok(r);
    assertFilesWhole(r, paths.length);
    for (const path of paths) {
      const written = await readFile(join(out, path));
      assert.equal(sha256Hex(written), hashes.get(path), `${path} on disk`);
    }
    const big = await readFile(join(out, '10m.bin'));
    assert.ok(big.equals(patternBytes(10 * MiB, 3)), '10 MiB file differs');
    const hello = of(r.events, 'conn')[0]!;
    assert.deepEqual(
      [hello.alpn, hello.used0RTT, hello.resumed, hello.cipher],
      // The tsquic server prefers ChaCha20-Poly1305 (cipher-suite.ts).
      ['hq-interop', false, false, 'TLS_CHACHA20_POLY1305_SHA256'],
    );

    const [served] = await hq.waitForConnections(1);
    assert.equal(hq.connections.length, 1);
    assert.equal(served!.conn.alpn, 'hq-interop');
    assert.equal(served!.conn.used0RTT, false);
    assert.equal(served!.conn.resumed, false);
    await hq.waitForRequests(paths.length);
    assert.deepEqual(
      served!.requests.map((q) => [q.path, q.bytes]).sort(),
      paths.map((p) => [p, sizes.get(p)]).sort(),
    );
    // The Go client closes with application error 0.
    await until(() => served!.closeReason !== undefined, 5000, 'the connection to close');
    const reason = served!.closeReason!;
    assert.deepEqual([reason.source, reason.application, reason.errorCode], ['remote', true, 0]);
    await until(() => hq.server.connectionCount === 0, 5000, 'the server to forget the connection');
  });

  test('AES-128-GCM only: the tsquic server offers only TLS_AES_128_GCM_SHA256', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const hq = await startTsquicHqServer(t, {
      root,
      pki,
      cipherSuites: [CipherSuite.AES_128_GCM_SHA256],
    });
    const r = await runGoClient(['-ca', pki.caFile, hq.url('/1m.bin'), hq.url('/small.txt')]);
    ok(r);
    assertFilesWhole(r, 2);
    assert.equal(of(r.events, 'conn')[0]!.cipher, 'TLS_AES_128_GCM_SHA256');
  });

  test('Retry: the tsquic server validates the address first', { timeout: TEST_TIMEOUT }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki, retry: true });
    const r = await runGoClient(['-ca', pki.caFile, hq.url('/1m.bin')]);
    ok(r);
    assertFilesWhole(r, 1);
    assert.equal(of(r.events, 'retry').length, 1, 'quic-go must have received exactly one Retry');
    await hq.waitForConnections(1);
    assert.equal(hq.connections.length, 1, 'the Retry creates no connection on the server');
  });

  test('resumption: quic-go resumes with a tsquic ticket', { timeout: TEST_TIMEOUT }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki });
    const r = await runGoClient(['-ca', pki.caFile, '-resume', hq.url('/small.txt'), hq.url('/1m.bin')]);
    ok(r);
    assertFilesWhole(r, 4);
    assert.deepEqual(
      of(r.events, 'conn').map((c) => [c.index, c.resumed, c.used0RTT, c.early]),
      [
        [0, false, false, false],
        [1, true, false, false],
      ],
    );
    const served = await hq.waitForConnections(2);
    assert.deepEqual(
      served.map((s) => [s.conn.resumed, s.conn.used0RTT]),
      [
        [false, false],
        [true, false],
      ],
    );
  });

  test('0-RTT accepted: quic-go sends its requests early and tsquic (listenEarly) serves them', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki, early: true, allow0RTT: true });
    const paths = ['/small.txt', '/1m.bin', '/sub/empty'];
    const r = await runGoClient(['-ca', pki.caFile, '-0rtt', ...paths.map((p) => hq.url(p))]);
    ok(r);
    assertFilesWhole(r, 2 * paths.length);
    const conns = of(r.events, 'conn');
    assert.deepEqual(
      conns.map((c) => [c.early, c.used0RTT, c.resumed, c.rejected0RTT]),
      [
        [false, false, false, false],
        [true, true, true, false],
      ],
    );
    assert.equal(of(r.events, 'retry-after-0rtt-rejection').length, 0);
    const [first, second] = await hq.waitForConnections(2);
    assert.equal(first!.conn.used0RTT, false);
    assert.equal(second!.conn.used0RTT, true);
    assert.equal(second!.conn.resumed, true);
    // listenEarly handed the 0-RTT request streams out a round trip before the handshake completed.
    assert.equal(second!.streamsBeforeHandshake, paths.length);
    await hq.waitForRequests(2 * paths.length);
    assert.equal(second!.requests.length, paths.length);
  });

  test('Retry and 0-RTT: quic-go sends its 0-RTT requests again after the Retry, tsquic accepts them', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki, early: true, allow0RTT: true, retry: true });
    const paths = ['/small.txt', '/1m.bin'];
    const r = await runGoClient(['-ca', pki.caFile, '-0rtt', ...paths.map((p) => hq.url(p))]);
    ok(r);
    assertFilesWhole(r, 2 * paths.length);
    assert.equal(of(r.events, 'retry').length, 2, 'a Retry for each connection');
    assert.deepEqual(
      of(r.events, 'conn').map((c) => [c.early, c.used0RTT]),
      [
        [false, false],
        [true, true],
      ],
    );
    const [first, second] = await hq.waitForConnections(2);
    assert.equal(hq.connections.length, 2, 'Retries create no connections');
    assert.equal(first!.conn.used0RTT, false);
    assert.equal(second!.conn.used0RTT, true);
    assert.equal(second!.streamsBeforeHandshake, paths.length);
  });

  test('key update initiated by quic-go (-key-update 100) during a 10 MiB download', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki });
    const r = await runGoClient(['-ca', pki.caFile, '-key-update', '100', hq.url('/10m.bin')]);
    ok(r);
    assertFilesWhole(r, 1);
    const updates = of(r.events, 'key-update');
    assert.ok(updates.length >= 1, 'quic-go made no key update');
    assert.ok(updates.every((e) => e.remote === false));
    const [served] = await hq.waitForConnections(1);
    const keyUpdates = served!.conn.stats().keyUpdates;
    assert.ok(keyUpdates >= 1, `tsquic followed ${keyUpdates} key updates`);
  });

  test('key update initiated by tsquic (keyUpdateInterval 1000) while serving 10 MiB', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki, keyUpdateInterval: 1000 });
    const r = await runGoClient(['-ca', pki.caFile, hq.url('/10m.bin')]);
    ok(r);
    assertFilesWhole(r, 1);
    const [served] = await hq.waitForConnections(1);
    const keyUpdates = served!.conn.stats().keyUpdates;
    assert.ok(keyUpdates >= 2, `tsquic completed ${keyUpdates} key updates`);
    const updates = of(r.events, 'key-update');
    assert.ok(updates.length >= 2, `quic-go followed ${updates.length} key updates`);
    assert.ok(
      updates.every((e) => e.remote === true),
      'every update was initiated by tsquic',
    );
    assert.deepEqual(
      updates.map((e) => e.generation),
      updates.map((_, i) => i + 1),
    );
  });

  test('50 sequential connections from quic-go, each fetching a file', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki });
    const r = await runGoClient(['-ca', pki.caFile, '-n', '50', hq.url('/small.txt')]);
    ok(r);
    assert.deepEqual(
      of(r.events, 'conn').map((c) => c.index),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assertFilesWhole(r, 50);
    await hq.waitForConnections(50);
    assert.equal(hq.connections.length, 50);
    await hq.waitForRequests(50);
    assert.ok(hq.connections.every((c) => c.requests.length === 1 && c.requests[0]!.bytes === 13));
    await until(
      () => hq.server.connectionCount === 0 && hq.connections.every((c) => c.closeReason !== undefined),
      10_000,
      'every connection to be closed and forgotten',
    );
    assert.ok(hq.connections.every((c) => c.closeReason!.source === 'remote'));
  });
});
