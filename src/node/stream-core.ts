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
  /** The error that ended the connection, if it ended (built on first read: close-errors.ts). */
  readonly closeError: QuicError | undefined;
  /** Whether the connection ended, without building its error. */
  readonly isClosed: boolean;
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
  // Every field below is written here only: stream-direction-ends.ts, quic-stream.ts,
  // stream-iterator.ts and quic-connection.ts change it through the named transitions further down
  // and read it through the getters (test/node/structure.test.ts).

  /** The epoch was rejected (0-RTT): the stream is dead. */
  private _rejected = false;

  // ---- the receiving direction
  /** No more data comes to the Readable: the FIN was pushed, cancelRead(), a reset or destroy(). */
  private _readEnded = false;
  /** The application called cancelRead(). */
  private _readCanceled = false;
  /** The peer reset its sending part (RESET_STREAM): what readers are told. */
  private _readError: Error | undefined;
  /** The connection ended after every byte and the FIN arrived: the application reads on. */
  private _readAfterClose = false;
  /** The Readable asked for data (_read) and has not said it is full since. */
  private _wantRead = false;
  /** Wakes a reader of the stream's async iterator (a reset ends reading without 'end'). */
  private _wakeReader: (() => void) | undefined;

  // ---- the sending direction
  /** _final ran: the FIN is queued after the data. */
  private _finQueued = false;
  /** Every byte and the FIN were acknowledged (RFC 9000 §3.1 Data Recvd). */
  private _delivered = false;
  /** The application called cancelWrite(). */
  private _writeCanceled = false;
  /**
   * The peer stopped reading (STOP_SENDING), or the connection ended while this direction was open
   * and the other goes on: what writers are told.
   */
  private _writeError: Error | undefined;
  /** The write() being handed to the core as the send budgets make room. */
  private readonly writes: WriteHandover;
  /** end()'s _final, waiting for the acknowledgment of everything sent. */
  private _pendingFinal: Callback | undefined;

  // ---- the stream as a whole
  /** The first direction-ending error of the peer or the connection (the stream's `errored` later). */
  private _abortError: Error | undefined;
  /** That error was already emitted (to 'error' listeners) when its direction ended. */
  private _reported: Error | undefined;
  /** Set by a clean local close: what a pending write is told. */
  private _closeError: Error | undefined;
  /**
   * The error tsquic ended the stream with (a network error, or the connection's clean close): what
   * a write() or end() after that is told.
   */
  private _endedBy: Error | undefined;
  /**
   * False for a peer-opened stream the application has not accepted yet: it has no 'error'
   * listener, so an error that would destroy it is kept (deferError()) until it is handed out.
   */
  private _accepted = true;
  /** Opened by the peer in 0-RTT data. */
  private _early = false;
  /** markAccepted() ran: the stream counts as accepted from the next turn of the event loop. */
  private _accepting = false;
  /** The error that would have destroyed the stream before it was accepted. */
  private _deferredError: Error | undefined;

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

  get rejected(): boolean {
    return this._rejected;
  }
  get readEnded(): boolean {
    return this._readEnded;
  }
  get readCanceled(): boolean {
    return this._readCanceled;
  }
  get readError(): Error | undefined {
    return this._readError;
  }
  get wantRead(): boolean {
    return this._wantRead;
  }
  get finQueued(): boolean {
    return this._finQueued;
  }
  get delivered(): boolean {
    return this._delivered;
  }
  get writeCanceled(): boolean {
    return this._writeCanceled;
  }
  get writeError(): Error | undefined {
    return this._writeError;
  }
  /** end()'s callback waits for the acknowledgment of everything sent. */
  get hasPendingFinal(): boolean {
    return this._pendingFinal !== undefined;
  }
  get abortError(): Error | undefined {
    return this._abortError;
  }
  get reported(): Error | undefined {
    return this._reported;
  }
  get endedBy(): Error | undefined {
    return this._endedBy;
  }
  get accepted(): boolean {
    return this._accepted;
  }
  get early(): boolean {
    return this._early;
  }
  get accepting(): boolean {
    return this._accepting;
  }

  // ---- state transitions that stream-direction-ends.ts, quic-stream.ts, stream-iterator.ts and
  // the connection drive (each field above has its writers in this class only)

  /** 0-RTT was rejected: the stream is dead (writes and reads fail with ZeroRTTRejectedError). */
  markRejected(): void {
    this._rejected = true;
  }

  /** The peer reset its sending part (RESET_STREAM): reading is over and fails with `err`. */
  onPeerReset(err: Error): void {
    this._readEnded = true;
    this._readError = err;
  }

  /** Writing is over because of the peer or the connection: later writes are told `err`. */
  onWritingFailed(err: Error): void {
    this._writeError = err;
  }

  /** end()'s pending callback, leaving none pending. */
  takePendingFinal(): Callback | undefined {
    const cb = this._pendingFinal;
    this._pendingFinal = undefined;
    return cb;
  }

  /** A direction ended with `err`: the first such error is the stream's. */
  recordAbort(err: Error): void {
    this._abortError ??= err;
  }

  /** `err` was emitted to the 'error' listeners: destroy() with it does not emit it again. */
  markReported(err: Error): void {
    this._reported = err;
  }

  /** The connection ended after the receiving direction got every byte and the FIN: read on. */
  keepReadingAfterClose(): void {
    this._readAfterClose = true;
  }

  /** The stream is being destroyed with `err` (the first reason is kept). */
  markEndedBy(err: Error): void {
    this._endedBy ??= err;
  }

  /** A clean local close ends the stream: a pending write is told `err`, nobody else is. */
  markClosedQuietly(err: Error): void {
    this._closeError = err;
    this._endedBy ??= err;
  }

  /** Keep `err` until the application accepts the stream (it has no 'error' listener yet). */
  deferError(err: Error): void {
    this._deferredError ??= err;
  }

  /** The peer opened this stream (in 0-RTT data if `early`): not accepted until handed out. */
  markPeerOpened(early: boolean): void {
    this._accepted = false;
    this._early = early;
  }

  /** The application got the stream; false if it already had it. */
  beginAccept(): boolean {
    if (this._accepted || this._accepting) return false;
    this._accepting = true;
    return true;
  }

  /** The stream now counts as accepted: the error kept for this moment, if any. */
  completeAccept(): Error | undefined {
    this._accepted = true;
    return this._deferredError;
  }

  /** The async iterator waits: `wake` is called when reading can go on. */
  setReaderWake(wake: () => void): void {
    this._wakeReader = wake;
  }

  /** The async iterator `wake` belongs to is done. */
  clearReaderWake(wake: () => void): void {
    if (this._wakeReader === wake) this._wakeReader = undefined;
  }

  /** Wake the async iterator's reader, if one waits. */
  wakeReader(): void {
    this._wakeReader?.();
  }

  /** The Readable's _read(): it wants data; push what is in order. */
  onRead(readable: Readable): void {
    this._wantRead = true;
    this.pump(readable);
  }

  /** Whether the stream can still act on the network. */
  get alive(): boolean {
    return !this._rejected && !this.epoch.rejected && !this.host.isClosed;
  }

  /** Nothing more will be sent: the FIN is queued, or the direction was aborted. */
  get writeDone(): boolean {
    return this._finQueued || this._writeCanceled || this._writeError !== undefined;
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
    const sendOver =
      !this.hasSend || this._delivered || this._writeCanceled || this._writeError !== undefined;
    const receiveOver =
      local || !this.hasReceive || this._readEnded || this._readError !== undefined || this.receiveComplete;
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
    if (this.epoch.rejected || this._rejected) return new ZeroRTTRejectedError();
    if (this._writeError) return this.hasReceive ? undefined : this._writeError;
    if (this._writeCanceled) return undefined;
    if (this.host.closeError) return this.host.closeError;
    return false;
  }

  /** end(): queue the FIN; the callback ('finish') waits until everything is acknowledged. */
  final(cb: Callback): void {
    if (this.epoch.rejected || this._rejected) {
      cb(new ZeroRTTRejectedError());
      return;
    }
    if (this._writeCanceled) {
      cb();
      return;
    }
    if (this._writeError) {
      // A Duplex reads on; it is destroyed with the error once reading is over (settle()).
      if (this.hasReceive) this._pendingFinal = cb;
      else cb(this._writeError);
      return;
    }
    if (!this.alive) {
      cb(this.host.closeError ?? streamClosedError());
      return;
    }
    this.streams.end(this.id);
    this._finQueued = true;
    this._pendingFinal = cb;
    this.host.kick();
  }

  /** RFC 9000 §3.1: all data and the FIN acknowledged: 'finish'. */
  onDelivered(): void {
    this._delivered = true;
    this.takePendingFinal()?.();
  }

  /** Push in-order data into `readable` while it wants more. */
  pump(readable: Readable): void {
    if (!this._wantRead || this._readEnded) return;
    if (!this.alive && !this._readAfterClose) return;
    let consumed = false;
    for (;;) {
      const r = this.streams.read(this.id);
      if (!r) break;
      consumed = true;
      if (r.data.length > 0 && !readable.push(r.data)) this._wantRead = false;
      if (r.fin) {
        this._readEnded = true;
        readable.push(null);
        break;
      }
      if (!this._wantRead) break;
    }
    // Reading frees flow-control credit: a MAX_STREAM_DATA/MAX_DATA may be due.
    if (consumed && this.alive) this.host.kick();
  }

  cancelRead(code: number): boolean {
    checkCode(code, 'cancelRead');
    if (!this.alive || this._readEnded) return false;
    this.streams.stopSending(this.id, code);
    this._readEnded = true;
    this._readCanceled = true;
    this.host.kick();
    return true;
  }

  cancelWrite(code: number): boolean {
    checkCode(code, 'cancelWrite');
    if (!this.alive || this._writeCanceled || this._writeError || this._delivered) return false;
    // RFC 9000 §3.1: a reset is allowed in Ready, Send and Data Sent (after the FIN too).
    this.streams.resetStream(this.id, code);
    this._writeCanceled = true;
    this.host.kick();
    const cb = this.takePendingWrite();
    cb?.();
    this.takePendingFinal()?.();
    return true;
  }

  /** Why a write() or end() call on this stream object fails at once, if it does. */
  callRefusal(destroyed: boolean): Error | undefined {
    if (this._rejected) return new ZeroRTTRejectedError();
    if (destroyed) return this._endedBy ?? streamClosedError();
    // The peer stopped reading a Duplex that reads on: writes fail without destroying it.
    if (this._writeError && this.hasReceive) return this._writeError;
    return undefined;
  }
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
        this._finQueued = true;
      }
      if (this.hasSend && !this.writeDone) this.streams.resetStream(this.id, code);
      if (this.hasReceive && !this._readEnded) this.streams.stopSending(this.id, code);
      this.host.kick();
    }
    if (this.hasSend && !this.writeDone) this._writeCanceled = true;
    this._readEnded = true;
    this._pendingFinal = undefined;
    const cb = this.takePendingWrite();
    cb?.(err ?? this._closeError ?? streamClosedError());
    this.wakeReader();
  }

  onWritable(): void {
    this.writes.onWritable();
  }
}
