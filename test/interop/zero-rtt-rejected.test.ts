/**
 * Interop: 0-RTT rejected, both ways, with quic-go 0.29.
 *
 * tsquic client -> quic-go server: the quic-go issue #4706 scenario (docs/0rtt.md): dialEarly; a stream
 * of the early attempt writes data; the server rejects 0-RTT, so the stream fails with
 * ZeroRTTRejectedError; nextConnection(); a new stream -- ID 0, like the old one -- writes data; only
 * then the old stream is cancelled in both directions (quic-go's deferred cancels), so that a cancel
 * forwarded to the same ID on the next connection would hit the new stream; then the new stream awaits
 * the echo. The echo must arrive, no side may see a stream reset, and the quic-go server must receive no
 * RESET_STREAM or STOP_SENDING on that connection. quic-go 0.29 has no Allow0RTT option: the Go server
 * rejects with a fresh ticket key per ClientHello (-reject-0rtt), or, in the second test, with a second
 * server sharing the ticket key but offering lower limits (resumption accepted, 0-RTT rejected,
 * RFC 9000 §7.4.1).
 *
 * quic-go client -> tsquic server: listenEarly with allow0RTT: () => false; the files still arrive.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { dial, dialEarly, type QuicConnection, SessionCache, ZeroRTTRejectedError } from '../../src/index.js';
import {
  describeClientRun,
  type GoEvent,
  type GoServer,
  killAllGoPeers,
  makeTempDir,
  patternBytes,
  removeDir,
  runGoClient,
  startGoServerFor,
  type TestPkiFiles,
  writeTestFile,
  writeTestPki,
} from './go-peers.js';
import {
  clientOptionsFor,
  echoOnce,
  readAll,
  readBytes,
  startTsquicHqServer,
  until,
  within,
} from './tsquic-peers.js';

const TEST_TIMEOUT = 60_000;
const CANCEL_CODE = 42;
/** Frames the Go servers report: the two that must never appear, and STREAM to see what did arrive. */
const REPORTED_FRAMES = ['RESET_STREAM', 'STOP_SENDING', 'STREAM'];

let work = '';
let pki: TestPkiFiles;

before(async () => {
  work = makeTempDir();
  pki = writeTestPki(work);
});

after(async () => {
  await killAllGoPeers();
  if (work) removeDir(work);
});

function of(events: readonly GoEvent[], name: string, id?: unknown): GoEvent[] {
  return events.filter((e) => e.event === name && (id === undefined || e.id === id));
}

/** A first, full connection that leaves a session ticket (with early data allowed) in `cache`. */
async function primeTicket(server: GoServer, cache: SessionCache, t: TestContext): Promise<void> {
  const conn = await within(
    dial(server.address, clientOptionsFor(pki, t, { alpn: ['echo'], sessionCache: cache })),
    10_000,
    'first dial',
  );
  const echoed = await within(echoOnce(conn, Buffer.from('prime')), 10_000, 'first echo');
  assert.equal(echoed.toString(), 'prime');
  await until(() => cache.size > 0, 5000, 'a session ticket from quic-go');
  await conn.close();
}

/** Asserts that the Go server received no RESET_STREAM / STOP_SENDING and saw no stream fail on `id`. */
function assertNoResets(server: GoServer, id: unknown): void {
  const resets = of(server.events, 'frame', id).filter((e) => e.frame !== 'STREAM');
  assert.deepEqual(resets, [], 'quic-go received RESET_STREAM/STOP_SENDING on the next connection');
  assert.deepEqual(of(server.events, 'stream-error', id), [], 'a stream failed on the quic-go server');
}

