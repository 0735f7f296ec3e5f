/**
 * Interop: stream cancellation and stream errors between tsquic and quic-go 0.29, both ways.
 * RESET_STREAM (RFC 9000 §19.4) and STOP_SENDING (§19.5) sent by one implementation must reach the
 * other with their codes and final size, reset responses must surface as typed errors, and a peer that
 * cancels a stream must never disturb the connection's other streams, nor bring the other side down.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dial, StreamResetError } from '../../src/index.js';
import {
  describeClientRun,
  type GoEvent,
  killAllGoPeers,
  makeTempDir,
  removeDir,
  runGoClient,
  startGoServerFor,
  type TestPkiFiles,
  waitForCount,
  writeTestFile,
  writeTestPki,
} from './go-peers.js';
import {
  clientOptionsFor,
  echoOnce,
  fetchHashed,
  readBytes,
  startTsquicEchoServer,
  startTsquicHqServer,
  until,
  within,
} from './tsquic-peers.js';

const TEST_TIMEOUT = 60_000;
/** The codes interop/server resets refused requests with, and src/hq/hq-server.ts's. */
const GO_NOT_FOUND = 2;
const HQ_NOT_FOUND = 0x10;

let work = '';
let root = '';
let pki: TestPkiFiles;
let smallHash = '';

before(async () => {
  work = makeTempDir();
  root = join(work, 'www');
  await mkdir(root);
  pki = writeTestPki(work);
  smallHash = await writeTestFile(root, 'small.txt', 13, 1);
});

after(async () => {
  await killAllGoPeers();
  if (work) removeDir(work);
});

function of(events: readonly GoEvent[], name: string): GoEvent[] {
  return events.filter((e) => e.event === name);
}

describe('interop: stream cancellation, tsquic client -> quic-go 0.29 server', () => {
  test('cancelWrite/cancelRead reach quic-go as RESET_STREAM and STOP_SENDING; the next stream echoes', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { echo: true, pki });
    const conn = await within(
      dial(server.address, clientOptionsFor(pki, t, { alpn: ['echo'] })),
      10_000,
      'dial',
    );
    const cancelled = await conn.openStream();
    cancelled.on('error', () => {});
    // The six bytes come back first: they were sent, so the final size is 6 (RFC 9000 §4.5).
    cancelled.write(Buffer.from('cancel'));
    const first = await within(readBytes(cancelled, 6), 10_000, 'the first echo');
    assert.equal(first.toString(), 'cancel');
    cancelled.cancelWrite(42);
    cancelled.cancelRead(42);
    const data = Buffer.from('after the cancelled stream');
    const echoed = await within(echoOnce(conn, data), 10_000, 'echo on the next stream');
    assert.ok(echoed.equals(data));

    const reset = await server.waitFor((e) => e.event === 'frame' && e.frame === 'RESET_STREAM');
    const stop = await server.waitFor((e) => e.event === 'frame' && e.frame === 'STOP_SENDING');
    assert.deepEqual([reset.stream, reset.code, reset.finalSize, reset.packet], [0, 42, 6, '1RTT']);
    assert.deepEqual([stop.stream, stop.code, stop.packet], [0, 42, '1RTT']);
    const failed = await server.waitFor((e) => e.event === 'stream-error' && e.stream === 0);
    assert.equal(failed.code, 42);
    const done = await server.waitFor((e) => e.event === 'echo');
    assert.deepEqual([done.stream, done.bytes], [4, data.length]);
    await conn.close();
    const closed = await server.waitFor((e) => e.event === 'closed');
    assert.deepEqual([closed.kind, closed.code], ['application', 0]);
  });

  test('a response quic-go resets arrives as StreamResetError with its code; the connection goes on', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { root, pki });
    const conn = await within(dial(server.address, clientOptionsFor(pki, t)), 10_000, 'dial');
    const failure = await within(
      fetchHashed(conn, '/missing').then(
        () => undefined,
        (e: unknown) => e,
      ),
      10_000,
      'the refused request',
    );
    assert.ok(failure instanceof StreamResetError, `got ${String(failure)}`);
    assert.equal(failure.code, 'ERR_QUIC_STREAM_RESET');
    assert.equal(failure.errorCode, GO_NOT_FOUND);
    const ok = await within(fetchHashed(conn, '/small.txt'), 10_000, 'the next request');
    assert.equal(ok.sha256, smallHash);
    await conn.close();
    await waitForCount(server, (e) => e.event === 'request', 2);
    assert.deepEqual(
      of(server.events, 'request').map((e) => [e.path, e.status]),
      [
        ['/missing', 'not-found'],
        ['/small.txt', 'ok'],
      ],
    );
  });
});

