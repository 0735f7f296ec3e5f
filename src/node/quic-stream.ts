/**
 * QUIC streams as Node streams: `QuicStream` (bidirectional, a Duplex), `QuicSendStream` (a
 * Writable) and `QuicReceiveStream` (a Readable). Writes map to the stream's send buffer and
 * flow control (backpressure until the core reports 'writable'); reads consume in-order data, which
 * is what opens the peer's flow-control window again.
 *
 * QUIC ends each direction on its own (RFC 9000 §3): a FIN or RESET_STREAM ends the sending part,
 * STOP_SENDING asks the peer to end it, and the other direction goes on. docs/streams.md ("One
 * stream, two directions") gives the mapping onto a Duplex that this file implements:
 * - 'finish' (and so pipeline()) comes when every byte and the FIN are acknowledged (Data Recvd);
 * - the end of reading, a peer's RESET_STREAM and a peer's STOP_SENDING end one direction only;
 * - the stream is destroyed when both directions are over, with the peer's error if one was aborted.
 *
 * Each stream object holds its *epoch* (src/connection/stream-epoch.ts), never just an ID: every
 * operation goes to that epoch's StreamManager. After 0-RTT is rejected the epoch is dead: writes
 * and reads fail with ZeroRTTRejectedError, and cancelRead/cancelWrite/destroy touch nothing, so a
 * stream of a rejected attempt can never affect the stream with the same ID on the next connection.
 */
import { Duplex, Readable, Writable } from 'node:stream';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import {
  ConnectionClosedError,
  type QuicError,
  QuicUsageError,
  StreamResetError,
  ZeroRTTRejectedError,
} from '../errors/public-errors.js';
import { ReceiveState, SendState, type StreamEvent } from '../streams/stream-manager.js';
import { dropUnobservedError } from './stream-errors.js';

/** What a stream needs from its connection. */
export interface StreamHost {
  /** Wake the I/O loop: there may be something to send. */
  kick(): void;
  /** The error that ended the connection, if it ended. */
  readonly closeError: QuicError | undefined;
  /** The code of aborts the application gave no code for (the `defaultStreamErrorCode` option). */
  readonly defaultErrorCode: number;
}

type Callback = (err?: Error | null) => void;
type WriteCallback = (error: Error | null | undefined) => void;

const MAX_ERROR_CODE = 2 ** 62 - 1;

function checkCode(code: number, what: string): void {
  if (!Number.isSafeInteger(code) || code < 0 || code > MAX_ERROR_CODE) {
    throw new QuicUsageError(
      'ERR_QUIC_INVALID_ERROR_CODE',
      `${what}: error code must be an integer in [0, 2^62)`,
    );
  }
}

function streamClosedError(): QuicUsageError {
  return new QuicUsageError('ERR_STREAM_DESTROYED', 'the stream is closed');
}

/**
 * The logic shared by the three stream classes: one direction each, or both. It talks to the
 * StreamManager of the stream's own epoch only.
 */
class StreamCore {
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
  pendingWrite: Callback | undefined;
  /**
   * What of the chunk being written the core has not taken yet (a view of the application's buffer,
   * not a copy): it goes in as the send budgets make room ('writable'), so tsquic never holds more
   * than sendBufferSize per stream and connectionSendBufferSize per connection (issue 10).
   */
  private pendingChunk: Buffer | undefined;
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
  ) {}

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
    this.pendingChunk = chunk;
    this.pendingWrite = cb;
    this.pendingWriteBytes = chunk.length;
    this.flushChunk();
  }

  /** Hand the core as much of the pending chunk as it takes; the callback runs once it took it all. */
  private flushChunk(): void {
    const chunk = this.pendingChunk;
    if (chunk === undefined) return;
    // The core reset our sending part (the peer's STOP_SENDING) before the shell heard of it: the
    // 'stop-sending' event that follows settles this write; failing it here would destroy a Duplex
    // whose reading goes on.
    if (!this.streams.canWrite(this.id)) return;
    let taken: number;
    try {
      taken = this.streams.writeSome(this.id, chunk);
    } catch (err) {
      this.takePendingWrite()?.(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (taken > 0) this.host.kick();
    if (taken === chunk.length) this.takePendingWrite()?.();
    else this.pendingChunk = chunk.subarray(taken);
  }

  /** The pending write's callback, leaving nothing pending (what is left of its chunk is dropped). */
  takePendingWrite(): Callback | undefined {
    const cb = this.pendingWrite;
    this.pendingWrite = undefined;
    this.pendingChunk = undefined;
    return cb;
  }

  /** The size of the chunk of `pendingWrite` (still in Node's writableLength until its callback runs). */
  pendingWriteBytes = 0;

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
    const inCore = this.pendingWrite ? this.pendingWriteBytes : 0;
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
        if (this.pendingChunk !== undefined) this.streams.write(this.id, this.pendingChunk);
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
    if (this.pendingChunk === undefined) {
      this.takePendingWrite()?.();
      return;
    }
    // Reset since the event was queued (the peer's STOP_SENDING in the same batch): the
    // 'stop-sending' event that follows fails the write with the peer's code.
    if (this.streams.canWrite(this.id)) this.flushChunk();
  }
}

