/**
 * CUBIC congestion control (RFC 9438) on the shared QUIC window machinery (RFC 9002 §7).
 *
 * Windows are kept in bytes; the cubic function is evaluated in units of max_datagram_size
 * ("segments") and seconds, as in RFC 9438 §4.2, and converted back.
 */
import type { Millis } from '../util/time.js';
import { WindowedCongestionController } from './congestion-base.js';
import type { RttView } from './types.js';

/** RFC 9438 §5: C, in segments / second^3. */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6: beta_cubic, the multiplicative decrease factor. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta), the Reno-friendly additive increase. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** `new Cubic({ maxDatagramSize })`. */
export class Cubic extends WindowedCongestionController {
  /** W_max in bytes: the window before the last reduction (after fast convergence). */
  private wMax: number | undefined;
  /** cwnd_prior in bytes: the window just before the last reduction. */
  private cwndPrior = 0;
  /** K in seconds. */
  private k = 0;
  /** t_epoch: start of the current congestion avoidance stage. */
  private epochStart: Millis | undefined;
  /** W_est in bytes: the Reno-friendly estimate. */
  private wEst = 0;
  private alpha = CUBIC_ALPHA;
  private lastAckTime: Millis | undefined;

  /** The W_max in bytes the cubic curve is currently centred on (undefined before any reduction). */
  get maxWindow(): number | undefined {
    return this.wMax;
  }

  protected reducedThreshold(_now: Millis): number {
    const cwnd = this.window;
    // RFC 9438 §4.7 fast convergence: a window that stopped short of the previous W_max releases
    // bandwidth to new flows by lowering the plateau further.
    if (this.wMax !== undefined && cwnd < this.wMax) this.wMax = (cwnd * (1 + CUBIC_BETA)) / 2;
    else this.wMax = cwnd;
    this.cwndPrior = cwnd;
    this.epochStart = undefined;
    // RFC 9438 §4.6: ssthresh = cwnd * beta_cubic, never below the minimum window (RFC 9002 §7.2);
    // the window becomes it.
    return Math.max(cwnd * CUBIC_BETA, this.minWindow);
  }

  /** RFC 9438 §4.8: after a timeout the next stage starts with K = 0 and W_max = cwnd at its start. */
  protected override onWindowCollapsed(_now: Millis): void {
    this.wMax = undefined;
    this.epochStart = undefined;
  }

  /** RFC 9438 §5.8: an application-limited period must not advance the cubic curve. */
  protected override onUnusedWindowAck(now: Millis): void {
    if (this.epochStart !== undefined && this.lastAckTime !== undefined) {
      this.epochStart += now - this.lastAckTime;
    }
    this.lastAckTime = now;
  }

  protected congestionAvoidanceWindow(now: Millis, ackedBytes: number, rtt: RttView): number {
    const mds = this.maxDatagramSize;
    const cwnd = this.window;
    if (this.epochStart === undefined) {
      // RFC 9438 §4.2: a new congestion avoidance stage.
      this.epochStart = now;
      const cwndEpoch = cwnd;
      if (this.wMax === undefined) {
        this.wMax = cwndEpoch;
        this.k = 0;
      } else {
        // K = cubic_root((W_max - cwnd_epoch) / C), in segments and seconds.
        this.k = Math.cbrt(Math.max(0, (this.wMax - cwndEpoch) / mds) / CUBIC_C);
      }
      // RFC 9438 §4.3: W_est starts at cwnd_epoch.
      this.wEst = cwndEpoch;
      this.alpha = CUBIC_ALPHA;
    }
    this.lastAckTime = now;
    const wMax = this.wMax!;
    const t = (now - this.epochStart) / 1000;

    // RFC 9438 §4.3: W_est grows like Reno with alpha_cubic, and with 1 once past cwnd_prior.
    this.wEst += (this.alpha * mds * ackedBytes) / cwnd;
    if (this.wEst >= this.cwndPrior) this.alpha = 1;

    if (this.cubicWindow(t, wMax) < this.wEst) {
      // Reno-friendly region: cwnd follows W_est.
      return Math.max(this.wEst, cwnd);
    }
    // RFC 9438 §4.4, §4.5: concave and convex regions. The target is W_cubic one RTT ahead,
    // clamped to [cwnd, 1.5 * cwnd]; cwnd moves by (target - cwnd) / cwnd per segment acknowledged.
    let target = this.cubicWindow(t + rtt.smoothedRtt / 1000, wMax);
    if (target < cwnd) target = cwnd;
    else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    return cwnd + ((target - cwnd) * ackedBytes) / cwnd;
  }

  /** RFC 9438 §4.2 Figure 1: W_cubic(t) = C * (t - K)^3 + W_max, in bytes. */
  private cubicWindow(t: number, wMax: number): number {
    const d = t - this.k;
    return CUBIC_C * d * d * d * this.maxDatagramSize + wMax;
  }
}
