/**
 * Loss detection and probe timeouts (RFC 9002 §6 and Appendix A.5-A.11), generic over the payload
 * `P` the connection keeps per packet to retransmit its frames.
 *
 * The detector owns the sent packets of the three packet number spaces, feeds the RTT estimator and
 * the congestion controller, and computes the single loss detection timer. It never reads a clock:
 * every event carries `now`.
 */

import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { deepFreeze } from '../util/deep-freeze.js';
import type { Millis } from '../util/time.js';
import { type AckRange, type EcnCounts, FrameType } from '../wire/frames.js';
import { GRANULARITY, type RttEstimator } from './rtt-estimator.js';
import { SentPacketQueue } from './sent-packet-queue.js';
import { type CongestionController, PacketNumberSpace, type SentPacket } from './types.js';

/** RFC 9002 §6.1.1 kPacketThreshold. */
export const PACKET_THRESHOLD = 3;
/** RFC 9002 §6.1.2 kTimeThreshold. */
export const TIME_THRESHOLD = 9 / 8;
/** RFC 9002 §7.6.1 kPersistentCongestionThreshold. */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;
/** RFC 9000 §18.2: max_ack_delay when the peer did not send the transport parameter. */
export const DEFAULT_MAX_ACK_DELAY: Millis = 25;

export interface AckResult<P> {
  /** Packets newly acknowledged by this ACK frame, in ascending packet number order. */
  newlyAcked: SentPacket<P>[];
  /** Packets declared lost while processing it, in ascending packet number order. */
  lost: SentPacket<P>[];
  /** The frame's Largest Acknowledged was newly acknowledged. */
  largestAckedNewlyAcked: boolean;
  /** An RTT sample was taken (RFC 9002 §5.1). */
  rttSampled: boolean;
  /** Persistent congestion was established (RFC 9002 §7.6.2). */
  persistentCongestion: boolean;
}

export interface TimeoutResult<P> {
  /** Packets declared lost by the time threshold. */
  lost: SentPacket<P>[];
  /** A PTO fired: send `count` ack-eliciting packets in `space` (RFC 9002 §6.2.4). */
  probe?: { space: PacketNumberSpace; count: number };
}

export interface LossDetectorOptions {
  rtt: RttEstimator;
  congestion: CongestionController;
  isServer: boolean;
  /** The peer's max_ack_delay transport parameter (ms), 25 until known. */
  peerMaxAckDelay?: Millis;
  /** RFC 9002 §6.1.1, default 3. */
  packetThreshold?: number;
  /** RFC 9002 §6.1.2, default 9/8. */
  timeThreshold?: number;
  /** Ack-eliciting packets to send when a PTO fires (RFC 9002 §6.2.4 allows up to two); default 2. */
  ptoProbeCount?: number;
  /**
   * ACK-only packets (neither ack-eliciting nor in flight) tracked per space; beyond this the oldest
   * is forgotten, so a peer that never acknowledges them cannot grow our memory. Default 1024.
   */
  maxAckOnlyTracked?: number;
}

const SPACES = [PacketNumberSpace.Initial, PacketNumberSpace.Handshake, PacketNumberSpace.ApplicationData];

interface SpaceState<P> {
  /** An inert shared queue once the space is discarded (discardedQueue). */
  sent: SentPacketQueue<P>;
  largestAcked: number | undefined;
  /** A.3 time_of_last_ack_eliciting_packet. */
  lastAckElicitingTime: Millis | undefined;
  /** A.3 loss_time: when the time threshold declares the next packet lost. */
  lossTime: Millis | undefined;
  /** B.2 ecn_ce_counters. */
  ecnCe: number;
  discarded: boolean;
}

/**
 * The sent-packet queue of every discarded space (issue 13: idle memory): empty and deep-frozen, so
 * that a packet pushed into it by mistake throws instead of being shared between connections.
 * onPacketSent ignores discarded spaces, and their packets can no longer be acknowledged (the
 * packets carrying such ACKs are dropped, RFC 9001 §4.9).
 */
const discardedQueue: SentPacketQueue<never> = deepFreeze(new SentPacketQueue<never>());

