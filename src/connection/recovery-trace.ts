/**
 * What loss recovery and congestion control report for qlog (draft-ietf-quic-qlog-quic-events,
 * "recovery" category): metric changes, lost packets, the loss detection timer and the congestion
 * state, so a stall can be read from a trace. The reporter compares the connection's state with what
 * it reported last and emits only changes; it runs only when a hook is set.
 */
import type { LossDetector } from '../recovery/loss-detector.js';
import type { RttEstimator } from '../recovery/rtt-estimator.js';
import type { CongestionController, PacketNumberSpace } from '../recovery/types.js';
import type { Millis } from '../util/time.js';

export type CongestionState = 'slow_start' | 'congestion_avoidance' | 'recovery';

export type RecoveryTraceEvent =
  | {
      type: 'metrics_updated';
      /** Only the fields that changed since the last report (all of them the first time). */
      congestionWindow?: number;
      bytesInFlight?: number;
      smoothedRtt?: Millis;
      latestRtt?: Millis;
      minRtt?: Millis;
      rttVariance?: Millis;
      ptoCount?: number;
    }
  | { type: 'packet_lost'; space: PacketNumberSpace; packetNumber: number; size: number }
  | {
      type: 'loss_timer_updated';
      event: 'set' | 'cancelled';
      /** 'ack': the time threshold of RFC 9002 §6.1.2; 'pto': a probe timeout (§6.2). */
      timerType?: 'ack' | 'pto';
      /** Milliseconds from now until the timer fires (when set). */
      delta?: Millis;
    }
  | { type: 'congestion_state_updated'; old?: CongestionState; new: CongestionState };

type Metrics = Required<Omit<Extract<RecoveryTraceEvent, { type: 'metrics_updated' }>, 'type'>>;

const METRIC_KEYS = [
  'congestionWindow',
  'bytesInFlight',
  'smoothedRtt',
  'latestRtt',
  'minRtt',
  'rttVariance',
  'ptoCount',
] as const;

export class RecoveryReporter {
  private last: Metrics | undefined;
  private lastTimer: Millis | undefined;
  private lastState: CongestionState | undefined;

  constructor(
    private readonly hook: (e: RecoveryTraceEvent) => void,
    private readonly rtt: RttEstimator,
    private readonly congestion: CongestionController,
    private readonly lossDetector: LossDetector<unknown>,
  ) {}

  /** A packet was declared lost (RFC 9002 §6.1; PMTU probes are not reported as losses). */
  lost(space: PacketNumberSpace, packetNumber: number, size: number): void {
    this.hook({ type: 'packet_lost', space, packetNumber, size });
  }

  /** Compares the state with the last report and emits what changed. */
  update(now: Millis): void {
    const m: Metrics = {
      congestionWindow: this.congestion.congestionWindow,
      bytesInFlight: this.congestion.bytesInFlight,
      smoothedRtt: this.rtt.smoothedRtt,
      latestRtt: this.rtt.latestRtt,
      minRtt: this.rtt.minRtt,
      rttVariance: this.rtt.rttVar,
      ptoCount: this.lossDetector.ptoCount,
    };
    const last = this.last;
    const changed: Partial<Metrics> = {};
    let any = false;
    for (const k of METRIC_KEYS) {
      if (last === undefined || last[k] !== m[k]) {
        changed[k] = m[k];
        any = true;
      }
    }
    this.last = m;
    if (any) this.hook({ type: 'metrics_updated', ...changed });

    const state: CongestionState = this.congestion.inRecovery
      ? 'recovery'
      : this.congestion.inSlowStart
        ? 'slow_start'
        : 'congestion_avoidance';
    if (state !== this.lastState) {
      this.hook({
        type: 'congestion_state_updated',
        ...(this.lastState !== undefined ? { old: this.lastState } : {}),
        new: state,
      });
      this.lastState = state;
    }

    const timer = this.lossDetector.lossDetectionTimeout();
    if (timer !== this.lastTimer) {
      if (timer === undefined) this.hook({ type: 'loss_timer_updated', event: 'cancelled' });
      else {
        this.hook({
          type: 'loss_timer_updated',
          event: 'set',
          timerType: this.lossDetector.lossTimerIsAck() ? 'ack' : 'pto',
          delta: Math.max(0, timer - now),
        });
      }
      this.lastTimer = timer;
    }
  }
}
