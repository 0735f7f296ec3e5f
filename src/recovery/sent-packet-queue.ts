/**
 * The sent packets of one packet number space, ordered by packet number (RFC 9002 A.1
 * sent_packets), built for tens of thousands of packets in flight.
 *
 * Packets live in an array in send order; acknowledging or losing one leaves a tombstone that is
 * swept lazily, so an ACK costs a binary search per range plus the packets it removes, not a scan.
 * Tombstones remember whether their packet was acknowledged, which persistent congestion needs
 * (RFC 9002 §7.6.2: no packet sent between two lost packets may have been acknowledged).
 *
 * The queue also remembers which packet numbers were skipped (never sent), so that an ACK for one
 * can be rejected (RFC 9000 §21.4).
 */
import type { SentPacket } from './types.js';

/** Slot flags. */
const LIVE = 1;
/** The slot's packet was removed because it was acknowledged. */
const ACKED = 2;
/** A packet acknowledged earlier lay between the previous live slot and this one (kept by compaction). */
const ACKED_BEFORE = 4;

/** Skipped packet number ranges remembered (older ones are forgotten). */
const MAX_GAPS = 64;
/** Tombstones tolerated before the arrays are compacted (also bounded by the number of live slots). */
const COMPACT_MIN = 64;

export class SentPacketQueue<P> {
  private items: (SentPacket<P> | undefined)[] = [];
  private pns: number[] = [];
  private flags: number[] = [];
  private start = 0;
  private liveCount = 0;
  private tombstones = 0;
  private lastPn = -1;
  private ackEliciting = 0;
  private ackOnly = 0;
  private evictCursor = 0;
  /** Skipped packet numbers as [lo, hi] pairs, ascending. */
  private gaps: number[] = [];
  /** An acknowledged packet was removed after the last live slot: flag the next pushed packet. */
  private pendingAckedBefore = false;

  /** Packets tracked (sent, not yet acknowledged, lost or discarded). */
  get size(): number {
    return this.liveCount;
  }
  /** Tracked ack-eliciting packets. */
  get ackElicitingCount(): number {
    return this.ackEliciting;
  }
  /** Tracked packets that are neither ack-eliciting nor in flight (ACK-only). */
  get ackOnlyCount(): number {
    return this.ackOnly;
  }
  /** The largest packet number ever pushed, -1 if none. */
  get largestSent(): number {
    return this.lastPn;
  }

  /** Appends a packet; packet numbers must strictly increase. Returns false (and ignores it) otherwise. */
  push(packet: SentPacket<P>): boolean {
    const pn = packet.packetNumber;
    if (!(pn > this.lastPn) || !Number.isSafeInteger(pn)) return false;
    if (pn > this.lastPn + 1) this.addGap(this.lastPn + 1, pn - 1);
    this.lastPn = pn;
    const flag = this.pendingAckedBefore ? LIVE | ACKED_BEFORE : LIVE;
    if (this.pns.length === 0) {
      // Arrays of exactly one slot (a push into an empty array reserves 17): a quiet connection
      // often tracks a single packet, its last ACK (issue 13, idle memory). More grow as before.
      this.items = [packet];
      this.pns = [pn];
      this.flags = [flag];
    } else {
      this.items.push(packet);
      this.pns.push(pn);
      this.flags.push(flag);
    }
    this.pendingAckedBefore = false;
    this.liveCount++;
    if (packet.ackEliciting) this.ackEliciting++;
    else if (!packet.inFlight) this.ackOnly++;
    return true;
  }