describe('interop: stream cancellation, quic-go 0.29 client -> tsquic server', () => {
  test('quic-go resets and stops a stream at once (1-RTT): the tsquic server survives and keeps serving', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const echo = await startTsquicEchoServer(t, { pki });
    const r = await runGoClient(['-ca', pki.caFile, '-cancel', '42', '-echo', '1k', echo.url()], 20_000);
    // Exit 0: the echo on stream 4 came back whole and tsquic acknowledged both cancel frames.
    assert.equal(r.code, 0, describeClientRun(r));
    assert.deepEqual(of(r.events, 'cancel'), [{ event: 'cancel', stream: 0, code: 42 }]);
    assert.deepEqual(of(r.events, 'echo'), [{ event: 'echo', stream: 4, bytes: 1024 }]);
    await until(() => echo.connections[0]?.echoed.length === 1, 5000, 'the echo on the tsquic side');
    const served = echo.connections[0]!;
    assert.deepEqual(served.echoed, [[4, 1024]]);
    // Whatever the application saw of the cancelled stream 0 is the peer's reset with its code; no other
    // stream failed.
    for (const { stream, error } of served.streamErrors) {
      assert.equal(stream, 0, `stream ${stream} failed: ${error.message}`);
      assert.ok(error instanceof StreamResetError, `got ${String(error)}`);
      assert.equal(error.errorCode, 42);
    }
  });

  test('quic-go resets and stops a stream in 0-RTT: tsquic (listenEarly) keeps serving', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const echo = await startTsquicEchoServer(t, { pki, early: true, allow0RTT: true });
    const r = await runGoClient(
      ['-ca', pki.caFile, '-0rtt', '-cancel', '7', '-echo', '100', echo.url()],
      20_000,
    );
    assert.equal(r.code, 0, describeClientRun(r));
    const conns = of(r.events, 'conn');
    assert.equal(conns[1]?.used0RTT, true);
    await until(() => echo.connections.length === 2, 5000, 'two connections');
    const early = echo.connections[1]!;
    assert.equal(early.conn.used0RTT, true);
    await until(() => early.echoed.length === 1, 5000, 'the echo on the 0-RTT connection');
    assert.deepEqual(early.echoed, [[4, 100]]);
    for (const { stream, error } of early.streamErrors) {
      assert.equal(stream, 0, `stream ${stream} failed: ${error.message}`);
      assert.ok(error instanceof StreamResetError && error.errorCode === 7, `got ${String(error)}`);
    }
  });

  test('a request tsquic refuses (missing file) reaches quic-go as a reset with the hq code', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const hq = await startTsquicHqServer(t, { root, pki });
    const r = await runGoClient(['-ca', pki.caFile, hq.url('/missing')], 20_000);
    assert.notEqual(r.code, 0, describeClientRun(r));
    assert.equal(of(r.events, 'file').length, 0);
    assert.match(String(of(r.events, 'error')[0]?.error), new RegExp(`error code ${HQ_NOT_FOUND}\\b`));
    const served = await hq.waitForRequests(1);
    assert.deepEqual(served, [{ path: '/missing', error: HQ_NOT_FOUND }]);
    const after = await runGoClient(['-ca', pki.caFile, hq.url('/small.txt')], 20_000);
    assert.equal(after.code, 0, describeClientRun(after));
    assert.equal(of(after.events, 'file')[0]?.sha256, smallHash);
  });
});
