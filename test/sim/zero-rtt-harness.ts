/**
 * Shared fixtures for the 0-RTT simulator tests (zero-rtt-*.test.ts, test/property/zero-rtt-*.test.ts):
 * a server that issues 0-RTT tickets, a first connection that received one, a frame trace of both
 * sides with the client's 0-RTT state at the moment of each frame, and small core-level applications
 * (an echo server, a client that reads whatever comes back) that record every stream event, so tests
 * can assert on bytes, stream resets and frames on the wire.
 *
 * Everything runs on the deterministic simulator: same seed, same run.
 */
import assert from 'node:assert/strict';
import type { Connection, FrameTraceEvent, ServerTlsOptions } from '../../src/connection/connection.js';
import type { ConnectionEvent } from '../../src/connection/connection-events.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import { type EarlyDataReplayStore, InMemoryReplayStore } from '../../src/endpoint/anti-replay.js';
import type { ServerEndpointOptions } from '../../src/endpoint/endpoint.js';
import { isBidirectional, isLocallyInitiated } from '../../src/streams/stream-id.js';
import { StreamStateError } from '../../src/streams/stream-state-error.js';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import type { EarlyDataContext, ResumptionSession } from '../../src/tls/types.js';
import type { Millis } from '../../src/util/time.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { DEFAULT_START_TIME, type LinkConditions, Prng, seededRandomBytes } from './network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';

export { CLIENT_ADDRESS, SERVER_ADDRESS };

/** The application error code of the quic-go #4706 scenario. */
export const CANCEL_CODE = 42;

/** One frame on the wire, seen by one side, with the state of that side when it was traced. */
export interface FrameRecord {
  conn: Connection;
  role: 'client' | 'server';
  direction: 'sent' | 'received';
  packetType: PacketType;
  frame: Frame;
  /** A private copy of a STREAM or DATAGRAM frame's payload (frames are views into packet buffers). */
  data: Uint8Array | undefined;
  earlyDataState: Connection['earlyDataState'];
  handshakeComplete: boolean;
  /** The id of the connection's current stream epoch at that moment. */
  epochId: number | undefined;
  time: Millis;
}

/** A frame as text, without packet numbers, ACK contents, CIDs, tokens or crypto data. */
export function describeFrame(f: Frame): string {
  switch (f.type) {
    case FrameType.Stream:
      return `STREAM ${f.streamId} @${f.offset}+${f.data.length}${f.fin ? ' FIN' : ''}`;
    case FrameType.ResetStream:
      return `RESET_STREAM ${f.streamId} code=${f.errorCode} size=${f.finalSize}`;
    case FrameType.StopSending:
      return `STOP_SENDING ${f.streamId} code=${f.errorCode}`;
    case FrameType.MaxData:
      return `MAX_DATA ${f.maximumData}`;
    case FrameType.MaxStreamData:
      return `MAX_STREAM_DATA ${f.streamId} ${f.maximumStreamData}`;
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      return `${FrameType[f.type]} ${f.maximumStreams}`;
    case FrameType.DataBlocked:
      return `DATA_BLOCKED ${f.maximumData}`;
    case FrameType.StreamDataBlocked:
      return `STREAM_DATA_BLOCKED ${f.streamId} ${f.maximumStreamData}`;
    case FrameType.NewConnectionId:
      return `NEW_CONNECTION_ID seq=${f.sequenceNumber} retire<${f.retirePriorTo}`;
    case FrameType.RetireConnectionId:
      return `RETIRE_CONNECTION_ID seq=${f.sequenceNumber}`;
    case FrameType.Datagram:
      return `DATAGRAM ${f.data.length}`;
    case FrameType.ConnectionCloseTransport:
    case FrameType.ConnectionCloseApplication:
      return `${FrameType[f.type]} ${f.errorCode}`;
    default:
      return FrameType[f.type] ?? `0x${(f.type as number).toString(16)}`;
  }
}

/** Frames that carry handshake or acknowledgment mechanics only (ignored when comparing workloads). */
export function isMechanics(f: Frame): boolean {
  return (
    f.type === FrameType.Ack ||
    f.type === FrameType.Crypto ||
    f.type === FrameType.Padding ||
    f.type === FrameType.Ping
  );
}

export interface ZeroRttSimOptions {
  seed: number;
  /** The server's 0-RTT policy (default: accept). */
  allow?: boolean | ((info: { address: string; context: EarlyDataContext }) => boolean);
  /** Kept by reference: change it, then restartServer(), to restart the server with other limits. */
  serverTransport?: Partial<TransportOptions>;
  clientTransport?: Partial<TransportOptions>;
  /** Server ALPN preference (default ['hq-interop', 'test']). */
  serverAlpn?: string[];
  replayStore?: EarlyDataReplayStore;
}

