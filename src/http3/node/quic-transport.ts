/**
 * The HTTP/3 transport over tsquic's public API: a QuicConnection and its QuicStreams (Node
 * streams). Peer streams come from the connection's accept loops; each stream's 'readable', 'end',
 * 'drain' and 'error' events become TransportEvents; reads pull from the Readable (so a session that
 * stops reading leaves QUIC flow control to push back).
 *
 * Known limits of the stream API worked around here (reported to the transport's owners):
 * - a QuicStream (Duplex) hears of the peer's STOP_SENDING only when it next writes: the error then
 *   surfaces as an 'error' with kind 'stop-sending', which is mapped to onStopSending.
 * - writes on a stream whose sending side ended are skipped here rather than handed to a Writable
 *   that would emit an error.
 */
import type { Readable, Writable } from 'node:stream';
import { ConnectionClosedError, StreamResetError, ZeroRTTRejectedError } from '../../errors/public-errors.js';
import type { CloseReason } from '../../node/close-errors.js';
import type { QuicConnection } from '../../node/quic-connection.js';
import type { QuicReceiveStream, QuicSendStream, QuicStream } from '../../node/quic-stream.js';
import { ReceiveState } from '../../streams/receive-stream.js';
import { SendState } from '../../streams/send-stream.js';
import { Http3ConnectionError } from '../errors.js';
import type { H3Transport, StreamRead, TransportEvents } from '../transport.js';

type AnyStream = QuicStream | QuicSendStream | QuicReceiveStream;

const EMPTY = new Uint8Array(0);
/** The longest a graceful close waits for acknowledgments. */
const FLUSH_LIMIT_MS = 3000;

export class QuicH3Transport implements H3Transport {
  readonly role: 'client' | 'server';
  private _handshakeComplete = false;
  get handshakeComplete() {
    return this._handshakeComplete;
  }
  /** The session that hears this transport's events (deliverTo). */
  private events: TransportEvents | undefined;
  private readonly streams = new Map<number, AnyStream>();
  private readonly finPending = new Set<number>();
  /** Streams we ended (FIN) or reset: a graceful close waits for them to be acknowledged. */
  private readonly finished = new Set<number>();
  /** One chain per direction: streams of a kind open in call order, and a uni stream waiting for
   * credit (MAX_STREAMS) never holds up a request stream. */
  private readonly openChains: Record<'bidi' | 'uni', Promise<unknown>> = {
    bidi: Promise.resolve(),
    uni: Promise.resolve(),
  };
  private dead = false;

  constructor(
    readonly conn: QuicConnection,
    role: 'client' | 'server',
    opts: { acceptBidi: boolean },
  ) {
    this.role = role;
    conn.handshakeComplete.then(
      () => {
        this._handshakeComplete = true;
        if (!this.dead) this.events?.onHandshakeComplete();
      },
      () => {},
    );
    conn.closed.then((reason) => this.onClosed(reason));
    void this.acceptLoop(false);
    if (opts.acceptBidi) void this.acceptLoop(true);
  }

  /** Stream-level state errors of this transport, for tests: nothing should land here. */
  private readonly _internalErrors: Error[] = [];
  get internalErrors(): readonly Error[] {
    return this._internalErrors;
  }

  /** The session that hears this transport's events from now on. */
  deliverTo(events: TransportEvents): void {
    this.events = events;
  }

  private async acceptLoop(bidi: boolean): Promise<void> {
    for (;;) {
      let s: AnyStream;
      try {
        s = bidi ? await this.conn.acceptStream() : await this.conn.acceptUniStream();
      } catch {
        return;
      }
      if (this.dead) {
        s.destroy();
        continue;
      }
      this.adopt(s);
      this.events?.onStreamOpened(s.id, 'early' in s && s.early);
      // Data may already be buffered: let the session look.
      if (this.streams.has(s.id)) this.events?.onReadable(s.id);
    }
  }

  private adopt(s: AnyStream): void {
    const id = s.id;
    this.streams.set(id, s);
    s.on('error', (err: Error) => this.onStreamError(id, err));
    if (isReadable(s)) {
      s.on('readable', () => this.events?.onReadable(id));
      s.on('end', () => {
        if (this.finRead.delete(id)) return;
        this.finPending.add(id);
        this.events?.onReadable(id);
      });
    }
    if (isWritable(s)) s.on('drain', () => this.events?.onWritable(id));
    s.on('close', () => {
      this.finRead.delete(id);
      // Keep the entry until the FIN was read; then forget the stream.
      if (!this.finPending.has(id)) this.streams.delete(id);
    });
  }

