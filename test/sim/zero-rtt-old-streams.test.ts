/**
 * A rejected 0-RTT attempt that leaves many streams behind, bidirectional and unidirectional, in every
 * send state (Ready, data queued, blocked on stream or connection flow control, FIN sent, reset, a
 * STOP_SENDING queued), with DATAGRAMs queued and the stream limit reached -- then the application keeps
 * operating on the old streams after the rejection and after the next connection is in use.
 *
 * Nothing of the old attempt may reach the next connection (RFC 9001 §4.6.2, docs/0rtt.md): after the
 * verdict the client sends no frame of the dead epoch (no STREAM byte, RESET_STREAM, STOP_SENDING,
 * *_BLOCKED, DATAGRAM), the next connection starts at stream 0 with a fresh connection-level send
 * window, and the server only ever sees the next connection's streams.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import { SendState } from '../../src/streams/send-stream.js';
import { StreamStateError } from '../../src/streams/stream-state-error.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { withSimSeed } from './network.js';
import {
  allEqual,
  assertNothingOldAfterRejection,
  ClientApp,
  describeFrame,
  EchoServerApp,
  fill,
  ZeroRttSim,
} from './zero-rtt-harness.js';

const K = 1024;

/** Runs an operation on a dead epoch's stream; only the stream state machine's own refusal is allowed. */
function attempt(op: () => unknown): void {
  try {
    op();
  } catch (err) {
    if (!(err instanceof StreamStateError)) throw err;
  }
}
const OLD = 0xaa;
const NEW = 0xbb;
const NEW_SIZE = 2000;

/** What each condition must make the old epoch produce in 0-RTT before the verdict. */
interface Condition {
  name: string;
  transport: Partial<TransportOptions>;
  /** A frame type the old epoch must have sent in 0-RTT under this condition. */
  expectInZeroRtt: FrameType;
  /** Whether the old epoch must still have had frames ready to send when rejected. */
  pendingAtRejection: boolean;
  /** Queue more DATAGRAMs than the first flight carries: some still wait in the old epoch at the verdict. */
  datagramsAtVerdict?: boolean;
}

const COMMON: Partial<TransportOptions> = { maxStreamsBidi: 6, maxStreamsUni: 4, maxDatagramFrameSize: 1200 };

const CONDITIONS: Condition[] = [
  {
    name: 'congestion-limited (data still queued at the verdict)',
    transport: { ...COMMON },
    expectInZeroRtt: FrameType.Stream,
    pendingAtRejection: true,
    datagramsAtVerdict: true,
  },
  {
    name: 'blocked on stream flow control (STREAM_DATA_BLOCKED in 0-RTT)',
    transport: { ...COMMON, initialMaxStreamData: 2 * K },
    expectInZeroRtt: FrameType.StreamDataBlocked,
    pendingAtRejection: false,
  },
  {
    name: 'blocked on connection flow control (DATA_BLOCKED in 0-RTT)',
    transport: { ...COMMON, initialMaxData: 10 * K, initialMaxStreamData: 4 * K },
    expectInZeroRtt: FrameType.DataBlocked,
    pendingAtRejection: false,
  },
];