/** A replay store that records every claim and its outcome. */
export class RecordingStore implements EarlyDataReplayStore {
  readonly claims: boolean[] = [];
  /** When each claim was made and until when its record was asked to live. */
  readonly lifetimes: Array<{ now: Millis; expiresAt: Millis }> = [];
  constructor(private readonly inner: EarlyDataReplayStore = new InMemoryReplayStore()) {}
  claim(ticketId: Uint8Array, now: Millis, expiresAt: Millis): boolean {
    const ok = this.inner.claim(ticketId, now, expiresAt);
    this.claims.push(ok);
    this.lifetimes.push({ now, expiresAt });
    return ok;
  }
}

export interface StreamLog {
  bytes: number[];
  fin: boolean;
  resets: number[];
  stopSendings: number[];
}

function streamLog(map: Map<number, StreamLog>, id: number): StreamLog {
  let s = map.get(id);
  if (!s) {
    s = { bytes: [], fin: false, resets: [], stopSendings: [] };
    map.set(id, s);
  }
  return s;
}

/**
 * The server application at core level: every bidirectional stream is echoed (each chunk written
 * back as it is read, FIN after FIN), unidirectional streams are read to the end. Every stream
 * event is recorded per connection.
 */
export class EchoServerApp {
  readonly streams = new Map<Connection, Map<number, StreamLog>>();
  readonly events = new Map<Connection, ConnectionEvent[]>();
  /** DATAGRAM payloads received, copied, per connection. */
  readonly datagrams = new Map<Connection, Uint8Array[]>();
  /** Echo bidirectional streams (default) or just read them. */
  echo = true;

  /** Serves the simulator's server connections, or those `connections` returns (another endpoint's). */
  constructor(sim: QuicSim, connections: () => Iterable<Connection> = () => sim.serverConnections) {
    sim.appHooks.push(() => {
      for (const conn of connections()) this.serve(conn);
    });
  }

  logOf(conn: Connection): Map<number, StreamLog> {
    let m = this.streams.get(conn);
    if (!m) {
      m = new Map();
      this.streams.set(conn, m);
    }
    return m;
  }

  eventsOf(conn: Connection): ConnectionEvent[] {
    let l = this.events.get(conn);
    if (!l) {
      l = [];
      this.events.set(conn, l);
    }
    return l;
  }

  private serve(conn: Connection): void {
    const log = this.logOf(conn);
    const events = this.eventsOf(conn);
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      events.push(e);
      if (e.type === 'datagram') {
        const list = this.datagrams.get(conn) ?? [];
        list.push(new Uint8Array(e.data));
        this.datagrams.set(conn, list);
      }
      if (e.type !== 'stream') continue;
      const ev = e.event;
      const streams = e.epoch.streams;
      if (ev.type === 'reset') streamLog(log, ev.id).resets.push(ev.errorCode);
      if (ev.type === 'stop-sending') streamLog(log, ev.id).stopSendings.push(ev.errorCode);
      if (ev.type !== 'readable') continue;
      const s = streamLog(log, ev.id);
      const echo = this.echo && isBidirectional(ev.id) && !isLocallyInitiated(ev.id, 'server');
      for (let r = streams.read(ev.id); r; r = streams.read(ev.id)) {
        for (const b of r.data) s.bytes.push(b);
        if (echo && r.data.length > 0) {
          try {
            streams.write(ev.id, r.data);
          } catch (err) {
            // The client asked us to stop sending (STOP_SENDING): our side is reset, nothing to echo.
            if (!(err instanceof StreamStateError)) throw err;
          }
        }
        if (r.fin) {
          s.fin = true;
          if (echo) streams.end(ev.id);
        }
      }
    }
  }

  /** Every RESET_STREAM / STOP_SENDING signal the server application saw on `conn`. */
  resetsSeen(conn: Connection): number {
    let n = 0;
    for (const s of this.logOf(conn).values()) n += s.resets.length + s.stopSendings.length;
    return n;
  }
}

/**
 * The client application at core level for one connection: records every event, reads every
 * readable stream of the current epoch, and calls the test's callbacks on the 0-RTT verdict and on
 * each new epoch (in event order, inside the simulator's application turn).
 */
export class ClientApp {
  readonly events: ConnectionEvent[] = [];
  /** Per epoch id, per stream id. */
  readonly streams = new Map<number, Map<number, StreamLog>>();
  readonly epochs: StreamEpoch[] = [];
  onRejected: (() => void) | undefined;
  onAccepted: (() => void) | undefined;
  onEpoch: ((epoch: StreamEpoch) => void) | undefined;
  onHandshakeComplete: (() => void) | undefined;
  /** Called at every application turn after events were handled. */
  onTurn: (() => void) | undefined;