type Side = Readable | Writable;

/** Apply a core stream event to a stream object. */
function applyEvent(core: StreamCore, side: Side, ev: StreamEvent): void {
  switch (ev.type) {
    case 'readable':
      if (side instanceof Readable) core.pump(side);
      return;
    case 'writable':
      core.onWritable();
      return;
    case 'send-done':
      core.onDelivered();
      return;
    case 'reset': {
      // The peer reset its sending part: reading fails with its code; writing goes on.
      const err = new StreamResetError(ev.errorCode, 'reset', core.id);
      core.readEnded = true;
      core.readError = err;
      endDirection(core, side, err);
      return;
    }
    case 'stop-sending':
      // The peer stopped reading; the core has reset our sending part (RFC 9000 §3.5).
      failWriting(core, side, new StreamResetError(ev.errorCode, 'stop-sending', core.id));
      return;
    default:
      return;
  }
}

/** Writing is over because of the peer or the connection: writers are told; reading goes on. */
function failWriting(core: StreamCore, side: Side, err: Error): void {
  core.writeError = err;
  const cb = core.takePendingWrite();
  if (!core.hasReceive) {
    // A send-only stream has nothing else: it ends with the error.
    const fin = core.pendingFinal;
    core.pendingFinal = undefined;
    if (cb) cb(err);
    else if (fin) fin(err);
    else destroyWith(core, side, err);
    return;
  }
  // A Duplex: failing the pending write would destroy it, reading included. The write completes
  // (its data is dropped), later writes fail with `err`, and 'error' listeners are told now.
  cb?.();
  endDirection(core, side, err);
}

/**
 * One direction of the stream ended with `err`. A one-direction stream is destroyed with it. A
 * Duplex reports it to its 'error' listeners (observers of the whole stream, such as pipeline())
 * without destroying itself: the other direction goes on, and the stream is destroyed with `err`
 * when that one is over too (settle()).
 */
function endDirection(core: StreamCore, side: Side, err: Error): void {
  core.abortError ??= err;
  core.wakeReader?.();
  if (!(side instanceof Duplex)) {
    destroyWith(core, side, err);
    return;
  }
  reportAbort(core, side);
  settle(core, side);
}

/** Tell the 'error' listeners of a Duplex (once accepted) that one direction was aborted. */
function reportAbort(core: StreamCore, side: Duplex): void {
  const err = core.abortError;
  if (err === undefined || !core.accepted || side.destroyed || core.reported !== undefined) return;
  core.reported = err;
  side.emit('error', err);
}

/** Destroy a Duplex whose two directions are both over, with the peer's error if there was one. */
function settle(core: StreamCore, side: Duplex): void {
  if (side.destroyed) return;
  const readOver = side.readableEnded || core.readError !== undefined || core.readCanceled;
  const writeOver = side.writableFinished || core.writeCanceled || core.writeError !== undefined;
  if (!readOver || !writeOver) return;
  if (core.abortError) destroyWith(core, side, core.abortError);
  else if (core.readCanceled) side.destroy();
}

