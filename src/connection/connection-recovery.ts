/**
 * What happens to frames when the packets that carried them are acknowledged or lost (RFC 9000
 * §13.3: information is retransmitted, not packets), and the loss detection timer's probes
 * (RFC 9002 §6.2). Stream frames go back to the epoch that sent them, and only while it is the
 * current one: a rejected 0-RTT epoch hears nothing more.
 */
import type { LossDetector } from '../recovery/loss-detector.js';
import type { Pacer } from '../recovery/pacer.js';
import { GRANULARITY } from '../recovery/rtt-estimator.js';
import {
  type CongestionController,
  PacketNumberSpace,
  type RttView,
  type SentPacket,
} from '../recovery/types.js';
import { EncryptionLevel } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import type { AckFrame } from '../wire/frames.js';
import type { TransportParameters } from '../wire/transport-parameters.js';
import type { Framer } from './framer.js';
import type { MtuDiscovery } from './mtu-discovery.js';
import type { OneRttKeys } from './one-rtt-keys.js';
import type { PacketSpace } from './packet-space.js';
import type { PeerConnectionIds } from './peer-connection-ids.js';
import type { RecoveryReporter } from './recovery-trace.js';
import type { SentFrame, SentPacketPayload } from './sent-frames.js';
import type { StreamEpoch } from './stream-epoch.js';
import type { TrafficCounters } from './traffic-counters.js';

/**
 * What the recovery glue needs from its connection: only the parts that hear about acknowledged and
 * lost frames, so that a test can drive it with a fake (test/connection/recovery.test.ts).
 */
export interface RecoveryHost {
  readonly role: 'client' | 'server';
  readonly handshakeComplete: boolean;
  readonly handshakeConfirmed: boolean;
  /** The peer's ack_delay_exponent (RFC 9000 §18.2), once its parameters are known. */
  readonly peerParams: Pick<TransportParameters, 'ackDelayExponent'> | undefined;
  readonly spaces: readonly [PacketSpace, PacketSpace, PacketSpace];
  readonly lossDetector: Pick<
    LossDetector<SentPacketPayload>,
    'discardPackets' | 'onLossDetectionTimeout' | 'onAckReceived' | 'setPeerCompletedAddressValidation'
  >;
  readonly oneRtt: Pick<OneRttKeys, 'onPacketAcked'> | undefined;
  /** The current stream epoch: only it hears about its frames. */
  readonly epoch: StreamEpoch | undefined;
  readonly peerCids: Pick<PeerConnectionIds, 'onRetirementAcked'>;
  readonly mtu: Pick<MtuDiscovery, 'current' | 'onProbeAcked' | 'onProbeLost'>;
  readonly congestion: Pick<CongestionController, 'setMaxDatagramSize'>;
  readonly pacer: Pick<Pacer, 'setMaxDatagramSize'>;
  /** The smoothed RTT spaces a 1-RTT PTO round's two probes (probeSpacing). */
  readonly rtt: Pick<RttView, 'smoothedRtt'>;
  readonly maxDatagramSize: number;
  readonly counters: Pick<TrafficCounters, 'onPacketLost'>;
  readonly recoveryReporter: Pick<RecoveryReporter, 'lost'> | undefined;
  /** Lost control frames go back to the framer that queued them. */
  readonly framer: Pick<Framer, 'onFrameLost'>;
}

export class ConnectionRecovery {
  constructor(private readonly c: RecoveryHost) {}

  /** Forget Initial and 0-RTT packets in flight and queue their content again (Retry, Version Negotiation). */
  requeueInFlight(): void {
    this.c.lossDetector.discardPackets(PacketNumberSpace.Initial, () => true);
    const early = this.c.lossDetector.discardPackets(
      PacketNumberSpace.ApplicationData,
      (p) => p.payload.zeroRtt,
    );
    for (const p of early) this.onFramesLost(p);
    this.c.spaces[0].crypto.resendAll();
  }

  /**
   * An ACK frame arrived in `space` (RFC 9000 §19.3): the loss detector learns what it acknowledges
   * and what is lost (RFC 9002 §5, §6.1), and the frames of those packets hear about it.
   */
  onAckFrame(space: PacketNumberSpace, f: AckFrame, now: Millis): void {
    const c = this.c;
    // RFC 9002 §5.3: the Initial ack delay may be ignored; other spaces use the peer's exponent.
    const exponent = space === PacketNumberSpace.ApplicationData ? (c.peerParams?.ackDelayExponent ?? 3) : 3;
    const ackDelay = space === PacketNumberSpace.Initial ? 0 : (f.ackDelay * 2 ** exponent) / 1000;
    const result = c.lossDetector.onAckReceived(space, f.ranges, ackDelay, now, f.ecn, c.handshakeConfirmed);
    // The probe round is over once the peer acknowledges anything new: no second probe.
    if (result.newlyAcked.length > 0) c.spaces[space].cancelDeferredProbe();
    for (const p of result.newlyAcked) {
      this.onFramesAcked(p);
      this.onAckOfAck(space, p);
    }
    for (const p of result.lost) this.onFramesLost(p);
    // RFC 9002 §6.2.2.1: a Handshake ACK tells the client the server validated its address.
    if (c.role === 'client' && space === PacketNumberSpace.Handshake) {
      c.lossDetector.setPeerCompletedAddressValidation();
    }
  }

