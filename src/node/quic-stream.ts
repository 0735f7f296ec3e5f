/**
 * QUIC streams as Node streams: `QuicStream` (bidirectional, a Duplex), `QuicSendStream` (a
 * Writable) and `QuicReceiveStream` (a Readable). Writes map to the stream's send buffer and
 * flow control (backpressure until the core reports 'writable'); reads consume in-order data, which
 * is what opens the peer's flow-control window again.
 *
 * Each stream object holds its *epoch* (src/connection/stream-epoch.ts), never just an ID: every
 * operation goes to that epoch's StreamManager. After 0-RTT is rejected the epoch is dead: writes
 * and reads fail with ZeroRTTRejectedError, and cancelRead/cancelWrite/destroy touch nothing, so a
 * stream of a rejected attempt can never affect the stream with the same ID on the next connection.
 */
import { Duplex, Readable, Writable } from 'node:stream';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import {
  type QuicError,
  QuicUsageError,
  StreamResetError,
  ZeroRTTRejectedError,
} from '../errors/public-errors.js';
import type { StreamEvent } from '../streams/stream-manager.js';
import { dropUnobservedError } from './stream-errors.js';

/** What a stream needs from its connection. */
export interface StreamHost {
  /** Wake the I/O loop: there may be something to send. */
  kick(): void;
  /** The error that ended the connection, if it ended. */
  readonly closeError: QuicError | undefined;
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

/**
 * The logic shared by the three stream classes: one direction each, or both. It talks to the
 * StreamManager of the stream's own epoch only.
 */
class StreamCore {
  /** The epoch was rejected (0-RTT): the stream is dead. */
  rejected = false;
  readEnded = false;
  /** FIN queued or the send side reset: nothing more goes out. */
  writeDone = false;
  writeCanceled = false;
  /** The peer asked us to stop (STOP_SENDING): further writes fail with this. */
  writeError: Error | undefined;
  pendingWrite: Callback | undefined;
  /**
   * What of the chunk being written the core has not taken yet (a view of the application's buffer,
   * not a copy): it goes in as the send budgets make room ('writable'), so tsquic never holds more
   * than sendBufferSize per stream and connectionSendBufferSize per connection (issue 10).
   */
  private pendingChunk: Buffer | undefined;
  wantRead = false;

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

  write(chunk: Buffer, cb: Callback): void {
    const refused = this.refusal();
    if (refused !== false) {
      cb(refused);
      return;
    }
    this.pendingChunk = chunk;
    this.pendingWrite = cb;
    this.flushChunk();
  }

