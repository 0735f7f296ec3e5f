/**
 * Owns one core connection on behalf of the public API: drains its events after each I/O turn and
 * dispatches them to the public connection object of the right epoch.
 */
import type { Connection } from '../connection/connection.js';
import type { CloseInfo } from '../connection/connection-events.js';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import { ConnectionClosedError, type QuicError } from '../errors/public-errors.js';
import { isBidirectional, isLocallyInitiated, type Role } from '../streams/stream-id.js';
import { ReceiveState, type StreamEvent } from '../streams/stream-manager.js';
import type { Millis } from '../util/time.js';
import { parseAddress, SocketAddress } from './address.js';
import { now } from './clock.js';
import {
  type CloseReason,
  closeReason,
  isCleanClose,
  isCleanRemoteClose,
  type LazyError,
} from './close-errors.js';
import {
  type ConnectionCloseMessage,
  type ConnectionHandshakeMessage,
  type ConnectionStartMessage,
  closeChannel,
  handshakeChannel,
  nextConnectionId,
  startChannel,
} from './diagnostics.js';
import { LazyOutcome } from './lazy-outcome.js';
import type { QuicConnection } from './quic-connection.js';
import type { SessionStore } from './session-cache.js';
import type { ConnectionOwner } from './udp-endpoint.js';

/** The I/O loop that carries the connection: a UdpEndpoint, or the test simulator. */
export interface ConnectionDriver {
  /** Something changed for `conn` (the application wrote, opened, closed): let it send soon. */
  kick(conn: Connection): void;
  /**
   * `conn` is about to close: what it has queued and the driver holds back for a send turn (a
   * client's Finished waiting for its first request) goes now, before the CONNECTION_CLOSE.
   */
  sendQueued?(conn: Connection): void;
  /** The local socket's address (a UdpEndpoint has one; the simulator need not). */
  address?(): SocketAddress;
  /** Whether `conn` keeps the process alive (QuicConnection.ref()/unref()). */
  setRef?(conn: Connection, ref: boolean): void;
}

export interface HandleCallbacks {
  /** A stream epoch became current: create the public connection bound to it. */
  onEpoch(epoch: StreamEpoch): QuicConnection;
  /** The client's 0-RTT verdict. */
  onEarlyData?(accepted: boolean): void;
  /** Handshake completed. */
  onHandshakeComplete?(): void;
  /** The connection is gone. */
  onTerminated?(): void;
}

export class ConnectionHandle implements ConnectionOwner {
  /** The public connection of each epoch, from the `onEpoch` callback. */
  /**
   * One, or two after a rejected 0-RTT attempt; each bound to its epoch (`pub.epoch`). An exact-size
   * array, not a Map per connection (issue 13: about 0.15 KiB per idle connection).
   */
  private publics: readonly QuicConnection[] = [];
  /** The close error, once built (by closeErrorOf, on first use after the close). */
  private _closeError: QuicError | undefined;
  /**
   * Set when the core reports the close (or the connection is terminated without one): builds the
   * close error once and returns it.
   */
  private closeErrorOf: (() => QuicError) | undefined;
  private closeInfo: CloseInfo | undefined;
  /** Promises made when first asked for (lazy-outcome.ts): an idle server's are never asked. */
  private readonly handshake = new LazyOutcome<void>();
  private readonly closedOutcome = new LazyOutcome<CloseReason>();
  private terminated = false;
  /** Who creates the public connections: the client (client-connection.ts) or the server; see bind(). */
  private callbacks: HandleCallbacks | undefined;

  /** Process-unique number, in diagnostics_channel messages. */
  readonly id = nextConnectionId();

  constructor(
    readonly core: Connection,
    readonly driver: ConnectionDriver,
    private readonly sessionStore: SessionStore | undefined,
    /** "host:port" of the server, for NEW_TOKEN tokens (client only). */
    private readonly serverKey: string | undefined,
    /** The clock the core runs on (the simulator passes its virtual one). */
    private readonly clock: () => Millis = now,
    /** The `defaultStreamErrorCode` option: the code of stream aborts the application gave none for. */
    readonly defaultStreamErrorCode = 0,
  ) {
    if (startChannel.hasSubscribers) startChannel.publish(this.diagnostics());
  }

  /** Install the callbacks that create the public connections (once, before the first event). */
  bind(callbacks: HandleCallbacks): void {
    if (this.callbacks) throw new Error('ConnectionHandle: callbacks are bound once');
    this.callbacks = callbacks;
  }

  /** The error that ended the connection, once it ended. */
  get closeError(): QuicError | undefined {
    return this.closeErrorOf?.();
  }

  get isClosed(): boolean {
    return this.closeErrorOf !== undefined;
  }

  private diagnostics(): ConnectionStartMessage {
    return { id: this.id, role: this.core.role, remoteAddress: parseAddress(this.core.remoteAddress) };
  }

  /** The public connection of the current epoch. */
  private get current(): QuicConnection | undefined {
    const epoch = this.core.epoch;
    return epoch ? this.publicOf(epoch) : undefined;
  }

  /** The public connection bound to `epoch`, if one was made. */
  private publicOf(epoch: StreamEpoch): QuicConnection | undefined {
    for (const pub of this.publics) if (pub.epoch === epoch) return pub;
    return undefined;
  }

  now(): Millis {
    return this.clock();
  }

  get handshakeComplete(): Promise<void> {
    return this.handshake.promise;
  }

  get closed(): Promise<CloseReason> {
    return this.closedOutcome.promise;
  }

  kick(): void {
    this.driver.kick(this.core);
  }

  sendQueued(): void {
    this.driver.sendQueued?.(this.core);
  }

  setRef(ref: boolean): void {
    this.driver.setRef?.(this.core, ref);
  }

