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
  private readonly used = new Map<string, Millis>();

  constructor(private readonly maxEntries = 100_000) {}

  claim(ticketId: Uint8Array, now: Millis, expiresAt: Millis): boolean {
    const key = Buffer.from(ticketId).toString('base64');
    const existing = this.used.get(key);
    if (existing !== undefined && existing > now) return false;
    if (this.used.size >= this.maxEntries) this.sweep(now);
    if (this.used.size >= this.maxEntries) return false;
    this.used.set(key, expiresAt);
    return true;
  }

  get size(): number {
    return this.used.size;
  }

  private sweep(now: Millis): void {
    for (const [k, exp] of this.used) if (exp <= now) this.used.delete(k);
  }
}
