/**
 * Round-trip time estimation (RFC 9002 §5, Appendix A.7 UpdateRtt).
 *
 * All values are milliseconds. The estimator starts from an initial RTT (333 ms unless a resumed
 * connection knows better) and resets itself on the first real sample.
 */
import type { Millis } from '../util/time.js';
import type { RttView } from './types.js';

/** RFC 9002 §6.2.2: initial RTT when nothing better is known. */
export const INITIAL_RTT: Millis = 333;
/** RFC 9002 §6.1.2 kGranularity: timer granularity. */
export const GRANULARITY: Millis = 1;
/** How long a sample counts towards recentMinRtt: a window of this length and the one before it. */
export const RECENT_MIN_RTT_WINDOW: Millis = 10_000;

export class RttEstimator implements RttView {
  private _latestRtt: Millis = 0;
  private _smoothedRtt: Millis;
  private _rttVar: Millis;
  private _minRtt: Millis = 0;
  /** The least sample of the current window (since recentWindowStart) and of the window before. */
  private recentMin: Millis = 0;
  private previousWindowMin: Millis = Number.POSITIVE_INFINITY;
  private recentWindowStart: Millis = 0;
  private _firstSampleTime: Millis | undefined;
  private readonly initialRtt: Millis;

  constructor(initialRtt: Millis = INITIAL_RTT) {
    this.initialRtt = initialRtt;
    // RFC 9002 §5.3: smoothed_rtt = kInitialRtt, rttvar = kInitialRtt / 2
    this._smoothedRtt = initialRtt;
    this._rttVar = initialRtt / 2;
  }

  get latestRtt(): Millis {
    return this._latestRtt;
  }
  get smoothedRtt(): Millis {
    return this._smoothedRtt;
  }
  get rttVar(): Millis {
    return this._rttVar;
  }
  /** 0 until the first sample (RFC 9002 A.3). */
  get minRtt(): Millis {
    return this._minRtt;
  }
  /**
   * The least RTT sample of the last 10 to 20 seconds (0 until the first sample): what the path's
   * RTT without a queue is now. Unlike min_rtt (RFC 9002 §5.2, the least over the connection), it
   * forgets a minimum the path no longer has (a new route with a longer RTT); the streams' send
   * budget scales by it (recovery/unqueued-window.ts). Not used for loss detection.
   */
  get recentMinRtt(): Millis {
    return Math.min(this.recentMin, this.previousWindowMin);
  }
  get hasSample(): boolean {
    return this._firstSampleTime !== undefined;
  }
  /** When the first RTT sample was taken (A.7 first_rtt_sample); undefined before it. */
  get firstSampleTime(): Millis | undefined {
    return this._firstSampleTime;
  }

  /**
   * Incorporates an RTT sample (RFC 9002 §5.3). `ackDelay` is in ms, already scaled by the peer's
   * ack_delay_exponent; it is capped by `maxAckDelay` once the handshake is confirmed. `now` records
   * when the first sample was taken (persistent congestion only considers packets sent after it);
   * it defaults to 0, i.e. "long ago".
   */
  update(
    latestRtt: Millis,
    ackDelay: Millis,
    handshakeConfirmed: boolean,
    maxAckDelay: Millis,
    now: Millis = 0,
  ): void {
    // A clock that went backwards must not poison the estimate.
    const sample = latestRtt > 0 ? latestRtt : 0;
    this._latestRtt = sample;
    if (this._firstSampleTime === undefined) {
      // RFC 9002 §5.2, §5.3: the first sample resets the estimator.
      this._minRtt = sample;
      this._smoothedRtt = sample;
      this._rttVar = sample / 2;
      this._firstSampleTime = now;
      this.restartRecentMin(sample, now);
      return;
    }
    // RFC 9002 §5.2: min_rtt ignores the acknowledgment delay.
    if (sample < this._minRtt) this._minRtt = sample;
    if (now - this.recentWindowStart >= RECENT_MIN_RTT_WINDOW) {
      this.previousWindowMin = this.recentMin;
      this.recentMin = sample;
      this.recentWindowStart = now;
    } else if (sample < this.recentMin) {
      this.recentMin = sample;
    }
    // RFC 9002 §5.3: cap the ack delay by max_ack_delay after handshake confirmation.
    let delay = ackDelay > 0 ? ackDelay : 0;
    if (handshakeConfirmed && delay > maxAckDelay) delay = maxAckDelay;
    // RFC 9002 §5.3: only subtract the delay if the result stays at or above min_rtt.
    let adjusted = sample;
    if (sample >= this._minRtt + delay) adjusted = sample - delay;
    this._rttVar = 0.75 * this._rttVar + 0.25 * Math.abs(this._smoothedRtt - adjusted);
    this._smoothedRtt = 0.875 * this._smoothedRtt + 0.125 * adjusted;
  }

  /**
   * The probe timeout period without backoff (RFC 9002 §6.2.1):
   * smoothed_rtt + max(4*rttvar, kGranularity), plus max_ack_delay when `includeAckDelay`.
   */
  pto(maxAckDelay: Millis, includeAckDelay: boolean): Millis {
    const base = this._smoothedRtt + Math.max(4 * this._rttVar, GRANULARITY);
    return includeAckDelay ? base + maxAckDelay : base;
  }

  /** RFC 9002 §5.2: after persistent congestion, min_rtt restarts from the newest sample. */
  onPersistentCongestion(): void {
    if (this._firstSampleTime === undefined) return;
    this._minRtt = this._latestRtt;
    this.restartRecentMin(this._latestRtt, this.recentWindowStart);
  }

  private restartRecentMin(sample: Millis, now: Millis): void {
    this.recentMin = sample;
    this.previousWindowMin = Number.POSITIVE_INFINITY;
    this.recentWindowStart = now;
  }

  /**
   * Forgets all samples (RFC 9002 §6.3: a client that receives Retry resets recovery state; RFC 9000
   * §9.4: a new path). `initialRtt` defaults to the constructor's value.
   */
  reset(initialRtt: Millis = this.initialRtt): void {
    this._latestRtt = 0;
    this._minRtt = 0;
    this.restartRecentMin(0, 0);
    this._smoothedRtt = initialRtt;
    this._rttVar = initialRtt / 2;
    this._firstSampleTime = undefined;
  }
}
