/**
 * Flow control (RFC 9000 §4): credit for what we send, and the window for what we receive.
 * The same two classes serve one stream (MAX_STREAM_DATA) and the whole connection (MAX_DATA).
 */
import type { Millis } from '../util/time.js';

/** What the peer allows us to send (RFC 9000 §4.1): an absolute limit and how much of it is used. */
export class SendCredit {
  private _limit: number;
  private _used = 0;
  /** The limit at which we last queued a *_BLOCKED frame, -1 if never (one report per limit). */
  private blockedReportedAt = -1;

  constructor(limit: number) {
    this._limit = limit;
  }

  /** The largest limit the peer advertised (transport parameter, then MAX_DATA / MAX_STREAM_DATA). */
  get limit(): number {
    return this._limit;
  }

  /** Bytes of credit consumed (highest offset sent, or the sum of them for the connection). */
  get used(): number {
    return this._used;
  }

  get available(): number {
    return this._limit > this._used ? this._limit - this._used : 0;
  }

  /** A stream sent new data up to `offset` (its credit is the highest offset sent, RFC 9000 §4.1). */
  onSentTo(offset: number): void {
    this._used = offset;
  }

  /** The connection sent `bytes` of new stream data (its credit is the sum of them, RFC 9000 §4.1). */
  onSent(bytes: number): void {
    this._used += bytes;
  }

  /** RFC 9000 §4.1: frames that do not increase the limit are ignored. Returns whether it grew. */
  raise(newLimit: number): boolean {
    if (newLimit <= this._limit) return false;
    this._limit = newLimit;
    return true;
  }

  /** The credit is used up and no BLOCKED frame was queued at this limit yet. */
  get blockedReportDue(): boolean {
    return this._used >= this._limit && this.blockedReportedAt !== this._limit;
  }

  /**
   * Call when there is data waiting for this credit. Returns true once per limit value when the
   * credit is exhausted, i.e. when a DATA_BLOCKED / STREAM_DATA_BLOCKED should be sent (RFC 9000 §4.1).
   */
  takeBlockedReport(): boolean {
    if (this._used < this._limit || this.blockedReportedAt === this._limit) return false;
    this.blockedReportedAt = this._limit;
    return true;
  }

  /** Whether a BLOCKED frame carrying `value` is still accurate (for retransmission after loss). */
  isBlockedAt(value: number): boolean {
    return this._limit === value && this._used >= this._limit;
  }
}

/**
 * What we allow the peer to send (RFC 9000 §4.1, §4.2). Window updates are consumption based: a
 * new limit (consumed + window) is due when half the window has been consumed. Auto-tuning doubles
 * the window, up to `maxWindow`, when updates become due faster than twice the RTT (the reader is
 * faster than the window allows, like TCP receive-buffer auto-tuning).
 */
export class ReceiveWindow {
  private _limit: number;
  private _received = 0;
  private _consumed = 0;
  private _window: number;
  readonly maxWindow: number;
  /** Start of the current auto-tuning epoch: the last update (the first update never tunes). */
  private epochStart: Millis | undefined;

  constructor(initialLimit: number, maxWindow: number) {
    this._limit = initialLimit;
    this._window = initialLimit;
    this.maxWindow = Math.max(maxWindow, initialLimit);
  }

  /** The largest limit advertised to the peer. */
  get limit(): number {
    return this._limit;
  }

  /** Highest offset received (stream) or the sum of them (connection), RFC 9000 §4.1. */
  get received(): number {
    return this._received;
  }

  /** Bytes delivered to the application or discarded (credit that can be returned). */
  get consumed(): number {
    return this._consumed;
  }

  /** Current window size: the distance between `consumed` and the next advertised limit. */
  get window(): number {
    return this._window;
  }

  /** Data arrived up to `received` (the new highest offset, or sum of them for the connection). */
  onReceived(received: number): void {
    this._received = received;
  }

  /** `bytes` were delivered to the application or discarded: credit that can be returned. */
  consume(bytes: number): void {
    this._consumed += bytes;
  }

  /** Everything received so far is consumed (discarded or reset); returns the bytes newly consumed. */
  consumeAll(): number {
    const consumed = this._received - this._consumed;
    this._consumed = this._received;
    return consumed;
  }

  /** Whether receiving up to `received` would violate the advertised limit (FLOW_CONTROL_ERROR). */
  exceeds(received: number): boolean {
    return received > this._limit;
  }

  /** RFC 9000 §4.2: an update is due when less than half the window is left unconsumed. */
  get updateDue(): boolean {
    return this._consumed + this._window > this._limit && this._limit - this._consumed <= this._window / 2;
  }

  /** The window size an update sent at `now` would use (auto-tuned); does not change state. */
  tunedWindow(now: Millis, rtt: Millis): number {
    if (this.epochStart !== undefined && this._window < this.maxWindow && now - this.epochStart < 2 * rtt) {
      return Math.min(this._window * 2, this.maxWindow);
    }
    return this._window;
  }

  /** The limit an update sent at `now` would advertise; does not change state. */
  nextLimit(now: Millis, rtt: Millis): number {
    return Math.max(this._limit, this._consumed + this.tunedWindow(now, rtt));
  }

  /** Records that an update was sent now (auto-tuning the window) and returns the new limit. */
  commitUpdate(now: Millis, rtt: Millis): number {
    this._window = this.tunedWindow(now, rtt);
    this._limit = Math.max(this._limit, this._consumed + this._window);
    this.epochStart = now;
    return this._limit;
  }

  /** Grows the window to at least `size` (capped by maxWindow); used to keep the connection window
   * ahead of a stream window that auto-tuning enlarged. */
  ensureWindow(size: number): void {
    const target = Math.min(Math.floor(size), this.maxWindow);
    if (target > this._window) this._window = target;
  }
}