/**
 * 0-RTT rejected, or the connection ended: each direction still open fails with `err`, except a
 * receiving direction that already has every byte and the FIN, which the application reads to the
 * end (the data is complete: a clean close must not lose what the peer acknowledged delivering).
 * With `quiet` (a clean local close), what fails is destroyed without an 'error' event.
 */
function failStream(core: StreamCore, side: Side, err: Error, rejected: boolean, quiet: boolean): void {
  if (side.destroyed) return;
  if (rejected) {
    core.rejected = true;
    const cb = core.takePendingWrite();
    cb?.(err);
    destroyWith(core, side, err);
    return;
  }
  // The peer closed cleanly (NO_ERROR) after our FIN went out: it is done with the stream, so the
  // writing counts as finished even if the acknowledgment never came.
  if (core.finQueued && !core.delivered && isCleanRemoteClose(err) && core.allSent) core.onDelivered();
  const writeOpen = core.hasSend && !(core.delivered || core.writeCanceled || core.writeError);
  const readOpen = core.hasReceive && !(core.readEnded || core.readError);
  const readOn = readOpen && core.receiveComplete;
  if (readOn) core.readAfterClose = true;
  if (!writeOpen && (!readOpen || readOn)) return;
  if (readOn && side instanceof Duplex) {
    // Reading goes on; the writing direction fails (quietly on a clean local close).
    if (quiet) core.reported = err;
    failWriting(core, side, err);
    return;
  }
  if (quiet && core.pendingFinal === undefined) {
    closeQuietly(core, side, err);
    return;
  }
  const cb = core.takePendingWrite();
  cb?.(err);
  // A direction the peer aborted earlier was reported already: its error stays the stream's error.
  destroyWith(core, side, core.abortError ?? err);
}

function isCleanRemoteClose(err: Error): boolean {
  return err instanceof ConnectionClosedError && err.remote && err.application && err.errorCode === 0;
}

/** Destroy with `err`, or keep it for when the application accepts the stream (see `accepted`). */
function destroyWith(core: StreamCore, side: Side, err: Error): void {
  if (side.destroyed) return;
  if (!core.accepted) {
    core.deferredError ??= err;
    return;
  }
  core.endedBy ??= err;
  side.destroy(err);
}

/**
 * The application now holds the stream (acceptStream() resolved, or a 'stream' listener got it).
 * It may add its listeners in a promise continuation, which runs after process.nextTick, where
 * Node emits 'error': so the stream counts as accepted, and a held-back error is delivered, only on
 * the next turn of the event loop.
 */
export function markAccepted(stream: AnyQuicStream): void {
  const core = stream.core;
  if (core.accepted || core.accepting) return;
  core.accepting = true;
  setImmediate(() => {
    core.accepted = true;
    const err = core.deferredError;
    if (err) destroyWith(core, stream, err);
    else if (stream instanceof QuicStream) {
      reportAbort(core, stream);
      settle(core, stream);
    }
  });
}

/** A clean local close: pending writes fail, the stream is destroyed without an 'error' event. */
function closeQuietly(core: StreamCore, side: Side, err: Error): void {
  if (side.destroyed) return;
  // destroy() marks the stream destroyed before _destroy hands `err` to a pending write callback,
  // so that callback sees the error but no 'error' event is emitted.
  core.closeError = err;
  core.endedBy ??= err;
  side.destroy();
}

/**
 * write()/end() on a stream tsquic has ended or that was destroyed: the callback gets the reason
 * (ZeroRTTRejectedError on a stream of a rejected 0-RTT attempt; the peer's reset or the
 * connection's end; ERR_STREAM_DESTROYED otherwise). Like Node's own write after destroy, nothing is
 * emitted.
 */
function refusedCall(args: unknown[], err: Error): boolean {
  const cb = args.find((a): a is Callback => typeof a === 'function');
  if (cb) process.nextTick(cb, err);
  return false;
}

/**
 * The stream's chunks for `for await`. Unlike Node's default iterator, the end of the loop ends
 * only the reading direction, so `for await (const c of s) s.write(c); s.end()` works: reaching the
 * end destroys nothing, and leaving the loop early (break, return, throw) sends STOP_SENDING with
 * the default code and leaves writing alone. A peer's reset throws its StreamResetError.
 */
