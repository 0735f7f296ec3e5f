/**
 * Connection-level limits of one stream epoch: flow control in both directions (RFC 9000 §4.1,
 * MAX_DATA / DATA_BLOCKED) and stream counts in both directions (RFC 9000 §4.6, MAX_STREAMS /
 * STREAMS_BLOCKED), with the control frames they produce and their retransmission after loss.
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import type { Millis } from '../util/time.js';
import { FrameType } from '../wire/frames.js';
import { ReceiveWindow, SendCredit } from './flow-control.js';
import { connectionControlFrameLength } from './frame-size.js';
import { SentFrameKind, SentFrameRecord } from './sent-frame-record.js';
import { LocalStreamLimit, PeerStreamLimit } from './stream-limits.js';
import type { FlowLimits, PoppedFrame } from './stream-types.js';

export class ConnectionFlow {
  /** What the peer lets us send in total (MAX_DATA received). */
  readonly send: SendCredit;
  /** What we let the peer send in total (MAX_DATA sent). */
  readonly recv: ReceiveWindow;
  /** The current MAX_DATA value must be sent again (a frame carrying it was lost). */
  private maxDataResend = false;
  /** A DATA_BLOCKED frame is waiting to be sent. */
  private dataBlockedPending = false;
  private readonly localBidi: LocalStreamLimit;
  private readonly localUni: LocalStreamLimit;
  private readonly peerBidi: PeerStreamLimit;
  private readonly peerUni: PeerStreamLimit;

  constructor(local: FlowLimits, peer: FlowLimits, maxReceiveWindow: number) {
    this.send = new SendCredit(peer.initialMaxData);
    this.recv = new ReceiveWindow(local.initialMaxData, maxReceiveWindow);
    this.localBidi = new LocalStreamLimit(peer.initialMaxStreamsBidi);
    this.localUni = new LocalStreamLimit(peer.initialMaxStreamsUni);
    this.peerBidi = new PeerStreamLimit(local.initialMaxStreamsBidi);
    this.peerUni = new PeerStreamLimit(local.initialMaxStreamsUni);
  }

  /** Streams we open, under the peer's MAX_STREAMS. */
  local(bidirectional: boolean): LocalStreamLimit {
    return bidirectional ? this.localBidi : this.localUni;
  }

  /** Streams the peer opens, under our MAX_STREAMS. */
  peer(bidirectional: boolean): PeerStreamLimit {
    return bidirectional ? this.peerBidi : this.peerUni;
  }

  /** RFC 9000 §4.1: the sum of highest received offsets must stay within what we advertised. */
  countReceived(growth: number, frameType: number): void {
    if (growth === 0) return;
    const received = this.recv.received + growth;
    if (this.recv.exceeds(received)) {
      throw transportError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `connection data ${received} exceeds MAX_DATA ${this.recv.limit}`,
        frameType,
      );
    }
    this.recv.onReceived(received);
  }

  /** Call when data waits for connection credit: queues DATA_BLOCKED once per limit (RFC 9000 §4.1). */
  reportBlocked(): void {
    if (this.send.takeBlockedReport()) this.dataBlockedPending = true;
  }

  /** Whether a DATA_BLOCKED could be due now (credit used up, not yet reported at this limit). */
  get blockedCheckDue(): boolean {
    return !this.dataBlockedPending && this.send.blockedReportDue;
  }

  get hasPendingControl(): boolean {
    return (
      this.recv.updateDue ||
      this.maxDataResend ||
      this.dataBlockedPending ||
      this.peerBidi.updateDue ||
      this.peerUni.updateDue ||
      this.localBidi.blockedPending ||
      this.localUni.blockedPending
    );
  }

  /** The next connection-level control frame that fits in maxBytes: MAX_DATA, MAX_STREAMS, *_BLOCKED. */
  popControl(owner: object, maxBytes: number, now: Millis, rtt: () => Millis): PoppedFrame | undefined {
    const recv = this.recv;
    if (recv.updateDue || this.maxDataResend) {
      // RFC 9000 §4.2: MAX_DATA from consumption, auto-tuned; a lost one is resent with the latest value.
      const smoothed = rtt();
      const value = recv.updateDue ? recv.nextLimit(now, smoothed) : recv.limit;
      if (connectionControlFrameLength(value) <= maxBytes) {
        if (recv.updateDue) recv.commitUpdate(now, smoothed);
        this.maxDataResend = false;
        return {
          frame: { type: FrameType.MaxData, maximumData: value },
          record: new SentFrameRecord(owner, SentFrameKind.MaxData, undefined, undefined, value),
        };
      }
    }
    const maxStreams =
      this.popMaxStreams(owner, true, maxBytes) ?? this.popMaxStreams(owner, false, maxBytes);
    if (maxStreams !== undefined) return maxStreams;
    if (this.dataBlockedPending) {
      const value = this.send.limit;
      if (!this.send.isBlockedAt(value)) {
        this.dataBlockedPending = false;
      } else if (connectionControlFrameLength(value) <= maxBytes) {
        this.dataBlockedPending = false;
        return {
          frame: { type: FrameType.DataBlocked, maximumData: value },
          record: new SentFrameRecord(owner, SentFrameKind.DataBlocked, undefined, undefined, value),
        };
      }
    }
    return this.popStreamsBlocked(owner, true, maxBytes) ?? this.popStreamsBlocked(owner, false, maxBytes);
  }

  /** RFC 9000 §4.6, §19.11: return stream credit as peer streams close. */
  private popMaxStreams(owner: object, bidirectional: boolean, maxBytes: number): PoppedFrame | undefined {
    const limit = this.peer(bidirectional);
    if (!limit.updateDue || connectionControlFrameLength(limit.desiredLimit) > maxBytes) return undefined;
    const value = limit.commitUpdate();
    return {
      frame: {
        type: bidirectional ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni,
        maximumStreams: value,
      },
      record: new SentFrameRecord(
        owner,
        bidirectional ? SentFrameKind.MaxStreamsBidi : SentFrameKind.MaxStreamsUni,
        undefined,
        undefined,
        value,
      ),
    };
  }

  /** RFC 9000 §4.6, §19.14: STREAMS_BLOCKED while still blocked at the same limit. */
  private popStreamsBlocked(
    owner: object,
    bidirectional: boolean,
    maxBytes: number,
  ): PoppedFrame | undefined {
    const limit = this.local(bidirectional);
    if (!limit.blockedPending) return undefined;
    const value = limit.limit;
    if (!limit.isBlockedAt(value)) {
      limit.onBlockedSettled();
      return undefined;
    }
    if (connectionControlFrameLength(value) > maxBytes) return undefined;
    limit.onBlockedSettled();
    return {
      frame: {
        type: bidirectional ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni,
        maximumStreams: value,
      },
      record: new SentFrameRecord(
        owner,
        bidirectional ? SentFrameKind.StreamsBlockedBidi : SentFrameKind.StreamsBlockedUni,
        undefined,
        undefined,
        value,
      ),
    };
  }

  /** A connection-level control frame was lost: queue it again if its value is still the latest. */
  onLost(kind: SentFrameKind, value: number): void {
    switch (kind) {
      case SentFrameKind.MaxData:
        if (value === this.recv.limit) this.maxDataResend = true;
        return;
      case SentFrameKind.DataBlocked:
        if (this.send.isBlockedAt(value)) this.dataBlockedPending = true;
        return;
      case SentFrameKind.MaxStreamsBidi:
      case SentFrameKind.MaxStreamsUni:
        this.peer(kind === SentFrameKind.MaxStreamsBidi).onLost(value);
        return;
      case SentFrameKind.StreamsBlockedBidi:
      case SentFrameKind.StreamsBlockedUni: {
        this.local(kind === SentFrameKind.StreamsBlockedBidi).onBlockedLost(value);
        return;
      }
      default:
        return;
    }
  }
}
