/**
 * Resumption and 0-RTT through the sans-IO Endpoint (RFC 9001 §4.5-4.6, RFC 9000 §7.4.1, RFC 8446
 * §8): the first connection receives a session ticket; a second one sends stream data in 0-RTT
 * packets before its handshake completes. When the server accepts, the data arrives and both sides
 * report used0RTT. When it rejects (policy, reduced limits, or a replayed ticket), the client's early
 * stream epoch dies whole: a fresh epoch starts from stream ID 0 under the server's real limits, and
 * not one frame of the dead epoch is sent after the verdict.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection, FrameTraceEvent } from '../../src/connection/connection.js';
import type { ConnectionEvent } from '../../src/connection/connection-events.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import { type EarlyDataReplayStore, InMemoryReplayStore } from '../../src/endpoint/anti-replay.js';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import type { EarlyDataContext, ResumptionSession } from '../../src/tls/types.js';
import type { Millis } from '../../src/util/time.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes, withSimSeed } from './network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';

interface SentRecord {
  role: 'client' | 'server';
  direction: 'sent' | 'received';
  packetType: PacketType;
  frame: Frame;
  /** Client only: the 0-RTT state and handshake state when the frame was traced. */
  earlyDataState: Connection['earlyDataState'];
  handshakeComplete: boolean;
  /** The connection it belongs to (0 = the first connection of the test). */
  conn: Connection;
}

/** A replay store that records every claim and its outcome. */
class RecordingStore implements EarlyDataReplayStore {
  readonly claims: boolean[] = [];
  private readonly inner = new InMemoryReplayStore();
  claim(ticketId: Uint8Array, now: Millis, expiresAt: Millis): boolean {
    const ok = this.inner.claim(ticketId, now, expiresAt);
    this.claims.push(ok);
    return ok;
  }
}

interface Setup {
  sim: QuicSim;
  session: ResumptionSession;
  trace: SentRecord[];
  policyCalls: Array<{ address: string; context: EarlyDataContext }>;
  store: RecordingStore;
  serverTransport: Partial<TransportOptions>;
}

/** A server issuing 0-RTT tickets and a first connection that received one. */
function setup(seed: number, allow: boolean, serverTransport: Partial<TransportOptions> = {}): Setup {
  const trace: SentRecord[] = [];
  const policyCalls: Setup['policyCalls'] = [];
  const store = new RecordingStore();
  const ticketKeys = new SessionTicketKeys({
    random: seededRandomBytes(new Prng(seed)),
    now: DEFAULT_START_TIME,
  });
  const sim = new QuicSim({
    seed,
    serverTransport,
    server: {
      tls: { ticketKeys, issueEarlyDataTickets: true },
      allowEarlyData: (info) => {
        policyCalls.push(info);
        return allow;
      },
      replayStore: store,
    },
    trace: (conn: Connection, e: FrameTraceEvent) => {
      trace.push({
        role: conn.role,
        direction: e.direction,
        packetType: e.packetType,
        frame: e.frame,
        earlyDataState: conn.earlyDataState,
        handshakeComplete: conn.handshakeComplete,
        conn,
      });
    },
  });
  const first = sim.dial();
  sim.handshake(first);
  let session: ResumptionSession | undefined;
  sim.run(() => {
    for (let e = first.pollEvent(); e; e = first.pollEvent())
      if (e.type === 'session-ticket') session = e.session;
    return session !== undefined;
  }, 5_000);
  assert.ok(session, 'the first connection received a session ticket');
  return { sim, session, trace, policyCalls, store, serverTransport };
}

function collect(conn: Connection, into: ConnectionEvent[]): void {
  for (let e = conn.pollEvent(); e; e = conn.pollEvent()) into.push(e);
}

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);

/** Reads everything readable on the server's streams, per stream id. */
function readAll(server: Connection, got: Map<number, { bytes: number[]; fin: boolean }>): void {
  const epoch = server.epoch;
  if (!epoch) return;
  for (let e = server.pollEvent(); e; e = server.pollEvent()) {
    if (e.type !== 'stream' || e.event.type !== 'readable') continue;
    const id = e.event.id;
    const entry = got.get(id) ?? { bytes: [], fin: false };
    got.set(id, entry);
    for (let r = epoch.streams.read(id); r; r = epoch.streams.read(id)) {
      entry.bytes.push(...r.data);
      if (r.fin) entry.fin = true;
    }
  }
}

