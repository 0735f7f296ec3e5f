/**
 * The quic-go #4706 regression on the simulator (docs/0rtt.md): 0-RTT is rejected; the client's
 * request on stream 0 of the rejected attempt fails; the application continues on the next connection
 * and opens a stream there -- ID 0 again, the same ID as the old one -- and writes; only then does the
 * cleanup of the old request run, `oldStream.cancelRead(42); oldStream.cancelWrite(42)` (in quic-go, a
 * deferred CancelRead/CancelWrite); then the application awaits the echo. Because the new stream 0
 * exists when the cancels run, a cancel forwarded to the same ID on the next connection -- the bug --
 * would reset it: this one test alone catches it.
 *
 * The headline runs through the public API (EarlyConnection, QuicStream; test/sim/public-api-sim.ts).
 * The core-level tests below do the same on the stream epochs directly (stopSending/resetStream on the
 * dead epoch's StreamManager), with the cancels also at the verdict and after the echo.
 *
 * In quic-go the cancels crossed into the new connection and reset its fresh stream 0 on both sides.
 * Here the echo must arrive byte-exact, neither application may see a stream reset, and the wire
 * (the trace hooks of both connections) must carry no RESET_STREAM or STOP_SENDING at all after the
 * rejection: the server never hears of the old attempt (RFC 9001 §4.6.2).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import { ZeroRTTRejectedError } from '../../src/index.js';
import { SendState } from '../../src/streams/send-stream.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { readAll } from './early-surface.js';
import { withSimSeed } from './network.js';
import { settleTicks, watchProcessErrors } from './process-errors.js';
import { PublicClient, simWait } from './public-api-sim.js';
import {
  allEqual,
  assertNothingOldAfterRejection,
  CANCEL_CODE,
  ClientApp,
  EchoServerApp,
  fill,
  ZeroRttSim,
} from './zero-rtt-harness.js';

const OLD = 0xaa;
const NEW = 0xbb;
const REQUEST = 500;
const AFTER = 300;

type CancelWhen = 'on-rejection' | 'after-next-connection' | 'after-echo';

interface Outcome {
  z: ZeroRttSim;
  conn: Connection;
  server: Connection;
  app: ClientApp;
  echo: EchoServerApp;
  old: StreamEpoch;
  fresh: StreamEpoch;
  newId: number;
  oldRequestFailedAt: number | undefined;
}

/**
 * The scenario: the old stream 0 sends a request and waits for the reply; the rejection ends that
 * wait; the cancels run at `when`; the next connection's stream 0 writes and awaits its echo.
 */
function run4706(seed: number, when: CancelWhen): Outcome {
  const z = new ZeroRttSim({ seed, allow: false });
  const echo = new EchoServerApp(z.sim);
  const conn = z.dialEarly();
  const app = new ClientApp(z.sim, conn);
  const old = conn.epoch!;
  // str, _ := conn.OpenStream(); str.Write(request); str.Close(); io.ReadAll(str)
  const oldId = old.streams.openStream(true)!;
  assert.equal(oldId, 0);
  old.streams.write(oldId, fill(REQUEST, OLD));
  old.streams.end(oldId);

  const cancel = () => {
    // finally { oldStream.cancelRead(42); oldStream.cancelWrite(42) }
    old.streams.stopSending(oldId, CANCEL_CODE);
    old.streams.resetStream(oldId, CANCEL_CODE);
  };
  let fresh: StreamEpoch | undefined;
  let newId: number | undefined;
  let oldRequestFailedAt: number | undefined;
  let cancelledAfterEcho = false;
  app.onRejected = () => {
    // The pending read of the old stream fails here (ZeroRTTRejectedError in the public API).
    oldRequestFailedAt = z.sim.now;
    if (when === 'on-rejection') cancel();
  };
  app.onEpoch = (epoch) => {
    if (epoch.early) return;
    // next := conn.NextConnection(); s := next.OpenStream(); s.Write(...); s.Close(); io.ReadAll(s)
    fresh = epoch;
    newId = epoch.streams.openStream(true);
    epoch.streams.write(newId!, fill(AFTER, NEW));
    epoch.streams.end(newId!);
    if (when === 'after-next-connection') cancel();
  };
  app.onTurn = () => {
    if (when === 'after-echo' && !cancelledAfterEcho && fresh && app.logOf(fresh, newId!).fin) {
      cancelledAfterEcho = true;
      cancel();
    }
  };
  z.sim.run(() => fresh !== undefined && app.logOf(fresh, newId!).fin, 10_000);
  z.settle();
  const server = z.serverOf(conn);
  assert.ok(server && fresh && newId !== undefined);
  if (when === 'after-echo') assert.ok(cancelledAfterEcho);
  return { z, conn, server, app, echo, old, fresh, newId, oldRequestFailedAt };
}

