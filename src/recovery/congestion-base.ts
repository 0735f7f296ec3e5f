/**
 * What every window-based congestion controller shares (RFC 9002 §7, Appendix B): bytes in flight,
 * the initial and minimum windows, the recovery period (one reduction per round trip), and the
 * rule that the window does not grow while the sender is not using it (§7.8).
 *
 * Subclasses decide how the window grows on an acknowledgment and shrinks on a congestion event:
 * they return the new values and this class, the window's one owner, applies them.
 */
import type { Millis } from '../util/time.js';
import type { CongestionController, RttView } from './types.js';

/** RFC 9000 §14: the smallest maximum datagram size every path supports. */
export const DEFAULT_MAX_DATAGRAM_SIZE = 1200;

export interface CongestionOptions {
  /** max_datagram_size in bytes (RFC 9002 §7.2), default 1200. */
  maxDatagramSize?: number;
  /** The initial window in datagrams of max_datagram_size; default (0) RFC 9002 §7.2's (initialWindow). */
  initialWindowPackets?: number;
}

/** RFC 9002 §7.2 kInitialWindow: min(10 * mds, max(14720, 2 * mds)). */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

/** RFC 9002 §7.2 kMinimumWindow: 2 * mds. */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

interface AckedPacket {
  size: number;
  timeSent: Millis;
  inFlight: boolean;
}

export abstract class WindowedCongestionController implements CongestionController {
  protected maxDatagramSize: number;
  /** Window in bytes, possibly fractional; `congestionWindow` exposes it rounded down. */
  private cwnd: number;
  private ssthresh = Number.POSITIVE_INFINITY;
  /** B.2 congestion_recovery_start_time; undefined when no recovery period ever started. */
  protected recoveryStartTime: Millis | undefined;
  private _bytesInFlight = 0;
  private recovering = false;
  private appLimited = false;
  /** The most bytes in flight during the current round trip, and during the previous one (§7.8). */
  private peakInFlight = 0;
  private previousPeakInFlight = 0;
  /** The round ends when a packet sent after this time is acknowledged. */
  private roundEnd: Millis = Number.NEGATIVE_INFINITY;
  private lastSentTime: Millis = Number.NEGATIVE_INFINITY;
  /** Packets sent before this time belong to a previous path (RFC 9000 §9.4). */
  private pathStart: Millis = Number.NEGATIVE_INFINITY;

  /** The initialWindowPackets option; 0 for RFC 9002's window. */
  private readonly initialPackets: number;

  constructor(opts: CongestionOptions = {}) {
    this.maxDatagramSize = opts.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM_SIZE;
    this.initialPackets = opts.initialWindowPackets ?? 0;
    this.cwnd = this.initialWindowFor(this.maxDatagramSize);
  }

  /** The initial window for datagrams of `maxDatagramSize`: the option's, else RFC 9002 §7.2's. */
  private initialWindowFor(maxDatagramSize: number): number {
    return this.initialPackets > 0 ? this.initialPackets * maxDatagramSize : initialWindow(maxDatagramSize);
  }

  get congestionWindow(): number {
    return Math.floor(this.cwnd);
  }
  get bytesInFlight(): number {
    return this._bytesInFlight;
  }
  /** Slow start threshold in bytes (Infinity until the first congestion event). */
  get slowStartThreshold(): number {
    return this.ssthresh;
  }
  get inSlowStart(): boolean {
    return this.cwnd < this.ssthresh;
  }
  /** A recovery period started and no packet sent after its start was acknowledged yet (§7.3.2). */
  get inRecovery(): boolean {
    return this.recovering;
  }
  /** The window in bytes, unrounded (what subclasses compute from). */
  protected get window(): number {
    return this.cwnd;
  }
  protected get minWindow(): number {
    return minimumWindow(this.maxDatagramSize);
  }

  availableWindow(): number {
    const avail = this.congestionWindow - this._bytesInFlight;
    return Math.max(avail, 0);
  }

  /**
   * A new max_datagram_size (RFC 9002 §7.2): an untouched initial window is recomputed, and the
   * window never falls below the new minimum.
   */
  setMaxDatagramSize(n: number): void {
    const oldInitial = this.initialWindowFor(this.maxDatagramSize);
    this.maxDatagramSize = n;
    if (this.cwnd === oldInitial && this.recoveryStartTime === undefined)
      this.cwnd = this.initialWindowFor(n);
    if (this.cwnd < this.minWindow) this.cwnd = this.minWindow;
  }

  setAppLimited(appLimited: boolean): void {
    this.appLimited = appLimited;
  }

  /** RFC 9000 §9.4, RFC 9002 B.3: a new path starts from the initial values. */
  onNewPath(now: Millis): void {
    this.cwnd = this.initialWindowFor(this.maxDatagramSize);
    this.ssthresh = Number.POSITIVE_INFINITY;
    this.recoveryStartTime = undefined;
    this.recovering = false;
    this.peakInFlight = this._bytesInFlight;
    this.previousPeakInFlight = 0;
    this.roundEnd = now;
    this.pathStart = now;
    this.onWindowCollapsed(now);
  }

