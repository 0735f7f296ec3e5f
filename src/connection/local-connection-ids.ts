/**
 * The connection IDs this endpoint issued to its peer (RFC 9000 §5.1.1): sequence numbers, stateless
 * reset tokens, NEW_CONNECTION_ID to send and RETIRE_CONNECTION_ID to honour.
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { fromByteString, toByteString } from '../util/byte-string.js';
import type { RandomBytes } from '../util/random.js';
import { FrameType, type NewConnectionIdFrame } from '../wire/frames.js';

/** takeRoutingChanges() when there are none: shared, never modified. */
const NO_ROUTING_CHANGES: readonly CidRoutingChange[] = Object.freeze([]);

export interface LocalConnectionId {
  readonly sequenceNumber: number;
  readonly cid: Uint8Array;
}

export interface LocalConnectionIdsOptions {
  /** The CID chosen at connection start (sequence number 0). */
  initial: Uint8Array;
  cidLength: number;
  random: RandomBytes;
  /** Stateless reset token for a CID (RFC 9000 §10.3.2); the endpoint derives it from a static key. */
  resetToken: (cid: Uint8Array) => Uint8Array;
}

/**
 * How many of our CIDs the peer holds at once: the handshake's and one spare (wire change of issue 13,
 * session 25; it was up to 8, i.e. 3 NEW_CONNECTION_ID frames at the usual limit of 4). Every
 * connection advertises disable_active_migration (connection-options.ts), so a peer never moves to a
 * new path on purpose (RFC 9000 §9); a NAT rebinding keeps the CID it uses (§9.5). One spare lets
 * it still switch CIDs, and each one it retires is replaced (RETIRE_CONNECTION_ID, §19.16). A CID
 * issued costs a random draw, a routing entry, a stateless reset token (an HMAC) and a frame
 * (sent, acknowledged, tracked for loss) on every connection, short ones included.
 */
export const MAX_ACTIVE_ISSUED = 2;

/** Changes the endpoint must apply to its CID routing table. */
export type CidRoutingChange = { type: 'add' | 'remove'; cid: Uint8Array };

/** An active CID as kept: its bytes as a latin1 string (util/byte-string.ts). */
interface Entry {
  readonly sequenceNumber: number;
  readonly key: string;
}

export class LocalConnectionIds {
  /**
   * Active CIDs by ascending sequence number. An array, not a Map; each CID a string, not a
   * Uint8Array; no reset token kept per CID: the token is derived again when a NEW_CONNECTION_ID
   * frame is written (issue 13, idle memory: a Map of a few entries is ~0.3 KiB, a CID with its
   * token and their buffer ~0.35 KiB, as a string ~60 bytes).
   */
  private readonly active: Entry[] = [];
  private nextSequence = 1;
  /**
   * NEW_CONNECTION_ID frames waiting to be sent (or re-sent after loss), by sequence number, in the
   * order queued; undefined when none (most of a connection's life).
   */
  private pendingAnnouncements: number[] | undefined;
  private readonly routing: CidRoutingChange[] = [];
  private readonly initialKey: string;
  private initialToken: string | undefined;
  private readonly cidLength: number;
  private readonly random: RandomBytes;
  private readonly resetToken: (cid: Uint8Array) => Uint8Array;

  constructor(opts: LocalConnectionIdsOptions) {
    this.cidLength = opts.cidLength;
    this.random = opts.random;
    this.resetToken = opts.resetToken;
    this.initialKey = toByteString(opts.initial);
    this.active.push({ sequenceNumber: 0, key: this.initialKey });
  }

  /** All CIDs the peer may currently use to reach us (new arrays). */
  all(): LocalConnectionId[] {
    return this.active.map((e) => ({ sequenceNumber: e.sequenceNumber, cid: fromByteString(e.key) }));
  }

  /** The CID issued first of those still active (sequence 0 until the peer retires it; a new array). */
  get firstCid(): Uint8Array {
    return fromByteString(this.active[0]!.key);
  }

