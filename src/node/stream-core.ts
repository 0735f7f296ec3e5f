/**
 * The state and logic the three public stream classes share (src/node/quic-stream.ts): one
 * direction each, or both. The receiving direction pumps in-order data into the Readable and sends
 * STOP_SENDING on cancelRead(); the sending direction hands writes to the core through the write
 * hand-over (bounded by the send budgets), queues the FIN on end() and reports 'finish' once
 * everything is acknowledged. It talks to the StreamManager of the stream's own epoch only.
 */
import type { Readable, Writable } from 'node:stream';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import { type QuicError, QuicUsageError, ZeroRTTRejectedError } from '../errors/public-errors.js';
import { ReceiveState, SendState } from '../streams/stream-manager.js';
import { type Callback, WriteHandover } from './write-handover.js';

/** What a stream needs from its connection. */
export interface StreamHost {
  /** Wake the I/O loop: there may be something to send. */
  kick(): void;
  /** The error that ended the connection, if it ended. */
  readonly closeError: QuicError | undefined;
  /** The code of aborts the application gave no code for (the `defaultStreamErrorCode` option). */
  readonly defaultErrorCode: number;
}

export type { Callback } from './write-handover.js';

const MAX_ERROR_CODE = 2 ** 62 - 1;

function checkCode(code: number, what: string): void {
  if (!Number.isSafeInteger(code) || code < 0 || code > MAX_ERROR_CODE) {
    throw new QuicUsageError(
      'ERR_QUIC_INVALID_ERROR_CODE',
      `${what}: error code must be an integer in [0, 2^62)`,
    );
  }
}

export function streamClosedError(): QuicUsageError {
  return new QuicUsageError('ERR_STREAM_DESTROYED', 'the stream is closed');
}

/**
 * The logic shared by the three stream classes: one direction each, or both. It talks to the
 * StreamManager of the stream's own epoch only.
 */
export class StreamCore {
  /** The epoch was rejected (0-RTT): the stream is dead. */
  rejected = false;

  // ---- the receiving direction
  /** No more data comes to the Readable: the FIN was pushed, cancelRead(), a reset or destroy(). */
  readEnded = false;
  /** The application called cancelRead(). */
  readCanceled = false;
  /** The peer reset its sending part (RESET_STREAM): what readers are told. */
  readError: Error | undefined;
  /** The connection ended after every byte and the FIN arrived: the application reads on. */
  readAfterClose = false;
  wantRead = false;
  /** Wakes a reader of the stream's async iterator (a reset ends reading without 'end'). */
  wakeReader: (() => void) | undefined;

  // ---- the sending direction
  /** _final ran: the FIN is queued after the data. */
  finQueued = false;
  /** Every byte and the FIN were acknowledged (RFC 9000 §3.1 Data Recvd). */
  delivered = false;
  /** The application called cancelWrite(). */
  writeCanceled = false;
  /**
   * The peer stopped reading (STOP_SENDING), or the connection ended while this direction was open
   * and the other goes on: what writers are told.
   */
  writeError: Error | undefined;
  /** The write() being handed to the core as the send budgets make room. */
  private readonly writes: WriteHandover;
  /** end()'s _final, waiting for the acknowledgment of everything sent. */
  pendingFinal: Callback | undefined;

  /** The first direction-ending error of the peer or the connection (the stream's `errored` later). */
  abortError: Error | undefined;
  /** That error was already emitted (to 'error' listeners) when its direction ended. */
  reported: Error | undefined;

  constructor(
    readonly epoch: StreamEpoch,
    readonly id: number,
    readonly host: StreamHost,
    readonly hasSend: boolean,
    readonly hasReceive: boolean,
  ) {
    this.writes = new WriteHandover(epoch.streams, id, () => host.kick());
  }

  get streams() {
    return this.epoch.streams;
  }