  constructor(
    sim: QuicSim,
    readonly conn: Connection,
  ) {
    if (conn.epoch) this.epochs.push(conn.epoch);
    sim.appHooks.push(() => this.turn());
  }

  logOf(epoch: StreamEpoch, id: number): StreamLog {
    let m = this.streams.get(epoch.id);
    if (!m) {
      m = new Map();
      this.streams.set(epoch.id, m);
    }
    return streamLog(m, id);
  }

  get rejected(): boolean {
    return this.events.some((e) => e.type === 'early-data' && !e.accepted);
  }

  private turn(): void {
    for (let e = this.conn.pollEvent(); e; e = this.conn.pollEvent()) {
      this.events.push(e);
      switch (e.type) {
        case 'early-data':
          if (e.accepted) this.onAccepted?.();
          else this.onRejected?.();
          break;
        case 'epoch':
          if (!this.epochs.includes(e.epoch)) this.epochs.push(e.epoch);
          this.onEpoch?.(e.epoch);
          break;
        case 'handshake-complete':
          this.onHandshakeComplete?.();
          break;
        case 'stream': {
          const ev = e.event;
          const log = this.logOf(e.epoch, 'id' in ev ? ev.id : -1);
          if (ev.type === 'reset') log.resets.push(ev.errorCode);
          if (ev.type === 'stop-sending') log.stopSendings.push(ev.errorCode);
          if (ev.type === 'readable') {
            for (let r = e.epoch.streams.read(ev.id); r; r = e.epoch.streams.read(ev.id)) {
              for (const b of r.data) log.bytes.push(b);
              if (r.fin) log.fin = true;
            }
          }
          break;
        }
        default:
          break;
      }
    }
    this.onTurn?.();
  }

  /** Every RESET_STREAM / STOP_SENDING signal the client application saw on the epoch. */
  resetsSeen(epoch: StreamEpoch): number {
    let n = 0;
    for (const s of this.streams.get(epoch.id)?.values() ?? []) n += s.resets.length + s.stopSendings.length;
    return n;
  }
}

/**
 * A simulated server issuing 0-RTT tickets (shared ticket keys across restarts unless replaced), a
 * client endpoint, and a first connection that received a ticket.
 */
export class ZeroRttSim {
  readonly sim: QuicSim;
  readonly trace: FrameRecord[] = [];
  readonly policyCalls: Array<{ address: string; context: EarlyDataContext }> = [];
  readonly store: RecordingStore;
  readonly serverTransport: Partial<TransportOptions>;
  /** The server's TLS settings, kept by reference: replace `ticketKeys` or `alpn`, then restartServer(). */
  readonly serverTls: Partial<ServerTlsOptions> & { alpn: string[] };
  readonly serverOptions: Partial<Omit<ServerEndpointOptions, 'tls'>>;
  readonly session: ResumptionSession;
  first: Connection | undefined;
  private ticketKeySeed: number;

  constructor(opts: ZeroRttSimOptions) {
    this.serverTransport = opts.serverTransport ?? {};
    this.store = new RecordingStore(opts.replayStore);
    this.ticketKeySeed = opts.seed;
    this.serverTls = {
      alpn: opts.serverAlpn ?? ['hq-interop', 'test'],
      ticketKeys: this.newTicketKeys(),
      issueEarlyDataTickets: true,
    };
    const allow = opts.allow ?? true;
    this.serverOptions = {
      allowEarlyData: (info) => {
        this.policyCalls.push(info);
        return typeof allow === 'function' ? allow(info) : allow;
      },
      replayStore: this.store,
    };
    this.sim = new QuicSim({
      seed: opts.seed,
      serverTransport: this.serverTransport,
      ...(opts.clientTransport ? { clientTransport: opts.clientTransport } : {}),
      server: { ...this.serverOptions, tls: this.serverTls },
      trace: (conn: Connection, e: FrameTraceEvent) => this.record(conn, e),
    });
    this.session = this.obtainTicket();
  }

  /** Fresh ticket keys (a server "restarted with a new ticket key" uses the next ones). */
  newTicketKeys(): SessionTicketKeys {
    return new SessionTicketKeys({
      random: seededRandomBytes(new Prng(this.ticketKeySeed++)),
      now: DEFAULT_START_TIME,
    });
  }