  localAddress(): SocketAddress {
    return this.driver.address?.() ?? new SocketAddress('0.0.0.0', 0, 'IPv4');
  }

  /**
   * Dispatch the core's events. Returns whether the application may write in reaction within this
   * event-loop turn: the peer opened a stream (an HTTP/3 server answering a request) that the
   * application has not ended yet, the whole answer on a bidirectional stream we opened has
   * arrived (an HTTP/3 client sending its next request), or a client's handshake completed (its
   * first request). A request stream whose answer was written and ended during the drain (a
   * handler that answers at once) needs no later turn.
   */
  drainEvents(): boolean {
    const c = this.core;
    let answerSoon = false;
    // The request streams the peer opened in this drain: a handler that answered one at once (an
    // HTTP/3 handler on the core's streams) has ended its side by the end of the drain, and leaves
    // nothing to wait for.
    let requests: StreamEpoch | undefined;
    let opened: number[] | undefined;
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      switch (e.type) {
        case 'epoch': {
          const pub = this.callbacks?.onEpoch(e.epoch);
          // concat: an array of exactly the connections' number (a push would reserve 17 slots).
          if (pub) this.publics = this.publics.concat(pub);
          break;
        }
        case 'stream':
          if (!answerSoon && reactionLikely(e.epoch, e.event, c.role)) {
            const ev = e.event;
            if (ev.type === 'opened' && isBidirectional(ev.id) && (requests ?? e.epoch) === e.epoch) {
              requests = e.epoch;
              if (opened === undefined) opened = [ev.id];
              else opened.push(ev.id);
            } else {
              answerSoon = true;
            }
          }
          this.publicOf(e.epoch)?._onStreamEvent(e.event);
          break;
        case 'early-data':
          this.callbacks?.onEarlyData?.(e.accepted);
          break;
        case 'handshake-complete':
          // A client's `await dial()` goes on in this turn's microtasks, usually with a request.
          if (c.role === 'client') answerSoon = true;
          this.handshake.resolve();
          this.callbacks?.onHandshakeComplete?.();
          if (handshakeChannel.hasSubscribers) {
            const connection = this.current;
            if (connection) {
              handshakeChannel.publish({
                ...this.diagnostics(),
                connection,
                alpn: c.alpn,
                resumed: c.resumed,
                used0RTT: c.used0RTT,
              } satisfies ConnectionHandshakeMessage);
            }
          }
          break;
        case 'session-ticket': {
          const listened = (this.current?.listenerCount('session') ?? 0) > 0;
          // Nobody keeps it: dropped with its PSK never derived (tls-client.ts, issue 13).
          if (!this.sessionStore && !listened) break;
          // Whoever keeps it gets the PSK derived now: a kept session refers to no TLS engine.
          void e.session.psk;
          this.sessionStore?.saveSession(e.session);
          // After the store has it: a listener may persist the store (SessionCache.export()).
          if (listened) this.current?.emit('session', e.session);
          break;
        }
        case 'new-token':
          if (this.serverKey) this.sessionStore?.saveToken?.(this.serverKey, e.token);
          break;
        case 'datagram':
          this.publicOf(e.epoch)?._onDatagram(e.data);
          break;
        case 'closed':
          // The core reports events in the order they happened: what the same packets did to
          // streams (an ACK completing a stream's delivery) has reached them already.
          this.onClosed(e.info);
          break;
        case 'terminated':
        case 'handshake-confirmed':
          break;
      }
    }
    if (!answerSoon && requests !== undefined && opened !== undefined) {
      for (const id of opened) if (requests.streams.canWrite(id)) answerSoon = true;
    }
    return answerSoon;
  }

  private onClosed(info: CloseInfo): void {
    this.closeInfo = info;
    const reason = closeReason(info, this.core.handshakeComplete);
    // Built on first use, like reason.error (close-errors.ts).
    const build = (): QuicError =>
      (this._closeError ??=
        reason.error ?? new ConnectionClosedError(info.errorCode, info.reason, info.application, false));
    const error: LazyError = Object.assign(build, { cleanRemoteClose: isCleanRemoteClose(info) });
    this.closeErrorOf = build;
    if (!this.core.handshakeComplete) this.handshake.reject(error());
    // A clean local close (code 0) ends streams quietly, like destroying a socket; anything else
    // fails them with the error.
    for (const pub of this.publics) pub._onClosed(error, isCleanClose(info));
    // 'close' fires before the reactions to `closed` run, as when each public connection listened
    // to it from the start.
    for (const pub of this.publics) pub._onClosedWith(reason);
    this.closedOutcome.resolve(reason);
    if (closeChannel.hasSubscribers) {
      closeChannel.publish({
        ...this.diagnostics(),
        connection: this.current,
        reason,
      } satisfies ConnectionCloseMessage);
    }
  }

  onTerminated(): void {
    if (this.terminated) return;
    this.terminated = true;
    if (!this.closeInfo) {
      this.onClosed({
        source: 'local',
        application: true,
        errorCode: 0,
        reason: 'connection terminated',
      });
    }
    this.callbacks?.onTerminated?.();
  }
}

/**
 * Whether `ev` is one the application is likely to answer within this event-loop turn: a stream the
 * peer opened (a request), or the end (FIN) of the answer on a bidirectional stream we opened (a
 * response, after which a client sends its next request).
 */
function reactionLikely(epoch: StreamEpoch, ev: StreamEvent, role: Role): boolean {
  if (ev.type === 'opened') return !isLocallyInitiated(ev.id, role);
  if (ev.type !== 'readable' || !isBidirectional(ev.id) || !isLocallyInitiated(ev.id, role)) return false;
  return epoch.streams.streamState(ev.id)?.receive === ReceiveState.DataRecvd;
}