  /** Whether the stream can still act on the network. */
  get alive(): boolean {
    return !this.rejected && !this.epoch.rejected && this.host.closeError === undefined;
  }

  /** Nothing more will be sent: the FIN is queued, or the direction was aborted. */
  get writeDone(): boolean {
    return this.finQueued || this.writeCanceled || this.writeError !== undefined;
  }

  /** Every byte and the FIN were sent at least once (Data Sent or later). */
  get allSent(): boolean {
    if (!this.streams.has(this.id)) return true; // the manager freed it: both parts are terminal
    const state = this.streams.streamState(this.id)?.send;
    return state === SendState.DataSent || state === SendState.DataRecvd;
  }

  /** The peer has every byte of the receiving direction and its FIN (not yet all read). */
  get receiveComplete(): boolean {
    if (!this.streams.has(this.id)) return true; // the manager freed it: both parts are terminal
    const state = this.streams.streamState(this.id)?.receive;
    return state === ReceiveState.DataRecvd || state === ReceiveState.DataRead;
  }

  write(chunk: Buffer, cb: Callback): void {
    const refused = this.refusal();
    if (refused !== false) {
      cb(refused);
      return;
    }
    this.writes.start(chunk, cb);
  }

  /** The pending write's callback, leaving nothing pending (what is left of its chunk is dropped). */
  takePendingWrite(): Callback | undefined {
    return this.writes.take();
  }

  /**
   * For close({ drain }): nothing of this stream is in flight any more. Everything sent is
   * acknowledged (or writing was aborted); on a stream the peer opened (`local` false), everything
   * the peer sends has arrived too (or reading was aborted). What the application has not read yet
   * stays readable after the close. The answer on a stream we opened is not waited for: closing
   * says we want nothing more.
   */
  drained(local: boolean): boolean {
    if (!this.alive) return true;
    const sendOver = !this.hasSend || this.delivered || this.writeCanceled || this.writeError !== undefined;
    const receiveOver =
      local || !this.hasReceive || this.readEnded || this.readError !== undefined || this.receiveComplete;
    return sendOver && receiveOver;
  }

  /** Whether end() was called and every byte written reached the core (nothing waits in Node's buffer). */
  endedInCore(writable: Writable): boolean {
    // The pending write's chunk is in our hands (the core may not have taken all of it yet: abandon()
    // hands it the rest).
    const inCore = this.writes.bytesInHand;
    return writable.writableEnded && writable.writableLength <= inCore;
  }

  /**
   * Why a write cannot go to the network: an error to fail it with, undefined to drop it silently,
   * or false when it may proceed. Dropped: after cancelWrite(), and on a Duplex whose sending
   * direction the peer stopped (failing the write would destroy the Duplex, reading included).
   */
  private refusal(): Error | undefined | false {
    if (this.epoch.rejected || this.rejected) return new ZeroRTTRejectedError();
    if (this.writeError) return this.hasReceive ? undefined : this.writeError;
    if (this.writeCanceled) return undefined;
    if (this.host.closeError) return this.host.closeError;
    return false;
  }

  /** end(): queue the FIN; the callback ('finish') waits until everything is acknowledged. */
  final(cb: Callback): void {
    if (this.epoch.rejected || this.rejected) {
      cb(new ZeroRTTRejectedError());
      return;
    }
    if (this.writeCanceled) {
      cb();
      return;
    }
    if (this.writeError) {
      // A Duplex reads on; it is destroyed with the error once reading is over (settle()).
      if (this.hasReceive) this.pendingFinal = cb;
      else cb(this.writeError);
      return;
    }
    if (!this.alive) {
      cb(this.host.closeError ?? streamClosedError());
      return;
    }
    this.streams.end(this.id);
    this.finQueued = true;
    this.pendingFinal = cb;
    this.host.kick();
  }

  /** RFC 9000 §3.1: all data and the FIN acknowledged: 'finish'. */
  onDelivered(): void {
    this.delivered = true;
    const cb = this.pendingFinal;
    this.pendingFinal = undefined;
    cb?.();
  }

