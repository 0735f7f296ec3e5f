/**
 * ACK generation for one packet number space (RFC 9000 §13.2): which packets were received, when
 * an ACK is due, and the ACK frame itself.
 *
 * Received packet numbers are kept as at most `maxRanges` disjoint ranges. When ranges are dropped
 * (too many, or acknowledged by the peer, §13.2.4) everything below the lowest remaining range is
 * treated as already received, so a duplicate can never be accepted twice (§13.2.3).
 *
 * ACK decimation (Application Data space; issue 13, docs/recovery.md "ACK decimation"): on a long
 * in-order flow the receiver acknowledges every `every`-th ack-eliciting packet instead of every
 * second one, or after min(max_ack_delay, max(1 ms, min_rtt / 4)) from the first unacknowledged one,
 * whichever comes first. RFC 9000 §13.2.2 recommends an ACK per two packets but leaves other
 * strategies open; every immediate case of §13.2.1 stays immediate, and no ACK is ever delayed beyond
 * max_ack_delay (§13.2.1). Decimation starts only after `after` ack-eliciting packets (slow start and
 * the handshake keep the RFC's rate) and pauses after any out-of-order or ECN-CE packet until `quiet`
 * more have arrived, so a sender that is detecting a loss or recovering from one (RFC 9002 §6.1's
 * packet threshold wants the packets after a gap acknowledged) gets the RFC's rate. A decimated ACK
 * that its timer, not the count, sent marks a flow too slow to gain from decimation (see onAckSent):
 * the RFC's rate returns for `after` packets.
 */

import { PacketNumberSpace, type RttView } from '../recovery/types.js';
import type { Millis } from '../util/time.js';
import { type AckFrame, type AckRange, type EcnCounts, FrameType } from '../wire/frames.js';

export interface AckManagerOptions {
  space: PacketNumberSpace;
  /** Our max_ack_delay in ms (RFC 9000 §18.2); only used in the Application Data space. */
  maxAckDelay: Millis;
  /** Ack-eliciting packets that trigger an immediate ACK (RFC 9000 §13.2.2), default 2. */
  ackElicitingThreshold?: number;
  /** Ranges remembered and reported (RFC 9000 §13.2.3), default 64. */
  maxRanges?: number;
  /** Acknowledge every ack-eliciting packet immediately; default true for Initial and Handshake (§13.2.1). */
  immediateAck?: boolean;
  /**
   * ACK decimation, Application Data space only (see the file comment): default ACK_DECIMATION,
   * `false` for the RFC's every-second-packet rule throughout.
   */
  decimation?: AckDecimation | false;
  /** The connection's RTT estimate: the decimated ACK delay is a quarter of min_rtt. */
  rtt?: Pick<RttView, 'minRtt' | 'hasSample'>;
}

/** Parameters of ACK decimation (issue 13). */
export interface AckDecimation {
  /** Ack-eliciting packets received in the space before decimation starts. */
  after: number;
  /** While decimating: an ACK is due at this many unacknowledged ack-eliciting packets. */
  every: number;
  /** After an out-of-order or ECN-CE packet: ack-eliciting packets before decimation resumes. */
  quiet: number;
}

/**
 * Defaults: after 100 packets, every 20th (Chromium's receiver decimates to every 10th; 20 halved the
 * ACK datagrams again for a warm tsquic download +11% goodput and -7% receiver CPU, with the
 * simulator's goodput at 0-1% loss within 0.5%: docs/recovery.md "ACK decimation"), plus a pause
 * after disorder.
 */
export const ACK_DECIMATION: Readonly<AckDecimation> = Object.freeze({ after: 100, every: 20, quiet: 20 });

/**
 * The shortest decimated ACK delay, ms: RFC 9002's timer granularity (kGranularity, §6.1.2). A
 * quarter of a loopback RTT is far below what a timer can wait for.
 */
export const MIN_DECIMATED_ACK_DELAY = 1;

export type EcnMark = 'ect0' | 'ect1' | 'ce';

/** Bytes of a QUIC variable-length integer (RFC 9000 §16). */
function varintLength(v: number): number {
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x40000000) return 4;
  return 8;
}

