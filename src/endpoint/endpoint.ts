/**
 * A QUIC endpoint, sans-IO: one UDP socket's worth of connections.
 *
 * It routes datagrams to connections by Destination Connection ID (RFC 9000 §5.2), accepts new
 * connections from valid client Initials (RFC 9000 §7, §14.1), answers unknown versions with Version
 * Negotiation (RFC 9000 §6.1), optionally validates addresses with Retry (RFC 9000 §8.1.2), accepts
 * NEW_TOKEN tokens (§8.1.3), sends stateless resets for packets of unknown connections (§10.3) and
 * bounds the number of half-open connections. Clients use it too, to dial many connections from one
 * socket. The checks of a new client's Initial are initial-admission.ts.
 */

import { ClosingRemnant } from '../connection/closing-remnant.js';
import {
  type ClientTlsOptions,
  Connection,
  type FrameTraceEvent,
  type PacketDropTraceEvent,
  type ServerTlsOptions,
} from '../connection/connection.js';
import {
  resolveTransportOptions,
  sharedTransportOptions,
  type TransportOptions,
} from '../connection/connection-options.js';
import type { PathEvent } from '../connection/connection-paths.js';
import type { RecoveryTraceEvent } from '../connection/recovery-trace.js';
import { type InitialKeySource, initialPacketKeys } from '../crypto/packet-keys.js';
import { StatelessResetTokens } from '../crypto/stateless-reset.js';
import type { KeyShareSource } from '../tls/key-exchange.js';
import type { EarlyDataContext } from '../tls/types.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { parseInvariantHeader } from '../wire/packet-header.js';
import { AddressTokens } from './address-token.js';
import { type EarlyDataReplayStore, InMemoryReplayStore } from './anti-replay.js';
import { DeadlineHeap } from './deadline-heap.js';
import { type AdmissionStats, InitialAdmission } from './initial-admission.js';

export interface ServerEndpointOptions {
  tls: ServerTlsOptions;
  /** Send a Retry to every Initial that has no valid token (RFC 9000 §8.1.2). */
  retry?: boolean;
  /**
   * The 0-RTT policy: return true to accept early data from this client and ticket. Absent: reject.
   * The endpoint adds single-use replay protection and the transport parameter rule.
   */
  allowEarlyData?: (info: { address: string; context: EarlyDataContext }) => boolean;
  /** Where used tickets are recorded (RFC 8446 §8); default: in memory, per endpoint. */
  replayStore?: EarlyDataReplayStore;
  /** Send NEW_TOKEN to clients after the handshake (default true). */
  issueNewTokens?: boolean;
  /** Versions we accept, in preference order (default: v1, v2). */
  versions?: readonly number[];
  /** Connections still in their handshake; Initials beyond it are dropped (default 1000). */
  maxHalfOpen?: number;
  /**
   * When this many half-open connections have unvalidated addresses, new clients without a valid
   * token are sent a Retry (stateless address validation, RFC 9000 §8.1.2) instead of getting state,
   * so that a flood from spoofed addresses cannot fill the half-open table (default 100; 0 = always).
   */
  retryThreshold?: number;
  /**
   * Open connections (in handshake or established) beyond which new clients are refused with
   * CONNECTION_CLOSE(CONNECTION_REFUSED) in an Initial packet, statelessly (RFC 9000 §5.2.2, §10.2.3)
   * (default 10000).
   */
  maxConnections?: number;
  transport?: Partial<TransportOptions>;
}

export interface EndpointConfig {
  random: RandomBytes;
  /** Key shares made ahead of time for every connection's TLS handshake (TlsCommonConfig.keyShares). */
  keyShares?: KeyShareSource;
  /** First DCIDs with their Initial keys derived ahead of time, for client connections. */
  initialKeys?: InitialKeySource;
  /** Key for stateless reset tokens (>= 16 bytes); random when absent. Share it across restarts to reset old connections. */
  statelessResetKey?: Uint8Array;
  /** Key for Retry and NEW_TOKEN tokens (32 bytes); random when absent. */
  tokenKey?: Uint8Array;
  /** Length of the connection IDs we issue (default 8). */
  connectionIdLength?: number;
  server?: ServerEndpointOptions;
  /** Defaults for connections dialled from this endpoint. */
  transport?: Partial<TransportOptions>;
  /** Per-peer adjustments for accepted connections (e.g. a larger PMTU ceiling for loopback peers). */
  transportFor?: (remoteAddress: string) => Partial<TransportOptions>;
  trace?: (connection: Connection, e: FrameTraceEvent) => void;
  /** Path changes and validations of every connection (RFC 9000 §8.2, §9). */
  pathTrace?: (connection: Connection, e: PathEvent) => void;
  /** Packets a connection discarded unprocessed (Connection's dropTrace). */
  dropTrace?: (connection: Connection, e: PacketDropTraceEvent) => void;
  /** Loss recovery and congestion changes of a connection (Connection's recoveryTrace). */
  recoveryTrace?: (connection: Connection, e: RecoveryTraceEvent) => void;
  /**
   * The driver calls takeTouched() after each turn to learn which connections may have events
   * (so it need not look at every connection). Without it the endpoint keeps no such list.
   */
  trackTouched?: boolean;
}

