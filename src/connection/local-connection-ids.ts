/**
 * The connection IDs this endpoint issued to its peer (RFC 9000 §5.1.1): sequence numbers, stateless
 * reset tokens, NEW_CONNECTION_ID to send and RETIRE_CONNECTION_ID to honour.
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import type { RandomBytes } from '../util/random.js';
import { FrameType, type NewConnectionIdFrame } from '../wire/frames.js';

export interface LocalConnectionId {
  sequenceNumber: number;
  cid: Uint8Array;
  resetToken: Uint8Array;
}

export interface LocalConnectionIdsOptions {
  /** The CID chosen at connection start (sequence number 0). */
  initial: Uint8Array;
  cidLength: number;
  random: RandomBytes;
  /** Stateless reset token for a CID (RFC 9000 §10.3.2); the endpoint derives it from a static key. */
  resetToken: (cid: Uint8Array) => Uint8Array;
}

/** Changes the endpoint must apply to its CID routing table. */
export type CidRoutingChange = { type: 'add' | 'remove'; cid: Uint8Array };

/** An issued CID; the first one's token is derived on first use (`initialResetToken`). */
interface IssuedId {
  readonly sequenceNumber: number;
  readonly cid: Uint8Array;
  readonly resetToken: Uint8Array | undefined;
}

export class LocalConnectionIds {
  private readonly active = new Map<number, IssuedId>();
  private nextSequence = 1;
  /** NEW_CONNECTION_ID frames waiting to be sent (or re-sent after loss), by sequence number. */
  private readonly pendingAnnouncements = new Set<number>();
  private readonly routing: CidRoutingChange[] = [];
  private readonly opts: LocalConnectionIdsOptions;
  /**
   * The first CID's token, derived when first asked for: a server sends it (stateless_reset_token,
   * RFC 9000 §18.2), a client never does (issue 13: an HMAC per client connection saved).
   */
  private initialToken: Uint8Array | undefined;

  constructor(opts: LocalConnectionIdsOptions) {
    this.opts = opts;
    this.active.set(0, { sequenceNumber: 0, cid: opts.initial, resetToken: undefined });
  }

  /** All CIDs the peer may currently use to reach us. */
  all(): LocalConnectionId[] {
    const out: LocalConnectionId[] = [];
    for (const e of this.active.values()) {
      out.push({
        sequenceNumber: e.sequenceNumber,
        cid: e.cid,
        resetToken: e.resetToken ?? this.initialResetToken,
      });
    }
    return out;
  }

  /** The CID issued first of those still active (sequence 0 until the peer retires it). */
  get firstCid(): Uint8Array {
    return this.active.values().next().value!.cid;
  }

  /** The stateless reset token of the first CID (a server's stateless_reset_token, RFC 9000 §18.2). */
  get initialResetToken(): Uint8Array {
    this.initialToken ??= this.opts.resetToken(this.opts.initial);
    return this.initialToken;
  }

  get count(): number {
    return this.active.size;
  }

  /**
   * Issue new CIDs until the peer holds `peerLimit` of ours (its active_connection_id_limit),
   * RFC 9000 §5.1.1. Capped at 8: more buys nothing without active migration.
   */
  replenish(peerLimit: number): void {
    const target = Math.min(peerLimit, 8);
    while (this.active.size < target) {
      const drawn = this.opts.random(this.opts.cidLength);
      const seq = this.nextSequence++;
      // The CID and its token as views of one buffer (issue 13: instead of the random bytes' and the
      // token digest's own buffers, one allocation per CID kept for the connection's lifetime).
      const [cid, resetToken] = copyTogether(drawn, this.opts.resetToken(drawn));
      this.active.set(seq, { sequenceNumber: seq, cid, resetToken });
      this.pendingAnnouncements.add(seq);
      this.routing.push({ type: 'add', cid });
    }
  }

  hasPendingFrames(): boolean {
    return this.pendingAnnouncements.size > 0;
  }

  /** The next NEW_CONNECTION_ID frame to send. */
  nextAnnouncement(): NewConnectionIdFrame | undefined {
    for (const seq of this.pendingAnnouncements) {
      this.pendingAnnouncements.delete(seq);
      const entry = this.active.get(seq);
      if (!entry) continue;
      return {
        type: FrameType.NewConnectionId,
        sequenceNumber: seq,
        retirePriorTo: 0,
        connectionId: entry.cid,
        statelessResetToken: entry.resetToken ?? this.initialResetToken,
      };
    }
    return undefined;
  }

  /** A NEW_CONNECTION_ID frame was lost: announce again if the CID is still active. */
  onAnnouncementLost(sequenceNumber: number): void {
    if (this.active.has(sequenceNumber)) this.pendingAnnouncements.add(sequenceNumber);
  }

  /**
   * RETIRE_CONNECTION_ID from the peer (RFC 9000 §19.16): a sequence number never issued is a
   * PROTOCOL_VIOLATION, and so is retiring the CID the frame's packet was sent to.
   */
  onRetire(sequenceNumber: number, packetDcid: Uint8Array): void {
    if (sequenceNumber >= this.nextSequence) {
      throw transportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `RETIRE_CONNECTION_ID for sequence ${sequenceNumber}, never issued`,
        FrameType.RetireConnectionId,
      );
    }
    const entry = this.active.get(sequenceNumber);
    if (!entry) return; // already retired
    if (equalBytes(entry.cid, packetDcid)) {
      throw transportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        'RETIRE_CONNECTION_ID retires the connection ID the packet was sent to',
        FrameType.RetireConnectionId,
      );
    }
    this.active.delete(sequenceNumber);
    this.pendingAnnouncements.delete(sequenceNumber);
    this.routing.push({ type: 'remove', cid: entry.cid });
  }

  /** Drain routing-table changes for the endpoint. */
  takeRoutingChanges(): CidRoutingChange[] {
    return this.routing.splice(0, this.routing.length);
  }
}

/** Copies of `a` and `b`, as views of one new buffer. */
export function copyTogether(a: Uint8Array, b: Uint8Array): [Uint8Array, Uint8Array] {
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return [bytes.subarray(0, a.length), bytes.subarray(a.length)];
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
