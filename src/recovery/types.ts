/**
 * CONTRACT between loss recovery / congestion control (src/recovery) and the connection.
 * RFC 9002 Appendix A is the model; names follow it.
 */
import type { Millis } from '../util/time.js';

/** Packet number spaces (RFC 9000 §12.3). */
export enum PacketNumberSpace {
  Initial = 0,
  Handshake = 1,
  ApplicationData = 2,
}

/**
 * A packet we sent, as tracked for loss detection (RFC 9002 A.1.1). `payload` is whatever the
 * connection needs to retransmit the frames (not the packet) if it is declared lost.
 */
export interface SentPacket<P> {
  packetNumber: number;
  space: PacketNumberSpace;
  timeSent: Millis;
  /** Bytes of the UDP payload this packet took (the whole packet, including header and tag). */
  size: number;
  ackEliciting: boolean;
  /** Counts toward bytes in flight (ack-eliciting or PADDING-only). */
  inFlight: boolean;
  /**
   * A PMTU probe (RFC 9000 §14.4): its loss is not a sign of congestion, so it neither reduces the
   * window nor counts toward persistent congestion.
   */
  pmtuProbe?: boolean;
  payload: P;
}

export interface CongestionController {
  /** Bytes. */
  readonly congestionWindow: number;
  readonly bytesInFlight: number;
  /** Bytes that may be sent now (congestionWindow - bytesInFlight, floored at 0). */
  availableWindow(): number;
  onPacketSent(now: Millis, bytes: number, inFlight: boolean): void;
  /** Packets newly acknowledged by one ACK frame (RFC 9002 §7.3, B.5). */
  onPacketsAcked(
    now: Millis,
    packets: ReadonlyArray<{ size: number; timeSent: Millis; inFlight: boolean }>,
    rtt: RttView,
  ): void;
  /** Packets declared lost (RFC 9002 B.8). */
  onPacketsLost(
    now: Millis,
    packets: ReadonlyArray<{ size: number; timeSent: Millis; inFlight: boolean }>,
  ): void;
  /** RFC 9002 §7.6.2 */
  onPersistentCongestion(now: Millis): void;
  /** Packets removed from bytes in flight without being acked or lost (discarded keys, 0-RTT rejected). */
  onPacketsDiscarded(bytes: number): void;
  /** ECN-CE increase (RFC 9002 B.7), with the send time of the largest acked packet. */
  onCongestionEvent(now: Millis, sentTime: Millis): void;
  /** The path carries larger datagrams now (PMTU discovery raised it). */
  setMaxDatagramSize(bytes: number): void;
  /** The application has nothing to send right now (to avoid growing the window while app-limited). */
  setAppLimited(appLimited: boolean): void;
  /**
   * The connection now sends on a new path (RFC 9000 §9.4): back to the initial window and slow
   * start. Packets sent before `now` (on the old path) still leave bytes in flight when acknowledged
   * or lost, but neither grow nor reduce the new path's window.
   */
  onNewPath(now: Millis): void;
  readonly inSlowStart: boolean;
  readonly inRecovery: boolean;
}

export interface RttView {
  readonly latestRtt: Millis;
  readonly smoothedRtt: Millis;
  readonly rttVar: Millis;
  readonly minRtt: Millis;
  readonly hasSample: boolean;
}