export interface DialOptions {
  remoteAddress: string;
  tls: ClientTlsOptions;
  transport?: Partial<TransportOptions>;
  token?: Uint8Array;
  version?: number;
  /** See ConnectionConfig.testRewriteTransportParameters. */
  testRewriteTransportParameters?: (encoded: Uint8Array) => Uint8Array;
}

export type EndpointEvent = { type: 'connection'; connection: Connection };

/** Stateless packets waiting to go out (VN, Retry, resets); bounded so a flood cannot grow memory. */
const MAX_STATELESS_QUEUE = 64;
/** takeAckNow() when no connection owes an ACK at once. */
const NONE_DUE: readonly Connection[] = Object.freeze([]);
/** RFC 9000 §10.3: a stateless reset is at least this long (and shorter than what triggered it). */
const MIN_STATELESS_RESET = 21;
/** How long past the end of the freshness window a ticket's use stays recorded (decideEarlyData). */
const REPLAY_RECORD_MARGIN_MS = 1000;

/**
 * Ack-eliciting packets a batching driver may hold unacknowledged within one batch of received
 * datagrams (RFC 9000 §13.2.2 asks for an ACK every 2; the driver's batching trades some of that for
 * CPU, but never more than this many, so one lost ACK cannot leave a whole batch unacknowledged).
 * While a connection decimates its ACKs (connection/ack-manager.ts) its own count, 10, applies.
 */
export const ACK_BATCH_LIMIT = 8;

export class Endpoint {
  private readonly random: RandomBytes;
  private readonly cidLength: number;
  private readonly resetTokens: StatelessResetTokens;
  /** One function for every connection of this endpoint (RFC 9000 §10.3.2 tokens from the key). */
  private readonly resetTokenFor = (cid: Uint8Array): Uint8Array => this.resetTokens.tokenFor(cid);
  /** Server only: Retry and NEW_TOKEN address tokens (RFC 9000 §8.1). */
  private readonly tokens: AddressTokens | undefined;
  /** Server only: the store that makes each 0-RTT ticket single-use (RFC 8446 §8.1). */
  private readonly replayStore: EarlyDataReplayStore | undefined;
  /** DCID (hex) -> connection, or what is left of one that is closing or draining. */
  private readonly routes = new Map<string, Connection | ClosingRemnant>();
  /**
   * Connections retired in their closing or draining period (closing-remnant.ts), by the end of the
   * period, with the routes each keeps until then.
   */
  private readonly remnants = new DeadlineHeap<ClosingRemnant>();
  private readonly remnantRoutes = new Map<ClosingRemnant, string[]>();
  /** Per connection: the routes it owns (removed when it terminates) and when it was adopted. */
  // An array, not a Set: a handful of keys per connection (issue 13, idle memory).
  private readonly routesOf = new Map<Connection, { routes: string[]; order: number }>();
  private adopted = 0;
  private readonly _connections = new Set<Connection>();
  /** The open connections (adopted when dialled or accepted, removed when they terminate). */
  get connections(): ReadonlySet<Connection> {
    return this._connections;
  }
  /** Connections that may have something to send. */
  private readonly active = new Set<Connection>();
  /**
   * Every connection's next deadline (deadline-heap.ts). Only connections touched since the last
   * read (`timersStale`) are asked again, so nextTimeout() costs O(touched * log n), not O(n), and
   * handleTimeout() visits only the connections whose deadline has come.
   */
  private readonly deadlines = new DeadlineHeap<Connection>();
  /** Connections given input, output, a timeout or an application action since the heap was updated. */
  private readonly timersStale = new Set<Connection>();
  /** Connections touched since the driver's last takeTouched() (only with trackTouched). */
  private readonly touched = new Set<Connection>();
  private readonly stateless: Array<{ datagram: Uint8Array; to: string }> = [];
  /** The transport options of accepted connections, resolved and validated once (server only). */
  private readonly serverTransport: Readonly<TransportOptions> | undefined;
  /** The last per-peer adjustments (transportFor) and the options they resolved to. */
  private lastPeerTransport: Partial<TransportOptions> | undefined;
  private lastPeerResolved: Readonly<TransportOptions> | undefined;
  private readonly events: EndpointEvent[] = [];