  /** Push in-order data into `readable` while it wants more. */
  pump(readable: Readable): void {
    if (!this.wantRead || this.readEnded) return;
    if (!this.alive && !this.readAfterClose) return;
    let consumed = false;
    for (;;) {
      const r = this.streams.read(this.id);
      if (!r) break;
      consumed = true;
      if (r.data.length > 0 && !readable.push(r.data)) this.wantRead = false;
      if (r.fin) {
        this.readEnded = true;
        readable.push(null);
        break;
      }
      if (!this.wantRead) break;
    }
    // Reading frees flow-control credit: a MAX_STREAM_DATA/MAX_DATA may be due.
    if (consumed && this.alive) this.host.kick();
  }

  cancelRead(code: number): boolean {
    checkCode(code, 'cancelRead');
    if (!this.alive || this.readEnded) return false;
    this.streams.stopSending(this.id, code);
    this.readEnded = true;
    this.readCanceled = true;
    this.host.kick();
    return true;
  }

  cancelWrite(code: number): boolean {
    checkCode(code, 'cancelWrite');
    if (!this.alive || this.writeCanceled || this.writeError || this.delivered) return false;
    // RFC 9000 §3.1: a reset is allowed in Ready, Send and Data Sent (after the FIN too).
    this.streams.resetStream(this.id, code);
    this.writeCanceled = true;
    this.host.kick();
    const cb = this.takePendingWrite();
    cb?.();
    const fin = this.pendingFinal;
    this.pendingFinal = undefined;
    fin?.();
    return true;
  }

  /** Set by a clean local close: what a pending write is told. */
  closeError: Error | undefined;
  /**
   * The error tsquic ended the stream with (a network error, or the connection's clean close): what
   * a write() or end() after that is told.
   */
  endedBy: Error | undefined;

  /** Why a write() or end() call on this stream object fails at once, if it does. */
  callRefusal(destroyed: boolean): Error | undefined {
    if (this.rejected) return new ZeroRTTRejectedError();
    if (destroyed) return this.endedBy ?? streamClosedError();
    // The peer stopped reading a Duplex that reads on: writes fail without destroying it.
    if (this.writeError && this.hasReceive) return this.writeError;
    return undefined;
  }
  /**
   * False for a peer-opened stream the application has not accepted yet: it has no 'error'
   * listener, so an error that would destroy it waits in `deferredError` until it is handed out.
   */
  accepted = true;
  /** Opened by the peer in 0-RTT data. */
  early = false;
  accepting = false;
  deferredError: Error | undefined;

  /**
   * On destroy(): give up each direction that is unfinished, with the default code. A FIN already
   * queued is not an abort: the data still goes out (docs/streams.md).
   */
  abandon(err: Error | null, ended: boolean): void {
    if (this.alive) {
      const code = this.host.defaultErrorCode;
      // end() was called and every byte reached the core, only _final had not run yet: queue the
      // FIN rather than abort (destroy() right after end() is how many programs close a stream).
      if (this.hasSend && !this.writeDone && ended && err === null) {
        // What the send budget had not let in yet goes in whole: the application has ended the stream.
        this.writes.pushRest();
        this.streams.end(this.id);
        this.finQueued = true;
      }
      if (this.hasSend && !this.writeDone) this.streams.resetStream(this.id, code);
      if (this.hasReceive && !this.readEnded) this.streams.stopSending(this.id, code);
      this.host.kick();
    }
    if (this.hasSend && !this.writeDone) this.writeCanceled = true;
    this.readEnded = true;
    this.pendingFinal = undefined;
    const cb = this.takePendingWrite();
    cb?.(err ?? this.closeError ?? streamClosedError());
    this.wakeReader?.();
  }

  onWritable(): void {
    this.writes.onWritable();
  }
}
