/**
 * The public connection objects. A `QuicConnection` is bound to one stream epoch of a core
 * connection (src/connection/stream-epoch.ts): its streams, stream IDs and limits are that epoch's.
 * An `EarlyConnection` is bound to the early (0-RTT) epoch; when the server rejects 0-RTT it dies as
 * a whole and `nextConnection()` gives the QuicConnection bound to the fresh epoch.
 */
import { EventEmitter } from 'node:events';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import type { Connection, ConnectionStats } from '../connection/connection.js';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import { type QuicError, QuicUsageError, ZeroRTTRejectedError } from '../errors/public-errors.js';
import { isBidirectional, isLocallyInitiated } from '../streams/stream-id.js';
import type { StreamEvent } from '../streams/stream-manager.js';
import type { Millis } from '../util/time.js';
import { parseAddress, type SocketAddress } from './address.js';
import type { CloseReason, LazyError } from './close-errors.js';
import { DatagramChannel } from './datagram-channel.js';
import { peerCertificate } from './peer-certificate.js';
import {
  type AnyQuicStream,
  markAccepted,
  QuicReceiveStream,
  QuicSendStream,
  QuicStream,
  type StreamHost,
} from './quic-stream.js';
import { invalidArgType, outOfRange } from './validation-errors.js';

/** What a public connection needs from the object that owns the core connection. */
export interface ConnectionHost {
  readonly core: Connection;
  kick(): void;
  /** Before a close: send what is queued and held back for a send turn (ConnectionDriver.sendQueued). */
  sendQueued(): void;
  /** The clock the core runs on. */
  now(): Millis;
  /** The error that ended the connection (built on first read, close-errors.ts). */
  readonly closeError: QuicError | undefined;
  /** Whether it ended, without building its error. */
  readonly isClosed: boolean;
  readonly closed: Promise<CloseReason>;
  readonly handshakeComplete: Promise<void>;
  /** The local UDP socket's address. */
  localAddress(): SocketAddress;
  /** The code of stream aborts the application gave no code for (`defaultStreamErrorCode`). */
  readonly defaultStreamErrorCode: number;
  /** Whether the connection keeps the process alive. */
  setRef(ref: boolean): void;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  /** Given what the connection failed with, built on demand (the async iterator ends without it). */
  reject: (failure: () => Error) => void;
}

/**
 * Appends `item` to `list`; into an empty list by making one of exactly one slot (a push into an
 * empty array reserves 17: about 0.15 KiB on every idle connection whose application waits in
 * `for await (const stream of conn)`, issue 13).
 */
function enqueue<T>(list: T[], item: T): T[] {
  if (list.length === 0) return [item];
  list.push(item);
  return list;
}

const ITERATION_DONE: IteratorResult<never, undefined> = Object.freeze({ done: true, value: undefined });

/** What a waiting `for await (const stream of conn)` leaves in the accept queue. */
class IteratorWaiter implements Waiter<QuicStream> {
  constructor(private readonly settle: (r: IteratorResult<QuicStream, undefined>) => void) {}

  resolve(s: QuicStream): void {
    this.settle({ done: false, value: s });
  }

  /** The connection failed: the loop ends without an error (its error is not even built). */
  reject(): void {
    this.settle(ITERATION_DONE);
  }
}

/**
 * The iterator of `for await (const stream of conn)`: a class, not an async generator (issue 13,
 * idle memory: a generator waiting in an await keeps its frame, the promise it awaits and its own
 * request queue, about 1 KiB per idle connection whose application waits for a stream).
 */
class IncomingStreams implements AsyncIterableIterator<QuicStream> {
  private finished = false;

  constructor(private readonly conn: QuicConnection) {}

  next(): Promise<IteratorResult<QuicStream, undefined>> {
    return this.finished ? Promise.resolve(ITERATION_DONE) : this.conn._nextStream();
  }