  /** True if some packet number in [smallest, largest] was never sent (beyond the largest, or skipped). */
  containsUnsent(smallest: number, largest: number): boolean {
    if (largest > this.lastPn) return true;
    const gaps = this.gaps;
    // Binary search the first gap whose upper end is >= smallest.
    let lo = 0;
    let hi = gaps.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (gaps[mid * 2 + 1]! < smallest) lo = mid + 1;
      else hi = mid;
    }
    return lo < gaps.length / 2 && gaps[lo * 2]! <= largest;
  }

  /** Index of the first slot (live or not) with a packet number >= pn. */
  lowerBound(pn: number): number {
    let lo = this.start;
    let hi = this.pns.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pns[mid]! < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First slot index; slots run from begin() to end() - 1 and may be tombstones. */
  begin(): number {
    return this.start;
  }
  end(): number {
    return this.pns.length;
  }
  /** The packet in slot i, undefined for a tombstone. */
  at(i: number): SentPacket<P> | undefined {
    return this.items[i];
  }
  packetNumberAt(i: number): number {
    return this.pns[i]!;
  }
  /** Whether slot i was emptied by an acknowledgment, or a live slot i follows one (since the previous live slot). */
  ackedMarkAt(i: number): boolean {
    return (this.flags[i]! & (ACKED | ACKED_BEFORE)) !== 0;
  }

  /**
   * Empties slot i and returns its packet. `acked` marks the tombstone for persistent congestion.
   * Slot indices stay valid until `compact()`.
   */
  removeAt(i: number, acked: boolean): SentPacket<P> | undefined {
    const packet = this.items[i];
    if (packet === undefined) return undefined;
    this.items[i] = undefined;
    this.flags[i] = acked ? ACKED : this.flags[i]! & ACKED_BEFORE;
    this.liveCount--;
    this.tombstones++;
    if (packet.ackEliciting) this.ackEliciting--;
    else if (!packet.inFlight) this.ackOnly--;
    return packet;
  }

  /** Removes the live packets with packet numbers in [smallest, largest], appending them in order to `out`. */
  removeRange(smallest: number, largest: number, out: SentPacket<P>[]): void {
    const end = this.pns.length;
    // Ranges entirely below the oldest tracked packet (already acknowledged) cost nothing.
    if (this.start === end || largest < this.pns[this.start]!) return;
    for (let i = this.lowerBound(smallest); i < end && this.pns[i]! <= largest; i++) {
      const packet = this.removeAt(i, true);
      if (packet !== undefined) out.push(packet);
    }
  }

  /**
   * Forgets the oldest ACK-only packet (neither ack-eliciting nor in flight) without reporting it.
   * Used to bound their number when the peer never acknowledges them.
   */
  evictOldestAckOnly(): SentPacket<P> | undefined {
    const end = this.pns.length;
    let i = Math.max(this.evictCursor, this.start);
    for (; i < end; i++) {
      const p = this.items[i];
      if (p !== undefined && !p.ackEliciting && !p.inFlight) {
        this.evictCursor = i + 1;
        return this.removeAt(i, false);
      }
    }
    this.evictCursor = i;
    return undefined;
  }

  /** Removes and returns every packet (keys discarded). */
  removeAll(): SentPacket<P>[] {
    const out: SentPacket<P>[] = [];
    for (let i = this.start; i < this.items.length; i++) {
      const p = this.items[i];
      if (p !== undefined) out.push(p);
    }
    this.items = [];
    this.pns = [];
    this.flags = [];
    this.start = 0;
    this.liveCount = 0;
    this.tombstones = 0;
    this.ackEliciting = 0;
    this.ackOnly = 0;
    this.evictCursor = 0;
    this.pendingAckedBefore = false;
    return out;
  }

  /** Removes and returns the packets matching `predicate` (not acknowledged, not lost). */
  removeWhere(predicate: (p: SentPacket<P>) => boolean): SentPacket<P>[] {
    const out: SentPacket<P>[] = [];
    for (let i = this.start; i < this.items.length; i++) {
      const p = this.items[i];
      if (p !== undefined && predicate(p)) {
        this.removeAt(i, false);
        out.push(p);
      }
    }
    this.compact();
    return out;
  }

  /** Sweeps tombstones: advances past leading ones, and rebuilds the arrays when they dominate. */
  compact(): void {
    const pns = this.pns;
    let s = this.start;
    while (s < pns.length && this.items[s] === undefined) s++;
    this.tombstones -= s - this.start;
    this.start = s;
    if (s === pns.length) {
      // Everything is gone. No later packet can have a live predecessor from before, so what was
      // acknowledged here no longer matters for persistent congestion.
      this.items = [];
      this.pns = [];
      this.flags = [];
      this.start = 0;
      this.tombstones = 0;
      this.evictCursor = 0;
      this.pendingAckedBefore = false;
      return;
    }
    if (this.tombstones > COMPACT_MIN && this.tombstones > this.liveCount) this.rebuild();
    else if (s > COMPACT_MIN && s * 2 > pns.length) this.rebuild();
  }

  private rebuild(): void {
    const items: (SentPacket<P> | undefined)[] = [];
    const pns: number[] = [];
    const flags: number[] = [];
    let ackedSince = false;
    for (let i = this.start; i < this.pns.length; i++) {
      const p = this.items[i];
      const f = this.flags[i]!;
      if (p === undefined) {
        if ((f & (ACKED | ACKED_BEFORE)) !== 0) ackedSince = true;
        continue;
      }
      items.push(p);
      pns.push(this.pns[i]!);
      flags.push(ackedSince ? f | ACKED_BEFORE : f);
      ackedSince = false;
    }
    if (ackedSince) this.pendingAckedBefore = true;
    this.items = items;
    this.pns = pns;
    this.flags = flags;
    this.start = 0;
    this.tombstones = 0;
    this.evictCursor = 0;
  }

  private addGap(lo: number, hi: number): void {
    this.gaps.push(lo, hi);
    if (this.gaps.length > MAX_GAPS * 2) this.gaps.splice(0, 2);
  }
}