async function* readChunks(stream: QuicStream | QuicReceiveStream): AsyncGenerator<Buffer, void, undefined> {
  const core = stream.core;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on('readable', poke);
  stream.on('end', poke);
  stream.on('close', poke);
  core.wakeReader = poke;
  let complete = false;
  try {
    for (;;) {
      if (core.rejected || core.epoch.rejected) throw stream.errored ?? new ZeroRTTRejectedError();
      if (core.readError) throw core.readError;
      if (stream.readableEnded) {
        complete = true;
        return;
      }
      if (stream.destroyed) throw stream.errored ?? core.endedBy ?? streamClosedError();
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) {
        yield chunk;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.off('readable', poke);
    stream.off('end', poke);
    stream.off('close', poke);
    if (core.wakeReader === poke) core.wakeReader = undefined;
    if (!complete && !stream.destroyed) stream.cancelRead(core.host.defaultErrorCode);
  }
}

export class QuicStream extends Duplex {
  readonly id: number;
  /** @internal */
  readonly core: StreamCore;

  /** @internal */
  constructor(epoch: StreamEpoch, id: number, host: StreamHost) {
    super({ allowHalfOpen: true });
    this.id = id;
    this.core = new StreamCore(epoch, id, host, true, true);
    this.once('end', () => settle(this.core, this));
    this.once('finish', () => settle(this.core, this));
  }

  /**
   * The peer opened this stream in 0-RTT data (RFC 9001 §4.6): what it carries could be a replay,
   * so act on it only if that is harmless (docs/0rtt.md). False for streams we opened.
   */
  get early(): boolean {
    return this.core.early;
  }

  /** STOP_SENDING: we will read nothing more; the readable side ends. Writing goes on. */
  cancelRead(code: number): void {
    if (this.core.cancelRead(code) && !this.readableEnded) this.push(null);
    settle(this.core, this);
  }

  /**
   * RESET_STREAM: abandon what was not yet delivered; the writable side finishes ('finish' after
   * cancelWrite() means "writing is over", not "delivered"). Reading goes on.
   */
  cancelWrite(code: number): void {
    if (this.core.cancelWrite(code) && !this.writableEnded) super.end();
    settle(this.core, this);
  }

  override [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return readChunks(this);
  }

  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const refused = this.core.callRefusal(this.destroyed);
    if (refused) return refusedCall([encoding, cb], refused);
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  /**
   * End writing: the FIN follows the data. 'finish' (and `cb`) come once the peer has acknowledged
   * every byte and the FIN.
   */
  override end(cb?: () => void): this;
  /** Write `chunk`, then end writing (see the first form). */
  override end(chunk: unknown, cb?: () => void): this;
  /** Write `chunk` in `encoding`, then end writing (see the first form). */
  override end(chunk: unknown, encoding: BufferEncoding, cb?: () => void): this;
  override end(...args: unknown[]): this {
    const refused = this.core.callRefusal(this.destroyed);
    if (refused) {
      refusedCall(args, refused);
      return this;
    }
    return (super.end as (...a: unknown[]) => this)(...args);
  }

  override _read(): void {
    this.core.wantRead = true;
    this.core.pump(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: Callback): void {
    this.core.write(chunk, cb);
  }

  override _final(cb: Callback): void {
    this.core.final(cb);
  }

  override _destroy(err: Error | null, cb: Callback): void {
    this.core.abandon(err, this.core.endedInCore(this));
    cb(err);
  }

  /** @internal A network error nobody listens to is not emitted (src/node/stream-errors.ts). */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (dropUnobservedError(this, event, args)) return false;
    // Already told when its direction ended: destroy() with it does not tell again.
    if (event === 'error' && args[0] === this.core.reported && this.destroyed) return false;
    return super.emit(event, ...args);
  }

  /** @internal */
  _onEvent(ev: StreamEvent): void {
    applyEvent(this.core, this, ev);
  }

  /** @internal The connection was closed cleanly by us: end without an error event. */
  _close(err: Error): void {
    failStream(this.core, this, err, false, true);
  }

  /** @internal 0-RTT rejected or the connection closed: fail once with `err`. */
  _fail(err: Error, rejected: boolean): void {
    failStream(this.core, this, err, rejected, false);
  }
}

export class QuicSendStream extends Writable {
  readonly id: number;
  /** @internal */
  readonly core: StreamCore;

  /** @internal */
  constructor(epoch: StreamEpoch, id: number, host: StreamHost) {
    super();
    this.id = id;
    this.core = new StreamCore(epoch, id, host, true, false);
  }

  /** RESET_STREAM: abandon what was not yet delivered; the stream finishes. */
  cancelWrite(code: number): void {
    if (this.core.cancelWrite(code) && !this.writableEnded) super.end();
  }

  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const refused = this.core.callRefusal(this.destroyed);
    if (refused) return refusedCall([encoding, cb], refused);
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  /**
   * End writing: the FIN follows the data. 'finish' (and `cb`) come once the peer has acknowledged
   * every byte and the FIN.
   */
  override end(cb?: () => void): this;
  /** Write `chunk`, then end writing (see the first form). */
  override end(chunk: unknown, cb?: () => void): this;
  /** Write `chunk` in `encoding`, then end writing (see the first form). */
  override end(chunk: unknown, encoding: BufferEncoding, cb?: () => void): this;
  override end(...args: unknown[]): this {
    const refused = this.core.callRefusal(this.destroyed);
    if (refused) {
      refusedCall(args, refused);
      return this;
    }
    return (super.end as (...a: unknown[]) => this)(...args);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: Callback): void {
    this.core.write(chunk, cb);
  }

  override _final(cb: Callback): void {
    this.core.final(cb);
  }

  override _destroy(err: Error | null, cb: Callback): void {
    this.core.abandon(err, this.core.endedInCore(this));
    cb(err);
  }

  /** @internal A network error nobody listens to is not emitted (src/node/stream-errors.ts). */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (dropUnobservedError(this, event, args)) return false;
    return super.emit(event, ...args);
  }

  /** @internal */
  _onEvent(ev: StreamEvent): void {
    applyEvent(this.core, this, ev);
  }

  /** @internal The connection was closed cleanly by us: end without an error event. */
  _close(err: Error): void {
    failStream(this.core, this, err, false, true);
  }

  /** @internal */
  _fail(err: Error, rejected: boolean): void {
    failStream(this.core, this, err, rejected, false);
  }
}

