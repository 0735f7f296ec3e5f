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
import type { StreamEvent } from '../streams/stream-manager.js';
import type { LazyError } from './close-errors.js';
import { type Callback, StreamCore, type StreamHost } from './stream-core.js';
import { applyEvent, destroyWith, failStream, reportAbort, settle } from './stream-direction-ends.js';
import { dropUnobservedError } from './stream-errors.js';
import { readChunks } from './stream-iterator.js';

export type { StreamHost } from './stream-core.js';

type WriteCallback = (error: Error | null | undefined) => void;

/**
 * The application now holds the stream (acceptStream() resolved, or a 'stream' listener got it).
 * It may add its listeners in a promise continuation, which runs after process.nextTick, where
 * Node emits 'error': so the stream counts as accepted, and a held-back error is delivered, only on
 * the next turn of the event loop.
 */
export function markAccepted(stream: AnyQuicStream): void {
  const core = stream.core;
  if (!core.beginAccept()) return;
  setImmediate(() => {
    const err = core.completeAccept();
    if (err) destroyWith(core, stream, err);
    else if (stream instanceof QuicStream) {
      reportAbort(core, stream);
      settle(core, stream);
    }
  });
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
    this.core.onRead(this);
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
  _close(err: Error | LazyError): void {
    failStream(this.core, this, err, false, true);
  }

  /** @internal 0-RTT rejected or the connection closed: fail once with `err`. */
  _fail(err: Error | LazyError, rejected: boolean): void {
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
  _close(err: Error | LazyError): void {
    failStream(this.core, this, err, false, true);
  }

  /** @internal */
  _fail(err: Error | LazyError, rejected: boolean): void {
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
    this.core.onRead(this);
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
  _close(err: Error | LazyError): void {
    failStream(this.core, this, err, false, true);
  }

  /** @internal */
  _fail(err: Error | LazyError, rejected: boolean): void {
    failStream(this.core, this, err, rejected, false);
  }
}

export type AnyQuicStream = QuicStream | QuicSendStream | QuicReceiveStream;