  private record(conn: Connection, e: FrameTraceEvent): void {
    const f = e.frame;
    const data =
      f.type === FrameType.Stream || f.type === FrameType.Datagram ? new Uint8Array(f.data) : undefined;
    this.trace.push({
      conn,
      role: conn.role,
      direction: e.direction,
      packetType: e.packetType,
      frame: data && f.type === FrameType.Stream ? { ...f, data } : f,
      data,
      earlyDataState: conn.earlyDataState,
      handshakeComplete: conn.handshakeComplete,
      epochId: conn.epoch?.id,
      time: this.sim.now,
    });
  }

  /** A first (1-RTT) connection whose only purpose is to receive a session ticket; then closed. */
  obtainTicket(): ResumptionSession {
    const first = this.sim.dial();
    this.first = first;
    let session: ResumptionSession | undefined;
    this.sim.run(() => {
      for (let e = first.pollEvent(); e; e = first.pollEvent())
        if (e.type === 'session-ticket') session = e.session;
      return session !== undefined && first.handshakeConfirmed;
    }, 10_000);
    assert.ok(session, 'the first connection received a session ticket');
    assert.ok(session.maxEarlyDataSize > 0, 'the ticket allows 0-RTT');
    first.close(0, 'ticket received', this.sim.now);
    this.sim.client.markActive(first);
    this.sim.run(() => first.isTerminated, 10_000);
    return session;
  }

  /** A 0-RTT attempt with the ticket; its early epoch exists at once (before anything is sent). */
  dialEarly(transport?: Partial<TransportOptions>, alpn?: string[]): Connection {
    const conn = this.sim.dial(
      { session: this.session, offerEarlyData: true, ...(alpn ? { alpn } : {}) },
      transport,
    );
    assert.ok(conn.epoch?.early, 'the early epoch exists as soon as the ClientHello is built');
    return conn;
  }

  /** A connection with the same ticket that does not offer 0-RTT (the same handshake shape). */
  dialResumed(transport?: Partial<TransportOptions>): Connection {
    return this.sim.dial({ session: this.session, offerEarlyData: false }, transport);
  }

  /** Directional link conditions from now on (the ticket connection ran on a clean link). */
  setLinks(up: LinkConditions, down: LinkConditions = {}): void {
    this.sim.net.setLink(CLIENT_ADDRESS, SERVER_ADDRESS, { mtu: 1472, ...up });
    this.sim.net.setLink(SERVER_ADDRESS, CLIENT_ADDRESS, { mtu: 1472, ...down });
  }

  /** Replace the server by a fresh endpoint (state lost; ticket keys, ALPN and limits as now configured). */
  restartServer(): void {
    this.sim.restartServer();
  }

  /** The server connection of `client` (same original DCID). */
  serverOf(client: Connection): Connection | undefined {
    return this.sim.serverConnections.find(
      (s) => Buffer.from(s.originalDcid).equals(Buffer.from(client.originalDcid)) && s !== client,
    );
  }

  framesOf(conn: Connection, direction: 'sent' | 'received'): FrameRecord[] {
    return this.trace.filter((r) => r.conn === conn && r.direction === direction);
  }

  /** Let everything settle: acknowledgments, retransmissions, closes. */
  settle(ms: Millis = 2_000): void {
    this.sim.net.runFor(ms);
  }
}

export const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

/** Count of bytes equal to `b` in `bytes` (cheap content check for big transfers). */
export function allEqual(bytes: ArrayLike<number>, b: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== b) return false;
  return true;
}

/**
 * The core invariant after a rejection: not one frame of the dead epoch was sent after the verdict.
 * Every frame the client sent after the rejection belongs to the new epoch (`newEpochId`), no 0-RTT
 * packet left after it, and every STREAM byte is one the new epoch wrote (`newByte`).
 */
export function assertNothingOldAfterRejection(
  z: ZeroRttSim,
  client: Connection,
  opts: { newByte: number; allowedStreamIds?: ReadonlySet<number> },
): FrameRecord[] {
  const after = z.framesOf(client, 'sent').filter((r) => r.earlyDataState === 'rejected');
  for (const r of after) {
    assert.notEqual(r.packetType, PacketType.ZeroRtt, 'no 0-RTT packet after the rejection');
    const f = r.frame;
    if (f.type === FrameType.Stream) {
      assert.ok(
        allEqual(r.data!, opts.newByte),
        `a STREAM frame after the rejection carried old-epoch bytes: ${describeFrame(f)}`,
      );
      if (opts.allowedStreamIds)
        assert.ok(opts.allowedStreamIds.has(f.streamId), `unexpected ${describeFrame(f)} after rejection`);
    }
    if (f.type === FrameType.ResetStream || f.type === FrameType.StopSending) {
      assert.ok(
        opts.allowedStreamIds?.has(f.streamId) === true,
        `${describeFrame(f)} sent after the rejection`,
      );
    }
  }
  return after;
}
