/**
 * The connection IDs the peer issued to us (RFC 9000 §5.1.1, §5.1.2): which one we send to, their
 * stateless reset tokens, retirement, and the active_connection_id_limit we advertised.
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { bytesEqualConstantTime, fromByteString, toByteString } from '../util/byte-string.js';
import { FrameType, type NewConnectionIdFrame, type RetireConnectionIdFrame } from '../wire/frames.js';

/**
 * An active CID as kept: the CID and its stateless reset token as latin1 strings (16-40 bytes of
 * heap each where a Uint8Array costs ~0.1 KiB, util/byte-string.ts; issue 13, idle memory). The
 * token is only compared, when a datagram fails to decrypt.
 */
interface PeerCid {
  readonly sequenceNumber: number;
  readonly key: string;
  resetToken: string | undefined;
}

/**
 * Bound on connection IDs retired but not yet acknowledged as retired, against NEW_CONNECTION_ID
 * floods (RFC 9000 §5.1.2: at least twice active_connection_id_limit; beyond the bound the peer gets
 * CONNECTION_ID_LIMIT_ERROR).
 */
const MIN_UNACKED_RETIREMENTS = 64;

export class PeerConnectionIds {
  /** Active CIDs; an array, not a Map: a handful of entries (issue 13, idle memory). */
  private readonly cids: PeerCid[] = [];
  /** The active CID packets are sent to, and its bytes (written into every packet). */
  private cur: PeerCid;
  private curBytes: Uint8Array;
  private retirePriorTo = 0;
  /** Retirements to send (RETIRE_CONNECTION_ID not yet written, or lost). */
  private pendingRetire: Set<number> | undefined;
  /** Retirements not acknowledged yet (pending, in flight or lost): what the flood bound counts. */
  private unackedRetire: Set<number> | undefined;
  private readonly maxUnackedRetirements: number;

  /** `limit` is our active_connection_id_limit. */
  constructor(
    initial: Uint8Array,
    private readonly limit: number,
  ) {
    this.cur = { sequenceNumber: 0, key: toByteString(initial), resetToken: undefined };
    this.curBytes = initial;
    this.cids.push(this.cur);
    this.maxUnackedRetirements = Math.max(MIN_UNACKED_RETIREMENTS, 2 * limit);
  }

  /** The DCID for outgoing packets. */
  get current(): Uint8Array {
    return this.curBytes;
  }

  private setCurrent(entry: PeerCid): void {
    if (entry === this.cur) return;
    this.cur = entry;
    this.curBytes = fromByteString(entry.key);
  }

  private entry(sequenceNumber: number): PeerCid | undefined {
    for (const c of this.cids) if (c.sequenceNumber === sequenceNumber) return c;
    return undefined;
  }

  private remove(entry: PeerCid): void {
    this.cids.splice(this.cids.indexOf(entry), 1);
  }

  /**
   * Replace the CID of sequence 0 during the handshake (the server's chosen SCID, or the Retry SCID),
   * RFC 9000 §7.2.
   */
  setInitial(cid: Uint8Array): void {
    const old = this.entry(0);
    const entry: PeerCid = { sequenceNumber: 0, key: toByteString(cid), resetToken: old?.resetToken };
    if (old) this.cids[this.cids.indexOf(old)] = entry;
    else this.cids.push(entry);
    if (this.cur === old) {
      this.cur = entry;
      this.curBytes = cid;
    }
  }

  /** The server's stateless_reset_token transport parameter belongs to sequence 0 (RFC 9000 §18.2). */
  setInitialResetToken(token: Uint8Array): void {
    const entry = this.entry(0);
    if (entry) entry.resetToken = toByteString(token);
  }