/**
 * The state of every discarded space, after releaseDiscarded (issue 13: a connection keeps nothing
 * of its Initial and Handshake spaces, RFC 9001 §4.9): shared and frozen like discardedQueue.
 */
const discardedState: SpaceState<never> = deepFreeze({
  sent: discardedQueue,
  largestAcked: undefined,
  lastAckElicitingTime: undefined,
  lossTime: undefined,
  ecnCe: 0,
  discarded: true,
});

export class LossDetector<P> {
  private readonly rtt: RttEstimator;
  private readonly cc: CongestionController;
  private readonly isServer: boolean;
  private peerMaxAckDelay: Millis;
  private readonly packetThreshold: number;
  private readonly timeThreshold: number;
  private readonly ptoProbeCount: number;
  private readonly maxAckOnlyTracked: number;
  private readonly spaces: SpaceState<P>[];
  private _ptoCount = 0;
  private handshakeConfirmed = false;
  private peerValidatedAddress = false;
  private amplificationBlocked = false;
  private hasHandshakeKeys = false;
  /**
   * When the timer was last (re)armed: the base of the client's anti-deadlock PTO (A.8). Undefined
   * until something was sent: there is no deadlock to break before the first packet.
   */
  private timerBase: Millis | undefined;
  /** Packets sent before this time were sent on a previous path (RFC 9000 §9.4). */
  private pathStart: Millis = Number.NEGATIVE_INFINITY;

  constructor(opts: LossDetectorOptions) {
    this.rtt = opts.rtt;
    this.cc = opts.congestion;
    this.isServer = opts.isServer;
    this.peerMaxAckDelay = opts.peerMaxAckDelay ?? DEFAULT_MAX_ACK_DELAY;
    this.packetThreshold = opts.packetThreshold ?? PACKET_THRESHOLD;
    this.timeThreshold = opts.timeThreshold ?? TIME_THRESHOLD;
    this.ptoProbeCount = opts.ptoProbeCount ?? 2;
    this.maxAckOnlyTracked = opts.maxAckOnlyTracked ?? 1024;
    this.spaces = SPACES.map(() => ({
      sent: new SentPacketQueue<P>(),
      largestAcked: undefined,
      lastAckElicitingTime: undefined,
      lossTime: undefined,
      ecnCe: 0,
      discarded: false,
    }));
  }

  /** A.3 pto_count: consecutive PTOs without an acknowledgment. */
  get ptoCount(): number {
    return this._ptoCount;
  }

  setPeerMaxAckDelay(ms: Millis): void {
    this.peerMaxAckDelay = ms;
  }
  /** RFC 9001 §4.1.2; enables the Application Data PTO (RFC 9002 §6.2.1). */
  setHandshakeConfirmed(): void {
    this.handshakeConfirmed = true;
  }
  /** Client: the server has validated our address (A.8 PeerCompletedAddressValidation). */
  setPeerCompletedAddressValidation(): void {
    this.peerValidatedAddress = true;
  }
  /**
   * Server: whether the anti-amplification limit blocks sending (RFC 9002 §6.2.2.1). After
   * unblocking, the caller re-reads lossDetectionTimeout() and runs onLossDetectionTimeout() if it
   * is already due (A.6).
   */
  setAmplificationBlocked(blocked: boolean): void {
    this.amplificationBlocked = blocked;
  }
  /** Client: whether Handshake keys are available, to pick the anti-deadlock probe space (§6.2.2.1). */
  setHasHandshakeKeys(has: boolean): void {
    this.hasHandshakeKeys = has;
  }

  /** Ack-eliciting packets in flight, in one space or all. */
  ackElicitingInFlight(space?: PacketNumberSpace): number {
    if (space !== undefined) return this.spaces[space]!.sent.ackElicitingCount;
    let n = 0;
    for (const s of this.spaces) n += s.sent.ackElicitingCount;
    return n;
  }

  /** The largest packet number the peer acknowledged in `space` (for packet number length selection). */
  largestAcked(space: PacketNumberSpace): number | undefined {
    return this.spaces[space]!.largestAcked;
  }

  /** Packets tracked in `space`: sent and not yet acknowledged, lost or discarded. */
  sentPacketCount(space: PacketNumberSpace): number {
    return this.spaces[space]!.sent.size;
  }

