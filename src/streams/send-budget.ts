/**
 * The send budgets of one StreamManager (issue 10, defect 5): each stream may hold sendBufferSize
 * unacknowledged bytes, all streams together connectionSendBufferSize. A writer that finds no room
 * is parked and told 'writable' once its own acknowledgments, or room in the connection budget,
 * let it write again. What a connection holds for a peer that does not read stays bounded however
 * many streams write.
 *
 * Below connectionSendBufferSize the connection budget follows the path (issue 13): twice what the
 * path carries without a queue (recovery/unqueued-window.ts), at least one stream's sendBufferSize.
 * Twice: what is in flight plus as much again ready for the window's next round trip. Ten streams
 * that each filled their own megabyte kept 8 MiB written ahead on a path that carried a tenth of it;
 * those bytes waited long enough to leave the CPU caches and V8's young generation, and uploads on
 * ten streams took ~9% more time and client CPU than the budget that follows the path.
 */

import { addTo, sharedEmptySet } from '../util/shared-empty-set.js';
import type { SendStream } from './send-stream.js';
import type { SendingEntry } from './stream-entry.js';

export class SendBudget {
  /** Sum of every stream's unackedBytes: what this connection holds for the peer. */
  private queued = 0;
  /** Streams whose writes wait for room in the connection's budget (shared empty set until one does). */
  private waiters = sharedEmptySet<SendingEntry>();

  constructor(
    /** Per-stream bound on unacknowledged bytes. */
    private readonly streamLimit: number,
    /** Bound on the unacknowledged bytes of all streams together. */
    private readonly connectionLimit: number,
    /** A parked stream may write again. */
    private readonly onWritable: (entry: SendingEntry) => void,
    /** Bytes the path carries without a queue; absent: the budget is connectionLimit. */
    private readonly pathCapacity?: () => number,
  ) {}

  /** The connection budget now: 2 x the path's capacity within [streamLimit, connectionLimit]. */
  private get connectionBudget(): number {
    const capacity = this.pathCapacity === undefined ? Number.POSITIVE_INFINITY : this.pathCapacity();
    // NaN from a broken estimate must not stop every write: it counts as no estimate.
    const follow = capacity >= 0 ? 2 * capacity : Number.POSITIVE_INFINITY;
    return Math.min(this.connectionLimit, Math.max(this.streamLimit, follow));
  }

  /** Bytes all streams hold until the peer acknowledges them. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** A stream's unacknowledged bytes changed by `delta` (written, acknowledged, reset). */
  account(delta: number): void {
    this.queued += delta;
  }

  /** Whether `send` and the connection are within their budgets (write()'s answer). */
  within(send: SendStream): boolean {
    return send.unackedBytes <= this.streamLimit && this.queued <= this.connectionBudget;
  }

  /** Bytes `send` may take now: what both budgets leave (may be negative). */
  room(send: SendStream): number {
    return Math.min(this.streamLimit - send.unackedBytes, this.connectionBudget - this.queued);
  }

  /** The stream waits for 'writable': from its own acks, or from room in the connection budget. */
  park(entry: SendingEntry): void {
    entry.send.waitForWritable();
    this.waiters = addTo(this.waiters, entry);
  }

  /** The stream no longer waits (reset, closed). */
  forget(entry: SendingEntry): void {
    this.waiters.delete(entry);
  }

  /**
   * Room in the connection budget worth waking writers for: a quarter of it, at most 64 KiB, so
   * that 100 parked streams are not woken for every acknowledged packet.
   */
  private get connectionHasRoom(): boolean {
    const budget = this.connectionBudget;
    const room = budget - this.queued;
    return room > 0 && room >= Math.min(budget / 4, 64 * 1024);
  }

  /** Tell a parked stream it may write again, if both its own and the connection budget allow. */
  maybeWritable(entry: SendingEntry): void {
    const send = entry.send;
    if (!send.needWritable || !send.canWrite || entry.closed) {
      this.waiters.delete(entry);
      return;
    }
    if (send.unackedBytes > this.streamLimit || !this.connectionHasRoom) return;
    send.onWritableSignaled();
    this.waiters.delete(entry);
    this.onWritable(entry);
  }

  /** The connection budget has room again: wake the streams that wait for it, oldest first. */
  wake(): void {
    if (this.waiters.size === 0 || !this.connectionHasRoom) return;
    for (const entry of [...this.waiters]) this.maybeWritable(entry);
  }
}