  /** `break` out of the loop: later next() calls are done, as with a generator. */
  return(): Promise<IteratorResult<QuicStream, undefined>> {
    this.finished = true;
    return Promise.resolve(ITERATION_DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<QuicStream> {
    return this;
  }
}

export class QuicConnection extends EventEmitter {
  /** @internal */
  protected readonly host: ConnectionHost;
  /** @internal */
  readonly epoch: StreamEpoch;
  /** The stream objects by ID; made with the first stream (see `streams`). */
  private streamMap: Map<number, AnyQuicStream> | undefined;
  private readonly incomingBidi: QuicStream[] = [];
  private readonly incomingUni: QuicReceiveStream[] = [];
  /** Replaced, not pushed into, when empty (see enqueue). */
  private acceptBidiWaiters: Array<Waiter<QuicStream>> = [];
  private acceptUniWaiters: Array<Waiter<QuicReceiveStream>> = [];
  private readonly creditWaiters: Array<{ bidi: boolean; wake: () => void }> = [];
  /**
   * Set when this connection can no longer be used (closed, or 0-RTT rejected): gives the error,
   * built on first use (close-errors.ts).
   */
  private failure: (() => Error) | undefined;
  private readonly streamHost: StreamHost;
  /** Made on first use (see `datagrams`): a connection that never sees a datagram keeps none. */
  private channel: DatagramChannel | undefined;

  /** @internal */
  constructor(host: ConnectionHost, epoch: StreamEpoch) {
    super();
    this.host = host;
    this.epoch = epoch;
    // A class and a bound method, not an object literal with getters (V8 keeps it in dictionary
    // mode) nor arrow functions (tsx's keepNames gives each a property dictionary): issue 13.
    this.streamHost = new StreamHostView(host);
  }

  /**
   * The DATAGRAM channel, made on first use (issue 13: about 0.2 KiB per idle connection). One made
   * after the connection failed starts ended, as the one made at once would be by then.
   */
  private get datagramChannel(): DatagramChannel {
    let ch = this.channel;
    if (ch === undefined) {
      ch = new DatagramChannel(this, this.host.core, this.epoch, this.host.kick.bind(this.host));
      if (this.failure) ch.end();
      this.channel = ch;
    }
    return ch;
  }

  /**
   * The stream objects by ID, made on first use: a connection that never has a stream keeps no
   * Map (issue 13, idle memory).
   */
  private get streams(): Map<number, AnyQuicStream> {
    this.streamMap ??= new Map();
    return this.streamMap;
  }

  /** Resolves when the handshake completes; rejects with the error that ended the attempt. */
  get handshakeComplete(): Promise<void> {
    // Made when first read (connection-handle.ts, lazy-outcome.ts): issue 13, idle memory.
    return this.host.handshakeComplete;
  }

  /** Resolves (never rejects) when the connection has closed, with how it ended. */
  get closed(): Promise<CloseReason> {
    return this.host.closed;
  }

  /**
   * @internal The QUIC connection ended with `reason`, which `closed` resolves to: 'close' fires
   * with it a microtask later, before the reactions to `closed` (the handle calls this before it
   * resolves `closed`). Not listening to `closed` leaves that promise unmade while nobody asks.
   */
  _onClosedWith(reason: CloseReason): void {
    queueMicrotask(() => this.emit('close', reason));
  }

  /**
   * The ALPN protocol negotiated. On a server it is known from the ClientHello, so also while 0-RTT
   * data arrives (listenEarly()); on a client once the handshake completes (dial()).
   */
  get alpn(): string | undefined {
    return this.host.core.alpn;
  }

  /** The peer's address; `String(conn.remoteAddress)` gives "192.0.2.1:443" or "[2001:db8::1]:443". */
  get remoteAddress(): SocketAddress {
    return parseAddress(this.host.core.remoteAddress);
  }

  /**
   * The local UDP socket's address (the bound one: a server bound to "::" reports "::", Node's UDP
   * sockets cannot tell which local address a datagram came to).
   */
  get localAddress(): SocketAddress {
    return this.host.localAddress();
  }

  /**
   * The peer's certificate as node:tls shapes it (`subject`, `issuer`, `subjectaltname`,
   * `valid_from`, `valid_to`, `fingerprint256`, `raw`, ...); with `detailed`, linked to its chain
   * through `issuerCertificate`. An empty object when there is none: on a server (tsquic does not
   * request client certificates), before the handshake completes, or after a resumed handshake (the
   * certificate is not sent again).
   */
  getPeerCertificate(detailed = false): PeerCertificate | DetailedPeerCertificate | Record<string, never> {
    return peerCertificate(this.host.core.peerCertificates, detailed);
  }

  /** True when this connection's data went as accepted 0-RTT. */
  get used0RTT(): boolean {
    return this.host.core.used0RTT && this.epoch.early === (this.host.core.role === 'client');
  }

  /** True when the session was resumed from a ticket (on a server: known from the ClientHello). */
  get resumed(): boolean {
    return this.host.core.resumed;
  }

  /** Open a bidirectional stream, waiting for stream credit (MAX_STREAMS) if needed. */
  async openStream(): Promise<QuicStream> {
    const id = await this.openId(true);
    const s = new QuicStream(this.epoch, id, this.streamHost);
    this.streams.set(id, s);
    return s;
  }

  /** Open a unidirectional (send-only) stream. */
  async openUniStream(): Promise<QuicSendStream> {
    const id = await this.openId(false);
    const s = new QuicSendStream(this.epoch, id, this.streamHost);
    this.streams.set(id, s);
    return s;
  }

  /** The next bidirectional stream the peer opened. */
  acceptStream(): Promise<QuicStream> {
    const s = this.incomingBidi.shift();
    if (s) {
      markAccepted(s);
      return Promise.resolve(s);
    }
    if (this.failure) return Promise.reject(this.failure());
    return new Promise((resolve, reject) => {
      this.acceptBidiWaiters = enqueue(this.acceptBidiWaiters, { resolve, reject: (f) => reject(f()) });
    });
  }

  /** The next unidirectional stream the peer opened. */
  acceptUniStream(): Promise<QuicReceiveStream> {
    const s = this.incomingUni.shift();
    if (s) {
      markAccepted(s);
      return Promise.resolve(s);
    }
    if (this.failure) return Promise.reject(this.failure());
    return new Promise((resolve, reject) => {
      this.acceptUniWaiters = enqueue(this.acceptUniWaiters, { resolve, reject: (f) => reject(f()) });
    });
  }

  /** Incoming bidirectional streams, as they arrive, until the connection ends. */
  [Symbol.asyncIterator](): AsyncIterableIterator<QuicStream> {
    return new IncomingStreams(this);
  }

  /**
   * @internal acceptStream() for the iterator: done once the connection failed, its error not
   * built.
   */
  _nextStream(): Promise<IteratorResult<QuicStream, undefined>> {
    const s = this.incomingBidi.shift();
    if (s) {
      markAccepted(s);
      return Promise.resolve({ done: false, value: s });
    }
    if (this.failure) return Promise.resolve(ITERATION_DONE);
    return new Promise((settle) => {
      this.acceptBidiWaiters = enqueue(this.acceptBidiWaiters, new IteratorWaiter(settle));
    });
  }

  /**
   * Close the connection with an application error code (default 0) and reason (RFC 9000 §10.2).
   * Resolves when the connection is closed. With `{ drain: true, timeout }`, like http2's
   * session.close(), open streams finish first: CONNECTION_CLOSE goes out once everything every
   * stream sent is acknowledged and everything the peer sends on the streams it opened has arrived
   * (docs/streams.md), or after `timeout` ms (default 10000).
   */
  async close(code?: number, reason?: string): Promise<CloseReason>;
  async close(options: CloseOptions): Promise<CloseReason>;
  async close(codeOrOptions: number | CloseOptions = 0, reason = ''): Promise<CloseReason> {
    const o = closeOptions(codeOrOptions, reason);
    if (o.drain) await this.drain(o.timeout);
    return this.closeCore(o.code, o.reason);
  }

  /**
   * @internal Resolves when every stream has drained (see close()), the connection has ended, or
   * `timeout` ms have passed.
   */
  protected drain(timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    return new Promise<void>((resolve) => {
      const check = () => {
        const done =
          this.failure !== undefined ||
          this.host.isClosed ||
          [...this.streams.values()].every((s) =>
            s.core.drained(isLocallyInitiated(s.id, this.host.core.role)),
          ) ||
          Date.now() >= deadline;
        if (!done) return false;
        clearInterval(timer);
        resolve();
        return true;
      };
      const timer = setInterval(check, 10);
      check();
    });
  }

  /** @internal Close the QUIC connection itself; resolves when it is closed. */
  protected closeCore(code: number, reason: string): Promise<CloseReason> {
    // A close right after `await dial()`: the client's Finished may still wait for its send turn.
    // It goes first, or the server, without it, could read no 1-RTT packet and hence not the
    // application's code (RFC 9000 §10.2.3).
    this.host.sendQueued();
    this.host.core.close(code, reason, this.host.now());
    this.host.kick();
    return this.host.closed;
  }

  /**
   * Send `data` as one unreliable DATAGRAM frame (RFC 9221; docs/datagrams.md). True when queued;
   * false when dropped at once (the send queue is full, the connection is closed, or it is an early
   * connection whose 0-RTT was rejected). Throws ERR_QUIC_DATAGRAM_UNSUPPORTED when the peer takes no
   * datagrams and ERR_QUIC_DATAGRAM_TOO_LARGE beyond `maxDatagramPayloadSize`.
   */
  sendDatagram(data: Uint8Array): boolean {
    return this.datagramChannel.send(data);
  }

  /**
   * The largest DATAGRAM payload `sendDatagram()` accepts now (the peer's max_datagram_frame_size and
   * the path's packet size); undefined when the peer does not accept datagrams.
   */
  get maxDatagramPayloadSize(): number | undefined {
    return this.datagramChannel.maxPayloadSize;
  }

  /**
   * Received DATAGRAM payloads, in arrival order; the loop ends when the connection closes (or, on an
   * early connection, when its 0-RTT is rejected). Datagrams that arrived before anyone listened are
   * kept (up to 128) for the first 'datagram' listener or iterator.
   */
  datagrams(): AsyncGenerator<Buffer, void, undefined> {
    return this.datagramChannel.iterate();
  }

  /**
   * Like `socket.unref()`: the connection (its UDP socket and timers) does not keep the process
   * alive; the process may exit while it is open. Only for connections from dial()/dialEarly(),
   * which own their socket. Returns the connection.
   */
  unref(): this {
    this.host.setRef(false);
    return this;
  }

  /** Undo unref(): the open connection keeps the process alive again (the default). */
  ref(): this {
    this.host.setRef(true);
    return this;
  }

  stats(): ConnectionStats {
    return this.host.core.snapshotStats();
  }

  private async openId(bidi: boolean): Promise<number> {
    for (;;) {
      if (this.failure) throw this.failure();
      if (this.host.closeError) throw this.host.closeError;
      const id = this.epoch.streams.openStream(bidi);
      if (id !== undefined) {
        this.host.kick();
        return id;
      }
      // RFC 9000 §4.6: wait for MAX_STREAMS (the core queued STREAMS_BLOCKED).
      this.host.kick();
      await new Promise<void>((wake) => this.creditWaiters.push({ bidi, wake }));
    }
  }

  // ------------------------------------------------------------------ called by the handle

  /** The consumer that took this connection's streams at the core level (_takeStreams). */
  private streamSink: ((ev: StreamEvent) => void) | undefined;

  /**
   * @internal For HTTP/3 (src/http3/node/direct-transport.ts): the core's events of every stream
   * without a stream object go to `sink`, which works on `epoch.streams` itself; peer streams then
   * get no stream objects. Peer streams queued for acceptStream() and not handed out yet are passed
   * on to it (as 'opened' and 'readable'). Returns the function that wakes the I/O loop, or
   * undefined (and nothing changes) when the application holds a stream already.
   */
  _takeStreams(sink: (ev: StreamEvent) => void): (() => void) | undefined {
    const queued = [...this.incomingBidi, ...this.incomingUni];
    if (this.streamSink || this.failure || this.streams.size !== queued.length) return undefined;
    if (queued.some((s) => s.core.accepted || s.core.accepting || s.core.wantRead)) return undefined;
    this.streamSink = sink;
    this.incomingBidi.length = 0;
    this.incomingUni.length = 0;
    this.streams.clear();
    for (const s of queued) {
      sink(s.core.early ? { type: 'opened', id: s.id, early: true } : { type: 'opened', id: s.id });
      sink({ type: 'readable', id: s.id });
    }
    return () => this.host.kick();
  }

  /** @internal */
  _onStreamEvent(ev: StreamEvent): void {
    const sink = this.streamSink;
    if (sink && (ev.type === 'opened' || !('id' in ev) || !this.streams.has(ev.id))) {
      sink(ev);
      if (ev.type !== 'streams-available') return;
    }
    if (ev.type === 'streams-available') {
      const ready = this.creditWaiters.filter((w) => w.bidi === ev.bidirectional);
      for (const w of ready) this.creditWaiters.splice(this.creditWaiters.indexOf(w), 1);
      for (const w of ready) w.wake();
      return;
    }
    if (ev.type === 'opened') {
      this.onPeerStream(ev.id, ev.early === true);
      return;
    }
    const s = this.streams.get(ev.id);
    if (!s) return;
    if (ev.type === 'closed') {
      this.streams.delete(ev.id);
      return;
    }
    s._onEvent(ev);
  }

  /**
   * A stream the peer opened: handed to a waiting acceptStream(), or queued; and to the 'stream'
   * listeners. Until the application has it, errors on it are held back (it has no 'error' listener yet: see markAccepted).
   */
  private onPeerStream(id: number, early: boolean): void {
    if (isLocallyInitiated(id, this.host.core.role)) return;
    let s: QuicStream | QuicReceiveStream;
    let queue: Array<QuicStream | QuicReceiveStream> | undefined;
    if (isBidirectional(id)) {
      const bidi = new QuicStream(this.epoch, id, this.streamHost);
      s = bidi;
      bidi.core.markPeerOpened(early);
      this.streams.set(id, bidi);
      const w = this.acceptBidiWaiters.shift();
      if (w) {
        markAccepted(bidi);
        w.resolve(bidi);
      } else {
        this.incomingBidi.push(bidi);
        queue = this.incomingBidi;
      }
    } else {
      const uni = new QuicReceiveStream(this.epoch, id, this.streamHost);
      s = uni;
      uni.core.markPeerOpened(early);
      this.streams.set(id, uni);
      const w = this.acceptUniWaiters.shift();
      if (w) {
        markAccepted(uni);
        w.resolve(uni);
      } else {
        this.incomingUni.push(uni);
        queue = this.incomingUni;
      }
    }
    // Held while the application may still add its listener (see _holdStreamEvents), in order.
    const held = this.heldStreams;
    if (held !== undefined && (held.length > 0 || this.listenerCount('stream') === 0)) held.push(s);
    else this.announce(s, queue);
  }

  /**
   * The 'stream' event. A stream still queued for acceptStream() that a listener got leaves the queue
   * when it closes: an application that only listens for 'stream' never drains the queue, which
   * would otherwise keep every stream of the connection alive.
   */
  private announce(
    s: QuicStream | QuicReceiveStream,
    queue: Array<QuicStream | QuicReceiveStream> | undefined,
  ): void {
    if (queue !== undefined && this.listenerCount('stream') > 0) {
      markAccepted(s);
      s.once('close', () => {
        const i = queue.indexOf(s);
        if (i >= 0) queue.splice(i, 1);
      });
    }
    this.emit('stream', s);
  }

  /** Peer streams whose 'stream' event waits for the application's listener (_holdStreamEvents). */
  private heldStreams: Array<QuicStream | QuicReceiveStream> | undefined;

  /**
   * @internal A server hands this connection to the application (accept(), `for await`), which adds
   * its listeners in this turn's microtasks, after the streams that arrived in the same datagram
   * (0-RTT requests beside the ClientHello, a request beside a client's Finished) were opened. Those
   * that find no 'stream' listener wait for the first one (a microtask after it is added) or, at the
   * latest, for the next check phase, so a listener added in the meantime still gets them.
   */
  _holdStreamEvents(): void {
    if (this.heldStreams !== undefined) return;
    this.heldStreams = [];
    const release = (): void => {
      const held = this.heldStreams;
      if (held === undefined) return;
      this.heldStreams = undefined;
      this.off('newListener', onListener);
      clearImmediate(timer);
      if (this.failure !== undefined) return;
      for (const s of held) {
        const queue: Array<QuicStream | QuicReceiveStream> = isBidirectional(s.id)
          ? this.incomingBidi
          : this.incomingUni;
        this.announce(s, queue.includes(s) ? queue : undefined);
      }
    };
    const onListener = (event: string | symbol): void => {
      if (event === 'stream') queueMicrotask(release);
    };
    this.on('newListener', onListener);
    const timer = setImmediate(release);
  }

  /**
   * @internal The connection ended (or 0-RTT was rejected): everything pending fails with `err`,
   * once. With `quiet`, open streams are destroyed without an error (a clean local close).
   */
  _fail(err: Error | LazyError, rejected: boolean, quiet = false): void {
    if (this.failure) return;
    const failure = typeof err === 'function' ? err : () => err;
    this.failure = failure;
    this.channel?.end(rejected);
    for (const w of this.acceptBidiWaiters.splice(0)) w.reject(failure);
    for (const w of this.acceptUniWaiters.splice(0)) w.reject(failure);
    for (const w of this.creditWaiters.splice(0)) w.wake();
    for (const s of [...this.streams.values(), ...this.incomingBidi, ...this.incomingUni]) {
      if (quiet) s._close(failure);
      else s._fail(failure, rejected);
    }
    this.streams.clear();
  }

  /** @internal `error` builds the close error (once; the handle caches it) when something needs it. */
  _onClosed(error: LazyError, quiet: boolean): void {
    this._fail(error, false, quiet);
  }

  /** @internal */
  _onDatagram(data: Uint8Array): void {
    this.datagramChannel.deliver(data);
  }
}

function checkCloseCode(code: number): void {
  if (!Number.isSafeInteger(code) || code < 0) {
    throw new QuicUsageError('ERR_QUIC_INVALID_ERROR_CODE', 'close code must be a non-negative integer');
  }
}

/** The options form of `close()`. */
export interface CloseOptions {
  /** Application error code (default 0). */
  code?: number;
  reason?: string;
  /** Let open streams finish before CONNECTION_CLOSE (default false). */
  drain?: boolean;
  /** With `drain`: close anyway after this many ms (default 10000). */
  timeout?: number;
}

const DEFAULT_DRAIN_TIMEOUT = 10_000;
/** Node's timers hold at most 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Both forms of close()'s arguments, checked. */
function closeOptions(codeOrOptions: number | CloseOptions, reason: string): Required<CloseOptions> {
  if (typeof codeOrOptions !== 'object' || codeOrOptions === null) {
    checkCloseCode(codeOrOptions);
    return { code: codeOrOptions, reason, drain: false, timeout: DEFAULT_DRAIN_TIMEOUT };
  }
  const o = codeOrOptions;
  const code = o.code ?? 0;
  checkCloseCode(code);
  if (o.reason !== undefined && typeof o.reason !== 'string') {
    throw invalidArgType('options.reason', 'of type string', o.reason);
  }
  if (o.drain !== undefined && typeof o.drain !== 'boolean') {
    throw invalidArgType('options.drain', 'of type boolean', o.drain);
  }
  const timeout = o.timeout ?? DEFAULT_DRAIN_TIMEOUT;
  if (typeof timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', timeout);
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > MAX_TIMER_MS) {
    throw outOfRange('options.timeout', `an integer >= 0 and <= ${MAX_TIMER_MS}`, timeout);
  }
  return { code, reason: o.reason ?? '', drain: o.drain ?? false, timeout };
}

/**
 * A client connection returned by dialEarly(): usable before the handshake completes, sending its
 * streams as 0-RTT. If the server rejects 0-RTT, every operation on it fails with
 * ZeroRTTRejectedError and `nextConnection()` gives the fresh connection to continue on.
 *
 * After a rejection this object is dead (docs/0rtt.md has the whole surface): nothing done to it or
 * to its streams reaches the QUIC connection, which now belongs to the connection `nextConnection()`
 * gives. The one exception is `close()` when the application never asked for that connection: then
 * nothing else can close it, so `close()` does.
 */
export class EarlyConnection extends QuicConnection {
  private readonly ownClosed: Promise<CloseReason>;
  private readonly next: Promise<QuicConnection>;
  private resolveClosed!: (r: CloseReason) => void;
  private rejected = false;
  /** nextConnection() was called: the application owns the next connection and closes it. */
  private nextAsked = false;

  /** @internal */
  constructor(host: ConnectionHost, epoch: StreamEpoch, next: Promise<QuicConnection>) {
    super(host, epoch);
    this.next = next;
    this.ownClosed = new Promise<CloseReason>((resolve) => {
      this.resolveClosed = resolve;
    });
    host.closed.then((r) => this.resolveClosed(r));
    // 'close' fires with the value `closed` resolves to (the rejection, or the QUIC connection's).
    this.ownClosed.then((r) => this.emit('close', r));
  }

  /** Resolves at the rejection (source 'early-data-rejected'), or like the QUIC connection's `closed`. */
  override get closed(): Promise<CloseReason> {
    return this.ownClosed;
  }

  /** @internal 'close' follows this connection's own `closed` (above), not the QUIC connection's. */
  override _onClosedWith(_reason: CloseReason): void {}

  /**
   * After the handshake: this same connection when 0-RTT was accepted (or not attempted), or a new
   * QuicConnection when it was rejected, whose stream IDs start again at 0 and whose limits come
   * from the server's actual transport parameters. Rejects if the handshake fails.
   */
  nextConnection(): Promise<QuicConnection> {
    this.nextAsked = true;
    return this.next;
  }

  /**
   * Close the connection (RFC 9000 §10.2). After a 0-RTT rejection, this closes nothing that
   * `nextConnection()` was asked for: it resolves with `closed` (the rejection). If the application
   * never called `nextConnection()`, it closes the QUIC connection with `code` and `reason` first,
   * since nothing else could.
   */
  override async close(code?: number, reason?: string): Promise<CloseReason>;
  override async close(options: CloseOptions): Promise<CloseReason>;
  override async close(codeOrOptions: number | CloseOptions = 0, reason = ''): Promise<CloseReason> {
    const o = closeOptions(codeOrOptions, reason);
    if (!this.rejected) {
      if (o.drain) await this.drain(o.timeout);
      if (!this.rejected) return this.closeCore(o.code, o.reason);
    }
    if (!this.nextAsked) await this.closeCore(o.code, o.reason);
    return this.closed;
  }

  /** @internal */
  _reject0Rtt(): void {
    if (this.rejected) return;
    this.rejected = true;
    const err = new ZeroRTTRejectedError();
    this.resolveClosed({
      source: 'early-data-rejected',
      errorCode: 0,
      reason: '0-RTT rejected',
      application: false,
      error: err,
    });
    this._fail(err, true);
  }
}

/** The streams' view of their connection (StreamHost): prototype methods and getters. */
class StreamHostView implements StreamHost {
  constructor(private readonly host: ConnectionHost) {}

  kick(): void {
    this.host.kick();
  }

  get closeError(): StreamHost['closeError'] {
    return this.host.closeError;
  }

  get isClosed(): boolean {
    return this.host.isClosed;
  }

  get defaultErrorCode(): number {
    return this.host.defaultStreamErrorCode;
  }
}
