/**
 * The NewReno congestion controller of RFC 9002 §7 and Appendix B: slow start, a recovery period
 * with kLossReductionFactor 0.5, and additive increase of one datagram per window acknowledged.
 */
import type { Millis } from '../util/time.js';
import { WindowedCongestionController } from './congestion-base.js';
import type { RttView } from './types.js';

/** RFC 9002 §7.3.2 kLossReductionFactor. */
export const LOSS_REDUCTION_FACTOR = 0.5;

/** `new NewReno({ maxDatagramSize })`; see WindowedCongestionController for the shared behaviour. */
export class NewReno extends WindowedCongestionController {
  /** RFC 9002 §7.3.3, B.5: at most one max_datagram_size per congestion window acknowledged. */
  protected congestionAvoidanceWindow(_now: Millis, ackedBytes: number, _rtt: RttView): number {
    return this.window + (this.maxDatagramSize * ackedBytes) / this.window;
  }

  /** B.6: ssthresh = cwnd * kLossReductionFactor (the base sets cwnd = max(ssthresh, kMinimumWindow)). */
  protected reducedThreshold(_now: Millis): number {
    return this.window * LOSS_REDUCTION_FACTOR;
  }
}
