/**
 * The whole public surface of a rejected 0-RTT attempt, as one table shared by the simulator test
 * (test/sim/zero-rtt-surface.test.ts) and the real-UDP test (test/integration/zero-rtt-surface.test.ts):
 * every member of an EarlyConnection and of its streams, used after the server rejected 0-RTT, either
 * before the application asks for the next connection or after it has (and has already opened stream 0
 * on it: the same ID as the old request stream). docs/0rtt.md lists what each member does.
 *
 * The scenario (runSurfaceScenario) is the same everywhere: old streams in several states and with no
 * 'error' listener (except one), the verdict, the member under test, the next connection echoing
 * stream 0 and receiving a unidirectional stream the server opens. The environments add the wire
 * checks (the simulator's frame trace, the qlog files of both sides over UDP).
 */
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import {
  ConnectionClosedError,
  type EarlyConnection,
  type QuicConnection,
  type QuicReceiveStream,
  type QuicSendStream,
  type QuicStream,
  ZeroRTTRejectedError,
} from '../../src/index.js';

/** Old-attempt bytes, the next connection's bytes, and what the server pushes on its own stream. */
export const OLD = 0xaa;
export const NEW = 0xbb;
export const PUSH = 0xcc;
/** The next connection's stream 0: first part written before the member runs, then the rest. */
export const NEW_FIRST = 3_000;
export const NEW_REST = 1_000;
export const PUSH_BYTES = 700;
/** Codes the dead objects use: none of them may appear on the wire after the rejection. */
export const CANCEL_CODE = 42;
export const EARLY_CLOSE_CODE = 0x77;

export type Order = 'before-next' | 'after-next';

/** How a test environment lets the network run while the application waits. */
export interface SurfaceEnv {
  /** Wait for `p` while the network runs (bounded; fails with `what`). */
  wait<T>(p: Promise<T>, what: string): Promise<T>;
  /** Let the network and the application run for a while: anything queued would go out. */
  idle(): Promise<void>;
  /** Both sides accept DATAGRAM frames (the simulator; the public options cannot enable them yet). */
  datagrams: boolean;
}

/** The objects of the rejected attempt, created before the verdict. */
export interface OldObjects {
  early: EarlyConnection;
  /** Stream 0: a request written and ended, never read, no listener (the crash of issue 9). */
  request: QuicStream;
  /** Stream 4: written; a for-await read pending since before the verdict. */
  reading: QuicStream;
  readOutcome: Promise<unknown>;
  /** Stream 8: the only one with an 'error' listener, attached before the verdict. */
  listened: QuicStream;
  listenedErrors: Error[];
  /** Stream 2: unidirectional, data written, not ended. */
  uni: QuicSendStream;
  /** Every 'stream' / 'datagram' event the early connection emitted (listeners from the start). */
  earlyEvents: string[];
}

export interface LiveSide {
  next: QuicConnection;
  /** Stream 0 of the next connection, open and written (NEW_FIRST bytes) before the member runs. */
  s0: QuicStream;
}

export interface SurfaceCase {
  member: string;
  /** Default: both. */
  orders?: Order[];
  /** Use the member; may return a check to run once the next connection's work is done. */
  run(old: OldObjects, env: SurfaceEnv, live: LiveSide | undefined): Promise<(() => void) | undefined>;
}

/** Open the old streams and start their work, as an application does before it knows the verdict. */
export async function openOldObjects(early: EarlyConnection): Promise<OldObjects> {
  const earlyEvents: string[] = [];
  early.on('stream', () => earlyEvents.push('stream'));
  early.on('datagram', () => earlyEvents.push('datagram'));
  const request = await early.openStream();
  const uni = await early.openUniStream();
  const reading = await early.openStream();
  const listened = await early.openStream();
  assert.deepEqual([request.id, uni.id, reading.id, listened.id], [0, 2, 4, 8]);
  request.end(Buffer.alloc(500, OLD));
  uni.write(Buffer.alloc(2_000, OLD));
  reading.write(Buffer.alloc(300, OLD));
  const readOutcome = readAll(reading).then(
    () => 'ended',
    (e: unknown) => e,
  );
  const listenedErrors: Error[] = [];
  listened.on('error', (e: Error) => listenedErrors.push(e));
  listened.write(Buffer.alloc(100, OLD));
  return { early, request, reading, readOutcome, listened, listenedErrors, uni, earlyEvents };
}

