/**
 * Property: after a 0-RTT rejection, the next connection is indistinguishable from a fresh one.
 *
 * A random sequence of operations runs on the early connection (open bidi/uni streams, write random
 * sizes, end, cancelRead, cancelWrite, DATAGRAMs); the server rejects 0-RTT; random operations keep
 * hitting the old objects (at the verdict, right after the new workload, and later); a random workload
 * runs on the next connection. The same workload also runs on a control connection under the same
 * simulated conditions (same seed, link and limits): a resumed connection that did not offer 0-RTT,
 * i.e. the same handshake without the early attempt (a "fresh dial" with the same handshake shape).
 *
 * What the client sends on the next connection must equal the control's: every frame other than ACK,
 * CRYPTO, PADDING and PING in order (type, stream ID, error code, limit, DATAGRAM size), and per stream
 * the byte ranges (offsets), total bytes and FIN offset, with the order streams start in. Packet
 * numbers, ACK contents, timing, CIDs and crypto are ignored -- and so is where exactly a STREAM frame
 * is cut: packet numbers continue after the 0-RTT packets (RFC 9000 §12.3) and ACK frames differ in
 * size, which moves frame boundaries by a few bytes. The server's view must be equal too (what it
 * sent, the bytes and reset signals each stream delivered to its application, DATAGRAMs), and so must
 * the state of the client's new epoch (flow-control counters, stream states, echoed bytes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Connection } from '../../src/connection/connection.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import { StreamStateError } from '../../src/streams/stream-state-error.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { withSimSeed } from '../sim/network.js';
import {
  ClientApp,
  describeFrame,
  EchoServerApp,
  type FrameRecord,
  fill,
  isMechanics,
  type StreamLog,
  ZeroRttSim,
} from '../sim/zero-rtt-harness.js';

type Op =
  | { k: 'open'; bidi: boolean }
  | { k: 'write'; pick: number; size: number }
  | { k: 'end'; pick: number }
  | { k: 'cancelRead'; pick: number; code: number }
  | { k: 'cancelWrite'; pick: number; code: number }
  | { k: 'datagram'; size: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('open' as const), bidi: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      pick: fc.nat(7),
      size: fc.integer({ min: 0, max: 20_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('end' as const), pick: fc.nat(7) }) },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('cancelRead' as const), pick: fc.nat(7), code: fc.nat(1000) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('cancelWrite' as const), pick: fc.nat(7), code: fc.nat(1000) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('datagram' as const), size: fc.integer({ min: 1, max: 1_000 }) }),
  },
);

interface Scenario {
  seed: number;
  delay: number;
  early: Op[];
  /** On the old objects: at the verdict, right after the new workload, and at a later turn. */
  oldAtVerdict: Op[];
  oldAfterNew: Op[];
  oldLater: Op[];
  laterTurn: number;
  /** The workload of the next connection (and of the control). */
  workload: Op[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  delay: fc.integer({ min: 2, max: 60 }),
  early: fc.array(opArb, { minLength: 1, maxLength: 14 }),
  oldAtVerdict: fc.array(opArb, { maxLength: 6 }),
  oldAfterNew: fc.array(opArb, { maxLength: 6 }),
  oldLater: fc.array(opArb, { maxLength: 6 }),
  laterTurn: fc.integer({ min: 1, max: 30 }),
  workload: fc.array(opArb, { minLength: 1, maxLength: 10 }),
});

const SERVER_TRANSPORT: Partial<TransportOptions> = {
  maxStreamsBidi: 4,
  maxStreamsUni: 3,
  initialMaxData: 48 * 1024,
  initialMaxStreamData: 16 * 1024,
  maxDatagramFrameSize: 1200,
};
const CLIENT_TRANSPORT: Partial<TransportOptions> = { maxDatagramFrameSize: 1200 };
const OLD = 0xaa;
const NEW = 0xbb;