function assertNoLeak(o: Outcome): void {
  const { z, conn, server, app, echo, old, fresh, newId } = o;
  // The attempt really was a rejected 0-RTT attempt whose old stream 0 went out in 0-RTT.
  assert.equal(conn.earlyDataState, 'rejected');
  assert.equal(conn.used0RTT, false);
  assert.equal(server.used0RTT, false);
  assert.equal(old.rejected, true);
  assert.notEqual(o.oldRequestFailedAt, undefined, 'the old request failed with the rejection');
  const clientSent = z.framesOf(conn, 'sent');
  assert.ok(
    clientSent.some(
      (r) =>
        r.packetType === PacketType.ZeroRtt &&
        r.frame.type === FrameType.Stream &&
        r.frame.streamId === 0 &&
        allEqual(r.data!, OLD),
    ),
    'the old stream 0 sent its request in 0-RTT',
  );
  // The cancels did reach the dead epoch (its stream 0 is reset there, frames queued)...
  assert.equal(old.streams.streamState(0)?.send, SendState.ResetSent);
  assert.equal(old.streams.hasPendingFrames(), true);

  // ...and nothing else: the new stream has the same ID and completed normally.
  assert.equal(newId, 0, 'the next connection starts again at stream 0');
  assert.equal(conn.epoch, fresh);
  const reply = app.logOf(fresh, newId);
  assert.equal(reply.fin, true, 'the echo arrived');
  assert.equal(reply.bytes.length, AFTER);
  assert.ok(allEqual(reply.bytes, NEW), 'the echo is byte-exact');
  assert.equal(app.resetsSeen(fresh), 0, 'the client saw no stream reset on the next connection');
  assert.equal(fresh.streams.streamState(newId), undefined, 'stream 0 closed cleanly on the client');

  // The server application saw exactly one stream, 0, with the new bytes, never reset or stopped.
  const served = echo.logOf(server);
  assert.deepEqual([...served.keys()], [0]);
  assert.equal(served.get(0)!.bytes.length, AFTER);
  assert.ok(allEqual(served.get(0)!.bytes, NEW));
  assert.equal(served.get(0)!.fin, true);
  assert.equal(echo.resetsSeen(server), 0, 'the server saw no stream reset');

  // The wire: no RESET_STREAM or STOP_SENDING anywhere on this connection, either direction.
  for (const r of z.trace.filter((t) => t.conn === conn || t.conn === server)) {
    assert.ok(
      r.frame.type !== FrameType.ResetStream && r.frame.type !== FrameType.StopSending,
      `${r.role} ${r.direction} ${FrameType[r.frame.type]}`,
    );
  }
  // The server never processed a 0-RTT packet, and received only the new stream's bytes.
  const serverGot = z.framesOf(server, 'received');
  assert.ok(serverGot.every((r) => r.packetType !== PacketType.ZeroRtt));
  const streamFrames = serverGot.filter((r) => r.frame.type === FrameType.Stream);
  assert.ok(streamFrames.length > 0);
  assert.ok(streamFrames.every((r) => allEqual(r.data!, NEW)));
  assertNothingOldAfterRejection(z, conn, { newByte: NEW, allowedStreamIds: new Set([0]) });
  assert.deepEqual(conn.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
}

/**
 * The headline through the public API: the new stream 0 is open and written before the old stream's
 * cancels run.
 */
async function run4706Public(seed: number): Promise<void> {
  const watch = watchProcessErrors();
  const z = new ZeroRttSim({ seed, allow: false });
  const echo = new EchoServerApp(z.sim);
  const conn = z.dialEarly();
  const client = new PublicClient(z.sim, conn, true);
  const early = client.client.early()!;
  const wait = <T>(p: Promise<T>, what: string) => simWait(z.sim, p, what);

  // str, _ := conn.OpenStream(); str.Write(request); str.Close(); io.ReadAll(str)
  const oldStream = await early.openStream();
  assert.equal(oldStream.id, 0);
  let failure: unknown;
  try {
    oldStream.end(Buffer.alloc(REQUEST, OLD));
    await wait(readAll(oldStream), 'the old request');
    assert.fail('the early attempt must have been rejected');
  } catch (err) {
    failure = err;
  }
  assert.ok(failure instanceof ZeroRTTRejectedError, String(failure));

  // next := conn.NextConnection(); s := next.OpenStream(); s.Write(...)
  const next = await wait(early.nextConnection(), 'nextConnection()');
  const s = await wait(next.openStream(), 'openStream');
  assert.equal(s.id, 0, 'the next connection starts again at stream 0');
  const newErrors: Error[] = [];
  s.on('error', (e: Error) => newErrors.push(e));
  s.write(Buffer.alloc(AFTER / 2, NEW));
  // Only now the old request's cleanup (quic-go: the deferred cancels), with the new stream 0 open.
  oldStream.cancelRead(CANCEL_CODE);
  oldStream.cancelWrite(CANCEL_CODE);
  s.end(Buffer.alloc(AFTER - AFTER / 2, NEW));
  const reply = await wait(readAll(s), 'the echo on the next connection');
  assert.equal(reply.length, AFTER, 'the echo arrived');
  assert.ok(allEqual(reply, NEW), 'the echo is byte-exact');
  assert.deepEqual(newErrors, [], 'the client saw no reset on the new stream 0');
  await wait(next.close(), 'close');
  z.settle();

  const server = z.serverOf(conn);
  assert.ok(server);
  assert.equal(conn.earlyDataState, 'rejected');
  assert.ok(
    z
      .framesOf(conn, 'sent')
      .some(
        (r) =>
          r.packetType === PacketType.ZeroRtt &&
          r.frame.type === FrameType.Stream &&
          r.frame.streamId === 0 &&
          allEqual(r.data!, OLD),
      ),
    'the old stream 0 sent its request in 0-RTT',
  );
  // The server application saw exactly one stream, 0, with the new bytes, never reset or stopped.
  const served = echo.logOf(server);
  assert.deepEqual([...served.keys()], [0]);
  assert.equal(served.get(0)!.bytes.length, AFTER);
  assert.ok(allEqual(served.get(0)!.bytes, NEW));
  assert.equal(served.get(0)!.fin, true);
  assert.equal(echo.resetsSeen(server), 0, 'the server saw no stream reset');
  // The wire: no RESET_STREAM or STOP_SENDING anywhere on this connection, either direction.
  for (const r of z.trace.filter((t) => t.conn === conn || t.conn === server)) {
    assert.ok(
      r.frame.type !== FrameType.ResetStream && r.frame.type !== FrameType.StopSending,
      `${r.role} ${r.direction} ${FrameType[r.frame.type]}`,
    );
  }
  assertNothingOldAfterRejection(z, conn, { newByte: NEW, allowedStreamIds: new Set([0]) });
  assert.deepEqual(conn.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
  await settleTicks();
  assert.deepEqual(watch.stop(), [], 'nothing was thrown into the process');
}

describe('quic-go #4706: cancelling a stream of a rejected 0-RTT attempt', () => {
  test('headline (public API): new stream 0 open first, then cancelRead(42)/cancelWrite(42) on the old stream 0: the echo arrives, nothing is reset', () =>
    withSimSeed(4706, (seed) => run4706Public(seed)));

  test('core level: the cancels run on the dead epoch after the next connection opened and wrote stream 0', () => {
    withSimSeed(4707, (seed) => assertNoLeak(run4706(seed, 'after-next-connection')));
  });

  test('core level, variant: the cancels at the verdict, before the next connection exists', () => {
    withSimSeed(4705, (seed) => assertNoLeak(run4706(seed, 'on-rejection')));
  });

  test('core level, variant: the cancels run after the echo arrived on the new stream 0', () => {
    withSimSeed(4708, (seed) => assertNoLeak(run4706(seed, 'after-echo')));
  });

  test('the headline and the core level over several seeds (different CIDs, keys and packet layouts)', async () => {
    for (let seed = 4710; seed < 4716; seed++) {
      await withSimSeed(seed, (s) => run4706Public(s));
      withSimSeed(seed, (s) =>
        assertNoLeak(run4706(s, seed % 2 === 0 ? 'after-next-connection' : 'on-rejection')),
      );
    }
  });
});