function runManyOldStreams(seed: number, cond: Condition): void {
  const z = new ZeroRttSim({
    seed,
    allow: false,
    serverTransport: cond.transport,
    clientTransport: { maxDatagramFrameSize: 1200 },
  });
  const echo = new EchoServerApp(z.sim);
  const conn = z.dialEarly({ maxDatagramFrameSize: 1200 });
  const app = new ClientApp(z.sim, conn);
  const old = conn.epoch!;
  const s = old.streams;

  // Every send state, before the first packet leaves.
  const ready = s.openStream(true)!;
  const blocked = s.openStream(true)!;
  s.write(blocked, fill(8 * K, OLD));
  const uniFin = s.openStream(false)!;
  s.write(uniFin, fill(100, OLD));
  s.end(uniFin);
  const uniReset = s.openStream(false)!;
  s.write(uniReset, fill(100, OLD));
  s.resetStream(uniReset, 9);
  const stopped = s.openStream(true)!;
  s.write(stopped, fill(100, OLD));
  s.stopSending(stopped, 7);
  const uniBig = s.openStream(false)!;
  s.write(uniBig, fill(3 * K, OLD));
  const big = s.openStream(true)!;
  s.write(big, fill(40 * K, OLD));
  const finBidi = s.openStream(true)!;
  s.write(finBidi, fill(10, OLD));
  s.end(finBidi);
  // The remembered stream limit (6 bidi) is reached: STREAMS_BLOCKED.
  const extra = s.openStream(true);
  assert.notEqual(extra, undefined);
  assert.equal(s.openStream(true), undefined, 'the remembered bidi limit is 6');
  assert.equal(conn.sendDatagram(old, fill(100, OLD)), 'queued');
  assert.equal(conn.sendDatagram(old, fill(200, OLD)), 'queued');
  if (cond.datagramsAtVerdict) {
    // 40 KB of DATAGRAMs: beyond the initial congestion window, so the verdict finds some queued.
    for (let i = 0; i < 40; i++) assert.equal(conn.sendDatagram(old, fill(1000, OLD)), 'queued');
  }
  const oldIds = [ready, blocked, uniFin, uniReset, stopped, uniBig, big, finBidi, extra!];

  // More old data while the 0-RTT flight is on its way.
  z.sim.net.at(z.sim.now + 1, () => {
    s.write(big, fill(20 * K, OLD));
  });

  const oldOps = () => {
    // Every operation an application still holding the old streams might do (a second round may
    // be refused by the dead epoch's own state machine, e.g. a write after end: that is fine).
    attempt(() => s.write(ready, fill(1000, OLD)));
    attempt(() => s.end(ready));
    attempt(() => s.resetStream(blocked, 11));
    attempt(() => s.stopSending(big, 12));
    attempt(() => s.write(uniBig, fill(K, OLD)));
    attempt(() => s.resetStream(uniFin, 13));
    attempt(() => s.end(big));
    attempt(() => s.stopSending(finBidi, 14));
    attempt(() => s.openStream(false));
    attempt(() => s.openStream(true));
    // A DATAGRAM on the dead epoch is refused, whichever epoch is current.
    assert.equal(conn.sendDatagram(old, fill(30, OLD)), 'rejected');
  };
  let datagramsQueuedAtRejection = 0;
  const statesAtRejection = new Set<SendState>();
  let pendingAtRejection: boolean | undefined;
  let fresh: StreamEpoch | undefined;
  let newIds: number[] = [];
  let afterEchoDone = false;
  app.onRejected = () => {
    for (const id of oldIds) {
      const st = s.streamState(id)?.send;
      if (st) statesAtRejection.add(st);
    }
    pendingAtRejection = s.hasPendingFrames();
    datagramsQueuedAtRejection = old.datagrams.length;
    oldOps();
  };
  app.onEpoch = (epoch) => {
    if (epoch.early) return;
    fresh = epoch;
    assert.equal(epoch.streams.stats().bytesSent, 0);
    newIds = [epoch.streams.openStream(true)!, epoch.streams.openStream(false)!];
    for (const id of newIds) {
      epoch.streams.write(id, fill(NEW_SIZE, NEW));
      epoch.streams.end(id);
    }
    assert.equal(conn.sendDatagram(epoch, fill(50, NEW)), 'queued', 'DATAGRAM goes to the new epoch');
    oldOps();
  };
  app.onTurn = () => {
    if (!afterEchoDone && fresh && app.logOf(fresh, 0).fin) {
      afterEchoDone = true;
      oldOps();
    }
  };
  z.sim.run(() => afterEchoDone, 10_000);
  z.settle();
  const server = z.serverOf(conn);
  assert.ok(server && fresh);

  // The old attempt did produce every kind of frame, in 0-RTT, before the verdict.
  const zeroRtt = z.framesOf(conn, 'sent').filter((r) => r.packetType === PacketType.ZeroRtt);
  const kinds = new Set<FrameType>(zeroRtt.map((r) => r.frame.type));
  for (const k of [
    FrameType.Stream,
    FrameType.ResetStream,
    FrameType.StopSending,
    FrameType.StreamsBlockedBidi,
    FrameType.Datagram,
    cond.expectInZeroRtt,
  ]) {
    assert.ok(kinds.has(k), `the old epoch sent ${FrameType[k]} in 0-RTT`);
  }
  assert.ok(zeroRtt.some((r) => r.frame.type === FrameType.Stream && r.frame.fin));
  for (const st of [SendState.Ready, SendState.Send, SendState.DataSent, SendState.ResetSent]) {
    assert.ok(statesAtRejection.has(st), `an old stream was in ${st} at the verdict`);
  }
  assert.equal(pendingAtRejection, cond.pendingAtRejection);
  if (cond.datagramsAtVerdict) {
    assert.ok(datagramsQueuedAtRejection > 0, 'old DATAGRAMs were still queued at the verdict');
  }

  // After the verdict: only the new epoch's streams 0 and 2 and its one DATAGRAM.
  const after = assertNothingOldAfterRejection(z, conn, { newByte: NEW, allowedStreamIds: new Set(newIds) });
  for (const r of after) {
    const f = r.frame;
    assert.ok(
      ![
        FrameType.ResetStream,
        FrameType.StopSending,
        FrameType.DataBlocked,
        FrameType.StreamDataBlocked,
        FrameType.StreamsBlockedBidi,
        FrameType.StreamsBlockedUni,
      ].includes(f.type),
      `${describeFrame(f)} after the rejection`,
    );
    if (f.type === FrameType.Datagram) assert.ok(allEqual(r.data!, NEW) && r.data!.length === 50);
  }
  assert.equal(
    after.filter((r) => r.frame.type === FrameType.Datagram).length,
    1,
    'exactly the one new DATAGRAM',
  );
  // The next connection: IDs from 0, the server's real limits, a fresh send window.
  assert.deepEqual(newIds, [0, 2]);
  assert.equal(fresh.streams.stats().bytesSent, 2 * NEW_SIZE);
  assert.equal(fresh.streams.stats().streamsOpened, 2);
  assert.equal(app.resetsSeen(fresh), 0);
  assert.equal(app.logOf(fresh, 0).bytes.length, NEW_SIZE);
  assert.ok(allEqual(app.logOf(fresh, 0).bytes, NEW));

  // The server: streams 0 and 2 only, byte-exact, never reset; the new DATAGRAM only.
  const served = echo.logOf(server);
  assert.deepEqual([...served.keys()].sort(), [0, 2]);
  for (const id of [0, 2]) {
    assert.equal(served.get(id)!.bytes.length, NEW_SIZE);
    assert.ok(allEqual(served.get(id)!.bytes, NEW));
    assert.equal(served.get(id)!.fin, true);
  }
  assert.equal(echo.resetsSeen(server), 0);
  const opened = echo
    .eventsOf(server)
    .flatMap((e) => (e.type === 'stream' && e.event.type === 'opened' ? [e.event.id] : []));
  assert.deepEqual(opened.sort(), [0, 2]);
  const dgrams = echo.datagrams.get(server) ?? [];
  assert.equal(dgrams.length, 1);
  assert.ok(allEqual(dgrams[0]!, NEW));
  assert.equal(server.epoch!.streams.stats().bytesReceived, 2 * NEW_SIZE);
  for (const r of z.framesOf(server, 'received')) {
    assert.notEqual(r.packetType, PacketType.ZeroRtt);
    assert.ok(r.frame.type !== FrameType.ResetStream && r.frame.type !== FrameType.StopSending);
  }
  assert.deepEqual(conn.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
}

describe('many old streams in every send state, then a rejection', () => {
  CONDITIONS.forEach((cond, i) => {
    test(cond.name, () => {
      withSimSeed(7100 + i, (seed) => runManyOldStreams(seed, cond));
    });
  });
});

describe('old writes larger than the 0-RTT window', () => {
  test('the next connection gets the full, fresh connection window: no DATA_BLOCKED, nothing inherited', () => {
    withSimSeed(7200, (seed) => {
      const WINDOW = 8 * K;
      const z = new ZeroRttSim({
        seed,
        allow: false,
        serverTransport: { initialMaxData: WINDOW, initialMaxStreamData: WINDOW },
      });
      const echo = new EchoServerApp(z.sim);
      echo.echo = false;
      const conn = z.dialEarly();
      const app = new ClientApp(z.sim, conn);
      const old = conn.epoch!;
      // 100 KiB and more on three streams: far beyond the remembered 8 KiB connection window.
      const a = old.streams.openStream(true)!;
      const b = old.streams.openStream(true)!;
      const c = old.streams.openStream(false)!;
      old.streams.write(a, fill(100 * K, OLD));
      old.streams.write(b, fill(60 * K, OLD));
      old.streams.write(c, fill(60 * K, OLD));
      old.streams.end(c);
      let oldSentAtVerdict = 0;
      let fresh: StreamEpoch | undefined;
      let freshStartStats: ReturnType<StreamEpoch['streams']['stats']> | undefined;
      app.onRejected = () => {
        oldSentAtVerdict = old.streams.stats().bytesSent;
      };
      app.onEpoch = (epoch) => {
        if (epoch.early) return;
        fresh = epoch;
        freshStartStats = epoch.streams.stats();
        // Exactly one full window on a new stream: sendable only if the window is fresh.
        const id = epoch.streams.openStream(true)!;
        epoch.streams.write(id, fill(WINDOW, NEW));
        epoch.streams.end(id);
      };
      const server = () => z.serverOf(conn);
      z.sim.run(() => {
        const sv = server();
        return sv !== undefined && echo.logOf(sv).get(0)?.fin === true;
      }, 10_000);
      z.settle();
      const sv = server()!;
      assert.ok(fresh && freshStartStats);
      assert.equal(oldSentAtVerdict, WINDOW, 'the old epoch used up the whole remembered window in 0-RTT');
      assert.deepEqual(
        { sent: freshStartStats.bytesSent, max: freshStartStats.peerMaxData },
        { sent: 0, max: WINDOW },
        'the new epoch starts with an untouched window from the real transport parameters',
      );
      assert.equal(fresh.streams.stats().bytesSent, WINDOW);
      const after = assertNothingOldAfterRejection(z, conn, { newByte: NEW, allowedStreamIds: new Set([0]) });
      assert.equal(
        after.filter((r) => r.frame.type === FrameType.Stream).reduce((n, r) => n + r.data!.length, 0),
        WINDOW,
        'exactly the new bytes, each once',
      );
      assert.ok(
        after.every(
          (r) => r.frame.type !== FrameType.DataBlocked && r.frame.type !== FrameType.StreamDataBlocked,
        ),
        'the next connection never blocked on flow control',
      );
      assert.equal(echo.logOf(sv).get(0)!.bytes.length, WINDOW);
      assert.equal(sv.epoch!.streams.stats().bytesReceived, WINDOW);
      assert.deepEqual([...echo.logOf(sv).keys()], [0]);
      assert.deepEqual(conn.internalErrors, []);
      assert.deepEqual(sv.internalErrors, []);
    });
  });
});