/** Applies operations to one epoch; `opened` is that epoch's list of streams, as the application knows it. */
function apply(conn: Connection, epoch: StreamEpoch, opened: number[], ops: Op[], byte: number): void {
  const s = epoch.streams;
  for (const op of ops) {
    const id = 'pick' in op && opened.length > 0 ? opened[op.pick % opened.length] : undefined;
    try {
      switch (op.k) {
        case 'open': {
          const nid = s.openStream(op.bidi);
          if (nid !== undefined) opened.push(nid);
          break;
        }
        case 'write':
          if (id !== undefined && (id % 4 === 0 || id % 4 === 2)) s.write(id, fill(op.size, byte));
          break;
        case 'end':
          if (id !== undefined) s.end(id);
          break;
        case 'cancelRead':
          if (id !== undefined && id % 4 === 0) s.stopSending(id, op.code);
          break;
        case 'cancelWrite':
          if (id !== undefined) s.resetStream(id, op.code);
          break;
        case 'datagram':
          // The connection sends DATAGRAMs on its current epoch only; on a dead one, as the public
          // API does, the call is refused.
          if (conn.epoch === epoch) conn.sendDatagram(fill(op.size, byte));
          break;
      }
    } catch (err) {
      // The stream state machine refusing an operation (write after end, ...) is the only allowed error.
      if (!(err instanceof StreamStateError)) throw err;
    }
  }
}

/**
 * What one side sent on the (next) connection, in a form that does not depend on packet layout:
 * packet numbers continue after 0-RTT (RFC 9000 §12.3) and ACK frames differ in size, so where a
 * STREAM frame is cut can differ by a few bytes between two otherwise identical connections.
 */
interface SentSummary {
  /** Every other frame, in order (not ACK, CRYPTO, PADDING, PING). */
  control: string[];
  /** Streams in the order their first STREAM frame went out. */
  streamOrder: number[];
  /** Per stream: the byte ranges sent, adjacent ones merged in send order; total bytes; FIN offset. */
  streams: Array<[number, { ranges: Array<[number, number]>; bytes: number; finAt: number | undefined }]>;
}

function summarizeSent(records: FrameRecord[]): SentSummary {
  const control: string[] = [];
  const streamOrder: number[] = [];
  const streams = new Map<
    number,
    { ranges: Array<[number, number]>; bytes: number; finAt: number | undefined }
  >();
  for (const r of records) {
    const f = r.frame;
    if (r.packetType !== PacketType.OneRtt || isMechanics(f)) continue;
    if (f.type !== FrameType.Stream) {
      control.push(describeFrame(f));
      continue;
    }
    let s = streams.get(f.streamId);
    if (!s) {
      s = { ranges: [], bytes: 0, finAt: undefined };
      streams.set(f.streamId, s);
      streamOrder.push(f.streamId);
    }
    const end = f.offset + f.data.length;
    const last = s.ranges[s.ranges.length - 1];
    if (last && last[1] === f.offset) last[1] = end;
    else s.ranges.push([f.offset, end]);
    s.bytes += f.data.length;
    if (f.fin) s.finAt = end;
  }
  return { control, streamOrder, streams: [...streams.entries()].sort((a, b) => a[0] - b[0]) };
}

interface Observation {
  clientSent: SentSummary;
  serverSent: SentSummary;
  serverStreams: Array<[number, { bytes: number; fin: boolean; resets: number[]; stops: number[] }]>;
  serverDatagrams: number[];
  epoch: ReturnType<StreamEpoch['streams']['stats']>;
  streamStates: Array<[number, unknown]>;
  clientReceived: Array<[number, number, boolean]>;
}

function observe(
  z: ZeroRttSim,
  conn: Connection,
  echo: EchoServerApp,
  app: ClientApp,
  epoch: StreamEpoch,
  opened: number[],
): Observation {
  const server = z.serverOf(conn);
  assert.ok(server);
  const summarize = (l: StreamLog) => ({
    bytes: l.bytes.length,
    fin: l.fin,
    resets: l.resets,
    stops: l.stopSendings,
  });
  assert.deepEqual(conn.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
  return {
    clientSent: summarizeSent(z.framesOf(conn, 'sent')),
    serverSent: summarizeSent(z.framesOf(server, 'sent')),
    serverStreams: [...echo.logOf(server).entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, l]) => [id, summarize(l)]),
    serverDatagrams: (echo.datagrams.get(server) ?? []).map((d) => d.length),
    epoch: epoch.streams.stats(),
    streamStates: opened.map((id) => [id, epoch.streams.streamState(id)]),
    clientReceived: [...(app.streams.get(epoch.id)?.entries() ?? [])]
      .sort((a, b) => a[0] - b[0])
      .map(([id, l]) => [id, l.bytes.length, l.fin]),
  };
}

