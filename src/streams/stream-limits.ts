/**
 * Stream count limits (RFC 9000 §4.6), one instance per direction type (bidirectional / unidirectional).
 *
 * LocalStreamLimit: streams we open, under the peer's MAX_STREAMS; STREAMS_BLOCKED when exhausted.
 * PeerStreamLimit: streams the peer opens, checked against what we advertised; the limit is raised
 * (MAX_STREAMS) as peer streams close, so the peer can keep `initial` streams open at any time.
 */
import { MAX_STREAMS_LIMIT } from './stream-id.js';

export class LocalStreamLimit {
  private _limit: number;
  private _next = 0;
  private _blockedPending = false;
  private blockedReportedAt = -1;

  constructor(limit: number) {
    this._limit = Math.min(limit, MAX_STREAMS_LIMIT);
  }

  /** Cumulative number of streams the peer allows us to open. */
  get limit(): number {
    return this._limit;
  }

  /** Number of streams opened so far (the index of the next one). */
  get next(): number {
    return this._next;
  }

  /** A STREAMS_BLOCKED frame should be sent. */
  get blockedPending(): boolean {
    return this._blockedPending;
  }

  /** The index of a newly opened stream, or undefined when the limit is reached (queues STREAMS_BLOCKED). */
  tryOpen(): number | undefined {
    if (this._next < this._limit) return this._next++;
    // RFC 9000 §4.6: an endpoint unable to open a stream SHOULD send STREAMS_BLOCKED (once per limit).
    if (this.blockedReportedAt !== this._limit) {
      this.blockedReportedAt = this._limit;
      this._blockedPending = true;
    }
    return undefined;
  }

  /** RFC 9000 §19.11: MAX_STREAMS that does not increase the limit is ignored. Returns whether it grew. */
  raise(limit: number): boolean {
    if (limit <= this._limit) return false;
    this._limit = Math.min(limit, MAX_STREAMS_LIMIT);
    this._blockedPending = false;
    return true;
  }

  /**
   * The pending STREAMS_BLOCKED is settled: sent, or no longer accurate (RFC 9000 §19.14: it carries
   * the limit at which we are blocked).
   */
  onBlockedSettled(): void {
    this._blockedPending = false;
  }

  /** A STREAMS_BLOCKED carrying `value` was lost: send it again if it is still accurate (§13.3). */
  onBlockedLost(value: number): void {
    if (this.isBlockedAt(value)) this._blockedPending = true;
  }

  /** Whether a STREAMS_BLOCKED carrying `value` is still accurate (retransmission after loss). */
  isBlockedAt(value: number): boolean {
    return this._limit === value && this._next >= this._limit;
  }
}

export class PeerStreamLimit {
  private _limit: number;
  private _next = 0;
  private _closed = 0;
  private _resendPending = false;
  private readonly initial: number;

  constructor(initial: number) {
    this.initial = Math.min(initial, MAX_STREAMS_LIMIT);
    this._limit = this.initial;
  }

  /** Cumulative number of streams the peer may open (the largest value we advertised). */
  get limit(): number {
    return this._limit;
  }

  /** Number of peer streams created so far (explicitly or implicitly, RFC 9000 §3.2). */
  get next(): number {
    return this._next;
  }

  /** Number of peer streams that closed and were freed. */
  get closed(): number {
    return this._closed;
  }

  /** The last advertised value must be sent again (a MAX_STREAMS frame was lost). */
  get resendPending(): boolean {
    return this._resendPending;
  }

  /** Streams currently open (created and not yet freed). */
  get openCount(): number {
    return this._next - this._closed;
  }

  /** RFC 9000 §4.6: a stream index at or above the advertised limit is a STREAM_LIMIT_ERROR. */
  allows(index: number): boolean {
    return index < this._limit;
  }

  /** The peer's streams up to index `index` exist now (RFC 9000 §3.2: opened in order). */
  onOpenedUpTo(index: number): void {
    this._next = index + 1;
  }

  onClosed(): void {
    this._closed++;
  }

  /** The value the next MAX_STREAMS would carry. */
  get desiredLimit(): number {
    return Math.min(this._closed + this.initial, MAX_STREAMS_LIMIT);
  }

  /** A MAX_STREAMS frame should be sent (credit returned by closed streams, or a lost frame). */
  get updateDue(): boolean {
    return this._resendPending || this.desiredLimit > this._limit;
  }

  /** Advertises the desired limit; returns the value for the MAX_STREAMS frame. */
  commitUpdate(): number {
    if (this.desiredLimit > this._limit) this._limit = this.desiredLimit;
    this._resendPending = false;
    return this._limit;
  }

  onLost(value: number): void {
    if (value === this._limit) this._resendPending = true;
  }
}
