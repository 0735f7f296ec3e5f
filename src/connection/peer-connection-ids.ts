/**
 * The connection IDs the peer issued to us (RFC 9000 §5.1.1, §5.1.2): which one we send to, their
 * stateless reset tokens, retirement, and the active_connection_id_limit we advertised.
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { FrameType, type NewConnectionIdFrame, type RetireConnectionIdFrame } from '../wire/frames.js';
import { equalBytes } from './local-connection-ids.js';

interface PeerCid {
  sequenceNumber: number;
  cid: Uint8Array;
  resetToken: Uint8Array | undefined;
}

/** Bound on RETIRE_CONNECTION_ID frames owed to the peer, against NEW_CONNECTION_ID floods (RFC 9000 §5.1.2). */
const MAX_PENDING_RETIREMENTS = 64;

export class PeerConnectionIds {
  private readonly cids = new Map<number, PeerCid>();
  private currentSequence = 0;
  private retirePriorTo = 0;
  private readonly pendingRetire = new Set<number>();
  /** Highest sequence number ever seen, to ignore replays of retired ones. */
  private highestSeen = 0;

  /** `limit` is our active_connection_id_limit. */
  constructor(
    initial: Uint8Array,
    private readonly limit: number,
  ) {
    this.cids.set(0, { sequenceNumber: 0, cid: initial, resetToken: undefined });
  }

  /** The DCID for outgoing packets. */
  get current(): Uint8Array {
    return this.cids.get(this.currentSequence)!.cid;
  }

  /**
   * Replace the CID of sequence 0 during the handshake (the server's chosen SCID, or the Retry SCID),
   * RFC 9000 §7.2.
   */
  setInitial(cid: Uint8Array): void {
    this.cids.set(0, { sequenceNumber: 0, cid, resetToken: this.cids.get(0)?.resetToken });
  }

  /** The server's stateless_reset_token transport parameter belongs to sequence 0 (RFC 9000 §18.2). */
  setInitialResetToken(token: Uint8Array): void {
    const entry = this.cids.get(0);
    if (entry) entry.resetToken = token;
  }

  onNewConnectionId(frame: NewConnectionIdFrame, peerUsesZeroLengthCid: boolean): void {
    // RFC 9000 §19.15: an endpoint that uses a zero-length CID must not receive NEW_CONNECTION_ID.
    if (peerUsesZeroLengthCid) {
      throw transportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        'NEW_CONNECTION_ID from a peer using zero-length connection IDs',
        FrameType.NewConnectionId,
      );
    }
    const existing = this.cids.get(frame.sequenceNumber);
    if (existing) {
      // A repeat must carry the same CID and token (RFC 9000 §19.15).
      if (
        !equalBytes(existing.cid, frame.connectionId) ||
        (existing.resetToken && !equalBytes(existing.resetToken, frame.statelessResetToken))
      ) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `NEW_CONNECTION_ID sequence ${frame.sequenceNumber} reused for a different connection ID`,
          FrameType.NewConnectionId,
        );
      }
      return;
    }
    for (const c of this.cids.values()) {
      if (equalBytes(c.cid, frame.connectionId)) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          'NEW_CONNECTION_ID repeats a connection ID with another sequence number',
          FrameType.NewConnectionId,
        );
      }
    }
    this.highestSeen = Math.max(this.highestSeen, frame.sequenceNumber);
    if (frame.sequenceNumber < this.retirePriorTo) {
      // Already retired by an earlier Retire Prior To: retire this one at once (RFC 9000 §19.15).
      this.queueRetire(frame.sequenceNumber);
      return;
    }
    this.cids.set(frame.sequenceNumber, {
      sequenceNumber: frame.sequenceNumber,
      // Real copies: frames are views of the packet (a Buffer, whose slice() would be a view too).
      cid: new Uint8Array(frame.connectionId),
      resetToken: new Uint8Array(frame.statelessResetToken),
    });
    if (frame.retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = frame.retirePriorTo;
      for (const seq of [...this.cids.keys()]) {
        if (seq < this.retirePriorTo) {
          this.cids.delete(seq);
          this.queueRetire(seq);
        }
      }
      if (!this.cids.has(this.currentSequence)) this.switchToLowest();
    }
    // RFC 9000 §5.1.1: more active CIDs than our limit is CONNECTION_ID_LIMIT_ERROR.
    if (this.cids.size > this.limit) {
      throw transportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `peer issued ${this.cids.size} active connection IDs, limit is ${this.limit}`,
        FrameType.NewConnectionId,
      );
    }
  }

  private switchToLowest(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of this.cids.keys()) lowest = Math.min(lowest, seq);
    if (lowest === Number.POSITIVE_INFINITY) {
      throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'peer retired every connection ID');
    }
    this.currentSequence = lowest;
  }

  private queueRetire(seq: number): void {
    this.pendingRetire.add(seq);
    if (this.pendingRetire.size > MAX_PENDING_RETIREMENTS) {
      throw transportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        'too many connection IDs retired without acknowledgment (NEW_CONNECTION_ID flood)',
        FrameType.NewConnectionId,
      );
    }
  }

  hasPendingFrames(): boolean {
    return this.pendingRetire.size > 0;
  }

  nextRetirement(): RetireConnectionIdFrame | undefined {
    for (const seq of this.pendingRetire) {
      this.pendingRetire.delete(seq);
      return { type: FrameType.RetireConnectionId, sequenceNumber: seq };
    }
    return undefined;
  }

  onRetirementLost(seq: number): void {
    this.pendingRetire.add(seq);
  }

  /** Is `token` the stateless reset token of any CID the peer gave us? (RFC 9000 §10.3.1) */
  isStatelessResetToken(token: Uint8Array): boolean {
    for (const c of this.cids.values()) {
      if (c.resetToken && equalBytes(c.resetToken, token)) return true;
    }
    return false;
  }

  get activeCount(): number {
    return this.cids.size;
  }

  // ---- per-path connection IDs (RFC 9000 §9.5), for connection-paths.ts ----

  /** The sequence number of `current`. */
  get currentSequenceNumber(): number {
    return this.currentSequence;
  }

  /** The connection ID with this sequence number, if it is still active. */
  cidFor(sequenceNumber: number): Uint8Array | undefined {
    return this.cids.get(sequenceNumber)?.cid;
  }

  /** The lowest active sequence number not in `inUse`. */
  unusedSequenceNumber(inUse: ReadonlySet<number>): number | undefined {
    let best: number | undefined;
    for (const seq of this.cids.keys()) {
      if (!inUse.has(seq) && (best === undefined || seq < best)) best = seq;
    }
    return best;
  }

  /** Send with this (active) connection ID from now on. */
  use(sequenceNumber: number): void {
    if (this.cids.has(sequenceNumber)) this.currentSequence = sequenceNumber;
  }

  /** Retire a connection ID no path uses any more (RFC 9000 §5.1.2); never the current one. */
  retire(sequenceNumber: number): void {
    if (sequenceNumber === this.currentSequence || !this.cids.delete(sequenceNumber)) return;
    this.queueRetire(sequenceNumber);
  }
}
