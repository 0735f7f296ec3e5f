/**
 * The HTTP/3 transport over the sans-IO core, for the simulator and the 0-RTT auditor (src/audit):
 * one H3Transport per stream epoch of a core Connection. The harness routes the connection's events
 * to it (`dispatch`); stream operations go to the epoch's StreamManager, as the Node shell's do.
 */
import type { Connection } from '../connection/connection.js';
import type { ConnectionEvent } from '../connection/connection-events.js';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import { SendState } from '../streams/send-stream.js';
import { StreamStateError } from '../streams/stream-state-error.js';
import type { Millis } from '../util/time.js';
import { Http3ConnectionError } from './errors.js';
import type { H3Transport, StreamRead, TransportEvents } from './transport.js';

export class CoreH3Transport implements H3Transport {
  readonly role: 'client' | 'server';
  /** The session that hears this transport's events (deliverTo). */
  private events: TransportEvents | undefined;
  private readonly waiting: Array<{ bidi: boolean; opened: (id: number) => void }> = [];
  private dead = false;
  /** Every operation, for tests that check what the session did. */
  private readonly _log: string[] = [];

  constructor(
    readonly conn: Connection,
    readonly epoch: StreamEpoch,
    private readonly now: () => Millis,
  ) {
    this.role = conn.role;
  }

  /** Every operation so far (open, fin, reset, stop, close), for tests. */
  get log(): readonly string[] {
    return this._log;
  }

  /** The session that hears this transport's events from now on. */
  deliverTo(events: TransportEvents): void {
    this.events = events;
  }

  get handshakeComplete(): boolean {
    return this.conn.handshakeComplete;
  }

  openStream(bidirectional: boolean, opened: (id: number) => void): void {
    this.waiting.push({ bidi: bidirectional, opened });
    this.openWaiting();
  }

  /** Open what stream credit allows, in call order per direction (a blocked uni stream never holds up a bidi one). */
  private openWaiting(): void {
    for (const bidi of [true, false]) {
      for (;;) {
        if (this.dead) return;
        const i = this.waiting.findIndex((w) => w.bidi === bidi);
        if (i < 0) break;
        const id = this.epoch.streams.openStream(bidi);
        if (id === undefined) break;
        const w = this.waiting.splice(i, 1)[0]!;
        this._log.push(`open ${id}`);
        w.opened(id);
      }
    }
  }

  write(id: number, data: Uint8Array): boolean {
    if (this.dead) return true;
    try {
      return this.epoch.streams.write(id, data);
    } catch (err) {
      // The peer's STOP_SENDING reset our side before the session heard of it.
      if (err instanceof StreamStateError) return true;
      throw err;
    }
  }

  end(id: number): void {
    if (this.dead) return;
    this._log.push(`fin ${id}`);
    this.finished.add(id);
    this.epoch.streams.end(id);
  }

  resetStream(id: number, code: number): void {
    if (this.dead) return;
    this._log.push(`reset ${id} 0x${code.toString(16)}`);
    this.epoch.streams.resetStream(id, code);
  }

  stopSending(id: number, code: number): void {
    if (this.dead) return;
    this._log.push(`stop ${id} 0x${code.toString(16)}`);
    this.epoch.streams.stopSending(id, code);
  }

  read(id: number): StreamRead | undefined {
    if (this.dead) return undefined;
    return this.epoch.streams.read(id);
  }

  close(code: number, reason: string): void {
    if (this.dead) return;
    this._log.push(`close 0x${code.toString(16)}`);
    this.conn.close(code, reason, this.now());
  }

  private pendingClose: { code: number; reason: string } | undefined;
  private readonly finished = new Set<number>();

  /** CONNECTION_CLOSE once every stream we ended is acknowledged (checked on each event). */
  closeAfterFlush(code: number, reason: string): void {
    if (this.dead) return;
    this.pendingClose = { code, reason };
    this.maybeClose();
  }

  private maybeClose(): void {
    const p = this.pendingClose;
    if (!p || this.dead) return;
    for (const id of this.finished) {
      const send = this.epoch.streams.streamState(id)?.send;
      if (send === undefined || send === SendState.DataRecvd || send === SendState.ResetRecvd)
        this.finished.delete(id);
    }
    if (this.finished.size > 0) return;
    this.pendingClose = undefined;
    this.close(p.code, p.reason);
  }

  /** A connection event for this transport's epoch (or the connection as a whole). */
  dispatch(e: ConnectionEvent): void {
    const ev = this.events;
    if (!ev || this.dead) return;
    this.maybeClose();
    switch (e.type) {
      case 'stream': {
        if (e.epoch !== this.epoch) return;
        const s = e.event;
        switch (s.type) {
          case 'opened':
            // Only peer-initiated streams: ours are reported through openStream.
            if ((s.id & 1) !== (this.role === 'client' ? 0 : 1)) ev.onStreamOpened(s.id, s.early === true);
            return;
          case 'readable':
            ev.onReadable(s.id);
            return;
          case 'writable':
            ev.onWritable(s.id);
            return;
          case 'reset':
            ev.onStreamReset(s.id, s.errorCode);
            return;
          case 'stop-sending':
            ev.onStopSending(s.id, s.errorCode);
            return;
          case 'streams-available':
            this.openWaiting();
            return;
          default:
            return;
        }
      }
      case 'handshake-complete':
        ev.onHandshakeComplete();
        return;
      case 'closed': {
        this.dead = true;
        const i = e.info;
        ev.onConnectionClosed(
          new Http3ConnectionError(i.application ? i.errorCode : undefined, i.reason, i.source === 'remote'),
        );
        return;
      }
      default:
        return;
    }
  }

  /** 0-RTT was rejected: this epoch is dead; the session ends with `err`. */
  kill(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.events?.onConnectionClosed(err);
  }
}
