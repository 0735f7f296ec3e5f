/**
 * Pacing (RFC 9002 §7.7): a leaky bucket that fills at N * congestion_window / smoothed_rtt
 * (N = 1.25) and holds at most a burst of `burstPackets` datagrams.
 *
 * Only in-flight packets are paced; ACK-only packets go out immediately (§7.7). The pacer never
 * blocks a packet forever: a packet larger than the bucket waits for a full bucket.
 */
import type { Millis } from '../util/time.js';
import { DEFAULT_MAX_DATAGRAM_SIZE } from './congestion-base.js';

export interface PacerOptions {
  maxDatagramSize?: number;
  /** Largest burst in datagrams (RFC 9002 §7.7: limit bursts to the initial window), default 10. */
  burstPackets?: number;
  /** N in RFC 9002 §7.7, default 1.25. */
  gain?: number;
  /**
   * How late a timer may fire, in ms (default 1: Node's timers). The bucket holds at least two such
   * intervals' worth of sending at the current rate, or a coarse timer would cap the rate at one
   * burst per tick.
   */
  timerGranularity?: Millis;
}

export class Pacer {
  private maxDatagramSize: number;
  private readonly burstPackets: number;
  private readonly gain: number;
  private readonly timerGranularity: Millis;
  /** Bytes that may be sent right now; starts full. */
  private tokens: number;
  private lastUpdate: Millis | undefined;

  constructor(opts: PacerOptions = {}) {
    this.maxDatagramSize = opts.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM_SIZE;
    this.burstPackets = opts.burstPackets ?? 10;
    this.gain = opts.gain ?? 1.25;
    this.timerGranularity = opts.timerGranularity ?? 1;
    this.tokens = this.capacity();
  }

  setMaxDatagramSize(n: number): void {
    this.maxDatagramSize = n;
    if (this.tokens > this.capacity()) this.tokens = this.capacity();
  }

  /** When the next packet of `bytes` may go; a value <= now means now. */
  nextSendTime(now: Millis, bytes: number, congestionWindow: number, smoothedRtt: Millis): Millis {
    const rate = this.rate(congestionWindow, smoothedRtt);
    if (rate === undefined) return now;
    const tokens = this.tokensAt(now, rate);
    const needed = Math.min(bytes, this.capacity(rate));
    if (tokens >= needed) return now;
    return now + (needed - tokens) / rate;
  }

  /** Charges a sent in-flight packet to the bucket. */
  onPacketSent(now: Millis, bytes: number, congestionWindow: number, smoothedRtt: Millis): void {
    const rate = this.rate(congestionWindow, smoothedRtt);
    const tokens = rate === undefined ? this.capacity() : this.tokensAt(now, rate);
    // A packet sent early anyway (a probe) leaves a debt of at most one burst.
    this.tokens = Math.max(tokens - bytes, -this.capacity(rate));
    if (this.lastUpdate === undefined || now > this.lastUpdate) this.lastUpdate = now;
  }

  private capacity(rate?: number): number {
    const burst = this.burstPackets * this.maxDatagramSize;
    return rate === undefined ? burst : Math.max(burst, 2 * this.timerGranularity * rate);
  }

  /** Bytes per millisecond, or undefined when pacing cannot apply (no RTT or no window). */
  private rate(congestionWindow: number, smoothedRtt: Millis): number | undefined {
    if (!(smoothedRtt > 0) || !(congestionWindow > 0)) return undefined;
    return (this.gain * congestionWindow) / smoothedRtt;
  }

  private tokensAt(now: Millis, rate: number): number {
    const elapsed = this.lastUpdate === undefined ? 0 : now - this.lastUpdate;
    if (elapsed <= 0) return this.tokens;
    return Math.min(this.capacity(rate), this.tokens + elapsed * rate);
  }
}