export class AckManager {
  readonly space: PacketNumberSpace;
  private readonly maxAckDelay: Millis;
  private readonly threshold: number;
  private readonly maxRanges: number;
  private readonly immediate: boolean;
  private readonly decimation: AckDecimation | undefined;
  private readonly rtt: Pick<RttView, 'minRtt' | 'hasSample'> | undefined;
  /** Ack-eliciting packets received (new ones, not duplicates). */
  private ackElicitingReceived = 0;
  /** Packets received after this many ack-eliciting ones are decimated (moved on by out-of-order and CE). */
  private decimateFrom = Number.POSITIVE_INFINITY;
  /** Unacknowledged ack-eliciting packets that make an ACK due (2, or `every` while decimating). */
  private dueAt: number;
  /** Received ranges, ascending and disjoint, not adjacent: [los[i], his[i]]. */
  private los: number[] = [];
  private his: number[] = [];
  /** Packet numbers below this are treated as duplicates (their ranges were dropped). */
  private floor = 0;
  private _largestReceived = -1;
  private largestReceivedTime: Millis = 0;
  private largestAckEliciting = -1;
  private ackElicitingSinceAck = 0;
  /** When the first ack-eliciting packet not yet acknowledged arrived (valid while the count > 0). */
  private firstUnackedAt: Millis = 0;
  private newSinceAck = false;
  /** An ACK is owed at once for a reason other than the count (§13.2.1: gap, ECN-CE, handshake). */
  private urgent = false;
  private deadline: Millis | undefined;
  private readonly ecn: EcnCounts = { ect0: 0, ect1: 0, ce: 0 };

  constructor(opts: AckManagerOptions) {
    this.space = opts.space;
    this.maxAckDelay = opts.space === PacketNumberSpace.ApplicationData ? opts.maxAckDelay : 0;
    this.threshold = Math.max(1, opts.ackElicitingThreshold ?? 2);
    this.maxRanges = Math.max(1, opts.maxRanges ?? 64);
    this.immediate = opts.immediateAck ?? opts.space !== PacketNumberSpace.ApplicationData;
    const decimation = opts.decimation ?? ACK_DECIMATION;
    this.decimation =
      decimation !== false && opts.space === PacketNumberSpace.ApplicationData && !this.immediate
        ? decimation
        : undefined;
    if (this.decimation) this.decimateFrom = this.decimation.after;
    this.rtt = opts.rtt;
    this.dueAt = this.threshold;
  }

  /** Whether the next in-order ack-eliciting packet is decimated (its ACK due at `every`, its delay shorter). */
  get decimating(): boolean {
    return this.decimation !== undefined && this.ackElicitingReceived >= this.decimateFrom;
  }

  /** The largest packet number received, -1 if none (for packet number decoding, RFC 9000 §17.1). */
  get largestReceived(): number {
    return this._largestReceived;
  }

  /** Whether anything was received since the last ACK was sent (to piggyback an ACK). */
  get hasNewAckable(): boolean {
    return this.newSinceAck && this.los.length > 0;
  }

  /** Ranges currently remembered (bounded by maxRanges). */
  get rangeCount(): number {
    return this.los.length;
  }

  /** ECN counts of the packets received in this space (RFC 9000 §13.4.1). */
  get ecnCounts(): Readonly<EcnCounts> {
    return this.ecn;
  }

  /**
   * True if the packet number was already received, or is below what is still tracked (RFC 9000
   * §12.3, §13.2.3). The caller drops such packets.
   */
  isDuplicate(packetNumber: number): boolean {
    if (packetNumber < this.floor) return true;
    const i = this.rangeAtOrBelow(packetNumber);
    return i >= 0 && packetNumber <= this.his[i]!;
  }