export async function readAll(s: QuicStream | QuicReceiveStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function callbackOf(call: (cb: (err?: Error | null) => void) => unknown): Promise<Error | null | undefined> {
  return new Promise((resolve) => {
    call((err) => resolve(err));
  });
}

function assertRejectedError(e: unknown, what: string): void {
  assert.ok(e instanceof ZeroRTTRejectedError, `${what}: ${String(e)}`);
  assert.equal(e.code, 'ERR_QUIC_0RTT_REJECTED');
}

const oldStreams = (o: OldObjects) => [o.request, o.reading, o.listened];

/** Every member, with what it must do on the dead attempt (docs/0rtt.md, the table). */
export const SURFACE_CASES: SurfaceCase[] = [
  {
    member: 'early.close()',
    // Before nextConnection() was asked for, close() closes the QUIC connection: its own tests.
    orders: ['after-next'],
    async run(old, env) {
      const r = await env.wait(old.early.close(EARLY_CLOSE_CODE, 'cleanup of the dead attempt'), 'close()');
      assert.equal(r.source, 'early-data-rejected');
      assertRejectedError(r.error, 'close() result');
      return undefined;
    },
  },
  {
    member: 'early.closed',
    async run(old) {
      const r = await old.early.closed;
      assert.equal(r.source, 'early-data-rejected');
      assertRejectedError(r.error, 'closed');
      return undefined;
    },
  },
  {
    member: 'early.handshakeComplete',
    async run(old, env) {
      // It reports the QUIC handshake, which completed (with 0-RTT rejected).
      await env.wait(old.early.handshakeComplete, 'handshakeComplete');
      return undefined;
    },
  },
  {
    member: 'early.used0RTT',
    async run(old) {
      assert.equal(old.early.used0RTT, false);
      return undefined;
    },
  },
  {
    member: 'early.resumed',
    async run(old) {
      // The server rejected 0-RTT by policy, not the resumption.
      assert.equal(old.early.resumed, true);
      return undefined;
    },
  },
  {
    member: 'early.alpn',
    async run(old, _env, live) {
      assert.equal(typeof old.early.alpn, 'string');
      if (live) assert.equal(old.early.alpn, live.next.alpn);
      return undefined;
    },
  },
  {
    member: 'early.remoteAddress',
    async run(old, _env, live) {
      const a = old.early.remoteAddress;
      assert.ok(a.port > 0 && a.address.length > 0);
      if (live) assert.deepEqual(a, live.next.remoteAddress);
      return undefined;
    },
  },
  {
    member: 'early.stats()',
    async run(old) {
      const s = old.early.stats();
      assert.ok(s.packetsSent > 0, 'the QUIC connection sent packets');
      return undefined;
    },
  },
  {
    member: 'early.sendDatagram()',
    async run(old) {
      for (let i = 0; i < 3; i++) assert.equal(old.early.sendDatagram(Buffer.alloc(100, OLD)), false);
      return undefined;
    },
  },
  {
    member: "early.on('stream')",
    async run(old) {
      let fired = 0;
      old.early.on('stream', () => fired++);
      // The server opens a stream on the next connection: the dead object never hears of it.
      return () => assert.equal(fired, 0);
    },
  },
  {
    member: "early.on('datagram')",
    async run(old) {
      let fired = 0;
      old.early.on('datagram', () => fired++);
      return () => assert.equal(fired, 0);
    },
  },
  {
    member: 'early.openStream()',
    async run(old) {
      await assert.rejects(old.early.openStream(), ZeroRTTRejectedError);
      return undefined;
    },
  },
  {
    member: 'early.openUniStream()',
    async run(old) {
      await assert.rejects(old.early.openUniStream(), ZeroRTTRejectedError);
      return undefined;
    },
  },
  {
    member: 'early.acceptStream()',
    async run(old) {
      await assert.rejects(old.early.acceptStream(), ZeroRTTRejectedError);
      return undefined;
    },
  },
  {
    member: 'early.acceptUniStream()',
    async run(old) {
      await assert.rejects(old.early.acceptUniStream(), ZeroRTTRejectedError);
      return undefined;
    },
  },
  {
    member: 'for await (const s of early)',
    async run(old) {
      let n = 0;
      for await (const _ of old.early) n++;
      assert.equal(n, 0, 'the loop ends at once');
      return undefined;
    },
  },
  {
    member: 'early.nextConnection() again',
    orders: ['after-next'],
    async run(old, env, live) {
      assert.equal(await env.wait(old.early.nextConnection(), 'nextConnection'), live?.next);
      return undefined;
    },
  },
  {
    member: 'stream.write()',
    async run(old) {
      for (const s of [...oldStreams(old), old.uni]) {
        let ret: boolean | undefined;
        const err = await callbackOf((cb) => {
          ret = s.write(Buffer.alloc(10_000, OLD), cb);
        });
        assertRejectedError(err, `write on old stream ${s.id}`);
        assert.equal(ret, false);
      }
      return undefined;
    },
  },
  {
    member: 'stream.end()',
    async run(old) {
      for (const s of [...oldStreams(old), old.uni]) {
        assertRejectedError(
          await callbackOf((cb) => s.end(Buffer.alloc(10, OLD), cb)),
          `end(data) on ${s.id}`,
        );
        assertRejectedError(await callbackOf((cb) => s.end(cb)), `end() on ${s.id}`);
      }
      return undefined;
    },
  },
  {
    member: 'stream.destroy()',
    async run(old) {
      old.request.destroy();
      old.reading.destroy(new Error('the application destroys a dead stream with its own error'));
      old.listened.destroy();
      old.uni.destroy();
      for (const s of [...oldStreams(old), old.uni]) assert.equal(s.destroyed, true);
      return undefined;
    },
  },
  {
    member: 'stream.cancelRead()',
    async run(old) {
      for (const s of oldStreams(old)) s.cancelRead(CANCEL_CODE);
      return undefined;
    },
  },
  {
    member: 'stream.cancelWrite()',
    async run(old) {
      for (const s of [...oldStreams(old), old.uni]) s.cancelWrite(CANCEL_CODE);
      return undefined;
    },
  },
  {
    member: 'stream.pipe()',
    async run(old, env, live) {
      // The old stream as a source: into the next connection's stream 0 (same ID), or into a sink.
      const sink = new PassThrough();
      const got: Buffer[] = [];
      sink.on('data', (c: Buffer) => got.push(c));
      old.request.pipe(live ? live.s0 : sink);
      old.reading.pipe(sink);
      // The old streams as destinations: nothing is written, nothing is thrown.
      Readable.from([Buffer.alloc(1_000, OLD)]).pipe(old.listened);
      Readable.from([Buffer.alloc(1_000, OLD)]).pipe(old.uni);
      await env.idle();
      return () => {
        assert.deepEqual(got, [], 'nothing came out of the dead streams');
        assert.equal(sink.writableEnded, false, 'the dead source did not end its destination');
      };
    },
  },
  {
    member: 'for await (const chunk of stream)',
    async run(old) {
      for (const s of oldStreams(old)) {
        await assert.rejects(
          (async () => {
            for await (const _ of s) assert.fail('a dead stream yields nothing');
          })(),
          ZeroRTTRejectedError,
        );
      }
      return undefined;
    },
  },
  {
    member: 'stream.read()',
    async run(old) {
      for (const s of oldStreams(old)) assert.equal(s.read(), null);
      return undefined;
    },
  },
  {
    member: "stream.on('error')",
    async run(old) {
      // Attached after the rejection: the error was not emitted to nobody, and is not emitted again.
      const late: Error[] = [];
      for (const s of [...oldStreams(old), old.uni]) s.on('error', (e: Error) => late.push(e));
      for (const s of [...oldStreams(old), old.uni]) assertRejectedError(s.errored, `errored of ${s.id}`);
      return () => assert.deepEqual(late, []);
    },
  },
];

/** What the scenario observed on the live side, for the environment's checks. */
export interface ScenarioResult {
  old: OldObjects;
  next: QuicConnection;
  echo: Buffer;
  pushed: Buffer;
  datagrams: Buffer[];
}

/**
 * The scenario for one member and one order. `early` is a fresh EarlyConnection to a server that
 * rejects 0-RTT, echoes every bidirectional stream, and opens a unidirectional stream (PUSH_BYTES of
 * PUSH, then FIN; plus a DATAGRAM when enabled) once it has data on stream 0 of a connection.
 */
export async function runSurfaceScenario(
  env: SurfaceEnv,
  early: EarlyConnection,
  c: SurfaceCase,
  order: Order,
): Promise<ScenarioResult> {
  const old = await openOldObjects(early);
  // The verdict: the early connection's `closed` resolves with the rejection.
  const verdict = await env.wait(early.closed, 'the rejection');
  assert.equal(verdict.source, 'early-data-rejected');
  let check: (() => void) | undefined;
  if (order === 'before-next') {
    check = await c.run(old, env, undefined);
    await env.idle();
  }
  const next = await env.wait(early.nextConnection(), 'nextConnection()');
  assert.notEqual(next, early);
  const datagrams: Buffer[] = [];
  next.on('datagram', (d: Uint8Array) => datagrams.push(Buffer.from(d)));
  const pushedStream = next.acceptUniStream();
  const s0 = await env.wait(next.openStream(), 'openStream on the next connection');
  assert.equal(s0.id, 0, 'the next connection starts again at stream 0');
  const s0Errors: Error[] = [];
  s0.on('error', (e: Error) => s0Errors.push(e));
  s0.write(Buffer.alloc(NEW_FIRST, NEW));
  if (order === 'after-next') {
    // The old request stream and the new stream 0 now coexist, with the same ID.
    check = await c.run(old, env, { next, s0 });
    await env.idle();
  }
  s0.end(Buffer.alloc(NEW_REST, NEW));
  const echo = await env.wait(readAll(s0), 'the echo on the next connection');
  const pushed = await env.wait(
    pushedStream.then((u) => readAll(u)),
    'the stream the server opened',
  );
  if (env.datagrams) {
    await env.wait(
      (async () => {
        while (datagrams.length === 0) await new Promise((r) => setImmediate(r));
      })(),
      'the DATAGRAM of the server',
    );
  }
  check?.();

  // The live side: exact echo, the server's stream and datagram, no error.
  assert.equal(echo.length, NEW_FIRST + NEW_REST, 'the whole echo arrived');
  assert.ok(
    echo.every((b) => b === NEW),
    'the echo is the new bytes only',
  );
  assert.deepEqual(s0Errors, [], 'the new stream 0 saw no error');
  assert.equal(pushed.length, PUSH_BYTES);
  assert.ok(pushed.every((b) => b === PUSH));
  // The dead side: every old stream failed once with the rejection; events went nowhere.
  assertRejectedError(await old.readOutcome, 'the read pending at the verdict');
  assert.equal(old.listenedErrors.length, 1, 'the listened old stream emitted one error');
  assertRejectedError(old.listenedErrors[0], "the old stream's 'error' event");
  assert.deepEqual(old.earlyEvents, [], 'the early connection emitted no stream or datagram event');
  const closedLater = await early.closed;
  assert.equal(closedLater.source, 'early-data-rejected');

  await env.wait(next.close(), 'close of the next connection');
  return { old, next, echo, pushed, datagrams };
}

/**
 * The application never asks for the next connection and closes the early one: `close()` closes the
 * QUIC connection with its code (nothing else could). What nextConnection() gives afterwards is closed.
 */
export async function closeWithoutAskingScenario(env: SurfaceEnv, early: EarlyConnection): Promise<void> {
  await openOldObjects(early);
  await env.wait(early.closed, 'the rejection');
  const r = await env.wait(early.close(EARLY_CLOSE_CODE, 'giving up'), 'close()');
  assert.equal(r.source, 'early-data-rejected');
  await env.idle();
  await assert.rejects(
    env.wait(
      early.nextConnection().then((c) => c.openStream()),
      'a stream on the closed next connection',
    ),
    ConnectionClosedError,
  );
}

/** close() after nextConnection() was called but before it resolved: the next connection lives. */
export async function closeAfterAskingEarlyScenario(
  env: SurfaceEnv,
  early: EarlyConnection,
): Promise<Buffer> {
  await openOldObjects(early);
  const nextP = early.nextConnection();
  await env.wait(early.closed, 'the rejection');
  const r = await env.wait(early.close(EARLY_CLOSE_CODE, 'cleanup'), 'close()');
  assert.equal(r.source, 'early-data-rejected');
  const next = await env.wait(nextP, 'nextConnection()');
  const s = await env.wait(next.openStream(), 'openStream');
  assert.equal(s.id, 0);
  s.end(Buffer.alloc(NEW_FIRST, NEW));
  const echo = await env.wait(readAll(s), 'echo');
  await env.wait(next.close(), 'close');
  return echo;
}
