/**
 * How each direction of a stream object ends (docs/streams.md, "One stream, two directions"): the
 * core's stream events applied to it, a direction aborted by the peer (its reset, its STOP_SENDING),
 * the end of the connection or of the 0-RTT attempt, and when a Duplex whose two directions are both
 * over is destroyed. Errors the network causes reach observers of the stream only
 * (src/node/stream-errors.ts); a stream not yet accepted keeps its error until it is handed out.
 */

import { Duplex, Readable, type Writable } from 'node:stream';
import { ConnectionClosedError, StreamResetError } from '../errors/public-errors.js';
import type { StreamEvent } from '../streams/stream-manager.js';
import type { LazyError } from './close-errors.js';
import type { StreamCore } from './stream-core.js';

export type Side = Readable | Writable;

/** Apply a core stream event to a stream object. */
export function applyEvent(core: StreamCore, side: Side, ev: StreamEvent): void {
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
      core.onPeerReset(err);
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
  core.onWritingFailed(err);
  const cb = core.takePendingWrite();
  if (!core.hasReceive) {
    // A send-only stream has nothing else: it ends with the error.
    const fin = core.takePendingFinal();
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
  core.recordAbort(err);
  core.wakeReader();
  if (!(side instanceof Duplex)) {
    destroyWith(core, side, err);
    return;
  }
  reportAbort(core, side);
  settle(core, side);
}

/** Tell the 'error' listeners of a Duplex (once accepted) that one direction was aborted. */
export function reportAbort(core: StreamCore, side: Duplex): void {
  const err = core.abortError;
  if (err === undefined || !core.accepted || side.destroyed || core.reported !== undefined) return;
  core.markReported(err);
  side.emit('error', err);
}

/** Destroy a Duplex whose two directions are both over, with the peer's error if there was one. */
export function settle(core: StreamCore, side: Duplex): void {
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
 * With `quiet` (a clean local close), what fails is destroyed without an 'error' event. `err` may be
 * a function that builds the error: called only if the stream needs it (close-errors.ts).
 */
export function failStream(
  core: StreamCore,
  side: Side,
  errOrBuild: Error | LazyError,
  rejected: boolean,
  quiet: boolean,
): void {
  if (side.destroyed) return;
  const build = typeof errOrBuild === 'function' ? errOrBuild : () => errOrBuild;
  if (rejected) {
    const err = build();
    core.markRejected();
    const cb = core.takePendingWrite();
    cb?.(err);
    destroyWith(core, side, err);
    return;
  }
  // The peer closed cleanly (NO_ERROR) after our FIN went out: it is done with the stream, so the
  // writing counts as finished even if the acknowledgment never came.
  if (core.finQueued && !core.delivered && core.allSent && isCleanRemoteClose(errOrBuild)) core.onDelivered();
  const writeOpen = core.hasSend && !(core.delivered || core.writeCanceled || core.writeError);
  const readOpen = core.hasReceive && !(core.readEnded || core.readError);
  const readOn = readOpen && core.receiveComplete;
  if (readOn) core.keepReadingAfterClose();
  if (!writeOpen && (!readOpen || readOn)) return;
  const err = build();
  if (readOn && side instanceof Duplex) {
    // Reading goes on; the writing direction fails (quietly on a clean local close).
    if (quiet) core.markReported(err);
    failWriting(core, side, err);
    return;
  }
  if (quiet && !core.hasPendingFinal) {
    closeQuietly(core, side, err);
    return;
  }
  const cb = core.takePendingWrite();
  cb?.(err);
  // A direction the peer aborted earlier was reported already: its error stays the stream's error.
  destroyWith(core, side, core.abortError ?? err);
}

function isCleanRemoteClose(err: Error | LazyError): boolean {
  if (typeof err === 'function') return err.cleanRemoteClose === true;
  return err instanceof ConnectionClosedError && err.remote && err.application && err.errorCode === 0;
}

/** Destroy with `err`, or keep it for when the application accepts the stream (see `accepted`). */
export function destroyWith(core: StreamCore, side: Side, err: Error): void {
  if (side.destroyed) return;
  if (!core.accepted) {
    core.deferError(err);
    return;
  }
  core.markEndedBy(err);
  side.destroy(err);
}

/** A clean local close: pending writes fail, the stream is destroyed without an 'error' event. */
function closeQuietly(core: StreamCore, side: Side, err: Error): void {
  if (side.destroyed) return;
  // destroy() marks the stream destroyed before _destroy hands `err` to a pending write callback,
  // so that callback sees the error but no 'error' event is emitted.
  core.markClosedQuietly(err);
  side.destroy();
}