  /** B.4 OnPacketSentCC. */
  onPacketSent(now: Millis, bytes: number, inFlight: boolean): void {
    if (!inFlight) return;
    this._bytesInFlight += bytes;
    if (this._bytesInFlight > this.peakInFlight) this.peakInFlight = this._bytesInFlight;
    if (now > this.lastSentTime) this.lastSentTime = now;
  }

  /** B.5 OnPacketsAcked. */
  onPacketsAcked(now: Millis, packets: ReadonlyArray<AckedPacket>, rtt: RttView): void {
    if (this._bytesInFlight > this.peakInFlight) this.peakInFlight = this._bytesInFlight;
    // RFC 9002 §7.8: do not grow a window that is not being used: the application (or flow
    // control) left it idle, or less than half of it was in flight in this round trip and the last.
    const used = Math.max(this.peakInFlight, this.previousPeakInFlight);
    const canGrow = !this.appLimited && used * 2 >= this.cwnd;
    let grownBytes = 0;
    let roundEnded = false;
    for (const p of packets) {
      if (!p.inFlight) continue;
      if (p.timeSent > this.roundEnd) roundEnded = true;
      this.removeFromFlight(p.size);
      // RFC 9000 §9.4: a packet of the old path says nothing about the new one.
      if (p.timeSent < this.pathStart) continue;
      // RFC 9002 §7.3.2: the recovery period ends when a packet sent after its start is acknowledged.
      if (this.inCongestionRecovery(p.timeSent)) continue;
      this.recovering = false;
      if (!canGrow) continue;
      if (this.cwnd < this.ssthresh) {
        // RFC 9002 §7.3.1: slow start grows the window by the bytes acknowledged.
        this.cwnd += p.size;
      } else {
        grownBytes += p.size;
      }
    }
    if (grownBytes > 0) this.cwnd = this.congestionAvoidanceWindow(now, grownBytes, rtt);
    else if (!canGrow) this.onUnusedWindowAck(now);
    if (roundEnded) {
      // A packet sent after the previous round's end was acknowledged: a new round trip begins.
      this.previousPeakInFlight = this.peakInFlight;
      this.peakInFlight = this._bytesInFlight;
      this.roundEnd = this.lastSentTime;
    }
  }

  /** B.8 OnPacketsLost (the persistent congestion part is the loss detector's). */
  onPacketsLost(now: Millis, packets: ReadonlyArray<AckedPacket>): void {
    let lastLossSent: Millis | undefined;
    for (const p of packets) {
      if (!p.inFlight) continue;
      this.removeFromFlight(p.size);
      if (lastLossSent === undefined || p.timeSent > lastLossSent) lastLossSent = p.timeSent;
    }
    if (lastLossSent !== undefined) this.onCongestionEvent(now, lastLossSent);
  }

  /** B.6 OnCongestionEvent (loss or ECN-CE, RFC 9002 §7.3.2). */
  onCongestionEvent(now: Millis, sentTime: Millis): void {
    // No reaction while in a recovery period (one reduction per round trip), nor to the old path.
    if (this.inCongestionRecovery(sentTime) || sentTime < this.pathStart) return;
    this.recoveryStartTime = now;
    this.recovering = true;
    this.reduceWindow(now);
  }

  /** Enter a recovery period: the subclass's threshold, and a window of it, never below the minimum. */
  private reduceWindow(now: Millis): void {
    this.ssthresh = this.reducedThreshold(now);
    this.cwnd = Math.max(this.ssthresh, this.minWindow);
  }

  /** RFC 9002 §7.6.2: the window collapses to the minimum; slow start begins again. */
  onPersistentCongestion(now: Millis): void {
    if (this.ssthresh === Number.POSITIVE_INFINITY) this.reduceWindow(now);
    this.cwnd = this.minWindow;
    this.recoveryStartTime = undefined;
    this.recovering = false;
    this.onWindowCollapsed(now);
  }

  /** B.9 RemoveFromBytesInFlight. */
  onPacketsDiscarded(bytes: number): void {
    this.removeFromFlight(bytes);
  }

  /** B.5 InCongestionRecovery. */
  protected inCongestionRecovery(sentTime: Millis): boolean {
    return this.recoveryStartTime !== undefined && sentTime <= this.recoveryStartTime;
  }

  /** The window after `ackedBytes` newly acknowledged in congestion avoidance (never below `window`). */
  protected abstract congestionAvoidanceWindow(now: Millis, ackedBytes: number, rtt: RttView): number;
  /**
   * The slow start threshold on entering a recovery period (the window becomes it, or the minimum
   * window if that is larger).
   */
  protected abstract reducedThreshold(now: Millis): number;
  /** After persistent congestion. */
  protected onWindowCollapsed(_now: Millis): void {}
  /** An acknowledgment arrived while the window was not being used. */
  protected onUnusedWindowAck(_now: Millis): void {}

  private removeFromFlight(bytes: number): void {
    this._bytesInFlight -= bytes;
    if (this._bytesInFlight < 0) this._bytesInFlight = 0;
  }
}
