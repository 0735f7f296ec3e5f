/**
 * The I/O loop of one UDP socket: it feeds received datagrams to a sans-IO Endpoint, lets the
 * connections' owners react to events, sends what the endpoint produces, and keeps one timer armed
 * for the endpoint's next deadline.
 *
 * Work is batched per event-loop turn (see ../shared/guide/PERFORMANCE.md): every datagram that
 * arrives in one turn is processed, then a single flush handles events and sends.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Connection } from '../connection/connection.js';
import { Endpoint, type EndpointConfig } from '../endpoint/endpoint.js';
import { formatAddress, parseAddress, SocketAddress } from './address.js';
import { now } from './clock.js';
import { type SocketErrorMessage, socketErrorChannel } from './diagnostics.js';
import { literalLookup } from './literal-lookup.js';
import { QlogWriter } from './qlog.js';
import { pooledRandomBytes } from './random-pool.js';
import { spareInitialKeys } from './spare-initial-keys.js';
import { spareKeyShares } from './spare-key-shares.js';

/** What the driver calls back into for each connection it carries. */
export interface ConnectionOwner {
  /**
   * Drain the connection's events (called once per flush). True when the application may answer
   * within this event-loop turn (a peer opened a stream it has not answered yet, an answer arrived),
   * so sending waits for the next one.
   */
  drainEvents(): boolean;
  /** The connection is gone. */
  onTerminated(): void;
}

export interface UdpEndpointOptions {
  host: string;
  port: number;
  socketBufferSize?: number;
  endpoint: Omit<EndpointConfig, 'random'>;
  /** Close the socket when the last connection ends (one-off client sockets). */
  autoClose?: boolean;
  /** Write a qlog file per connection into this directory. */
  qlogDir?: string;
}

/** Datagrams sent per flush before yielding to the event loop (so ACKs can come in). */
const MAX_SENDS_PER_FLUSH = 512;
const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;
/** How late past its deadline the end of a closing period may be served (see armTimer). */
const LENIENT_MARGIN_MS = 1;

export class UdpEndpoint {
  readonly endpoint: Endpoint;
  private readonly owners = new Map<Connection, ConnectionOwner>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private flushScheduled = false;
  /** Connections to look at in the current flush (kept across a flush that defers its sending). */
  private readonly touched = new Set<Connection>();
  private closing = false;
  private closedPromise: Promise<void> | undefined;
  /** Server: called for each connection the endpoint accepts (set by listen()). */
  private onConnection: ((conn: Connection) => void) | undefined;
  /** Keeps the socket open while a server listens even with no connections. */
  private listening = false;
  private socketErrorCount = 0;