  constructor(private readonly config: EndpointConfig) {
    this.random = config.random;
    this.cidLength = config.connectionIdLength ?? 8;
    // Bad transport options are the caller's error: report them here (RangeError), not as an exception
    // out of receive() when the first Initial arrives.
    resolveTransportOptions(Object.assign({}, config.transport, { connectionIdLength: this.cidLength }));
    // Resolved once: every accepted connection shares them (see acceptedTransport()).
    if (config.server)
      this.serverTransport = sharedTransportOptions({
        ...config.server.transport,
        connectionIdLength: this.cidLength,
      });
    this.resetTokens = new StatelessResetTokens(config.statelessResetKey ?? config.random(32));
    // Server only: a client endpoint (one per dial) builds none of it (issue 13: a dialled client's
    // endpoint lives through the closing period, long enough for V8 to promote all it holds).
    if (config.server) {
      const tokens = new AddressTokens({ key: config.tokenKey ?? config.random(32), random: config.random });
      this.tokens = tokens;
      this.replayStore = config.server.replayStore ?? new InMemoryReplayStore();
      this.admission = new InitialAdmission(config.server, tokens, this.random, this.cidLength, {
        halfOpen: () => this.halfOpenCount,
        unvalidatedHalfOpen: () => this.unvalidatedHalfOpenCount,
        serverConnections: () => this.serverConnections,
      });
    } else {
      this.tokens = undefined;
      this.replayStore = undefined;
    }
  }

  get isServer(): boolean {
    return this.config.server !== undefined;
  }

  /** Start a client connection from this endpoint. */
  connect(opts: DialOptions, now: Millis): Connection {
    // Every field named and Object.assign for the transport options: no spread literal, which
    // Node 20 builds on V8's slow path (0.5-10 us each; once per dial, issue 13).
    const { trace, pathTrace, dropTrace, recoveryTrace } = this.traceHooks((): Connection => conn);
    const conn: Connection = new Connection({
      role: 'client',
      remoteAddress: opts.remoteAddress,
      tls: opts.tls,
      transport: Object.assign({}, this.config.transport, opts.transport, {
        connectionIdLength: this.cidLength,
      }),
      token: opts.token,
      version: opts.version,
      testRewriteTransportParameters: opts.testRewriteTransportParameters,
      random: this.random,
      keyShares: this.config.keyShares,
      initialKeys: this.config.initialKeys,
      now,
      statelessResetToken: this.resetTokenFor,
      trace,
      pathTrace,
      dropTrace,
      recoveryTrace,
    });
    this.adopt(conn, [conn.localCid]);
    return conn;
  }

