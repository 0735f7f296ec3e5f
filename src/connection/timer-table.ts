/**
 * Every deadline of a connection in one table: `nextTimeout()` is the earliest entry and
 * `handleTimeout()` asks the table which timers expired, so the two cannot disagree about a
 * deadline (the idea of quinn-proto's timer table; written for tsquic).
 */
import type { Millis } from '../util/time.js';

/** The connection's timers. The order is the order in which expired timers are handled. */
export enum Timer {
  /** The closing or draining period ends (RFC 9000 §10.2: three PTOs). */
  Close,
  /** No packet for the idle timeout (RFC 9000 §10.1). */
  Idle,
  /** The handshake did not complete in time (handshakeTimeout option). */
  Handshake,
  /** The previous 1-RTT read keys are dropped (RFC 9001 §6.5). */
  KeyDiscard,
  /** A path validation resends PATH_CHALLENGE or gives up (RFC 9000 §8.2.4). */
  PathValidation,
  /** Loss detection or probe timeout (RFC 9002 §6.1.2, §6.2). */
  LossDetection,
  /** The second probe of a 1-RTT PTO round is owed (connection-recovery.ts probeSpacing). */
  Probe,
  /** A PING keeps the connection alive (keepAlivePeriod option; RFC 9000 §10.1.2). */
  KeepAlive,
  /** An ACK is due (RFC 9000 §13.2.1: max_ack_delay); handled by transmitting. */
  AckDelay,
  /** The pacer releases held-back data (RFC 9002 §7.7); handled by transmitting. */
  Pacing,
}

const TIMER_COUNT = Timer.Pacing + 1;

/** Every timer, in handling order. */
export const ALL_TIMERS: readonly Timer[] = Array.from({ length: TIMER_COUNT }, (_, i) => i as Timer);

export class TimerTable {
  private readonly deadlines: Array<Millis | undefined> = new Array<Millis | undefined>(TIMER_COUNT).fill(
    undefined,
  );

  /** Arms `timer` for `at`; undefined disarms it. */
  set(timer: Timer, at: Millis | undefined): void {
    this.deadlines[timer] = at;
  }

  clear(timer: Timer): void {
    this.deadlines[timer] = undefined;
  }

  clearAll(): void {
    this.deadlines.fill(undefined);
  }

  get(timer: Timer): Millis | undefined {
    return this.deadlines[timer];
  }

  /** Whether `timer` is armed and its deadline has come. */
  isExpired(timer: Timer, now: Millis): boolean {
    const at = this.deadlines[timer];
    return at !== undefined && now >= at;
  }

  /** The earliest deadline, if any timer is armed. */
  next(): Millis | undefined {
    let t: Millis | undefined;
    for (const at of this.deadlines) {
      if (at !== undefined && (t === undefined || at < t)) t = at;
    }
    return t;
  }

  /** The timers whose deadline has come, in handling order. */
  expired(now: Millis): Timer[] {
    return ALL_TIMERS.filter((timer) => this.isExpired(timer, now));
  }
}