  private constructor(
    private readonly socket: Socket,
    config: EndpointConfig,
    private readonly autoClose: boolean,
    private readonly qlog: QlogWriter | undefined,
  ) {
    // trackTouched: each flush looks only at the connections something happened to (issue 13: an
    // idle connection costs nothing per event-loop turn).
    this.endpoint = new Endpoint(
      qlog
        ? {
            ...config,
            trackTouched: true,
            trace: (conn, e) => qlog.trace(conn, e),
            pathTrace: (conn, e) => qlog.path(conn, e),
            dropTrace: (conn, e) => qlog.dropped(conn, e),
            recoveryTrace: (conn, e) => qlog.recovery(conn, e),
          }
        : Object.assign({}, config, { trackTouched: true }),
    );
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.onMessage(msg, rinfo));
    // Send errors (unreachable, message too long) are packet loss for QUIC: recovery handles them,
    // except a refused port on a connected socket (see connect()).
    socket.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
  }

  static async bind(opts: UdpEndpointOptions): Promise<UdpEndpoint> {
    const type = isIP(opts.host) === 6 ? 'udp6' : 'udp4';
    // A literal peer address needs no DNS: sendmsg happens inside socket.send() (see literal-lookup.ts).
    const literal = literalLookup();
    const socket = createSocket({
      type,
      lookup: literal.lookup,
      ...(type === 'udp6' ? { ipv6Only: false } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        // A socket that failed to bind must not keep the process alive.
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', onError);
        literal.ready();
        resolve();
      });
    });
    const size = opts.socketBufferSize ?? DEFAULT_SOCKET_BUFFER;
    for (const set of [socket.setRecvBufferSize, socket.setSendBufferSize]) {
      try {
        set.call(socket, size);
      } catch {
        // The OS caps or refuses the size: keep its default.
      }
    }
    try {
      return new UdpEndpoint(
        socket,
        Object.assign({}, opts.endpoint, {
          random: pooledRandomBytes,
          keyShares: spareKeyShares,
          initialKeys: spareInitialKeys,
        }),
        opts.autoClose ?? false,
        opts.qlogDir ? new QlogWriter(opts.qlogDir) : undefined,
      );
    } catch (err) {
      // A configuration the endpoint refuses: nothing may stay bound.
      socket.close();
      throw err;
    }
  }

  /**
   * One-peer sockets (dial()): connect the socket to the peer, so that the OS reports an ICMP port
   * unreachable as ECONNREFUSED; a handshake to a port where nothing listens then fails at once.
   * Datagrams from other addresses are no longer delivered.
   */
  connect(address: string, port: number): Promise<void> {
    // One promise, not an async function around it (issue 13: promises per dial).
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.socket.once('error', onError);
      this.socket.connect(port, address, () => {
        this.socket.off('error', onError);
        this.connectedTo = formatAddress(address, port);
        resolve();
      });
    });
  }

  private connectedTo: string | undefined;

  /**
   * Server sockets: hand every connection the endpoint accepts to `onConnection`, and keep the
   * socket open while there are none, until close().
   */
  listen(onConnection: (conn: Connection) => void): void {
    this.onConnection = onConnection;
    this.listening = true;
  }

  /** Errors the socket reported (failed sends, ICMP errors) since it was bound. */
  get socketErrors(): number {
    return this.socketErrorCount;
  }

  private onSocketError(err: NodeJS.ErrnoException): void {
    this.socketErrorCount++;
    // Not swallowed: counted, and published for whoever monitors the process (docs/api.md).
    if (socketErrorChannel.hasSubscribers) {
      socketErrorChannel.publish({ error: err, localAddress: this.address() } satisfies SocketErrorMessage);
    }
    if (err.code !== 'ECONNREFUSED' || this.connectedTo === undefined || this.closing) return;
    let changed = false;
    for (const conn of this.owners.keys()) {
      if (conn.peerUnreachable(`ECONNREFUSED: nothing listens on ${this.connectedTo}`)) {
        this.endpoint.markActive(conn);
        changed = true;
      }
    }
    if (changed) this.scheduleFlush();
  }

  address(): SocketAddress {
    const a = this.socket.address();
    return new SocketAddress(a.address, a.port, a.family === 'IPv6' ? 'IPv6' : 'IPv4');
  }

  get isIPv6(): boolean {
    return this.socket.address().family === 'IPv6';
  }

  /**
   * Connections whose application called unref(): like closing ones, they do not keep the process
   * alive (the socket and timer are unref'd once every connection is one or the other).
   */
  private readonly unrefd = new Set<Connection>();

  setRef(conn: Connection, ref: boolean): void {
    if (ref) this.unrefd.delete(conn);
    else if (this.owners.has(conn)) this.unrefd.add(conn);
    this.updateLinger();
  }

  /**
   * Carry a connection: its events go to `owner`. `sendNow`: flush at once instead of from the next
   * check phase -- for a dialled connection whose first datagram nothing else can join (no early
   * data): its ClientHello leaves inside dial(), without an event-loop turn of its own (issue 13).
   * Inside a flush (an owner dialling from an event) that flush sends it, as always.
   */
  attach(conn: Connection, owner: ConnectionOwner, sendNow = false): void {
    this.owners.set(conn, owner);
    if (sendNow && !this.draining && !this.sendTurn && !this.closing) {
      this.endpoint.markActive(conn);
      this.flush();
      return;
    }
    this.kick(conn);
  }

  /**
   * `conn` is about to close. A send turn put off (so that an application's reaction could share
   * the datagram: a client's Finished and its first request) sends what is queued now, so that the
   * CONNECTION_CLOSE does not overtake a Finished. Inside a flush nothing is held back.
   */
  sendQueued(conn: Connection): void {
    if (!this.sendTurnScheduled || this.draining || this.sendTurn || this.closing) return;
    // Once the handshake is confirmed the CONNECTION_CLOSE is a 1-RTT packet the peer reads
    // whatever came before it; what is queued (an ACK of the last answer) would only cost a
    // datagram of its own, and the peer a reply to it (issue 13).
    if (conn.handshakeConfirmed) return;
    this.endpoint.markActive(conn);
    this.sendPending();
  }

  /** Something changed for `conn` (the application wrote, opened, closed): flush soon. */
  kick(conn?: Connection): void {
    if (conn) this.endpoint.markActive(conn);
    this.scheduleFlush();
  }

  get connectionCount(): number {
    return this.owners.size;
  }

  /**
   * Stop accepting; close the socket once every connection has ended. With `prompt`, connections
   * that are closing or draining do not hold the socket open once their CONNECTION_CLOSE has been
   * sent (RFC 9000 §10.2: the closing period only serves to repeat it to a peer that missed it).
   */
  close(opts: { prompt?: boolean } = {}): Promise<void> {
    if (opts.prompt) {
      this.prompt = true;
      // Connections already closing or draining may have nothing to send: look at them now.
      for (const conn of this.owners.keys()) this.endpoint.markActive(conn);
      this.scheduleFlush();
    }
    this.listening = false;
    this.endpoint.stopAccepting();
    if (!this.closedPromise) {
      this.closedPromise = new Promise<void>((resolve) => {
        this.onIdle = resolve;
      });
    }
    this.maybeClose();
    return this.closedPromise;
  }

  private onIdle: (() => void) | undefined;
  /** close({ prompt: true }) was called. */
  private prompt = false;
  /** Every connection is closing or draining: the socket no longer keeps the process alive. */
  private lingering = false;

  /** The last sender's address and its string form: a flow's datagrams come from one address. */
  private lastFromHost = '';
  private lastFromPort = -1;
  private lastFrom = '';

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closing) return;
    // Per datagram (issue 13): the address string is formatted once per sender, not per datagram
    // (the same string also keeps its hash for the core's Map lookups), and the core gets a plain
    // Uint8Array view: a Buffer's subarray() (header parsing, decryption, frames) builds a Buffer
    // through JavaScript each time, a Uint8Array's is V8's builtin.
    if (rinfo.port !== this.lastFromPort || rinfo.address !== this.lastFromHost) {
      this.lastFromHost = rinfo.address;
      this.lastFromPort = rinfo.port;
      this.lastFrom = formatAddress(rinfo.address, rinfo.port);
    }
    const datagram = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    // The applications handed requests by earlier datagrams of this batch (onCompleted, holdEarly)
    // have had their ticks and microtasks, which run after each 'message' callback: what they
    // answered goes now, with what waited for it. Even when this datagram is for the same
    // connection (a connection whose datagrams keep coming must not wait for them to stop), except
    // during its handshake: a client may send its 0-RTT requests in datagrams after its ClientHello
    // (quic-go does), and the flight then waits for the answers to those too.
    const kept =
      this.answering.length > 0 ? this.sendAnswering(this.endpoint.connectionOf(datagram)) : undefined;
    this.endpoint.receive(datagram, this.lastFrom, now());
    if (kept !== undefined) this.handOver(kept);
    // A server's handshake this datagram completed: its application hears of it, and of the request
    // that usually came with the client's Finished, now rather than at the end of the batch.
    const completed = this.endpoint.takeCompletedHandshakes();
    if (completed.length > 0) this.onCompleted(completed);
    // An ACK that must not wait for the end of the batch (a gap, a probe, 8 packets unacknowledged).
    const due = this.endpoint.takeAckNow();
    if (due.length > 0) {
      if (this.handshakesConfirmed()) {
        // From a flush: what the owners answer to the datagrams read so far (requests that came
        // in a burst) rides in the same datagram instead of an ACK alone, and the peer can use
        // those answers while the rest of the batch is still being read.
        this.flush(true);
        return;
      }
      if (this.clientHandshakesComplete()) {
        // A client whose handshake this datagram completed: its Finished (with the ACKs of the
        // server's flight) goes from the send turn after the application has heard of the handshake
        // (drainEvents), so the first request that `await dial()` makes rides in the same datagram
        // instead of following it in a second one (issue 13). The ACKs wait for no timer: one turn
        // of the event loop (RFC 9000 §13.2.1 forbids delaying those of Initial and Handshake
        // packets on purpose).
        this.flush();
        return;
      }
      // During a handshake the ACK goes alone, and the application hears of the handshake at the
      // end of the batch, as always. Only the connections whose ACK is due send now: the others of
      // the batch wait for its end, where their applications' answers join them (issue 13: with
      // other clients' ClientHellos in the batch, a server sent its HANDSHAKE_DONE before the
      // application had answered the request that came with the client's Finished, and the
      // answer followed in a packet of its own).
      this.sendPendingOf(this.holdEarly(due));
    }
    this.scheduleFlush();
  }

  /**
   * Server connections handed their events in the middle of a batch (handOver), whose
   * applications may answer in this callback's ticks and microtasks: what they send waits for those
   * answers, until the next datagram's callback or the flush, whichever comes first.
   */
  private answering: Connection[] = [];

  /**
   * Since the last flush, a connection was handed a request in the middle of the batch. The rest of
   * the request may have come later in the batch, and its events reach the application in the
   * flush: that flush leaves the sending to a send turn, as it does when a request arrives, so
   * that the end of the answer shares the datagrams of the rest.
   */
  private handedRequests = false;

  /**
   * Server connections whose handshake this datagram completed. Their applications get their events
   * now, in the middle of the batch; what they send waits in `answering` if they may answer at once
   * (a request came with the client's Finished, as tsquic's clients send it), or if their requests
   * came as 0-RTT data and were answered already: their HANDSHAKE_DONE (RFC 9001 §4.1.2: as soon
   * as the handshake completes), which a client waiting for its ticket waits for, goes with the
   * next datagram's callback. Otherwise it waits for the end of the batch, where a request that
   * follows the Finished in a datagram of its own (quic-go's clients) joins it.
   */
  private onCompleted(conns: readonly Connection[]): void {
    for (const conn of conns) {
      if (this.answering.includes(conn)) continue;
      if (this.handOver(conn) || conn.used0RTT) this.answering.push(conn);
    }
  }

  /**
   * Of `due` (connections whose ACK is due), those to send now. A server connection whose
   * ClientHello came with 0-RTT data gets its events now, in the middle of the batch, and its flight
   * waits in `answering` for the answers to the requests that came with it, which then ride in the
   * flight's datagram (0.5-RTT data, RFC 9001 §4.1.1). Held to the end of a batch of ClientHellos
   * (10-20 ms with 16 handshakes in flight), 0-RTT requests reached the application after their
   * clients' Finished had come, and the answers went a round trip late (issue 13).
   */
  private holdEarly(due: readonly Connection[]): readonly Connection[] {
    let send: Connection[] | undefined;
    for (let i = 0; i < due.length; i++) {
      const conn = due[i] as Connection;
      const held = this.answering.includes(conn);
      if (held || earlyRequests(conn)) {
        send ??= due.slice(0, i);
        if (!held) {
          this.handOver(conn);
          this.answering.push(conn);
        }
      } else {
        send?.push(conn);
      }
    }
    return send ?? due;
  }

  /**
   * Hands new connections, and `conn`'s events, to their owners now, in the middle of a batch;
   * whether a request came that the application is likely to answer (the flush that follows then
   * leaves the sending to a send turn).
   */
  private handOver(conn: Connection): boolean {
    let request = false;
    this.draining = true;
    try {
      for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
        this.onConnection?.(e.connection);
      }
      request = this.owners.get(conn)?.drainEvents() ?? false;
    } finally {
      this.draining = false;
    }
    if (request) this.handedRequests = true;
    return request;
  }

  /**
   * Sends what the connections in `answering` have, except `next`'s while its handshake is not
   * complete (more of its first flight is coming); returns `next` if it stays.
   */
  private sendAnswering(next: Connection | undefined): Connection | undefined {
    const conns = this.answering;
    const keep = next !== undefined && !next.handshakeComplete && conns.includes(next);
    this.answering = keep ? [next] : [];
    this.sendPendingOf(keep ? conns.filter((c) => c !== next) : conns);
    return keep ? next : undefined;
  }

  /** Every connection something happened to since the last flush is a client whose handshake is complete. */
  private clientHandshakesComplete(): boolean {
    for (const conn of this.endpoint.peekTouched())
      if (conn.role !== 'client' || !conn.handshakeComplete) return false;
    return true;
  }

  /** Every connection something happened to since the last flush has its handshake confirmed. */
  private handshakesConfirmed(): boolean {
    for (const conn of this.endpoint.peekTouched()) if (!conn.handshakeConfirmed) return false;
    return true;
  }

  private scheduleFlush(): void {
    // What owners write while a flush drains their events needs no flush of its own: that flush
    // sends it, at once or from the send turn it queues. A queued send turn is a flush as well (it
    // drains and sends): what is written before it runs is sent by it.
    if (this.flushScheduled || this.draining || this.sendTurnScheduled || this.closing) return;
    this.flushScheduled = true;
    setImmediate(this.scheduledFlush);
    // And a place for a send turn right after it, in the same check phase: an immediate queued
    // while the check phase runs waits for the next turn of the event loop, after its poll phase,
    // which may read and process many datagrams first (issue 13: with 16 handshakes in flight the
    // server's answer waited for other clients' ClientHellos, and went after the HANDSHAKE_DONE it
    // should have shared a datagram with).
    this.queueTurn();
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** A flush is letting the owners drain their events. */
  private draining = false;

  /** `ackNow`: something must be sent now, even when an application may still answer in this turn. */
  private flush(ackNow = false): void {
    if (this.closing) return;
    const touched = this.touched;
    let answerSoon = this.handedRequests;
    this.handedRequests = false;
    // Connections that still wait for early answers are active: this flush (or its send turn) sends them.
    if (this.answering.length > 0) this.answering = [];
    this.draining = true;
    try {
      for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
        this.onConnection?.(e.connection);
      }
      // Only connections something happened to since the last flush can have events (issue 13: no
      // work per idle connection per turn).
      for (const conn of this.endpoint.takeTouched()) touched.add(conn);
      for (const conn of touched) if (this.owners.get(conn)?.drainEvents()) answerSoon = true;
    } finally {
      this.draining = false;
    }
    if (answerSoon && !this.sendTurn) {
      // A peer opened a stream (a request), or a response ended (a client's next request
      // follows): its application reacts after this callback, in the process's ticks and
      // microtasks (stream 'readable' events, promise continuations). Sending from a fresh
      // immediate, after them, lets the answer share the datagram that acknowledges the request
      // (and carries MAX_STREAMS) instead of following it in a second one.
      this.scheduleSendTurn();
      if (!ackNow) return;
    }
    this.sendPending();
    // Sending may have finished closes; drain again so owners see terminations. Connections that
    // sent stay touched in the endpoint: the next flush polls their events.
    for (const conn of touched) this.releaseIfDone(conn);
    for (const conn of this.endpoint.peekTouched()) this.releaseIfDone(conn);
    touched.clear();
    this.armTimer();
    this.updateLinger();
    this.maybeClose();
  }

  /** Hands a terminated connection (or, closing promptly, one whose close is sent) back to its owner. */
  private releaseIfDone(conn: Connection): void {
    const owner = this.owners.get(conn);
    if (owner && (conn.isTerminated || (this.prompt && closeSent(conn)))) {
      owner.drainEvents();
      this.owners.delete(conn);
      this.unrefd.delete(conn);
      this.endpoint.released(conn);
      this.qlog?.close(conn);
      owner.onTerminated();
    }
  }

  /**
   * A flush from an immediate queued after the one that asked for it (the application's reactions,
   * in ticks and microtasks, come in between) that sends whatever drainEvents() reports.
   */
  private sendTurn = false;
  private sendTurnScheduled = false;
  /** Immediates queued that run a send turn if one is scheduled by then (turnFn). */
  private queuedTurns = 0;

  private scheduleSendTurn(): void {
    if (this.sendTurnScheduled) return;
    this.sendTurnScheduled = true;
    // One queued already (by scheduleFlush, behind the flush asking now) runs after this callback.
    if (this.queuedTurns === 0) this.queueTurn();
  }

  private queueTurn(): void {
    this.queuedTurns++;
    setImmediate(this.turnFn);
  }

  private readonly turnFn = (): void => {
    this.queuedTurns--;
    if (!this.sendTurnScheduled) return;
    this.sendTurnScheduled = false;
    this.sendTurn = true;
    try {
      this.flush();
    } finally {
      this.sendTurn = false;
    }
  };

  /** Sends what the endpoint has to send now (at most MAX_SENDS_PER_FLUSH, then flushes again). */
  private sendPending(): void {
    const t = now();
    let sent = 0;
    for (let d = this.endpoint.transmit(t); d; d = this.endpoint.transmit(t)) {
      this.sendDatagram(d.datagram, d.to);
      if (++sent >= MAX_SENDS_PER_FLUSH) {
        this.scheduleFlush();
        break;
      }
    }
  }

  /** Sends what `conns` have to send now (the same bound); the flush that follows sends the rest. */
  private sendPendingOf(conns: readonly Connection[]): void {
    const t = now();
    let sent = 0;
    for (const conn of conns) {
      for (let d = this.endpoint.transmitOf(conn, t); d; d = this.endpoint.transmitOf(conn, t)) {
        this.sendDatagram(d.datagram, d.to);
        if (++sent >= MAX_SENDS_PER_FLUSH) return;
      }
    }
  }

  private sendDatagram(datagram: Uint8Array, toAddress: string): void {
    // While closing promptly, the socket closes only once the last CONNECTION_CLOSE has left it.
    const done = this.prompt ? this.trackSend() : undefined;
    if (this.connectedTo !== undefined) {
      if (toAddress === this.connectedTo) this.socket.send(datagram, done);
      else done?.();
    } else {
      const to = this.sendAddress(toAddress);
      this.socket.send(datagram, to.port, to.address, done);
    }
  }

  private lastTo = '';
  private lastToAddress: SocketAddress | undefined;

  /** The parsed form of a destination, parsed once while a flow sends to one address. */
  private sendAddress(to: string): SocketAddress {
    if (to !== this.lastTo || this.lastToAddress === undefined) {
      this.lastTo = to;
      this.lastToAddress = parseAddress(to);
    }
    return this.lastToAddress;
  }

  /**
   * A one-connection socket whose connection is closing or draining, its CONNECTION_CLOSE sent, only
   * waits out the closing period: it must not keep the process alive for it (the application is done).
   * Nor does a connection the application unref()'d.
   */
  private updateLinger(): void {
    if (!this.autoClose || this.closing) return;
    let lingering = this.owners.size > 0 || this.endpoint.remnantCount > 0;
    for (const c of this.owners.keys()) {
      if (!lingering) break;
      lingering = closeSent(c) || this.unrefd.has(c);
    }
    if (lingering === this.lingering) return;
    this.lingering = lingering;
    if (lingering) {
      // The process may exit during the closing period: write out the qlog records held back.
      for (const conn of this.owners.keys()) this.qlog?.flush(conn);
      this.socket.unref();
      this.timer?.unref();
    } else {
      this.socket.ref();
      this.timer?.ref();
    }
  }

  private armTimer(): void {
    // handleDue, queued for a deadline that came, handles what is due by then and arms the timer.
    if (this.timeoutQueued) return;
    const next = this.endpoint.nextTimeout();
    if (next === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.endpoint.nextTimeoutLenient()) {
      // The end of a closing or draining period, the last deadline left (RFC 9000 §10.2: at least
      // 3 PTO, so a little late is fine). Armed for it, whole milliseconds rounded up plus a
      // margin for the event loop's clock (read when the turn began, so a timer armed late in a
      // busy turn fires early), not left armed for an earlier deadline that no longer exists (the
      // PTO or ACK timer of before the close): one wake-up, not two or three (issue 13).
      const t = now();
      const delay = Math.ceil(Math.max(0, next - t)) + LENIENT_MARGIN_MS;
      if (this.timer && this.timerAt >= next && this.timerAt <= t + delay) return;
      this.setTimer(t + delay, delay);
      return;
    }
    // A timer armed for an earlier moment stays: it fires early, finds nothing due and arms the
    // next one. Deadlines that only move later (each response re-arms its PTO, each packet the idle
    // timeout) then cost no clearTimeout/setTimeout pair per datagram.
    if (this.timer && this.timerAt <= next) return;
    this.setTimer(next, Math.max(0, next - now()));
  }

  /** (Re-)arms the timer to fire after `delay` ms; `at`: the moment it is armed for (timerAt). */
  private setTimer(at: number, delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.timerFired, delay);
    if (this.lingering) this.timer.unref();
  }

  private readonly timerFired = (): void => this.onTimer();

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.closing) return;
    const t = now();
    const next = this.endpoint.nextTimeout();
    if (next !== undefined && next > t) {
      // Early: Node runs timers on the event loop's clock, whole milliseconds read when the turn
      // began, so a timer armed late in a busy turn fires before its deadline; and a timer armed for
      // an earlier deadline stays (armTimer). Nothing is due, nothing changed since the last flush:
      // wait for the rest without a flush (1.2-2.2 such wake-ups per short client connection, issue 13).
      this.armTimer();
      return;
    }
    // A deadline has come: handled from the check phase, once the poll phase has read what arrived
    // meanwhile. A busy process reaches its timers phase late, with the peer's answer -- which
    // cancels the PTO (RFC 9002 §6.2.1: the timer is for packets still unacknowledged) -- already
    // waiting in the socket; handled at once, the PTO sent probes the peer did not need (issue 13:
    // 3% of resumed clients with 16 handshakes in flight, whose PTO from the RTT remembered with
    // the ticket is a few ms, probed their ClientHello again).
    this.timeoutQueued = true;
    setImmediate(this.handleDue);
  }

  /** onTimer found a deadline due and queued handleDue; armTimer waits for it. */
  private timeoutQueued = false;

  private readonly handleDue = (): void => {
    this.timeoutQueued = false;
    if (this.closing) return;
    this.endpoint.handleTimeout(now());
    this.flush();
  };

  private pendingSends = 0;

  private trackSend(): () => void {
    this.pendingSends++;
    return () => {
      this.pendingSends--;
      if (this.pendingSends === 0) this.maybeClose();
    };
  }

  private maybeClose(): void {
    if (this.closing || this.listening || this.owners.size > 0 || this.pendingSends > 0) return;
    if (!this.autoClose && !this.closedPromise) return;
    // The closing and draining periods of retired connections (closing-remnant.ts) keep the socket,
    // unless closing promptly.
    if (this.prompt) this.endpoint.dropRemnants();
    else if (this.endpoint.remnantCount > 0) return;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    // close() resolves once the qlog files are complete on disk, too.
    this.socket.close(() => {
      const idle = () => this.onIdle?.();
      if (this.qlog) void this.qlog.finished().then(idle);
      else idle();
    });
    if (!this.closedPromise) this.closedPromise = Promise.resolve();
  }
}

/** The connection is closing or draining and has nothing left to send. */
function closeSent(conn: Connection): boolean {
  return conn.isClosed && !conn.framer.closePending;
}

/** A server connection in its handshake that accepted 0-RTT data: requests may have come with its ClientHello. */
function earlyRequests(conn: Connection): boolean {
  return conn.role === 'server' && !conn.handshakeComplete && conn.used0RTT;
}