  private onStreamError(id: number, err: Error): void {
    if (this.dead) return;
    if (err instanceof StreamResetError) {
      if (err.kind === 'reset') this.events?.onStreamReset(id, err.errorCode);
      else this.events?.onStopSending(id, err.errorCode);
      return;
    }
    if (err instanceof ZeroRTTRejectedError || err instanceof ConnectionClosedError) return;
    this._internalErrors.push(err);
  }

  private onClosed(reason: CloseReason): void {
    if (this.dead) return;
    this.dead = true;
    const err = reason.error;
    this.events?.onConnectionClosed(
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
    this.events?.onConnectionClosed(err);
  }

  openStream(bidirectional: boolean, opened: (id: number) => void): void {
    // One at a time per direction, so streams are opened in call order.
    const kind = bidirectional ? 'bidi' : 'uni';
    this.openChains[kind] = this.openChains[kind].then(async () => {
      if (this.dead) return;
      let s: AnyStream;
      try {
        s = bidirectional ? await this.conn.openStream() : await this.conn.openUniStream();
      } catch {
        return; // the connection ended (or 0-RTT was rejected): the session hears of it separately
      }
      if (this.dead) return;
      this.adopt(s);
      opened(s.id);
    });
  }

  write(id: number, data: Uint8Array): boolean {
    const s = this.streams.get(id);
    if (!s || !isWritable(s) || s.destroyed || s.writableEnded) return true;
    return s.write(data);
  }

  end(id: number): void {
    const s = this.streams.get(id);
    if (!s || !isWritable(s) || s.destroyed || s.writableEnded) return;
    this.finished.add(id);
    s.end();
  }

  resetStream(id: number, code: number): void {
    const s = this.streams.get(id);
    if (!s || this.dead || !('cancelWrite' in s)) return;
    s.cancelWrite(code);
  }

  stopSending(id: number, code: number): void {
    const s = this.streams.get(id);
    if (!s || this.dead || !('cancelRead' in s)) return;
    s.cancelRead(code);
  }

  read(id: number): StreamRead | undefined {
    const s = this.streams.get(id);
    if (!s || !isReadable(s)) return undefined;
    if (!s.destroyed) {
      const chunk = s.read() as Buffer | null;
      if (chunk !== null) return { data: chunk, fin: false };
    }
    if (this.finPending.delete(id) || this.finArrived(id, s)) {
      this.finRead.add(id);
      if (s.destroyed || !isWritable(s) || s.writableFinished) this.streams.delete(id);
      return { data: EMPTY, fin: true };
    }
    return undefined;
  }

  /** Streams whose FIN the session has read: the Readable's later 'end' is not a second one. */
  private readonly finRead = new Set<number>();

  /**
   * The FIN is here before the Readable says so: its 'end' comes a tick after the last read, but
   * once everything it holds has been read and QUIC's receiving side is in Data Read (RFC 9000
   * §3.2: every byte up to the FIN delivered to the stream), nothing more will come. Reading the
   * FIN in the same pass as the data lets a request be seen whole before its handler's response
   * ends (no STOP_SENDING or QPACK Stream Cancellation for a request that was complete).
   */
  private finArrived(id: number, s: QuicStream | QuicReceiveStream): boolean {
    if (s.destroyed || s.readableLength > 0 || this.finRead.has(id)) return false;
    return this.conn.epoch.streams.streamState(id)?.receive === ReceiveState.DataRead;
  }

  close(code: number, reason: string): void {
    if (this.dead) return;
    void this.conn.close(code, reason);
  }

  /**
   * CONNECTION_CLOSE once the streams we ended are acknowledged (their send side in Data Recvd, or
   * gone), checked every 10 ms for at most `FLUSH_LIMIT_MS`. Narrower than `close({ drain })`, which
   * also waits for what the peer still sends: only the streams HTTP/3 ended itself count here.
   */
  closeAfterFlush(code: number, reason: string): void {
    if (this.dead) return;
    const deadline = Date.now() + FLUSH_LIMIT_MS;
    const streams = this.conn.epoch.streams;
    const check = () => {
      if (this.dead) return;
      for (const id of this.finished) {
        const send = streams.streamState(id)?.send;
        if (send === undefined || send === SendState.DataRecvd || send === SendState.ResetRecvd)
          this.finished.delete(id);
      }
      if (this.finished.size === 0 || Date.now() >= deadline) void this.conn.close(code, reason);
      else setTimeout(check, 10);
    };
    check();
  }
}

function isReadable(s: AnyStream): s is QuicStream | QuicReceiveStream {
  return typeof (s as Readable).read === 'function';
}

function isWritable(s: AnyStream): s is QuicStream | QuicSendStream {
  return typeof (s as Writable).write === 'function';
}