export class QuicReceiveStream extends Readable {
  readonly id: number;
  /** @internal */
  readonly core: StreamCore;

  /** @internal */
  constructor(epoch: StreamEpoch, id: number, host: StreamHost) {
    super();
    this.id = id;
    this.core = new StreamCore(epoch, id, host, false, true);
  }

  /**
   * The peer opened this stream in 0-RTT data (RFC 9001 §4.6): what it carries could be a replay,
   * so act on it only if that is harmless (docs/0rtt.md). False for streams we opened.
   */
  get early(): boolean {
    return this.core.early;
  }

  /** STOP_SENDING: we will read nothing more; the stream ends. */
  cancelRead(code: number): void {
    if (this.core.cancelRead(code) && !this.readableEnded) this.push(null);
  }

  override [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return readChunks(this);
  }

  override _read(): void {
    this.core.wantRead = true;
    this.core.pump(this);
  }

  override _destroy(err: Error | null, cb: Callback): void {
    this.core.abandon(err, false);
    cb(err);
  }

  /** @internal A network error nobody listens to is not emitted (src/node/stream-errors.ts). */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (dropUnobservedError(this, event, args)) return false;
    return super.emit(event, ...args);
  }

  /** @internal */
  _onEvent(ev: StreamEvent): void {
    applyEvent(this.core, this, ev);
  }

  /** @internal The connection was closed cleanly by us: end without an error event. */
  _close(err: Error): void {
    failStream(this.core, this, err, false, true);
  }

  /** @internal */
  _fail(err: Error, rejected: boolean): void {
    failStream(this.core, this, err, rejected, false);
  }
}

export type AnyQuicStream = QuicStream | QuicSendStream | QuicReceiveStream;
