/**
 * Stream count limits (RFC 9000 §4.6), one instance per direction type (bidirectional / unidirectional).
 *
 * LocalStreamLimit: streams we open, under the peer's MAX_STREAMS; STREAMS_BLOCKED when exhausted.
 * PeerStreamLimit: streams the peer opens, checked against what we advertised; the limit is raised
 * (MAX_STREAMS) as peer streams close, so the peer can keep `initial` streams open at any time.
 */
import { MAX_STREAMS_LIMIT } from './stream-id.js';

export class LocalStreamLimit {
  /** Cumulative number of streams the peer allows us to open. */
  limit: number;
  /** Number of streams opened so far (the index of the next one). */
  next = 0;
  /** A STREAMS_BLOCKED frame should be sent. */
  blockedPending = false;
  private blockedReportedAt = -1;

  constructor(limit: number) {
    this.limit = Math.min(limit, MAX_STREAMS_LIMIT);
  }

  /** The index of a newly opened stream, or undefined when the limit is reached (queues STREAMS_BLOCKED). */
  tryOpen(): number | undefined {
    if (this.next < this.limit) return this.next++;
    // RFC 9000 §4.6: an endpoint unable to open a stream SHOULD send STREAMS_BLOCKED (once per limit).
    if (this.blockedReportedAt !== this.limit) {
      this.blockedReportedAt = this.limit;
      this.blockedPending = true;
    }
    return undefined;
  }

  /** RFC 9000 §19.11: MAX_STREAMS that does not increase the limit is ignored. Returns whether it grew. */
  raise(limit: number): boolean {
    if (limit <= this.limit) return false;
    this.limit = Math.min(limit, MAX_STREAMS_LIMIT);
    this.blockedPending = false;
    return true;
  }

  /** Whether a STREAMS_BLOCKED carrying `value` is still accurate (retransmission after loss). */
  isBlockedAt(value: number): boolean {
    return this.limit === value && this.next >= this.limit;
  }
}

export class PeerStreamLimit {
  /** Cumulative number of streams the peer may open (the largest value we advertised). */
  limit: number;
  /** Number of peer streams created so far (explicitly or implicitly, RFC 9000 §3.2). */
  next = 0;
  /** Number of peer streams that closed and were freed. */
  closed = 0;
  /** The last advertised value must be sent again (a MAX_STREAMS frame was lost). */
  resendPending = false;
  private readonly initial: number;

  constructor(initial: number) {
    this.initial = Math.min(initial, MAX_STREAMS_LIMIT);
    this.limit = this.initial;
  }

  /** Streams currently open (created and not yet freed). */
  get openCount(): number {
    return this.next - this.closed;
  }

  /** RFC 9000 §4.6: a stream index at or above the advertised limit is a STREAM_LIMIT_ERROR. */
  allows(index: number): boolean {
    return index < this.limit;
  }

  onClosed(): void {
    this.closed++;
  }

  /** The value the next MAX_STREAMS would carry. */
  get desiredLimit(): number {
    return Math.min(this.closed + this.initial, MAX_STREAMS_LIMIT);
  }

  /** A MAX_STREAMS frame should be sent (credit returned by closed streams, or a lost frame). */
  get updateDue(): boolean {
    return this.resendPending || this.desiredLimit > this.limit;
  }

  /** Advertises the desired limit; returns the value for the MAX_STREAMS frame. */
  commitUpdate(): number {
    if (this.desiredLimit > this.limit) this.limit = this.desiredLimit;
    this.resendPending = false;
    return this.limit;
  }

  onLost(value: number): void {
    if (value === this.limit) this.resendPending = true;
  }
}
