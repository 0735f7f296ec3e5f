/**
 * 0-RTT replay protection (RFC 8446 §8, RFC 9001 §9.2): by default each session ticket may carry early
 * data once. A record of used tickets is kept for as long as a ticket could still be accepted.
 *
 * The store is an interface so that several servers sharing a ticket key can plug in a shared store
 * (a database or a cache): single-use across the whole deployment needs that.
 */
import type { Millis } from '../util/time.js';

export interface EarlyDataReplayStore {
  /**
   * Record that the ticket `ticketId` was used for 0-RTT, keeping the record until `expiresAt`.
   * Returns false if it was already used (the early data must then be rejected).
   */
  claim(ticketId: Uint8Array, now: Millis, expiresAt: Millis): boolean;
}

/**
 * Bounded in-memory store. When full, it refuses new claims (0-RTT is rejected, the handshake still
 * succeeds as 1-RTT) rather than forgetting a ticket that could then be replayed.
 */
export class InMemoryReplayStore implements EarlyDataReplayStore {
  /** Records in insertion order, which is expiry order when every claim uses the same lifetime. */
  private readonly used = new Map<string, Millis>();
  /** When a sweep of every record may run again (see sweep()). */
  private fullSweepNotBefore = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxEntries = 100_000) {}

  claim(ticketId: Uint8Array, now: Millis, expiresAt: Millis): boolean {
    const key = Buffer.from(ticketId).toString('base64');
    const existing = this.used.get(key);
    if (existing !== undefined && existing > now) return false;
    if (this.used.size >= this.maxEntries) this.sweep(now);
    if (this.used.size >= this.maxEntries) return false;
    // Re-inserted, not updated in place: the record moves to the end, keeping the expiry order.
    if (existing !== undefined) this.used.delete(key);
    this.used.set(key, expiresAt);
    return true;
  }

  get size(): number {
    return this.used.size;
  }

  /**
   * Frees expired records. The oldest come first, so the sweep stops at the first live one: amortised
   * O(1) per claim, where walking every record would cost a full store (100k records by default,
   * reached within minutes by a busy server with the 7-day records of endpoint.ts) that much on every
   * 0-RTT attempt. Records claimed with shorter lifetimes than older ones can expire out of order;
   * they are found by a sweep of every record, at most once a second.
   */
  private sweep(now: Millis): void {
    for (const [k, exp] of this.used) {
      if (exp > now) break;
      this.used.delete(k);
    }
    if (this.used.size < this.maxEntries || now < this.fullSweepNotBefore) return;
    this.fullSweepNotBefore = now + FULL_SWEEP_INTERVAL_MS;
    for (const [k, exp] of this.used) if (exp <= now) this.used.delete(k);
  }
}

/** Least time between two sweeps of every record of a full InMemoryReplayStore. */
const FULL_SWEEP_INTERVAL_MS = 1000;
