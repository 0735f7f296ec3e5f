/**
 * The HTTP/3 transport straight on a QuicConnection's stream epoch: the session takes every stream
 * of the connection at the core level (QuicConnection._takeStreams), as the simulator's
 * CoreH3Transport does, so a request costs no Node stream object (Duplex), no accept promise and no
 * 'readable'/'end'/'close' ticks. The core's stream events arrive while the I/O loop drains the
 * connection's events, so a handler that answers at once has written its response before the
 * datagrams of that turn are built.
 *
 * Used when the connection's streams can be taken (nobody holds one of them); otherwise
 * QuicH3Transport works over the public stream objects.
 */
import type { CloseReason } from '../../node/close-errors.js';
import type { QuicConnection } from '../../node/quic-connection.js';
import { SendState, type StreamEvent, StreamStateError } from '../../streams/stream-manager.js';
import { Http3ConnectionError } from '../errors.js';
import type { H3Transport, StreamRead, TransportEvents } from '../transport.js';

/** The longest a graceful close waits for acknowledgments. */
const FLUSH_LIMIT_MS = 3000;

export class DirectH3Transport implements H3Transport {
  readonly role: 'client' | 'server';
  private _handshakeComplete = false;
  get handshakeComplete() {
    return this._handshakeComplete;
  }
  private ev: TransportEvents | undefined;
  /** Events that arrived before the session was attached (peer streams opened before it existed). */
  private backlog: StreamEvent[] | undefined = [];
  private readonly waiting: Array<{ bidi: boolean; opened: (id: number) => void }> = [];
  /** Streams we ended (FIN) or reset: a graceful close waits for them to be acknowledged. */
  private readonly finished = new Set<number>();
  private dead = false;
  /** Wakes the I/O loop: there is something to send. */
  private kick: () => void = () => {};

  /** A transport on `conn`'s streams, or undefined when they cannot be taken (one is held already). */
  static attach(conn: QuicConnection, role: 'client' | 'server'): DirectH3Transport | undefined {
    const t = new DirectH3Transport(conn, role);
    const kick = conn._takeStreams((e) => t.onStreamEvent(e));
    if (!kick) return undefined;
    t.kick = kick;
    t.watch();
    return t;
  }

  private constructor(
    readonly conn: QuicConnection,
    role: 'client' | 'server',
  ) {
    this.role = role;
  }

  private watch(): void {
    this.conn.handshakeComplete.then(
      () => {
        this._handshakeComplete = true;
        if (!this.dead) this.ev?.onHandshakeComplete();
      },
      () => {},
    );
    this.conn.closed.then((reason) => this.onClosed(reason));
  }

  /** The session that hears this transport's events from now on; what arrived before is passed on now. */
  deliverTo(e: TransportEvents): void {
    this.ev = e;
    const held = this.backlog;
    this.backlog = undefined;
    if (held) for (const x of held) this.onStreamEvent(x);
  }

  private get streams() {
    return this.conn.epoch.streams;
  }

  /** Whether operations may still reach the network (not closed, not a rejected 0-RTT attempt). */
  private get usable(): boolean {
    return !this.dead && !this.conn.epoch.rejected;
  }

  private onStreamEvent(e: StreamEvent): void {
    if (this.dead) return;
    if (this.backlog) {
      this.backlog.push(e);
      return;
    }
    const ev = this.ev;
    if (!ev) return;
    switch (e.type) {
      case 'opened':
        // Only the peer's streams: ours are reported through openStream.
        if ((e.id & 1) !== (this.role === 'client' ? 0 : 1)) ev.onStreamOpened(e.id, e.early === true);
        return;
      case 'readable':
        ev.onReadable(e.id);
        return;
      case 'writable':
        ev.onWritable(e.id);
        return;
      case 'reset':
        ev.onStreamReset(e.id, e.errorCode);
        return;
      case 'stop-sending':
        ev.onStopSending(e.id, e.errorCode);
        return;
      case 'streams-available':
        this.openWaiting();
        return;
      case 'closed':
        // Both directions are over: nothing of it is left to acknowledge.
        this.finished.delete(e.id);
        return;
      default:
        return;
    }
  }

  private onClosed(reason: CloseReason): void {
    if (this.dead) return;
    this.dead = true;
    const err = reason.error;
    this.ev?.onConnectionClosed(
      new Http3ConnectionError(
        reason.application ? reason.errorCode : undefined,
        reason.reason || err?.message || 'connection closed',
        reason.source === 'remote',
        err ? { cause: err } : undefined,
      ),
    );
  }

  /** 0-RTT was rejected: this attempt is dead; its session ends with `err`. */
  kill(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.ev?.onConnectionClosed(err);
  }

  openStream(bidirectional: boolean, opened: (id: number) => void): void {
    this.waiting.push({ bidi: bidirectional, opened });
    this.openWaiting();
  }

  /** Open what stream credit allows, in call order per direction (a blocked uni stream never holds up a bidi one). */
  private openWaiting(): void {
    let blockedBidi = false;
    let blockedUni = false;
    for (let i = 0; i < this.waiting.length; ) {
      if (!this.usable) return;
      const w = this.waiting[i]!;
      if (w.bidi ? blockedBidi : blockedUni) {
        i++;
        continue;
      }
      const id = this.streams.openStream(w.bidi);
      // RFC 9000 §4.6: no credit; wait for MAX_STREAMS (the core queued STREAMS_BLOCKED).
      if (id === undefined) {
        if (w.bidi) blockedBidi = true;
        else blockedUni = true;
        this.kick();
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.kick();
      w.opened(id);
    }
  }

  write(id: number, data: Uint8Array): boolean {
    if (!this.usable) return true;
    let ok: boolean;
    try {
      ok = this.streams.write(id, data);
    } catch (err) {
      // The peer's STOP_SENDING reset our side before the session heard of it.
      if (err instanceof StreamStateError) return true;
      throw err;
    }
    this.kick();
    return ok;
  }

  end(id: number): void {
    if (!this.usable) return;
    this.finished.add(id);
    this.streams.end(id);
    this.kick();
  }

  resetStream(id: number, code: number): void {
    if (!this.usable) return;
    this.finished.add(id);
    this.streams.resetStream(id, code);
    this.kick();
  }

  stopSending(id: number, code: number): void {
    if (!this.usable) return;
    this.streams.stopSending(id, code);
    this.kick();
  }

  read(id: number): StreamRead | undefined {
    if (!this.usable) return undefined;
    const r = this.streams.read(id);
    // Reading frees flow-control credit: a MAX_STREAM_DATA/MAX_DATA may be due.
    if (r && r.data.length > 0) this.kick();
    return r;
  }

  close(code: number, reason: string): void {
    if (this.dead) return;
    void this.conn.close(code, reason);
  }

  /**
   * CONNECTION_CLOSE once the streams we ended are acknowledged (their send side in Data Recvd or
   * Reset Recvd, or gone), checked every 10 ms for at most `FLUSH_LIMIT_MS`.
   */
  closeAfterFlush(code: number, reason: string): void {
    if (this.dead) return;
    const deadline = Date.now() + FLUSH_LIMIT_MS;
    const check = () => {
      if (this.dead) return;
      for (const id of this.finished) {
        const send = this.streams.streamState(id)?.send;
        if (send === undefined || send === SendState.DataRecvd || send === SendState.ResetRecvd)
          this.finished.delete(id);
      }
      if (this.finished.size === 0 || Date.now() >= deadline) void this.conn.close(code, reason);
      else setTimeout(check, 10);
    };
    check();
  }
}