describe('resumption and 0-RTT through the endpoint', () => {
  test('the first connection gets a session ticket allowing 0-RTT, with the server transport parameters', () => {
    withSimSeed(900, (seed) => {
      const { session } = setup(seed, true);
      assert.equal(session.maxEarlyDataSize, 0xffffffff);
      assert.equal(session.alpn, 'hq-interop');
      assert.ok(session.transportParameters.length > 0);
      assert.ok(session.ticket.length > 0);
    });
  });

  test('accepted: stream data goes in 0-RTT packets before the handshake completes and arrives', () => {
    withSimSeed(901, (seed) => {
      const { sim, session, trace, policyCalls, store } = setup(seed, true);
      const conn = sim.dial({ session, offerEarlyData: true });
      // 0-RTT keys exist at once: the early epoch is usable before any packet is sent.
      const epoch = conn.epoch;
      assert.ok(epoch?.early);
      const bidi = epoch.streams.openStream(true)!;
      const uni = epoch.streams.openStream(false)!;
      epoch.streams.write(bidi, fill(3000, 0xa1));
      epoch.streams.end(bidi);
      epoch.streams.write(uni, fill(700, 0xa2));
      epoch.streams.end(uni);
      const got = new Map<number, { bytes: number[]; fin: boolean }>();
      let server: Connection | undefined;
      sim.onServerConnection = (c) => {
        server = c;
      };
      sim.appHooks.push(() => {
        if (server) readAll(server, got);
      });
      sim.run(
        () => got.get(bidi)?.fin === true && got.get(uni)?.fin === true && conn.handshakeConfirmed,
        10_000,
      );
      assert.ok(server);
      assert.deepEqual(got.get(bidi)?.bytes, [...fill(3000, 0xa1)]);
      assert.deepEqual(got.get(uni)?.bytes, [...fill(700, 0xa2)]);
      // The trace proves the timing: STREAM frames in 0-RTT packets, before the handshake completed.
      const early = trace.filter(
        (r) => r.conn === conn && r.direction === 'sent' && r.packetType === PacketType.ZeroRtt,
      );
      assert.ok(early.some((r) => r.frame.type === FrameType.Stream && !r.handshakeComplete));
      // And the server read them out of 0-RTT packets.
      assert.ok(
        trace.some(
          (r) =>
            r.conn === server &&
            r.direction === 'received' &&
            r.packetType === PacketType.ZeroRtt &&
            r.frame.type === FrameType.Stream,
        ),
      );
      assert.equal(conn.used0RTT, true);
      assert.equal(server.used0RTT, true);
      assert.equal(conn.resumed, true);
      assert.equal(server.resumed, true);
      // The policy saw the client's address and the ticket's context; the ticket was claimed once.
      assert.equal(policyCalls.length, 1);
      assert.equal(policyCalls[0]!.address, CLIENT_ADDRESS);
      assert.equal(policyCalls[0]!.context.alpn, 'hq-interop');
      assert.deepEqual(store.claims, [true]);
      const events: ConnectionEvent[] = [];
      collect(conn, events);
      assert.deepEqual(
        events.filter((e) => e.type === 'early-data'),
        [{ type: 'early-data', accepted: true }],
      );
      // One epoch only: the early one carried on (its limits updated, RFC 9000 §7.4.1).
      assert.equal(events.filter((e) => e.type === 'epoch').length, 1);
      assert.equal(conn.epoch, epoch);
      assert.deepEqual(conn.internalErrors, []);
      assert.deepEqual(server.internalErrors, []);
    });
  });

  test('rejected by policy: the early epoch dies, a new one starts at stream 0, nothing old is sent after', () => {
    withSimSeed(902, (seed) => {
      const { sim, session, trace, policyCalls } = setup(seed, false, { initialMaxStreamData: 64 * 1024 });
      const conn = sim.dial({ session, offerEarlyData: true });
      const old = conn.epoch!;
      assert.ok(old.early);
      const s = old.streams;
      // Everything the old epoch can have pending: data beyond flow control (STREAM_DATA_BLOCKED),
      // STOP_SENDING, RESET_STREAM, a FIN.
      const big = s.openStream(true)!;
      s.write(big, fill(200 * 1024, 0xaa));
      const stopped = s.openStream(true)!;
      s.write(stopped, fill(100, 0xaa));
      s.stopSending(stopped, 7);
      const reset = s.openStream(false)!;
      s.write(reset, fill(100, 0xaa));
      s.resetStream(reset, 9);
      const finished = s.openStream(true)!;
      s.write(finished, fill(10, 0xaa));
      s.end(finished);
      assert.deepEqual([big, stopped, reset, finished], [0, 4, 2, 8]);

      const events: ConnectionEvent[] = [];
      let fresh: StreamEpoch | undefined;
      let freshId: number | undefined;
      let oldPendingAtRejection: boolean | undefined;
      let server: Connection | undefined;
      const got = new Map<number, { bytes: number[]; fin: boolean }>();
      sim.onServerConnection = (c) => {
        server = c;
      };
      sim.appHooks.push(() => {
        const before = events.length;
        collect(conn, events);
        for (const e of events.slice(before)) {
          if (e.type === 'early-data' && !e.accepted) oldPendingAtRejection = old.streams.hasPendingFrames();
          if (e.type === 'epoch' && e.epoch !== old) {
            fresh = e.epoch;
            freshId = fresh.streams.openStream(true);
            fresh.streams.write(freshId!, fill(1000, 0xbb));
            fresh.streams.end(freshId!);
            // The application still holding the old epoch writes to it: never sent either.
            old.streams.write(big, fill(5000, 0xaa));
            old.streams.resetStream(finished, 11);
          }
        }
        if (server) readAll(server, got);
      });
      sim.run(() => freshId !== undefined && got.get(freshId)?.fin === true, 10_000);
      // Let anything left over go out.
      sim.net.runFor(1_000);
      assert.ok(server && fresh);

      // The verdict and the new epoch.
      assert.deepEqual(
        events.filter((e) => e.type === 'early-data'),
        [{ type: 'early-data', accepted: false }],
      );
      assert.deepEqual(
        events
          .filter((e) => e.type === 'epoch')
          .map((e) => (e.type === 'epoch' ? [e.epoch.id, e.epoch.early] : [])),
        [
          [1, true],
          [2, false],
        ],
      );
      assert.equal(old.rejected, true);
      assert.equal(conn.epoch, fresh);
      assert.equal(freshId, 0, 'stream IDs start again at 0');
      // The new epoch runs on the server's real limits, with fresh flow-control accounting.
      assert.equal(fresh.streams.stats().peerMaxData, conn.peerParams!.initialMaxData);
      assert.equal(fresh.streams.stats().bytesSent, 1000);
      assert.equal(oldPendingAtRejection, true, 'the old epoch still had frames to send when rejected');
      assert.equal(conn.used0RTT, false);
      assert.equal(server.used0RTT, false);
      assert.equal(conn.earlyDataState, 'rejected');
      assert.equal(policyCalls.length, 1);

      // Before the verdict, old-epoch data did go out in 0-RTT packets (so the check below means something).
      const clientSent = trace.filter((r) => r.conn === conn && r.direction === 'sent');
      assert.ok(
        clientSent.some(
          (r) =>
            r.packetType === PacketType.ZeroRtt &&
            r.frame.type === FrameType.Stream &&
            r.earlyDataState === 'offered',
        ),
      );
      // After it, not one frame of the old epoch.
      const after = clientSent.filter((r) => r.earlyDataState === 'rejected');
      assert.ok(after.length > 0);
      const forbidden = new Set<FrameType>([
        FrameType.ResetStream,
        FrameType.StopSending,
        FrameType.MaxStreamData,
        FrameType.MaxData,
        FrameType.StreamDataBlocked,
        FrameType.DataBlocked,
        FrameType.StreamsBlockedBidi,
        FrameType.StreamsBlockedUni,
        FrameType.MaxStreamsBidi,
        FrameType.MaxStreamsUni,
      ]);
      for (const r of after) {
        assert.notEqual(r.packetType, PacketType.ZeroRtt, 'no 0-RTT packet after the rejection');
        assert.equal(
          forbidden.has(r.frame.type),
          false,
          `frame ${FrameType[r.frame.type]} sent after the rejection`,
        );
        if (r.frame.type === FrameType.Stream) {
          assert.equal(r.frame.streamId, 0);
          assert.ok(
            r.frame.data.every((b) => b === 0xbb),
            'old-epoch bytes sent after the rejection',
          );
        }
      }
      // The server never learnt of the old streams: it neither reset nor stopped anything, and only
      // the new stream 0 arrived, byte-exact.
      const serverSent = trace.filter((r) => r.conn === server && r.direction === 'sent');
      assert.ok(
        serverSent.every(
          (r) => r.frame.type !== FrameType.ResetStream && r.frame.type !== FrameType.StopSending,
        ),
      );
      const serverStreams = trace.filter(
        (r) => r.conn === server && r.direction === 'received' && r.frame.type === FrameType.Stream,
      );
      assert.ok(serverStreams.every((r) => r.frame.type === FrameType.Stream && r.frame.streamId === 0));
      assert.deepEqual([...got.keys()], [0]);
      assert.deepEqual(got.get(0)?.bytes, [...fill(1000, 0xbb)]);
      assert.equal(server.epoch!.streams.stats().streamsOpened, 1);
      assert.deepEqual(conn.internalErrors, []);
      assert.deepEqual(server.internalErrors, []);
    });
  });

  test('rejected because the server now has smaller limits (RFC 9000 §7.4.1), even with a permissive policy', () => {
    withSimSeed(903, (seed) => {
      const serverTransport: Partial<TransportOptions> = { initialMaxData: 2 * 1024 * 1024 };
      const { sim, session, policyCalls } = setup(seed, true, serverTransport);
      // The server restarts with a smaller connection window; the ticket keys are shared.
      serverTransport.initialMaxData = 1024 * 1024;
      sim.restartServer();
      const conn = sim.dial({ session, offerEarlyData: true });
      const old = conn.epoch!;
      assert.equal(
        old.streams.stats().peerMaxData,
        2 * 1024 * 1024,
        'the early epoch uses remembered limits',
      );
      const id = old.streams.openStream(true)!;
      old.streams.write(id, fill(500, 0xaa));
      const server = sim.handshake(conn);
      assert.equal(old.rejected, true);
      assert.notEqual(conn.epoch, old);
      assert.equal(conn.epoch!.streams.stats().peerMaxData, 1024 * 1024);
      assert.equal(conn.used0RTT, false);
      assert.equal(server.used0RTT, false);
      assert.equal(conn.resumed, true, 'resumption itself still works');
      // The limit check comes before the application's policy.
      assert.equal(policyCalls.length, 0);
    });
  });

  test('a replayed 0-RTT flight never delivers its data twice', () => {
    withSimSeed(904, (seed) => {
      const { sim, session, trace, policyCalls, store } = setup(seed, true);
      const captured: Uint8Array[] = [];
      let conn: Connection | undefined;
      sim.net.onSend((e) => {
        if (conn && e.from === CLIENT_ADDRESS && !conn.handshakeComplete) captured.push(e.datagram);
      });
      conn = sim.dial({ session, offerEarlyData: true });
      const epoch = conn.epoch!;
      const id = epoch.streams.openStream(true)!;
      epoch.streams.write(id, fill(2000, 0xcd));
      epoch.streams.end(id);
      const got = new Map<number, { bytes: number[]; fin: boolean }>();
      const byServer = new Map<Connection, Map<number, { bytes: number[]; fin: boolean }>>();
      sim.appHooks.push(() => {
        for (const s of sim.serverConnections) {
          let m = byServer.get(s);
          if (!m) {
            m = s === sim.serverConnections[1] ? got : new Map();
            byServer.set(s, m);
          }
          readAll(s, m);
        }
      });
      sim.run(() => got.get(id)?.fin === true && conn!.handshakeConfirmed, 10_000);
      assert.equal(conn.used0RTT, true);
      assert.ok(captured.length >= 2, `captured ${captured.length} datagrams`);
      const original = sim.serverConnections[1]!;
      const delivered = () =>
        trace.filter(
          (r) => r.direction === 'received' && r.conn.role === 'server' && r.frame.type === FrameType.Stream,
        ).length;

      // 1. Replayed while the connection lives: routed to it, every packet a duplicate.
      const before = delivered();
      for (const d of captured) sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, d);
      sim.net.runFor(500);
      assert.equal(delivered(), before, 'no STREAM frame processed twice');
      assert.deepEqual(got.get(id)?.bytes.length, 2000);
      assert.equal(sim.serverConnections.length, 2);

      // 2. Replayed after the connection is gone (routes removed at the end of its draining period,
      // which the endpoint serves once the connection has ended): the endpoint builds a new
      // connection, the ticket is valid, the policy says yes, but the ticket was already used.
      conn.close(0, 'done', sim.now);
      sim.client.markActive(conn);
      sim.net.at(sim.now, () => {});
      sim.run(() => conn!.isTerminated && original.isTerminated && sim.server.remnantCount === 0, 10_000);
      assert.equal(sim.server.connections.has(original), false, 'the endpoint forgot the connection');
      for (const d of captured) sim.net.inject('10.66.0.1:999', SERVER_ADDRESS, d);
      sim.net.runFor(1_000);
      assert.equal(sim.serverConnections.length, 3, 'the replayed Initial created a connection');
      const replayed = sim.serverConnections[2]!;
      assert.equal(replayed.used0RTT, false);
      assert.deepEqual(store.claims, [true, false]);
      assert.equal(policyCalls.length, 2);
      assert.equal(delivered(), before, 'the replayed 0-RTT data was not processed');
      assert.equal(replayed.epoch?.streams.stats().bytesReceived ?? 0, 0);
      assert.equal(byServer.get(replayed)?.size ?? 0, 0);
      assert.deepEqual(replayed.internalErrors, []);
    });
  });
});