  /** Hand the core as much of the pending chunk as it takes; the callback runs once it took it all. */
  private flushChunk(): void {
    const chunk = this.pendingChunk;
    if (chunk === undefined) return;
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

  /**
   * Why a write cannot go to the network: an error to fail it with, undefined to drop it silently
   * (after cancelWrite(), what is still queued is discarded), or false when it may proceed.
   */
  private refusal(): Error | undefined | false {
    if (this.epoch.rejected || this.rejected) return new ZeroRTTRejectedError();
    if (this.writeError) return this.writeError;
    if (this.writeCanceled) return undefined;
    if (this.host.closeError) return this.host.closeError;
    return false;
  }

  final(cb: Callback): void {
    if (this.epoch.rejected || this.rejected) {
      cb(new ZeroRTTRejectedError());
      return;
    }
    if (this.writeError) {
      cb(this.writeError);
      return;
    }
    if (!this.writeCanceled && this.alive) {
      this.streams.end(this.id);
      this.host.kick();
    }
    this.writeDone = true;
    cb();
  }

  /** Push in-order data into `readable` while it wants more. */
  pump(readable: Readable): void {
    if (!this.wantRead || this.readEnded || !this.alive) return;
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
    if (consumed) this.host.kick();
  }

  cancelRead(code: number): boolean {
    checkCode(code, 'cancelRead');
    if (!this.alive || this.readEnded) return false;
    this.streams.stopSending(this.id, code);
    this.readEnded = true;
    this.host.kick();
    return true;
  }

  cancelWrite(code: number): boolean {
    checkCode(code, 'cancelWrite');
    if (!this.alive || this.writeDone) return false;
    this.streams.resetStream(this.id, code);
    this.writeCanceled = true;
    this.writeDone = true;
    this.host.kick();
    const cb = this.takePendingWrite();
    cb?.();
    return true;
  }

  /** Set by a clean local close: what a pending write is told. */
  closeError: Error | undefined;
  /**
   * The error tsquic ended the stream with (a network error, or the connection's clean close): what
   * a write() or end() after that is told, rather than Node's generic ERR_STREAM_DESTROYED.
   */
  endedBy: Error | undefined;

  /** Why a write() or end() call on this stream object fails at once, if it does. */
  callRefusal(destroyed: boolean): Error | undefined {
    if (this.rejected) return new ZeroRTTRejectedError();
    return destroyed ? this.endedBy : undefined;
  }
  /**
   * False for a peer-opened stream the application has not accepted yet: it has no 'error'
   * listener, so an error that would destroy it waits in `deferredError` until it is handed out.
   */
  accepted = true;
  accepting = false;
  deferredError: Error | undefined;

  /** On destroy(): give up whatever direction is unfinished (code 0). */
  abandon(err: Error | null): void {
    if (this.alive) {
      if (this.hasSend && !this.writeDone) this.streams.resetStream(this.id, 0);
      if (this.hasReceive && !this.readEnded) this.streams.stopSending(this.id, 0);
      this.host.kick();
    }
    this.writeDone = true;
    this.readEnded = true;
    const cb = this.takePendingWrite();
    cb?.(err ?? this.closeError ?? new QuicUsageError('ERR_STREAM_DESTROYED', 'stream destroyed'));
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

/** Apply a core stream event to a stream object. */
function applyEvent(core: StreamCore, side: Readable | Writable, ev: StreamEvent): void {
  switch (ev.type) {
    case 'readable':
      if (side instanceof Readable) core.pump(side);
      return;
    case 'writable':
      core.onWritable();
      return;
    case 'reset':
      // The peer reset its sending side: our reads fail with its code.
      core.readEnded = true;
      destroyWith(core, side, new StreamResetError(ev.errorCode, 'reset', core.id));
      return;
    case 'stop-sending': {
      // The peer stopped reading; the core has reset our sending side (RFC 9000 §3.5).
      const err = new StreamResetError(ev.errorCode, 'stop-sending', core.id);
      core.writeDone = true;
      core.writeError = err;
      const cb = core.takePendingWrite();
      if (cb) cb(err);
      else if (!core.hasReceive) destroyWith(core, side, err);
      return;
    }
    default:
      return;
  }
}

/**
 * 0-RTT rejected, or the connection ended: pending writes fail with `err` and the stream is destroyed
 * with it, unless every direction it has had already finished cleanly (a rejection always fails it).
 */
function failStream(core: StreamCore, side: Readable | Writable, err: Error, rejected: boolean): void {
  if (rejected) core.rejected = true;
  const cb = core.takePendingWrite();
  cb?.(err);
  const finished = (!core.hasSend || core.writeDone) && (!core.hasReceive || core.readEnded);
  if (rejected || !finished) destroyWith(core, side, err);
}

/** Destroy with `err`, or keep it for when the application accepts the stream (see `accepted`). */
function destroyWith(core: StreamCore, side: Readable | Writable, err: Error): void {
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
  });
}

/** A clean local close: pending writes fail, the stream is destroyed without an 'error' event. */
function closeQuietly(core: StreamCore, side: Readable | Writable, err: Error): void {
  if (side.destroyed) return;
  // destroy() marks the stream destroyed before _destroy hands `err` to a pending write callback,
  // so that callback sees the error but no 'error' event is emitted.
  core.closeError = err;
  core.endedBy ??= err;
  side.destroy();
}

/**
 * write()/end() on a stream tsquic has ended: the callback gets the reason (ZeroRTTRejectedError on a
 * stream of a rejected 0-RTT attempt; the peer's reset or the connection's end otherwise). Like
 * Node's own write after destroy, nothing is emitted.
 */
function refusedCall(args: unknown[], err: Error): boolean {
  const cb = args.find((a): a is Callback => typeof a === 'function');
  if (cb) process.nextTick(cb, err);
  return false;
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
  }

  /** STOP_SENDING: we will read nothing more; the readable side ends. */
  cancelRead(code: number): void {
    if (this.core.cancelRead(code) && !this.readableEnded) this.push(null);
  }

  /** RESET_STREAM: abandon what was not yet delivered; the writable side finishes. */
  cancelWrite(code: number): void {
    if (this.core.cancelWrite(code) && !this.writableEnded) super.end();
  }

  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const refused = this.core.callRefusal(this.destroyed);
    if (refused) return refusedCall([encoding, cb], refused);
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

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
    this.core.abandon(err);
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
    closeQuietly(this.core, this, err);
  }

  /** @internal 0-RTT rejected or the connection closed: fail once with `err`. */
  _fail(err: Error, rejected: boolean): void {
    failStream(this.core, this, err, rejected);
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

  cancelWrite(code: number): void {
    if (this.core.cancelWrite(code) && !this.writableEnded) super.end();
  }

  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const refused = this.core.callRefusal(this.destroyed);
    if (refused) return refusedCall([encoding, cb], refused);
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

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
    this.core.abandon(err);
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
    closeQuietly(this.core, this, err);
  }

  /** @internal */
  _fail(err: Error, rejected: boolean): void {
    failStream(this.core, this, err, rejected);
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

  cancelRead(code: number): void {
    if (this.core.cancelRead(code) && !this.readableEnded) this.push(null);
  }

  override _read(): void {
    this.core.wantRead = true;
    this.core.pump(this);
  }

  override _destroy(err: Error | null, cb: Callback): void {
    this.core.abandon(err);
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
    closeQuietly(this.core, this, err);
  }

  /** @internal */
  _fail(err: Error, rejected: boolean): void {
    failStream(this.core, this, err, rejected);
  }
}

export type AnyQuicStream = QuicStream | QuicSendStream | QuicReceiveStream;