describe('interop: 0-RTT rejected, tsquic client -> quic-go 0.29 server', () => {
  test('the quic-go #4706 scenario: nextConnection(), stream 0 written, then cancel the rejected stream 0: echo', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const server = await startGoServerFor(t, { echo: true, reject0Rtt: true, frames: REPORTED_FRAMES, pki });
    const cache = new SessionCache();
    await primeTicket(server, cache, t);

    const early = await within(
      dialEarly(server.address, clientOptionsFor(pki, t, { alpn: ['echo'], sessionCache: cache })),
      10_000,
      'dialEarly',
    );
    const oldErrors: Error[] = [];
    const oldStream = await early.openStream();
    oldStream.on('error', (e: Error) => oldErrors.push(e));
    const oldData = Buffer.from('data sent as 0-RTT, on a stream of the rejected attempt');
    let failure: unknown;
    try {
      oldStream.write(oldData);
      await within(readBytes(oldStream, oldData.length), 10_000, 'the old stream to fail');
      assert.fail('quic-go echoed 0-RTT data it must have rejected');
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof ZeroRTTRejectedError, `old stream failed with ${String(failure)}`);
    assert.equal(failure.code, 'ERR_QUIC_0RTT_REJECTED');
    assert.equal(early.used0RTT, false);

    const next: QuicConnection = await within(early.nextConnection(), 10_000, 'nextConnection()');
    assert.notEqual(next, early, 'rejected: nextConnection() is a new connection');
    assert.equal(next.used0RTT, false);
    const stream = await within(next.openStream(), 20_000, 'openStream on the next connection');
    const streamErrors: Error[] = [];
    stream.on('error', (e: Error) => streamErrors.push(e));
    assert.equal(stream.id, 0, 'stream IDs start again at 0 on the next connection');
    const data = Buffer.from('data sent on the next connection, after the rejection');
    stream.write(data);
    // The old request's cleanup runs now, while the new stream 0 is open.
    oldStream.cancelRead(CANCEL_CODE);
    oldStream.cancelWrite(CANCEL_CODE);
    const echoed = await within(readBytes(stream, data.length), 10_000, 'the echo on the next connection');
    assert.ok(echoed.equals(data), 'the echo differs');
    stream.end();
    assert.equal((await within(readAll(stream), 20_000, 'the echo FIN')).length, 0);
    assert.deepEqual(streamErrors, [], 'the new stream saw an error');
    // The old stream failed once, cleanly, and the rejected attempt accepts nothing more.
    assert.ok(oldErrors.length <= 1 && oldErrors.every((e) => e instanceof ZeroRTTRejectedError));
    await assert.rejects(early.openStream(), ZeroRTTRejectedError);
    await within(next.close(), 20_000, 'close');

    const conns = of(server.events, 'conn');
    assert.equal(conns.length, 2);
    const second = conns[1]!;
    assert.deepEqual([second.used0RTT, second.resumed], [false, false]);
    const done = await server.waitFor((e) => e.event === 'echo' && e.id === second.id);
    assert.deepEqual([done.stream, done.bytes], [0, data.length]);
    await server.waitFor((e) => e.event === 'closed' && e.id === second.id);
    assertNoResets(server, second.id);
    // Only the new stream's data arrived (the rejected 0-RTT packets were dropped unread).
    const streamFrames = of(server.events, 'frame', second.id);
    assert.ok(streamFrames.length >= 1);
    assert.ok(
      streamFrames.every((e) => e.stream === 0 && e.packet === '1RTT'),
      JSON.stringify(streamFrames),
    );
  });

  test('resumed but 0-RTT rejected for lower limits: old bidi and uni streams, then the new limits hold', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const ticketKey = patternBytes(32, 77);
    const first = await startGoServerFor(t, { echo: true, zeroRtt: true, ticketKey, pki });
    const lower = await startGoServerFor(t, {
      echo: true,
      zeroRtt: true,
      ticketKey,
      pki,
      maxStreams: 4,
      streamWindow: 64 * 1024,
      connWindow: 256 * 1024,
      frames: REPORTED_FRAMES,
    });
    const cache = new SessionCache();
    await primeTicket(first, cache, t);

    const early = await within(
      dialEarly(lower.address, clientOptionsFor(pki, t, { alpn: ['echo'], sessionCache: cache })),
      10_000,
      'dialEarly',
    );
    // Old streams in several states: a bidi stream with more queued than any 0-RTT window, a bidi
    // stream that sent FIN, a uni stream that sent FIN.
    const big = await early.openStream();
    const finished = await early.openStream();
    const uni = await early.openUniStream();
    const oldErrors: Error[] = [];
    for (const s of [big, finished, uni]) s.on('error', (e: Error) => oldErrors.push(e));
    big.write(patternBytes(2 * 1024 * 1024, 5));
    finished.end(Buffer.from('finished early'));
    uni.end(Buffer.from('uni early'));
    const outcomes = await within(
      Promise.allSettled([readAll(big), readAll(finished)]),
      10_000,
      'the old streams to fail',
    );
    for (const o of outcomes) {
      assert.equal(o && typeof o === 'object' && 'status' in o ? o.status : undefined, 'rejected');
      assert.ok((o as PromiseRejectedResult).reason instanceof ZeroRTTRejectedError);
    }

    const next = await within(early.nextConnection(), 10_000, 'nextConnection()');
    assert.notEqual(next, early);
    assert.equal(next.resumed, true, 'the shared ticket key makes resumption work');
    assert.equal(next.used0RTT, false, 'lower limits make quic-go reject 0-RTT (RFC 9000 §7.4.1)');
    // Eight concurrent echoes of 200 KiB: twice the new stream limit (4) and more than the new stream
    // window (64 KiB); quic-go closes the connection if tsquic used the remembered, larger limits.
    const payloads = Array.from({ length: 8 }, (_, i) => patternBytes(200 * 1024, 10 + i));
    // The first echo's stream (ID 0) and then the old streams' cleanup: their IDs (0, 4, 2) now exist
    // or will exist on the next connection.
    const stream0 = await within(next.openStream(), 20_000, 'the first stream of the next connection');
    assert.equal(stream0.id, 0);
    const firstEcho = readAll(stream0);
    stream0.write(payloads[0]!.subarray(0, 1024));
    for (const s of [big, finished]) {
      s.cancelRead(CANCEL_CODE);
      s.cancelWrite(CANCEL_CODE);
    }
    uni.cancelWrite(CANCEL_CODE);
    stream0.end(payloads[0]!.subarray(1024));
    const echoes = await within(
      Promise.all([firstEcho, ...payloads.slice(1).map((p) => echoOnce(next, p))]),
      30_000,
      'eight echoes within the new limits',
    );
    for (const [i, e] of echoes.entries()) assert.ok(e.equals(payloads[i]!), `echo ${i} differs`);
    await within(next.close(), 20_000, 'close');
    assert.ok(oldErrors.every((e) => e instanceof ZeroRTTRejectedError));

    const hello = await lower.waitFor((e) => e.event === 'conn');
    assert.deepEqual([hello.resumed, hello.used0RTT], [true, false]);
    const closed = await lower.waitFor((e) => e.event === 'closed' && e.id === hello.id);
    assert.deepEqual([closed.kind, closed.code, closed.remote], ['application', 0, true]);
    assertNoResets(lower, hello.id);
    const echoed = of(lower.events, 'echo', hello.id);
    assert.deepEqual(
      echoed.map((e) => Number(e.stream)).sort((a, b) => a - b),
      [0, 4, 8, 12, 16, 20, 24, 28],
    );
    assert.deepEqual(of(lower.events, 'uni', hello.id), [], 'no uni stream of the old attempt arrived');
    assert.equal(of(first.events, 'conn').length, 1);
  });
});

