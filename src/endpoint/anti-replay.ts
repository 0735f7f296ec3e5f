/**
 * 0-RTT replay protection (RFC 8446 §8, RFC 9001 §9.2): by default each session ticket may carry early
 * data once. The endpoint records a ticket's use for as long as a replay of that ClientHello could
 * still pass the freshness check of §8.3 (about twice the ticket-age tolerance, 10 s by default, plus a
 * second; endpoint.ts); a replay after that is rejected as stale before the store is asked. So the
 * store holds about 21 s of a server's 0-RTT connections, not a ticket lifetime's.
 *
 * The store is an interface so that several servers sharing a ticket key can plug in a shared store
 * (a database or a cache): single use across the whole deployment needs that.
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
  /** Records in insertion order: about expiry order (their lifetimes differ by at most ~3 tolerances). */
  private readonly used = new Map<string, Millis>();
  /** When a sweep of every record may run again (see sweepAll()). */
  private fullSweepNotBefore = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxEntries = 100_000) {}

  claim(ticketId: Uint8Array, now: Millis, expiresAt: Millis): boolean {
    const key = Buffer.from(ticketId).toString('base64');
    const existing = this.used.get(key);
    if (existing !== undefined && existing > now) return false;
    // Expired records go as claims come, so the store's size follows the 0-RTT rate times the
    // records' lifetime instead of growing to maxEntries and staying there.
    this.dropExpiredFront(now);
    if (this.used.size >= this.maxEntries) this.sweepAll(now);
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
   * Frees the expired records at the front. The oldest come first, so this stops at the first live
   * one: amortised O(1) per claim, where walking every record would cost a full store (100k records
   * by default) that much on every 0-RTT attempt.
   */
  private dropExpiredFront(now: Millis): void {
    for (const [k, exp] of this.used) {
      if (exp > now) break;
      this.used.delete(k);
    }
  }

  /**
   * Records claimed with shorter lifetimes than older ones (the freshness window depends on each
   * ClientHello's ticket age) can expire behind a live one: a full store finds them by a sweep of
   * every record, at most once a second.
   */
  private sweepAll(now: Millis): void {
    if (now < this.fullSweepNotBefore) return;
    this.fullSweepNotBefore = now + FULL_SWEEP_INTERVAL_MS;
    for (const [k, exp] of this.used) if (exp <= now) this.used.delete(k);
  }
}

/** Least time between two sweeps of every record of a full InMemoryReplayStore. */
const FULL_SWEEP_INTERVAL_MS = 1000;