  onFramesAcked(p: SentPacket<SentPacketPayload>): void {
    if (p.payload.pmtuProbe !== undefined) this.onMtuProbeAcked(p.payload.pmtuProbe);
    for (const f of p.payload.frames) this.onFrameAcked(f);
    if (p.space === PacketNumberSpace.ApplicationData && !p.payload.zeroRtt) {
      this.c.oneRtt?.onPacketAcked(p.packetNumber, p.payload.keyPhase);
    }
  }

  private onFrameAcked(f: SentFrame): void {
    switch (f.kind) {
      case 'crypto':
        this.cryptoSpace(f.level)?.crypto.onAcked(f.offset, f.length);
        break;
      case 'stream':
        // Only the current epoch hears about its frames; a dead epoch hears nothing.
        if (f.epoch === this.c.epoch && !f.epoch.rejected) f.epoch.streams.onFrameAcked(f.record);
        break;
      case 'retire-connection-id':
        this.c.peerCids.onRetirementAcked(f.sequenceNumber);
        break;
      case 'ack':
        break;
      default:
        break;
    }
  }

  onAckOfAck(space: PacketNumberSpace, p: SentPacket<SentPacketPayload>): void {
    for (const f of p.payload.frames) {
      if (f.kind === 'ack') this.c.spaces[space].acks.onAckOfAckReceived(f.largestAcked);
    }
  }

  /** A probe got through: use the larger size from now on (RFC 9000 §14.3). */
  private onMtuProbeAcked(size: number): void {
    const before = this.c.mtu.current;
    this.c.mtu.onProbeAcked(size);
    if (this.c.mtu.current > before) {
      this.c.congestion.setMaxDatagramSize(this.c.maxDatagramSize);
      this.c.pacer.setMaxDatagramSize(this.c.maxDatagramSize);
    }
  }

  onFramesLost(p: SentPacket<SentPacketPayload>): void {
    if (p.payload.pmtuProbe !== undefined) {
      // Not a loss of data: the probe only carried PING and padding (RFC 9000 §14.4).
      this.c.mtu.onProbeLost(p.payload.pmtuProbe);
      return;
    }
    this.c.counters.onPacketLost(p.size);
    this.c.recoveryReporter?.lost(p.space, p.packetNumber, p.size);
    for (const f of p.payload.frames) {
      // Control frames go back to the framer that queued them.
      if (this.c.framer.onFrameLost(f)) continue;
      switch (f.kind) {
        case 'crypto': {
          const space = this.cryptoSpace(f.level);
          if (space && !space.discarded) space.crypto.onLost(f.offset, f.length);
          break;
        }
        case 'stream':
          if (f.epoch === this.c.epoch && !f.epoch.rejected) f.epoch.streams.onFrameLost(f.record);
          break;
        default:
          break;
      }
    }
  }

  private cryptoSpace(level: EncryptionLevel): PacketSpace | undefined {
    if (level === EncryptionLevel.Initial) return this.c.spaces[0];
    if (level === EncryptionLevel.Handshake) return this.c.spaces[1];
    if (level === EncryptionLevel.Application) return this.c.spaces[2];
    return undefined;
  }

  onLossDetectionTimeout(now: Millis): void {
    const result = this.c.lossDetector.onLossDetectionTimeout(now);
    for (const p of result.lost) this.onFramesLost(p);
    if (result.probe) {
      const space = this.c.spaces[result.probe.space];
      // A 1-RTT round's second probe goes a little after the first (probeSpacing), so that a peer
      // that acknowledges what one read brings with one ACK sends one per probe: against a run of
      // lost datagrams from the peer, each round then spends two of them, not one (issue 16's
      // stall, seen again against quic-go 0.29's client in session 35).
      if (result.probe.space === PacketNumberSpace.ApplicationData) {
        space.requestProbes(result.probe.count, now + probeSpacing(this.c.rtt.smoothedRtt));
      } else {
        space.requestProbes(result.probe.count);
      }
      // RFC 9002 §6.2.4: a probe should carry data; unacknowledged handshake data goes again.
      if (result.probe.space !== PacketNumberSpace.ApplicationData) space.crypto.resendUnacked();
      // RFC 9002 §6.2.2.1: a client without Handshake keys probes with an Initial.
      if (
        this.c.role === 'client' &&
        result.probe.space === PacketNumberSpace.ApplicationData &&
        !this.c.handshakeComplete
      ) {
        this.c.spaces[0].requestProbes(1);
      }
    }
  }
}

/**
 * The time between the two probes of a 1-RTT PTO round (RFC 9002 §6.2.4 allows two; it does not
 * say they leave together): an eighth of the smoothed RTT, at least the timer granularity. Long
 * enough for the peer to acknowledge the first before the second arrives, short beside the PTO
 * period (at least the smoothed RTT plus max_ack_delay).
 */
export function probeSpacing(smoothedRtt: Millis): Millis {
  return Math.max(GRANULARITY, smoothedRtt / 8);
}