  /**
   * A.5 OnPacketSent. Packet numbers must strictly increase per space (skipping is allowed: an ACK
   * of a skipped number is then a PROTOCOL_VIOLATION). Packets of a discarded space are ignored.
   */
  onPacketSent(packet: SentPacket<P>): void {
    const st = this.spaces[packet.space]!;
    if (st.discarded) return;
    if (!st.sent.push(packet)) {
      throw transportError(
        TransportErrorCode.INTERNAL_ERROR,
        `packet number ${packet.packetNumber} sent after ${st.sent.largestSent}`,
      );
    }
    if (packet.inFlight) {
      if (packet.ackEliciting) st.lastAckElicitingTime = packet.timeSent;
      this.cc.onPacketSent(packet.timeSent, packet.size, true);
      this.timerBase = packet.timeSent;
    } else {
      this.cc.onPacketSent(packet.timeSent, packet.size, false);
      if (st.sent.ackOnlyCount > this.maxAckOnlyTracked) {
        st.sent.evictOldestAckOnly();
        st.sent.compact();
      }
    }
  }

  /**
   * A.7 OnAckReceived. `ranges` are in descending order (as decoded), `ackDelay` in ms already scaled
   * by the peer's ack_delay_exponent. Throws PROTOCOL_VIOLATION when a range acknowledges a packet
   * number never sent in this space (RFC 9000 §13.1, §21.4).
   */
  onAckReceived(
    space: PacketNumberSpace,
    ranges: readonly AckRange[],
    ackDelay: Millis,
    now: Millis,
    ecn?: EcnCounts,
    handshakeConfirmed?: boolean,
  ): AckResult<P> {
    const st = this.spaces[space]!;
    const confirmed = handshakeConfirmed ?? this.handshakeConfirmed;
    if (handshakeConfirmed === true) this.handshakeConfirmed = true;
    const result: AckResult<P> = {
      newlyAcked: [],
      lost: [],
      largestAckedNewlyAcked: false,
      rttSampled: false,
      persistentCongestion: false,
    };
    if (ranges.length === 0) return result;

    let largest = -1;
    for (const r of ranges) {
      if (!(r.smallest <= r.largest) || r.smallest < 0) {
        throw transportError(TransportErrorCode.FRAME_ENCODING_ERROR, 'invalid ACK range', FrameType.Ack);
      }
      // RFC 9000 §13.1, §21.4: acknowledging a packet that was never sent.
      if (st.sent.containsUnsent(r.smallest, r.largest)) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `ACK of unsent packet in [${r.smallest}, ${r.largest}]`,
          FrameType.Ack,
        );
      }
      if (r.largest > largest) largest = r.largest;
    }
    // A.8 PeerCompletedAddressValidation: a client knows the server validated its address once a
    // Handshake packet was acknowledged.
    if (space === PacketNumberSpace.Handshake) this.peerValidatedAddress = true;
    if (st.discarded) return result;

    if (st.largestAcked === undefined || largest > st.largestAcked) st.largestAcked = largest;

    // DetectAndRemoveAckedPackets, ascending: ranges arrive in descending order.
    const acked = result.newlyAcked;
    for (let i = ranges.length - 1; i >= 0; i--) {
      const r = ranges[i]!;
      st.sent.removeRange(r.smallest, r.largest, acked);
    }
    if (acked.length === 0) {
      st.sent.compact();
      return result;
    }

    // RFC 9002 §5.1: sample only when the Largest Acknowledged is newly acknowledged and is
    // ack-eliciting (a stricter form of "at least one newly acknowledged packet is ack-eliciting":
    // the ACK Delay relates to that largest packet).
    let largestNewly = acked[acked.length - 1]!;
    for (const p of acked) if (p.packetNumber > largestNewly.packetNumber) largestNewly = p;
    if (largestNewly.packetNumber === largest) {
      result.largestAckedNewlyAcked = true;
      // RFC 9000 §9.4: a packet sent on the old path gives no RTT sample for the new one.
      if (largestNewly.ackEliciting && largestNewly.timeSent >= this.pathStart) {
        // RFC 9002 §5.3: Initial packets are not delayed by the peer; ignore its ACK Delay there.
        const delay = space === PacketNumberSpace.Initial ? 0 : ackDelay;
        this.rtt.update(now - largestNewly.timeSent, delay, confirmed, this.peerMaxAckDelay, now);
        result.rttSampled = true;
      }
    }

    // B.7 ProcessECN: an increase of the peer-reported ECN-CE count is a congestion event.
    if (ecn !== undefined && ecn.ce > st.ecnCe) {
      st.ecnCe = ecn.ce;
      this.cc.onCongestionEvent(now, largestNewly.timeSent);
    }

    const lost = this.detectAndRemoveLost(st, now);
    if (lost.packets.length > 0) {
      result.lost = lost.packets;
      result.persistentCongestion = this.onPacketsLost(now, lost);
    }
    this.cc.onPacketsAcked(now, acked, this.rtt);
    st.sent.compact();

    // A.7: reset the backoff unless a client is unsure the server validated its address.
    if (this.peerCompletedAddressValidation()) this._ptoCount = 0;
    this.timerBase = now;
    return result;
  }

  /**
   * A.8 SetLossDetectionTimer: when the loss detection timer fires, or undefined when it is not
   * armed. A time <= now means "now".
   */
  lossDetectionTimeout(): Millis | undefined {
    const loss = this.earliestLossTime();
    if (loss !== undefined) return loss.time;
    // RFC 9002 §6.2.2.1: a server blocked by the amplification limit arms no PTO.
    if (this.isServer && this.amplificationBlocked) return undefined;
    if (this.ackElicitingInFlight() === 0 && this.peerCompletedAddressValidation()) return undefined;
    return this.ptoTimeAndSpace()?.time;
  }

  /** Whether the armed loss detection timer is the time threshold's (RFC 9002 §6.1.2), not a PTO. */
  lossTimerIsAck(): boolean {
    return this.earliestLossTime() !== undefined;
  }

  /**
   * A.9 OnLossDetectionTimeout. Does nothing if the timer is not armed or not yet due. On a PTO the
   * caller sends `probe.count` ack-eliciting packets in `probe.space` (§6.2.4), ignoring the
   * congestion window (§7.5).
   */
  onLossDetectionTimeout(now: Millis): TimeoutResult<P> {
    const timeout = this.lossDetectionTimeout();
    if (timeout === undefined || now < timeout) return { lost: [] };

    const loss = this.earliestLossTime();
    if (loss !== undefined) {
      // RFC 9002 §6.1.2: time threshold loss detection.
      const st = this.spaces[loss.space]!;
      const lost = this.detectAndRemoveLost(st, now);
      if (lost.packets.length > 0) this.onPacketsLost(now, lost);
      st.sent.compact();
      this.timerBase = now;
      return { lost: lost.packets };
    }

    const pto = this.ptoTimeAndSpace();
    if (pto === undefined) return { lost: [] };
    // RFC 9002 §6.2.2.1: the client's anti-deadlock probe is a single packet.
    const count = this.ackElicitingInFlight() === 0 ? 1 : this.ptoProbeCount;
    // RFC 9002 §6.2.1: the backoff doubles the PTO period.
    this._ptoCount++;
    this.timerBase = now;
    return { lost: [], probe: { space: pto.space, count } };
  }

  /**
   * A.11 OnPacketNumberSpaceDiscarded (RFC 9002 §6.4): the space's keys are gone; its packets leave
   * bytes in flight without a congestion signal and are returned. The PTO backoff is reset.
   */
  discardSpace(space: PacketNumberSpace, now: Millis): SentPacket<P>[] {
    const st = this.spaces[space]!;
    const removed = st.sent.removeAll();
    this.removeFromBytesInFlight(removed);
    st.lastAckElicitingTime = undefined;
    st.lossTime = undefined;
    st.discarded = true;
    if (space === PacketNumberSpace.Initial) this.hasHandshakeKeys = true;
    this._ptoCount = 0;
    this.timerBase = now;
    return removed;
  }

  /**
   * After discardSpace, once the call that discarded the space has returned: its state (with its
   * empty sent-packet queue) gives way to the shared inert one, so a discarded space costs no memory
   * of its own.
   */
  releaseDiscarded(space: PacketNumberSpace): void {
    if (this.spaces[space]!.discarded) this.spaces[space] = discardedState as SpaceState<P>;
  }

  /**
   * The connection now sends on a new path (RFC 9000 §9.4, RFC 9002 §5, B.3): the RTT estimator and
   * the congestion controller start from their initial values, and packets sent before `now` take
   * no part in either; the PTO backoff restarts.
   */
  onNewPath(now: Millis): void {
    this.pathStart = now;
    this.rtt.reset();
    this.cc.onNewPath(now);
    this._ptoCount = 0;
    this.timerBase = now;
  }

  /**
   * Removes the packets of `space` matching `predicate` (0-RTT packets when 0-RTT is rejected,
   * RFC 9001 §4.6.2; RFC 9002 §6.4): neither acknowledged nor lost, no congestion signal.
   */
  discardPackets(space: PacketNumberSpace, predicate: (p: SentPacket<P>) => boolean): SentPacket<P>[] {
    const st = this.spaces[space]!;
    const removed = st.sent.removeWhere(predicate);
    if (removed.length === 0) return removed;
    this.removeFromBytesInFlight(removed);
    if (st.sent.ackElicitingCount === 0) st.lastAckElicitingTime = undefined;
    this.recomputeLossTime(st);
    return removed;
  }

  // --- internals ---------------------------------------------------------------------------

  /** A.8 PeerCompletedAddressValidation. */
  private peerCompletedAddressValidation(): boolean {
    // Servers assume clients validate the server's address implicitly.
    return this.isServer || this.peerValidatedAddress || this.handshakeConfirmed;
  }

  private lossDelay(): Millis {
    // RFC 9002 §6.1.2: max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity).
    const rtt = Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt);
    return Math.max(this.timeThreshold * rtt, GRANULARITY);
  }

  /** A.8 GetLossTimeAndSpace. */
  private earliestLossTime(): { time: Millis; space: PacketNumberSpace } | undefined {
    let best: { time: Millis; space: PacketNumberSpace } | undefined;
    for (const space of SPACES) {
      const t = this.spaces[space]!.lossTime;
      if (t !== undefined && (best === undefined || t < best.time)) best = { time: t, space };
    }
    return best;
  }

  /** A.8 GetPtoTimeAndSpace; undefined when no PTO applies. */
  private ptoTimeAndSpace(): { time: Millis; space: PacketNumberSpace } | undefined {
    // RFC 9002 §6.2.1: doubled per consecutive PTO; no pow call in the usual case of none.
    const backoff = this._ptoCount === 0 ? 1 : 2 ** this._ptoCount;
    let duration = this.rtt.pto(0, false) * backoff;
    if (this.ackElicitingInFlight() === 0) {
      // RFC 9002 §6.2.2.1: the client's anti-deadlock PTO, counted from when the timer was armed.
      const space =
        this.hasHandshakeKeys || this.spaces[PacketNumberSpace.Initial]!.discarded
          ? PacketNumberSpace.Handshake
          : PacketNumberSpace.Initial;
      if (this.timerBase === undefined) return undefined;
      return { time: this.timerBase + duration, space };
    }
    let best: { time: Millis; space: PacketNumberSpace } | undefined;
    for (const space of SPACES) {
      const st = this.spaces[space]!;
      if (st.sent.ackElicitingCount === 0 || st.lastAckElicitingTime === undefined) continue;
      if (space === PacketNumberSpace.ApplicationData) {
        // RFC 9002 §6.2.1: no Application Data PTO before the handshake is confirmed.
        if (!this.handshakeConfirmed) break;
        // Include max_ack_delay (with backoff) for Application Data.
        duration += this.peerMaxAckDelay * backoff;
      }
      const t = st.lastAckElicitingTime + duration;
      if (best === undefined || t < best.time) best = { time: t, space };
    }
    return best;
  }

  /**
   * A.10 DetectAndRemoveLostPackets. Also notes, for each lost packet, whether a packet sent
   * between it and the previous lost one was acknowledged (for persistent congestion).
   */
  private detectAndRemoveLost(st: SpaceState<P>, now: Millis): LostBatch<P> {
    st.lossTime = undefined;
    const batch: LostBatch<P> = { packets: [], ackedGapBefore: [] };
    const largestAcked = st.largestAcked;
    if (largestAcked === undefined) return batch;
    const lossDelay = this.lossDelay();
    const q = st.sent;
    const end = q.end();
    let sawAck = false;
    for (let i = q.begin(); i < end; i++) {
      if (q.packetNumberAt(i) > largestAcked) break;
      if (q.ackedMarkAt(i)) sawAck = true;
      const p = q.at(i);
      if (p === undefined) continue;
      // RFC 9002 §6.1.1 packet threshold, §6.1.2 time threshold. The time check uses the same
      // expression as the loss timer below, so a timer firing at exactly that time always finds the
      // packet lost (now - lossDelay could round below timeSent and re-arm the timer forever).
      if (p.timeSent + lossDelay <= now || largestAcked >= p.packetNumber + this.packetThreshold) {
        q.removeAt(i, false);
        batch.packets.push(p);
        batch.ackedGapBefore.push(sawAck);
        sawAck = false;
      } else {
        const t = p.timeSent + lossDelay;
        if (st.lossTime === undefined || t < st.lossTime) st.lossTime = t;
      }
    }
    return batch;
  }

  /** Recomputes a space's loss_time after packets were removed without running detection. */
  private recomputeLossTime(st: SpaceState<P>): void {
    if (st.lossTime === undefined || st.largestAcked === undefined) return;
    st.lossTime = undefined;
    const lossDelay = this.lossDelay();
    const q = st.sent;
    for (let i = q.begin(); i < q.end(); i++) {
      if (q.packetNumberAt(i) > st.largestAcked) break;
      const p = q.at(i);
      if (p === undefined) continue;
      const t = p.timeSent + lossDelay;
      if (st.lossTime === undefined || t < st.lossTime) st.lossTime = t;
    }
  }

  /** B.8 OnPacketsLost, with the persistent congestion check; returns whether it was established. */
  private onPacketsLost(now: Millis, lost: LostBatch<P>): boolean {
    // RFC 9000 §14.4: a lost PMTU probe leaves bytes in flight but is no congestion signal.
    let probeBytes = 0;
    for (const p of lost.packets) if (p.pmtuProbe && p.inFlight) probeBytes += p.size;
    if (probeBytes > 0) {
      this.cc.onPacketsDiscarded(probeBytes);
      this.cc.onPacketsLost(
        now,
        lost.packets.filter((p) => !p.pmtuProbe),
      );
    } else {
      this.cc.onPacketsLost(now, lost.packets);
    }
    if (!this.inPersistentCongestion(lost)) return false;
    // RFC 9002 §7.6.2: collapse the window; §5.2: min_rtt restarts from the newest sample.
    this.cc.onPersistentCongestion(now);
    this.rtt.onPersistentCongestion();
    return true;
  }

  /**
   * RFC 9002 §7.6.2: two ack-eliciting lost packets, both sent after the first RTT sample, more than
   * the persistent congestion duration apart, with no acknowledged packet sent between them. Only
   * the acknowledged space is considered (allowed by §7.6.2).
   */
  private inPersistentCongestion(lost: LostBatch<P>): boolean {
    const first = this.rtt.firstSampleTime;
    if (first === undefined) return false;
    // RFC 9002 §7.6.1: (smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay) * 3.
    const duration = this.rtt.pto(this.peerMaxAckDelay, true) * PERSISTENT_CONGESTION_THRESHOLD;
    let runStart: Millis | undefined;
    for (let i = 0; i < lost.packets.length; i++) {
      const p = lost.packets[i]!;
      if (p.timeSent <= first || lost.ackedGapBefore[i]) runStart = undefined;
      if (p.timeSent <= first || !p.ackEliciting || p.pmtuProbe) continue;
      if (runStart === undefined) runStart = p.timeSent;
      else if (p.timeSent - runStart > duration) return true;
    }
    return false;
  }

  private removeFromBytesInFlight(packets: readonly SentPacket<P>[]): void {
    let bytes = 0;
    for (const p of packets) if (p.inFlight) bytes += p.size;
    if (bytes > 0) this.cc.onPacketsDiscarded(bytes);
  }
}

interface LostBatch<P> {
  packets: SentPacket<P>[];
  /** ackedGapBefore[i]: a packet sent between packets[i-1] and packets[i] was acknowledged. */
  ackedGapBefore: boolean[];
}