  /**
   * A NEW_CONNECTION_ID frame (RFC 9000 §19.15). All state changes (adding, retiring, switching away
   * from a retired current CID) are made before any limit is checked, so that an error leaves a
   * consistent state: `current` is always an active CID, and the CONNECTION_CLOSE can be sent to it.
   */
  onNewConnectionId(frame: NewConnectionIdFrame, peerUsesZeroLengthCid: boolean): void {
    // RFC 9000 §19.15: an endpoint that uses a zero-length CID must not receive NEW_CONNECTION_ID.
    if (peerUsesZeroLengthCid) {
      throw transportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        'NEW_CONNECTION_ID from a peer using zero-length connection IDs',
        FrameType.NewConnectionId,
      );
    }
    // RFC 9000 §5.1.1: sequence numbers go up by one from 0; one beyond 2^53 cannot have been
    // reached (and could not be told apart from its neighbours as a number).
    if (frame.sequenceNumber > Number.MAX_SAFE_INTEGER) {
      throw transportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `NEW_CONNECTION_ID sequence number ${frame.sequenceNumber} is out of reach`,
        FrameType.NewConnectionId,
      );
    }
    const key = toByteString(frame.connectionId);
    const existing = this.entry(frame.sequenceNumber);
    if (existing) {
      // A repeat must carry the same CID and token (RFC 9000 §19.15).
      if (
        existing.key !== key ||
        (existing.resetToken !== undefined && existing.resetToken !== toByteString(frame.statelessResetToken))
      ) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `NEW_CONNECTION_ID sequence ${frame.sequenceNumber} reused for a different connection ID`,
          FrameType.NewConnectionId,
        );
      }
      return;
    }
    for (const c of this.cids) {
      if (c.key === key) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          'NEW_CONNECTION_ID repeats a connection ID with another sequence number',
          FrameType.NewConnectionId,
        );
      }
    }
    if (frame.sequenceNumber < this.retirePriorTo) {
      // Already retired by an earlier Retire Prior To: retire this one at once (RFC 9000 §19.15).
      this.queueRetire(frame.sequenceNumber);
      this.checkRetirementBound();
      return;
    }
    // Strings are copies: frames are views of the packet.
    this.cids.push({
      sequenceNumber: frame.sequenceNumber,
      key,
      resetToken: toByteString(frame.statelessResetToken),
    });
    if (frame.retirePriorTo > this.retirePriorTo) {
      // RFC 9000 §5.1.2: stop using every CID below Retire Prior To and retire it. The new CID is at
      // or above it, so at least one CID stays active.
      this.retirePriorTo = frame.retirePriorTo;
      for (const c of this.cids.slice()) {
        if (c.sequenceNumber < this.retirePriorTo) {
          this.remove(c);
          this.queueRetire(c.sequenceNumber);
        }
      }
      if (!this.cids.includes(this.cur)) this.switchToLowest();
    }
    // RFC 9000 §5.1.1: more active CIDs than our limit is CONNECTION_ID_LIMIT_ERROR.
    if (this.cids.length > this.limit) {
      throw transportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `peer issued ${this.cids.length} active connection IDs, limit is ${this.limit}`,
        FrameType.NewConnectionId,
      );
    }
    this.checkRetirementBound();
  }

  private switchToLowest(): void {
    let lowest: PeerCid | undefined;
    for (const c of this.cids)
      if (lowest === undefined || c.sequenceNumber < lowest.sequenceNumber) lowest = c;
    // Unreachable: callers keep at least one CID active.
    if (lowest !== undefined) this.setCurrent(lowest);
  }

  private queueRetire(seq: number): void {
    // Created on the first retirement: most connections never retire a CID (issue 13).
    this.pendingRetire ??= new Set();
    this.unackedRetire ??= new Set();
    this.pendingRetire.add(seq);
    this.unackedRetire.add(seq);
  }

  /** RFC 9000 §5.1.2: too many retirements in need of acknowledgment MAY be CONNECTION_ID_LIMIT_ERROR. */
  private checkRetirementBound(): void {
    const unacked = this.unackedRetirementCount;
    if (unacked > this.maxUnackedRetirements) {
      throw transportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `${unacked} connection IDs retired without acknowledgment (NEW_CONNECTION_ID flood)`,
        FrameType.NewConnectionId,
      );
    }
  }

  /** The packet carrying RETIRE_CONNECTION_ID for `seq` was acknowledged. */
  onRetirementAcked(seq: number): void {
    this.unackedRetire?.delete(seq);
    this.pendingRetire?.delete(seq);
  }

  /** Retirements sent or queued and not yet acknowledged. */
  get unackedRetirementCount(): number {
    return this.unackedRetire?.size ?? 0;
  }

  hasPendingFrames(): boolean {
    return this.pendingRetire !== undefined && this.pendingRetire.size > 0;
  }

  nextRetirement(): RetireConnectionIdFrame | undefined {
    const pending = this.pendingRetire;
    if (pending === undefined) return undefined;
    for (const seq of pending) {
      pending.delete(seq);
      return { type: FrameType.RetireConnectionId, sequenceNumber: seq };
    }
    return undefined;
  }

  onRetirementLost(seq: number): void {
    // Already acknowledged through another copy: nothing left to do.
    if (this.unackedRetire?.has(seq)) this.pendingRetire?.add(seq);
  }

  /**
   * Is `token` the stateless reset token of any CID the peer gave us? RFC 9000 §10.3.1: compared
   * without leaking information about the tokens: every token in full, none skipped.
   */
  isStatelessResetToken(token: Uint8Array): boolean {
    let found = false;
    for (const c of this.cids) {
      if (c.resetToken !== undefined && bytesEqualConstantTime(c.resetToken, token)) found = true;
    }
    return found;
  }

  get activeCount(): number {
    return this.cids.length;
  }

  // ---- per-path connection IDs (RFC 9000 §9.5), for connection-paths.ts ----

  /** The sequence number of `current`. */
  get currentSequenceNumber(): number {
    return this.cur.sequenceNumber;
  }

  /** The connection ID with this sequence number, if it is still active. */
  cidFor(sequenceNumber: number): Uint8Array | undefined {
    const entry = this.entry(sequenceNumber);
    if (entry === undefined) return undefined;
    return entry === this.cur ? this.curBytes : fromByteString(entry.key);
  }

  /** The lowest active sequence number not in `inUse`. */
  unusedSequenceNumber(inUse: ReadonlySet<number>): number | undefined {
    let best: number | undefined;
    for (const { sequenceNumber: seq } of this.cids) {
      if (!inUse.has(seq) && (best === undefined || seq < best)) best = seq;
    }
    return best;
  }

  /** Send with this (active) connection ID from now on. */
  use(sequenceNumber: number): void {
    const entry = this.entry(sequenceNumber);
    if (entry) this.setCurrent(entry);
  }

  /** Retire a connection ID no path uses any more (RFC 9000 §5.1.2); never the current one. */
  retire(sequenceNumber: number): void {
    const entry = this.entry(sequenceNumber);
    if (entry === undefined || entry === this.cur) return;
    this.remove(entry);
    this.queueRetire(sequenceNumber);
  }
}