describe('interop: 0-RTT rejected, quic-go 0.29 client -> tsquic server', () => {
  test('listenEarly with allow0RTT: () => false: quic-go repeats its requests, the files arrive', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const root = join(work, 'www');
    await mkdir(root, { recursive: true });
    const hashes = new Map([
      ['/small.txt', await writeTestFile(root, 'small.txt', 13, 1)],
      ['/1m.bin', await writeTestFile(root, '1m.bin', 1024 * 1024, 2)],
    ]);
    const asked: Array<{ address: string; alpn: string }> = [];
    const hq = await startTsquicHqServer(t, {
      root,
      pki,
      early: true,
      allow0RTT: (info) => {
        asked.push({ address: info.address, alpn: info.alpn });
        return false;
      },
    });
    const paths = [...hashes.keys()];
    const r = await runGoClient(['-ca', pki.caFile, '-0rtt', ...paths.map((p) => hq.url(p))], 30_000);
    assert.equal(r.code, 0, describeClientRun(r));
    const conns = of(r.events, 'conn');
    assert.deepEqual(
      conns.map((c) => [c.early, c.used0RTT, c.rejected0RTT, c.resumed]),
      [
        [false, false, false, false],
        [true, false, true, true],
      ],
    );
    assert.equal(of(r.events, 'retry-after-0rtt-rejection').length, 1);
    const files = of(r.events, 'file');
    assert.equal(files.length, 2 * paths.length);
    for (const f of files) assert.equal(f.sha256, hashes.get(String(f.path)), String(f.path));

    assert.deepEqual(asked, [{ address: '127.0.0.1', alpn: 'hq-interop' }], 'the policy decided once');
    const [, second] = await hq.waitForConnections(2);
    assert.equal(second!.conn.used0RTT, false);
    assert.equal(second!.conn.resumed, true);
    // The rejected 0-RTT requests were never processed (RFC 9001 §4.6.2): each file was served once.
    await hq.waitForRequests(2 * paths.length);
    await until(() => second!.closeReason !== undefined, 5000, 'the second connection to close');
    assert.deepEqual(second!.requests.map((q) => q.path).sort(), [...paths].sort());
  });
});
