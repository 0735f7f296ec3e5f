/**
 * Flow control (RFC 9000 §4): credit for what we send, and the window for what we receive.
 * The same two classes serve one stream (MAX_STREAM_DATA) and the whole connection (MAX_DATA).
 */
import type { Millis } from '../util/time.js';

/** What the peer allows us to send (RFC 9000 §4.1): an absolute limit and how much of it is used. */
export class SendCredit {
  /** The largest limit the peer advertised (transport parameter, then MAX_DATA / MAX_STREAM_DATA). */
  limit: number;
  /** Bytes of credit consumed (highest offset sent, or the sum of them for the connection). */
  used = 0;
  /** The limit at which we last queued a *_BLOCKED frame, -1 if never (one report per limit). */
  private blockedReportedAt = -1;

  constructor(limit: number) {
    this.limit = limit;
  }

  get available(): number {
    return this.limit > this.used ? this.limit - this.used : 0;
  }

  /** RFC 9000 §4.1: frames that do not increase the limit are ignored. Returns whether it grew. */
  raise(newLimit: number): boolean {
    if (newLimit <= this.limit) return false;
    this.limit = newLimit;
    return true;
  }

  /** The credit is used up and no BLOCKED frame was queued at this limit yet. */
  get blockedReportDue(): boolean {
    return this.used >= this.limit && this.blockedReportedAt !== this.limit;
  }

  /**
   * Call when there is data waiting for this credit. Returns true once per limit value when the
   * credit is exhausted, i.e. when a DATA_BLOCKED / STREAM_DATA_BLOCKED should be sent (RFC 9000 §4.1).
   */
  takeBlockedReport(): boolean {
    if (this.used < this.limit || this.blockedReportedAt === this.limit) return false;
    this.blockedReportedAt = this.limit;
    return true;
  }

  /** Whether a BLOCKED frame carrying `value` is still accurate (for retransmission after loss). */
  isBlockedAt(value: number): boolean {
    return this.limit === value && this.used >= this.limit;
  }
}

/**
 * What we allow the peer to send (RFC 9000 §4.1, §4.2). Window updates are consumption based: a
 * new limit (consumed + window) is due when half the window has been consumed. Auto-tuning doubles
 * the window, up to `maxWindow`, when updates become due faster than twice the RTT (the reader is
 * faster than the window allows, like TCP receive-buffer auto-tuning).
 */
export class ReceiveWindow {
  /** The largest limit advertised to the peer. */
  limit: number;
  /** Highest offset received (stream) or the sum of them (connection), RFC 9000 §4.1. */
  received = 0;
  /** Bytes delivered to the application or discarded (credit that can be returned). */
  consumed = 0;
  /** Current window size: the distance between `consumed` and the next advertised limit. */
  window: number;
  readonly maxWindow: number;
  /** Start of the current auto-tuning epoch: the last update (the first update never tunes). */
  private epochStart: Millis | undefined;

  constructor(initialLimit: number, maxWindow: number) {
    this.limit = initialLimit;
    this.window = initialLimit;
    this.maxWindow = Math.max(maxWindow, initialLimit);
  }

  /** Whether receiving up to `received` would violate the advertised limit (FLOW_CONTROL_ERROR). */
  exceeds(received: number): boolean {
    return received > this.limit;
  }

  /** RFC 9000 §4.2: an update is due when less than half the window is left unconsumed. */
  get updateDue(): boolean {
    return this.consumed + this.window > this.limit && this.limit - this.consumed <= this.window / 2;
  }

  /** The window size an update sent at `now` would use (auto-tuned); does not change state. */
  tunedWindow(now: Millis, rtt: Millis): number {
    if (this.epochStart !== undefined && this.window < this.maxWindow && now - this.epochStart < 2 * rtt) {
      return Math.min(this.window * 2, this.maxWindow);
    }
    return this.window;
  }

  /** The limit an update sent at `now` would advertise; does not change state. */
  nextLimit(now: Millis, rtt: Millis): number {
    return Math.max(this.limit, this.consumed + this.tunedWindow(now, rtt));
  }

  /** Records that an update was sent now (auto-tuning the window) and returns the new limit. */
  commitUpdate(now: Millis, rtt: Millis): number {
    this.window = this.tunedWindow(now, rtt);
    this.limit = Math.max(this.limit, this.consumed + this.window);
    this.epochStart = now;
    return this.limit;
  }

  /** Grows the window to at least `size` (capped by maxWindow); used to keep the connection window
   * ahead of a stream window that auto-tuning enlarged. */
  ensureWindow(size: number): void {
    const target = Math.min(Math.floor(size), this.maxWindow);
    if (target > this.window) this.window = target;
  }
}