  /**
   * Records a packet that was successfully decrypted and processed. Duplicates are ignored.
   * `pingOnly`: PING was its only ack-eliciting frame (a probe: PTO, PMTU or keep-alive), which is
   * acknowledged at once; the sender is waiting for exactly that ACK.
   */
  onPacketReceived(
    packetNumber: number,
    ackEliciting: boolean,
    now: Millis,
    ecn?: EcnMark,
    pingOnly = false,
  ): void {
    if (!(packetNumber >= 0) || !Number.isSafeInteger(packetNumber) || this.isDuplicate(packetNumber)) return;
    const idx = this.insert(packetNumber);
    if (packetNumber > this._largestReceived) {
      this._largestReceived = packetNumber;
      this.largestReceivedTime = now;
    }
    if (ecn !== undefined) this.ecn[ecn]++;
    this.newSinceAck = true;

    if (ackEliciting) {
      // RFC 9000 §13.2.1: acknowledge immediately when this packet fills a hole below the largest
      // ack-eliciting packet, or leaves a hole between it and this packet.
      const outOfOrder =
        packetNumber < this.largestAckEliciting || this.los[idx]! > this.largestAckEliciting + 1;
      if (packetNumber > this.largestAckEliciting) this.largestAckEliciting = packetNumber;
      if (this.ackElicitingSinceAck++ === 0) this.firstUnackedAt = now;
      const disorder = outOfOrder || ecn === 'ce';
      // Disorder is a loss, reordering or congestion the sender must learn of at the RFC's rate:
      // this packet and the next `quiet` ones are not decimated.
      if (disorder && this.decimation) {
        const from = this.ackElicitingReceived + 1 + this.decimation.quiet;
        if (from > this.decimateFrom) this.decimateFrom = from;
      }
      const decimating = this.decimating;
      this.ackElicitingReceived++;
      this.dueAt = decimating ? Math.max(this.threshold, this.decimation!.every) : this.threshold;
      // §13.2.1: Initial and Handshake, out-of-order arrival, ECN-CE; and probes (PING only).
      if (this.immediate || disorder || pingOnly) this.urgent = true;
      if (this.urgent || this.ackElicitingSinceAck >= this.dueAt /* §13.2.2 */) {
        if (this.deadline === undefined || now < this.deadline) this.deadline = now;
      } else {
        // §13.2.1: within max_ack_delay, counted from the first unacknowledged ack-eliciting packet;
        // a deadline never moves later (one set before decimation started moves earlier).
        const at = this.firstUnackedAt + (decimating ? this.decimatedDelay() : this.maxAckDelay);
        if (this.deadline === undefined || at < this.deadline) this.deadline = at;
      }
    }
    this.limitRanges();
  }

  /**
   * Whether a driver that batches received datagrams (processing several before it sends) should
   * send now rather than at the end of its batch: an ACK is owed at once for a gap, ECN-CE or a
   * handshake packet (RFC 9000 §13.2.1), or `batchLimit` ack-eliciting packets are unacknowledged.
   */
  ackUrgent(batchLimit: number): boolean {
    // While decimating, the count that makes an ACK due is above the batch limit: that count.
    return (
      this.hasNewAckable && (this.urgent || this.ackElicitingSinceAck >= Math.max(batchLimit, this.dueAt))
    );
  }

  /**
   * The delay of a decimated ACK: a quarter of min_rtt, at least the timer granularity, never more
   * than max_ack_delay (RFC 9000 §13.2.1); max_ack_delay without an RTT sample.
   */
  private decimatedDelay(): Millis {
    const rtt = this.rtt;
    if (!rtt?.hasSample) return this.maxAckDelay;
    return Math.min(this.maxAckDelay, Math.max(MIN_DECIMATED_ACK_DELAY, rtt.minRtt / 4));
  }

  /** When an ACK must be sent at the latest; undefined when none is owed. A time <= now means now. */
  ackDeadline(): Millis | undefined {
    return this.deadline;
  }

  /**
   * The ACK frame to send now: ranges in descending order, the ACK Delay in units of
   * 2^ackDelayExponent microseconds (RFC 9000 §19.3), ECN counts if any packet carried a mark.
   * Older ranges are left out to fit `maxBytes` (§13.2.3); undefined if nothing fits or nothing
   * was received.
   */
  buildAckFrame(
    now: Millis,
    ackDelayExponent: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): AckFrame | undefined {
    const n = this.los.length;
    if (n === 0) return undefined;
    const largest = this.his[n - 1]!;
    const delayMs = now - this.largestReceivedTime;
    // §13.2.5: the delay since the largest packet was received, in microseconds, scaled down.
    const ackDelay = delayMs > 0 ? Math.floor((delayMs * 1000) / 2 ** ackDelayExponent) : 0;
    const { ect0, ect1, ce } = this.ecn;
    const hasEcn = ect0 + ect1 + ce > 0;

    let size =
      1 +
      varintLength(largest) +
      varintLength(ackDelay) +
      varintLength(largest - this.los[n - 1]!) +
      (hasEcn ? varintLength(ect0) + varintLength(ect1) + varintLength(ce) : 0);
    if (size + 1 > maxBytes) return undefined;
    const ranges: AckRange[] = [{ smallest: this.los[n - 1]!, largest }];
    for (let i = n - 2; i >= 0; i--) {
      // §19.3.1: Gap = previous smallest - largest - 2; ACK Range Length = largest - smallest.
      const gap = this.los[i + 1]! - this.his[i]! - 2;
      const len = this.his[i]! - this.los[i]!;
      const extra = varintLength(gap) + varintLength(len);
      if (size + extra + varintLength(ranges.length) > maxBytes) break;
      size += extra;
      ranges.push({ smallest: this.los[i]!, largest: this.his[i]! });
    }
    const frame: AckFrame = { type: FrameType.Ack, ackDelay, ranges };
    if (hasEcn) frame.ecn = { ect0, ect1, ce };
    return frame;
  }