  /** The connection `datagram` would be routed to, if any (by its Destination Connection ID). */
  connectionOf(datagram: Uint8Array): Connection | undefined {
    try {
      const target = this.routes.get(this.routeKey(parseInvariantHeader(datagram, 0, this.cidLength).dcid));
      return target instanceof Connection ? target : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A UDP datagram arrived from `from`. Like Connection.receive, this takes `datagram` over: it is
   * opened in place and may be kept (as views of stream data), so the caller must not write to it
   * again.
   */
  receive(datagram: Uint8Array, from: string, now: Millis): void {
    // A flow's datagrams carry one DCID: a short header repeating the last one routed goes to its
    // connection without a parsed header or a view of its DCID (issue 13: two allocations per datagram).
    if (this.repeatsLastShortDcid(datagram)) {
      const target = this.routes.get(this.lastRouteKey);
      if (target instanceof Connection) {
        this.deliver(target, datagram, from, now);
        return;
      }
    }
    let header: ReturnType<typeof parseInvariantHeader>;
    try {
      header = parseInvariantHeader(datagram, 0, this.cidLength);
    } catch {
      return;
    }
    const conn = this.routes.get(this.routeKey(header.dcid));
    if (conn instanceof ClosingRemnant) {
      // RFC 9000 §10.2.1: a packet attributed to a closing connection may draw its CONNECTION_CLOSE.
      const answer = conn.receive(datagram, from, now);
      if (answer) this.queueStateless(answer, conn.peerAddress);
      return;
    }
    if (conn) {
      this.deliver(conn, datagram, from, now);
      return;
    }
    if (header.form === 'short') {
      // RFC 9000 §10.3.1: a stateless reset carries no routable CID; check it against the tokens of
      // the connections to that peer before answering with a reset of our own.
      for (const c of this._connections) {
        if (c.remoteAddress === from && c.receiveStatelessReset(datagram, now)) {
          this.touch(c);
          this.afterConnectionActivity(c);
          return;
        }
      }
      this.sendStatelessReset(datagram, header.dcid, from);
      return;
    }
    if (this.config.server) this.acceptInitial(datagram, header, from, now);
  }

  /** `datagram` reaches `conn`, its route. */
  private deliver(conn: Connection, datagram: Uint8Array, from: string, now: Millis): void {
    this.touch(conn);
    const wasComplete = conn.handshakeComplete;
    conn.receive(datagram, from, now);
    if (conn.wantsAckNow(ACK_BATCH_LIMIT)) this.ackDue.add(conn);
    if (!wasComplete && conn.role === 'server' && conn.handshakeComplete) this.completedNow.push(conn);
    // What arrived usually calls for an answer (ACK, handshake data): let transmit() look at it.
    this.active.add(conn);
    this.afterConnectionActivity(conn);
  }

  /**
   * Whether `datagram` starts with a short header (RFC 8999 §5.2) whose DCID is the last one routed:
   * its route key is then `lastRouteKey`. Never with zero-length connection IDs.
   */
  private repeatsLastShortDcid(datagram: Uint8Array): boolean {
    const last = this.lastDcid;
    const n = this.cidLength;
    if (n === 0 || last.length !== n || datagram.length < 1 + n || (datagram[0]! & 0x80) !== 0) return false;
    for (let i = 0; i < n; i++) if (datagram[1 + i] !== last[i]) return false;
    return true;
  }

  /** The last DCID routed and its key: a flow's datagrams mostly carry the same DCID. */
  private lastDcid: Uint8Array = new Uint8Array(0);
  private lastRouteKey = '';

  /** The routes key (hex) of a DCID, without a new string when it repeats the previous datagram's. */
  private routeKey(dcid: Uint8Array): string {
    const last = this.lastDcid;
    if (dcid.length === last.length && dcid.length > 0) {
      let same = true;
      for (let i = 0; i < dcid.length; i++) {
        if (dcid[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastRouteKey;
    }
    // A copy: `dcid` is a view of the datagram, which must not be kept alive by the cache.
    this.lastDcid = new Uint8Array(dcid);
    this.lastRouteKey = hex(dcid);
    return this.lastRouteKey;
  }

  /** Connections a datagram received since the last takeAckNow() made owe an ACK at once. */
  private readonly ackDue = new Set<Connection>();

  /**
   * For a driver that receives several datagrams before it transmits (as with takeAckNow()): the
   * server connections whose handshake a datagram received since the last call completed. Their HANDSHAKE_DONE is due at once (RFC 9001 §4.1.2), and what came with the
   * client's Finished (a request) is for their applications to answer: neither need wait for the
   * end of a batch of other clients' datagrams.
   */
  takeCompletedHandshakes(): readonly Connection[] {
    if (this.completedNow.length === 0) return NONE_DUE;
    const done = this.completedNow;
    this.completedNow = [];
    return done;
  }

  /** Server connections whose handshake completed since the last takeCompletedHandshakes(). */
  private completedNow: Connection[] = [];

  /**
   * For a driver that receives several datagrams before it transmits: the connections (once each)
   * that a datagram received since the last call made owe an ACK at once, so the driver should let
   * them transmit now (transmitOf) rather than at the end of its batch; empty when none does. A
   * connection acknowledges at least every ACK_BATCH_LIMIT ack-eliciting packets, and at once after
   * a gap (a loss, or a peer's PTO probe that skipped a packet number) or ECN-CE (RFC 9000 §13.2.1,
   * §13.2.2; docs/recovery.md), and an ack-eliciting Initial or Handshake packet at once.
   */
  takeAckNow(): readonly Connection[] {
    if (this.ackDue.size === 0) return NONE_DUE;
    const due = [...this.ackDue];
    this.ackDue.clear();
    return due;
  }

  /** Next datagram to send from any connection, or a stateless response. */
  transmit(now: Millis): { datagram: Uint8Array; to: string } | undefined {
    const s = this.stateless.shift();
    if (s) return s;
    for (const conn of this.active) {
      const out = this.transmitActive(conn, now);
      if (out) {
        // Round robin: move the connection to the back of the active set (a no-op for a single
        // one, the bulk-transfer case: two Set operations per datagram saved, issue 13).
        if (this.active.size > 1) {
          this.active.delete(conn);
          this.active.add(conn);
        }
        return out;
      }
    }
    return undefined;
  }

  /**
   * Next datagram of `conn` alone (takeAckNow: the connections whose ACK is due send before the
   * others of a batch, whose applications may still add to theirs). Stateless responses wait for
   * transmit().
   */
  transmitOf(conn: Connection, now: Millis): { datagram: Uint8Array; to: string } | undefined {
    return this.active.has(conn) ? this.transmitActive(conn, now) : undefined;
  }

  /** Next datagram of an active connection; one with nothing to send leaves the active set. */
  private transmitActive(conn: Connection, now: Millis): { datagram: Uint8Array; to: string } | undefined {
    this.touch(conn);
    // Usually to the peer's address; to another one for path validation (RFC 9000 §8.2).
    const out = conn.transmitTo(now);
    if (out) return out;
    this.active.delete(conn);
    this.afterConnectionActivity(conn);
    return undefined;
  }

  /** The earliest deadline of any connection (the root of the deadline heap) or remnant. */
  nextTimeout(): Millis | undefined {
    this.updateDeadlines();
    const c = this.deadlines.peek();
    const r = this.remnants.peek();
    return c === undefined ? r : r === undefined ? c : Math.min(c, r);
  }

  /**
   * Whether the only deadline left (nextTimeout()) ends a connection's closing or draining period,
   * which RFC 9000 §10.2 asks to last at least three PTO: a driver may serve it a little late, and
   * no other deadline is delayed by that (issue 13: a closing client's timer woke before it).
   */
  nextTimeoutLenient(): boolean {
    this.updateDeadlines();
    const size = this.deadlines.size;
    if (size === 0) return this.remnants.size > 0;
    return size === 1 && this.deadlines.peekKey()?.isClosed === true;
  }

  /** Connections retired in their closing or draining period, whose end the endpoint waits for. */
  get remnantCount(): number {
    return this.remnants.size;
  }

  /** @internal For tests: the end of the earliest closing or draining period served by a remnant. */
  get earliestRemnantDeadline(): Millis | undefined {
    return this.remnants.peek();
  }

  /** Ends the closing and draining periods of the retired connections now (closing promptly). */
  dropRemnants(): void {
    for (const r of [...this.remnantRoutes.keys()]) this.dropRemnant(r);
  }

  private dropRemnant(r: ClosingRemnant): void {
    for (const key of this.remnantRoutes.get(r) ?? []) {
      if (this.routes.get(key) === r) this.routes.delete(key);
    }
    this.remnantRoutes.delete(r);
    this.remnants.delete(r);
  }

  /**
   * A closing connection whose CONNECTION_CLOSE is sent, or a draining one, hands the rest of its
   * period to a remnant (closing-remnant.ts) that takes over its routes; the connection ends.
   */
  private retire(conn: Connection): void {
    const r = conn.retire();
    if (r === undefined) return;
    const kept: string[] = [];
    for (const key of this.routesOf.get(conn)?.routes ?? []) {
      if (this.routes.get(key) !== conn) continue;
      this.routes.set(key, r);
      kept.push(key);
    }
    this.remnantRoutes.set(r, kept);
    this.remnants.set(r, r.deadline);
  }

  /** Lets the connections whose deadline has come handle it, in the order they were adopted. */
  handleTimeout(now: Millis): void {
    for (const r of this.remnants.popExpired(now)) this.dropRemnant(r);
    this.updateDeadlines();
    const due = this.deadlines.popExpired(now);
    if (due.length > 1) due.sort((a, b) => this.orderOf(a) - this.orderOf(b));
    for (const conn of due) {
      // Out of the heap now; touching it puts it back with its next deadline.
      this.touch(conn);
      conn.handleTimeout(now);
      this.active.add(conn);
      this.afterConnectionActivity(conn);
    }
  }

  /** Asks the connections touched since the last update for their next deadline. */
  private updateDeadlines(): void {
    if (this.timersStale.size === 0) return;
    for (const conn of this.timersStale) {
      this.deadlines.set(conn, this._connections.has(conn) ? conn.nextTimeout() : undefined);
    }
    this.timersStale.clear();
  }

  private orderOf(conn: Connection): number {
    return this.routesOf.get(conn)?.order ?? Number.POSITIVE_INFINITY;
  }

  /** `conn` is given input or asked for output: its deadline may move, events may follow. */
  private touch(conn: Connection): void {
    this.timersStale.add(conn);
    if (this.config.trackTouched) this.touched.add(conn);
  }

  /**
   * The connections touched since the last call (datagrams in or out, timeouts, markActive), which
   * may have events to poll: with `trackTouched`, a driver polls only these.
   */
  takeTouched(): Connection[] {
    if (this.touched.size === 0) return [];
    const out = [...this.touched];
    this.touched.clear();
    return out;
  }

  /**
   * The driver has seen that `conn` terminated (and polled its last events): the endpoint lets go of
   * it, rather than keep it among the touched connections until the driver's next turn, which for a
   * socket waiting out a closing period comes only at the period's end (closing-remnant.ts).
   */
  released(conn: Connection): void {
    if (conn.isTerminated) this.touched.delete(conn);
  }

  /** Connections touched since the last takeTouched(), without taking them. */
  peekTouched(): ReadonlySet<Connection> {
    return this.touched;
  }

  /**
   * Mark a connection as possibly having data (the application wrote, opened a stream, closed, ...):
   * it transmits next, and its deadline and events are looked at again.
   */
  markActive(conn: Connection): void {
    if (!this._connections.has(conn)) return;
    this.active.add(conn);
    this.touch(conn);
  }

  pollEvent(): EndpointEvent | undefined {
    return this.events.shift();
  }

  /** Stop accepting new connections; existing ones continue. */
  stopAccepting(): void {
    this.acceptingClosed = true;
  }

  private acceptingClosed = false;

  /** Server connections still in their handshake (bounded by maxHalfOpen). */
  get halfOpenCount(): number {
    this.pruneHalfOpen();
    return this.halfOpen.size;
  }

  /** Half-open connections whose client address is not validated (what the Retry switch counts). */
  get unvalidatedHalfOpenCount(): number {
    this.pruneHalfOpen();
    let n = 0;
    for (const c of this.halfOpen) if (!c.addressValidated) n++;
    return n;
  }

  /** Server connections not yet terminated (bounded by maxConnections). */
  get serverConnectionCount(): number {
    return this.serverConnections;
  }

  /** Datagrams dropped or answered statelessly on the accept path, by reason (for tests and stats). */
  get acceptStats(): Readonly<AdmissionStats> {
    return this.admission?.stats ?? NO_ADMISSIONS;
  }

  /**
   * The server's checks of a new Initial (initial-admission.ts), asking this endpoint for the load
   * it counts; undefined for a client.
   */
  private readonly admission: InitialAdmission | undefined;

  /** Server connections in their handshake; kept apart so that counting them is O(half-open). */
  private readonly halfOpen = new Set<Connection>();
  private serverConnections = 0;

  private pruneHalfOpen(): void {
    for (const c of this.halfOpen) if (c.handshakeComplete || c.isClosed) this.halfOpen.delete(c);
  }

  // ------------------------------------------------------------------ routing

  private adopt(conn: Connection, cids: Uint8Array[]): void {
    this._connections.add(conn);
    this.routesOf.set(conn, { routes: [], order: this.adopted++ });
    for (const cid of cids) this.addRoute(conn, cid);
    this.active.add(conn);
    this.touch(conn);
  }

  private addRoute(conn: Connection, cid: Uint8Array): void {
    const key = hex(cid);
    this.routes.set(key, conn);
    const owned = this.routesOf.get(conn)?.routes;
    if (owned && !owned.includes(key)) owned.push(key);
  }

  /** Apply CID changes and forget terminated connections. */
  private afterConnectionActivity(conn: Connection): void {
    // Indexed: this runs after every datagram, and for-of over the (usually empty, shared) array
    // allocated an iterator each time (issue 13).
    const changes = conn.takeRoutingChanges();
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i]!;
      const key = hex(change.cid);
      if (change.type === 'add') this.addRoute(conn, change.cid);
      else if (this.routes.get(key) === conn) {
        this.routes.delete(key);
        const owned = this.routesOf.get(conn)?.routes;
        const at = owned ? owned.indexOf(key) : -1;
        if (owned && at >= 0) owned.splice(at, 1);
      }
    }
    if (conn.isClosed && !conn.isTerminated) this.retire(conn);
    if (conn.isTerminated) this.forget(conn);
    else if (conn.handshakeComplete || conn.isClosed) this.halfOpen.delete(conn);
  }

  private forget(conn: Connection): void {
    for (const key of this.routesOf.get(conn)?.routes ?? []) {
      if (this.routes.get(key) === conn) this.routes.delete(key);
    }
    this.routesOf.delete(conn);
    if (this._connections.delete(conn) && conn.role === 'server') this.serverConnections--;
    this.active.delete(conn);
    this.ackDue.delete(conn);
    this.halfOpen.delete(conn);
    this.deadlines.delete(conn);
    this.timersStale.delete(conn);
    // `touched` keeps it: the driver still has to see that it terminated.
  }

  get routeCount(): number {
    return this.routes.size;
  }

  // ------------------------------------------------------------------ server accept

  /** A new client's first datagram: admitted (a new connection), answered statelessly, or dropped. */
  private acceptInitial(
    datagram: Uint8Array,
    header: ReturnType<typeof parseInvariantHeader>,
    from: string,
    now: Millis,
  ): void {
    const server = this.config.server!;
    if (this.acceptingClosed || !this.admission) return;
    const admission = this.admission.admit(datagram, header, from, now);
    if (admission === undefined) return;
    if (admission.kind === 'answer') {
      this.queueStateless(admission.datagram, from);
      return;
    }
    const { initial, opened, clientKeys, serverSecret, originalDcid, retrySourceCid, validated } =
      admission.admitted;
    const localCid = this.random(this.cidLength);
    const endpoint = this;
    // Real copies (Buffer#slice is a view): the connection keeps these for its lifetime. Without a
    // Retry both DCIDs are the same bytes: one copy (issue 13, idle memory).
    const initialDcid = new Uint8Array(initial.dcid);
    // Every field named, no spread: in Node 20 an object literal with a spread and more fields takes
    // V8's slow path (0.5-10 µs each, issue 13), and this one is built per accepted connection.
    const { trace, pathTrace, dropTrace, recoveryTrace } = this.traceHooks((): Connection => conn);
    const conn: Connection = new Connection({
      role: 'server',
      version: initial.version,
      originalDcid: retrySourceCid === undefined ? initialDcid : new Uint8Array(originalDcid),
      initialDcid,
      initialKeys: {
        client: clientKeys,
        server: initialPacketKeys(serverSecret, initial.version),
      },
      // conn.receive(datagram) below: its first packet is not opened again.
      firstPacket: { datagram, packetStart: initial.packetStart, opened },
      clientScid: new Uint8Array(initial.scid),
      localCid,
      retrySourceCid: retrySourceCid === undefined ? undefined : new Uint8Array(retrySourceCid),
      addressValidated: validated,
      remoteAddress: from,
      tls: server.tls,
      transport: this.acceptedTransport(from),
      random: this.random,
      keyShares: this.config.keyShares,
      now,
      statelessResetToken: this.resetTokenFor,
      // Methods, not arrow functions: under tsx (esbuild keepNames) each arrow function the
      // connection keeps costs a dictionary of properties (issue 13, idle memory).
      acceptEarlyData(ctx) {
        return endpoint.decideEarlyData(conn, ctx, now);
      },
      newToken() {
        if (server.issueNewTokens === false) return undefined;
        return endpoint.tokens?.issue({ kind: 'new-token', address: conn.remoteAddress, issuedAt: now });
      },
      trace,
      pathTrace,
      dropTrace,
      recoveryTrace,
    });
    this.adopt(conn, [initial.dcid, localCid]);
    this.halfOpen.add(conn);
    this.serverConnections++;
    this.events.push({ type: 'connection', connection: conn });
    conn.receive(datagram, from, now);
    // RFC 9000 §13.2.1: an ack-eliciting Initial is acknowledged at once, and the ACK rides with the
    // server's first flight. A batching driver must not hold it to the end of its batch: with many
    // ClientHellos in one read (a burst of new clients), the first client would wait for every other
    // handshake of the batch, and a client whose PTO fires meanwhile sends its ClientHello again
    // (issue 13: quic-go's resumed clients remember a ~2 ms RTT, so their PTO is ~10 ms).
    if (conn.wantsAckNow(ACK_BATCH_LIMIT)) this.ackDue.add(conn);
    this.afterConnectionActivity(conn);
  }

  /**
   * The transport options of a connection accepted from `from`: the server's, resolved once, with the
   * endpoint's per-peer adjustments (transportFor); the same adjustments as the previous connection's
   * give the same resolved object (a server's clients mostly get the same ones), so an accepted
   * connection neither copies nor checks the options again (issue 13).
   */
  private acceptedTransport(from: string): TransportOptions {
    const base = this.serverTransport!;
    const extra = this.config.transportFor?.(from);
    if (extra === undefined) return base;
    const last = this.lastPeerTransport;
    if (last !== undefined && sameOptions(last, extra)) return this.lastPeerResolved!;
    const resolved = sharedTransportOptions(
      Object.assign({}, this.config.server?.transport, extra, { connectionIdLength: this.cidLength }),
    );
    // A copy: the caller's object may change after it was returned.
    this.lastPeerTransport = { ...extra };
    this.lastPeerResolved = resolved;
    return resolved;
  }

  /** The connection's trace hooks, bound to it (`conn` is read when an event fires). */
  private traceHooks(conn: () => Connection): {
    trace?: (e: FrameTraceEvent) => void;
    pathTrace?: (e: PathEvent) => void;
    dropTrace?: (e: PacketDropTraceEvent) => void;
    recoveryTrace?: (e: RecoveryTraceEvent) => void;
  } {
    const { trace, pathTrace, dropTrace, recoveryTrace } = this.config;
    // Named fields (undefined when not configured), not conditional spreads (issue 13).
    return {
      trace: trace ? (e: FrameTraceEvent) => trace(conn(), e) : undefined,
      pathTrace: pathTrace ? (e: PathEvent) => pathTrace(conn(), e) : undefined,
      dropTrace: dropTrace ? (e: PacketDropTraceEvent) => dropTrace(conn(), e) : undefined,
      recoveryTrace: recoveryTrace ? (e: RecoveryTraceEvent) => recoveryTrace(conn(), e) : undefined,
    };
  }

  /** The application's policy, then single use of the ticket (RFC 8446 §8.1). */
  private decideEarlyData(conn: Connection, ctx: EarlyDataContext, now: Millis): boolean {
    const policy = this.config.server?.allowEarlyData;
    if (!policy?.({ address: conn.remoteAddress, context: ctx })) return false;
    // RFC 8446 §8.1, §8.3: the ticket's use is remembered while a replay of this ClientHello could
    // still pass the freshness check (usually at most twice the ticket-age tolerance from now, three
    // times for a ticket from a server whose clock runs ahead), plus a second so that no rounding of
    // a store's clock frees it early. After that a replay is refused as stale.
    // Not for the ticket's lifetime: a busy server would fill its store within minutes and then
    // refuse every 0-RTT attempt for days (issue 13: the bench's 0-RTT rows, after ~100k of them).
    return this.replayStore?.claim(ctx.ticketId, now, ctx.freshUntil + REPLAY_RECORD_MARGIN_MS) ?? false;
  }

  /**
   * RFC 9000 §10.3: answer a short-header packet for an unknown connection with a stateless reset,
   * smaller than the packet that triggered it (so two endpoints cannot loop) and looking like a
   * short header packet.
   */
  private sendStatelessReset(datagram: Uint8Array, dcid: Uint8Array, to: string): void {
    if (dcid.length === 0 || datagram.length <= MIN_STATELESS_RESET) return;
    const length = Math.max(MIN_STATELESS_RESET, Math.min(datagram.length - 1, 43));
    const packet = new Uint8Array(length);
    packet.set(this.random(length - 16), 0);
    packet[0] = (packet[0]! & 0x3f) | 0x40;
    packet.set(this.resetTokens.tokenFor(dcid), length - 16);
    this.queueStateless(packet, to);
  }

  private queueStateless(datagram: Uint8Array, to: string): void {
    if (this.stateless.length >= MAX_STATELESS_QUEUE) return;
    this.stateless.push({ datagram, to });
  }
}

/** The same options, field by field (transportFor's results are small flat objects). */
function sameOptions(a: Partial<TransportOptions>, b: Partial<TransportOptions>): boolean {
  const keys = Object.keys(a) as Array<keyof TransportOptions>;
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (!Object.is(a[k], b[k])) return false;
  return true;
}

const NO_ADMISSIONS: Readonly<AdmissionStats> = Object.freeze({
  notClientHello: 0,
  halfOpenFull: 0,
  retried: 0,
  refused: 0,
});

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