function newSim(sc: Scenario): ZeroRttSim {
  const z = new ZeroRttSim({
    seed: sc.seed,
    allow: false,
    serverTransport: { ...SERVER_TRANSPORT },
    clientTransport: CLIENT_TRANSPORT,
  });
  z.setLinks({ delay: sc.delay }, { delay: sc.delay });
  return z;
}

/** The rejected 0-RTT attempt and its next connection. */
function rejectedRun(sc: Scenario): Observation {
  const z = newSim(sc);
  const echo = new EchoServerApp(z.sim);
  const conn = z.dialEarly(CLIENT_TRANSPORT);
  const app = new ClientApp(z.sim, conn);
  const old = conn.epoch!;
  const oldOpened: number[] = [];
  apply(conn, old, oldOpened, sc.early, OLD);
  let fresh: StreamEpoch | undefined;
  const opened: number[] = [];
  let turns = 0;
  app.onRejected = () => apply(conn, old, oldOpened, sc.oldAtVerdict, OLD);
  app.onEpoch = (epoch) => {
    if (epoch.early) return;
    fresh = epoch;
    apply(conn, epoch, opened, sc.workload, NEW);
    apply(conn, old, oldOpened, sc.oldAfterNew, OLD);
  };
  app.onTurn = () => {
    if (fresh && ++turns === sc.laterTurn) apply(conn, old, oldOpened, sc.oldLater, OLD);
  };
  z.sim.net.runFor(8_000);
  assert.equal(conn.earlyDataState, 'rejected');
  assert.ok(fresh, 'the next connection started');
  // Nothing but 1-RTT after the verdict (the comparison below looks at 1-RTT packets only).
  assert.ok(
    z
      .framesOf(conn, 'sent')
      .every((r) => r.earlyDataState !== 'rejected' || r.packetType !== PacketType.ZeroRtt),
  );
  return observe(z, conn, echo, app, fresh, opened);
}

/** The control: the same ticket, no 0-RTT offered, the same workload when its epoch starts. */
function controlRun(sc: Scenario): Observation {
  const z = newSim(sc);
  const echo = new EchoServerApp(z.sim);
  const conn = z.dialResumed(CLIENT_TRANSPORT);
  const app = new ClientApp(z.sim, conn);
  let epoch: StreamEpoch | undefined;
  const opened: number[] = [];
  app.onEpoch = (e) => {
    epoch = e;
    apply(conn, e, opened, sc.workload, NEW);
  };
  z.sim.net.runFor(8_000);
  assert.equal(conn.earlyDataState, 'none');
  assert.ok(epoch);
  return observe(z, conn, echo, app, epoch, opened);
}

test('property: the next connection after a rejection behaves exactly like a fresh one', () => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      withSimSeed(sc.seed, () => {
        const rejected = rejectedRun(sc);
        const control = controlRun(sc);
        assert.deepEqual(rejected, control);
      });
    }),
    { numRuns: 30, seed: 0x0_4706, endOnFailure: true },
  );
});

test('property check is able to fail: a workload that differs is detected', () => {
  const sc: Scenario = {
    seed: 99,
    delay: 10,
    early: [{ k: 'open', bidi: true }],
    oldAtVerdict: [],
    oldAfterNew: [],
    oldLater: [],
    laterTurn: 1,
    workload: [
      { k: 'open', bidi: true },
      { k: 'write', pick: 0, size: 100 },
    ],
  };
  const a = rejectedRun(sc);
  const b = controlRun({ ...sc, workload: [...sc.workload, { k: 'end', pick: 0 }] });
  assert.notDeepEqual(a.clientSent, b.clientSent);
  assert.notDeepEqual(a.serverStreams, b.serverStreams);
});