  /**
   * An ACK frame was put in a packet: the ack-eliciting count and the timer restart. `now` (when
   * given) tells a decimated ACK that its timer sent from one the count sent: fewer than `every`
   * packets arrived within the decimated delay, so the peer's window is small (a loss-limited or
   * app-limited flow). Such a flow loses throughput to every extra moment its ACKs wait (its sending
   * is clocked by them) and saves little CPU by fewer ACKs: the RFC's rate returns for `after` more
   * packets before decimation is tried again.
   */
  onAckSent(now?: Millis): void {
    const decimation = this.decimation;
    if (
      decimation !== undefined &&
      now !== undefined &&
      this.dueAt > this.threshold &&
      !this.urgent &&
      this.ackElicitingSinceAck > 0 &&
      this.ackElicitingSinceAck < this.dueAt &&
      this.deadline !== undefined &&
      now >= this.deadline
    ) {
      const from = this.ackElicitingReceived + decimation.after;
      if (from > this.decimateFrom) this.decimateFrom = from;
    }
    this.ackElicitingSinceAck = 0;
    this.urgent = false;
    this.deadline = undefined;
    this.newSinceAck = false;
  }

  /**
   * A packet carrying our ACK with this Largest Acknowledged was acknowledged: stop reporting
   * ranges at or below it (RFC 9000 §13.2.4); those packet numbers now count as duplicates.
   */
  onAckOfAckReceived(largestAckedInOurAck: number): void {
    if (largestAckedInOurAck < this.floor) return;
    this.floor = largestAckedInOurAck + 1;
    let drop = 0;
    while (drop < this.los.length && this.his[drop]! <= largestAckedInOurAck) drop++;
    if (drop > 0) {
      this.los.splice(0, drop);
      this.his.splice(0, drop);
    }
    if (this.los.length > 0 && this.los[0]! < this.floor) this.los[0] = this.floor;
    if (this.los.length === 0) {
      // Nothing left to report: no ACK is owed any more.
      this.ackElicitingSinceAck = 0;
      this.urgent = false;
      this.deadline = undefined;
      this.newSinceAck = false;
    }
  }

  // --- internals ---------------------------------------------------------------------------

  /** Index of the last range whose smallest is <= pn, -1 if none. */
  private rangeAtOrBelow(pn: number): number {
    const los = this.los;
    let lo = 0;
    let hi = los.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (los[mid]! <= pn) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Adds a packet number known not to be present; returns the index of the range holding it. */
  private insert(pn: number): number {
    const los = this.los;
    const his = this.his;
    const n = los.length;
    if (n === 0) {
      // Arrays of exactly one slot (a push into an empty array reserves 17): the one range of a
      // connection gone quiet costs 16 bytes, not 0.3 KiB (issue 13, idle memory).
      this.los = [pn];
      this.his = [pn];
      return 0;
    }
    // Fast path: in-order arrival extends or follows the top range.
    if (pn > his[n - 1]! + 1) {
      los.push(pn);
      his.push(pn);
      return n;
    }
    if (pn === his[n - 1]! + 1) {
      his[n - 1] = pn;
      return n - 1;
    }
    const left = this.rangeAtOrBelow(pn);
    const right = left + 1;
    const joinsLeft = left >= 0 && his[left]! + 1 === pn;
    const joinsRight = right < n && los[right]! - 1 === pn;
    if (joinsLeft && joinsRight) {
      his[left] = his[right]!;
      los.splice(right, 1);
      his.splice(right, 1);
      return left;
    }
    if (joinsLeft) {
      his[left] = pn;
      return left;
    }
    if (joinsRight) {
      los[right] = pn;
      return right;
    }
    los.splice(right, 0, pn);
    his.splice(right, 0, pn);
    return right;
  }

  /** RFC 9000 §13.2.3: bound the ranges; what is dropped below becomes "duplicate". */
  private limitRanges(): void {
    const excess = this.los.length - this.maxRanges;
    if (excess <= 0) return;
    this.los.splice(0, excess);
    this.his.splice(0, excess);
    this.floor = this.los[0]!;
  }
}