  /** The CID chosen at connection start (sequence number 0), retired or not (a new array). */
  get initialCid(): Uint8Array {
    return fromByteString(this.initialKey);
  }

  /**
   * The stateless reset token of the first CID (a server's stateless_reset_token, RFC 9000 §18.2),
   * derived when first asked for (a client never asks: it never sends it) and kept as a string.
   */
  get initialResetToken(): Uint8Array {
    if (this.initialToken === undefined)
      this.initialToken = toByteString(this.resetToken(fromByteString(this.initialKey)));
    return fromByteString(this.initialToken);
  }

  get count(): number {
    return this.active.length;
  }

  private entry(sequenceNumber: number): Entry | undefined {
    for (const e of this.active) if (e.sequenceNumber === sequenceNumber) return e;
    return undefined;
  }

  /**
   * Issue new CIDs until the peer holds `peerLimit` of ours (its active_connection_id_limit), at most
   * MAX_ACTIVE_ISSUED: RFC 9000 §5.1.1 lets an endpoint issue fewer than the limit.
   */
  replenish(peerLimit: number): void {
    const target = Math.min(peerLimit, MAX_ACTIVE_ISSUED);
    while (this.active.length < target) {
      const cid = this.random(this.cidLength);
      const seq = this.nextSequence++;
      this.active.push({ sequenceNumber: seq, key: toByteString(cid) });
      this.queueAnnouncement(seq);
      this.routing.push({ type: 'add', cid });
    }
  }

  private queueAnnouncement(seq: number): void {
    const pending = this.pendingAnnouncements;
    if (pending === undefined) this.pendingAnnouncements = [seq];
    else if (!pending.includes(seq)) pending.push(seq);
  }

  private unqueueAnnouncement(seq: number): void {
    const pending = this.pendingAnnouncements;
    if (pending === undefined) return;
    const i = pending.indexOf(seq);
    if (i >= 0) pending.splice(i, 1);
    if (pending.length === 0) this.pendingAnnouncements = undefined;
  }

  hasPendingFrames(): boolean {
    return this.pendingAnnouncements !== undefined;
  }

  /** The next NEW_CONNECTION_ID frame to send. */
  nextAnnouncement(): NewConnectionIdFrame | undefined {
    while (this.pendingAnnouncements !== undefined) {
      const seq = this.pendingAnnouncements[0]!;
      this.unqueueAnnouncement(seq);
      const entry = this.entry(seq);
      if (!entry) continue;
      const cid = fromByteString(entry.key);
      return {
        type: FrameType.NewConnectionId,
        sequenceNumber: seq,
        retirePriorTo: 0,
        connectionId: cid,
        // RFC 9000 §10.3.2: the same token every time, derived from the CID under a static key.
        statelessResetToken: this.resetToken(cid),
      };
    }
    return undefined;
  }

  /** A NEW_CONNECTION_ID frame was lost: announce again if the CID is still active. */
  onAnnouncementLost(sequenceNumber: number): void {
    if (this.entry(sequenceNumber)) this.queueAnnouncement(sequenceNumber);
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
    const entry = this.entry(sequenceNumber);
    if (!entry) return; // already retired
    if (entry.key === toByteString(packetDcid)) {
      throw transportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        'RETIRE_CONNECTION_ID retires the connection ID the packet was sent to',
        FrameType.RetireConnectionId,
      );
    }
    this.active.splice(this.active.indexOf(entry), 1);
    this.unqueueAnnouncement(sequenceNumber);
    this.routing.push({ type: 'remove', cid: fromByteString(entry.key) });
  }

  /**
   * Drain routing-table changes for the endpoint. Asked after every datagram: none is the usual
   * answer, and it costs no new array (issue 13).
   */
  takeRoutingChanges(): readonly CidRoutingChange[] {
    if (this.routing.length === 0) return NO_ROUTING_CHANGES;
    return this.routing.splice(0, this.routing.length);
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
