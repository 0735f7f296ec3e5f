/**
 * One packet number space (RFC 9000 §12.3): its next packet number, received-packet tracking for
 * ACKs, its CRYPTO stream and (for Initial and Handshake) its keys.
 */
import type { PacketKeys } from '../crypto/packet-keys.js';
import { PacketNumberSpace, type RttView } from '../recovery/types.js';
import { EncryptionLevel } from '../tls/types.js';
import { deepFreeze } from '../util/deep-freeze.js';
import type { Millis } from '../util/time.js';
import { AckManager } from './ack-manager.js';
import { CryptoStream } from './crypto-stream.js';

/**
 * What a discarded Initial or Handshake space holds instead of its own ACK state and CRYPTO stream
 * (issue 13: about 1.2 KiB per space and connection otherwise). Nothing reads or writes a
 * discarded space: its packets are dropped before their packet number is decoded (RFC 9001 §4.9),
 * nothing is sent in it, and its sent packets are gone from the loss detector (the swap waits until
 * the call that discarded the space has returned: releaseDiscarded). One empty pair per
 * space kind is shared by every connection, deep-frozen: a write would be a bug, and it throws
 * instead of leaking state from one connection into another.
 */
const discardedParts = new Map<PacketNumberSpace, { acks: AckManager; crypto: CryptoStream }>();

function discardedPartsOf(space: PacketNumberSpace): { acks: AckManager; crypto: CryptoStream } {
  let parts = discardedParts.get(space);
  if (parts === undefined) {
    parts = deepFreeze({
      acks: new AckManager({ space, maxAckDelay: 0, immediateAck: true }),
      crypto: new CryptoStream(),
    });
    discardedParts.set(space, parts);
  }
  return parts;
}

export class PacketSpace {
  private _nextPacketNumber = 0;
  /** Replaced by an inert shared instance when the space is discarded (see discardedParts). */
  private _acks: AckManager;
  /** The client's Initial CRYPTO data is kept whole until discarded: a Retry resends all of it. */
  private _crypto: CryptoStream;
  private _readKeys: PacketKeys | undefined;
  private _writeKeys: PacketKeys | undefined;
  private _discarded = false;
  private _probesPending = 0;
  /** When one more probe is owed (the second of a 1-RTT PTO round, sent a little after the first). */
  private _deferredProbeAt: Millis | undefined;

  /** `rtt`: the connection's estimate, for the delay of decimated ACKs (ack-manager.ts). */
  constructor(
    readonly space: PacketNumberSpace,
    maxAckDelay: number,
    rtt?: Pick<RttView, 'minRtt' | 'hasSample'>,
  ) {
    this._crypto = new CryptoStream(space === PacketNumberSpace.Initial);
    this._acks = new AckManager({
      space,
      maxAckDelay: space === PacketNumberSpace.ApplicationData ? maxAckDelay : 0,
      immediateAck: space !== PacketNumberSpace.ApplicationData,
      // Named, not a conditional spread: three spaces per connection (issue 13, Node 20's slow path).
      rtt,
    });
  }

  /** The number the next packet of this space carries (RFC 9000 §12.3: never reused). */
  get nextPacketNumber(): number {
    return this._nextPacketNumber;
  }

  /** Received packets and the ACKs owed for them (RFC 9000 §13.2). */
  get acks(): AckManager {
    return this._acks;
  }

  /** This space's CRYPTO stream (RFC 9000 §19.6). */
  get crypto(): CryptoStream {
    return this._crypto;
  }

  /** Initial and Handshake only; the application space keeps its keys in OneRttKeys / 0-RTT keys. */
  get readKeys(): PacketKeys | undefined {
    return this._readKeys;
  }

  get writeKeys(): PacketKeys | undefined {
    return this._writeKeys;
  }

  /** Keys discarded (RFC 9001 §4.9): nothing is sent or accepted in this space any more. */
  get discarded(): boolean {
    return this._discarded;
  }

  /** Ack-eliciting probe packets owed after a PTO (RFC 9002 §6.2.4). */
  get probesPending(): number {
    return this._probesPending;
  }

  /** A packet was built with the next packet number: it is used and the number returned. */
  takePacketNumber(): number {
    return this._nextPacketNumber++;
  }

  /**
   * Leaves a packet number unused (RFC 9000 §21.4: an endpoint may skip numbers; the sender skips one
   * before a 1-RTT probe so the peer acknowledges at once).
   */
  skipPacketNumber(): void {
    this._nextPacketNumber++;
  }

  /** An ack-eliciting packet was sent in this space: it counts as one of the probes owed, if any. */
  onAckElicitingSent(): void {
    if (this._probesPending > 0 && !this._discarded) this._probesPending--;
  }

  get level(): EncryptionLevel {
    switch (this.space) {
      case PacketNumberSpace.Initial:
        return EncryptionLevel.Initial;
      case PacketNumberSpace.Handshake:
        return EncryptionLevel.Handshake;
      default:
        return EncryptionLevel.Application;
    }
  }

  /** Keys for one direction (RFC 9001 §5: Initial keys from the DCID, Handshake keys from TLS). */
  installKeys(direction: 'read' | 'write', keys: PacketKeys): void {
    if (direction === 'read') this._readKeys = keys;
    else this._writeKeys = keys;
  }

  /**
   * At least `count` probe packets are owed (RFC 9002 §6.2.4); none in a discarded space. With
   * `lastAt`, the last of them is owed only from that time (deferredProbeAt), the others now.
   */
  requestProbes(count: number, lastAt?: Millis): void {
    if (this._discarded) return;
    if (lastAt !== undefined && count > 1) {
      this._probesPending = Math.max(this._probesPending, count - 1);
      this._deferredProbeAt = lastAt;
      return;
    }
    this._probesPending = Math.max(this._probesPending, count);
  }

  /** When a deferred probe becomes owed (requestProbes' `lastAt`), if one is waiting. */
  get deferredProbeAt(): Millis | undefined {
    return this._deferredProbeAt;
  }

  /** The deferred probe is owed once its time has come. */
  releaseDeferredProbe(now: Millis): void {
    const at = this._deferredProbeAt;
    if (at === undefined || now < at) return;
    this._deferredProbeAt = undefined;
    if (!this._discarded) this._probesPending++;
  }

  /** The peer acknowledged new packets: the probe round is over, the deferred probe not needed. */
  cancelDeferredProbe(): void {
    this._deferredProbeAt = undefined;
  }

  /** A new connection attempt (Version Negotiation): the handshake starts over, packet numbers go on. */
  restartHandshake(): void {
    this._crypto = new CryptoStream(this.space === PacketNumberSpace.Initial);
    this._probesPending = 0;
    this._deferredProbeAt = undefined;
  }

  discard(): void {
    this._discarded = true;
    this._crypto.release();
    this._readKeys = undefined;
    this._writeKeys = undefined;
    this._probesPending = 0;
    this._deferredProbeAt = undefined;
  }

  /**
   * After discard(), once the call that discarded the space has returned (the packet being
   * processed may still have touched this space's ACK state): the space's own ACK state and CRYPTO
   * stream go, the shared inert pair takes their place.
   */
  releaseDiscarded(): void {
    if (!this.discarded) return;
    const parts = discardedPartsOf(this.space);
    this._acks = parts.acks;
    this._crypto = parts.crypto;
  }
}

const discardedSpaces = new Map<PacketNumberSpace, PacketSpace>();

/**
 * The discarded space of a kind (Initial or Handshake), shared by every connection and deep-frozen
 * (issue 13): once the call that discarded its own space has returned, a connection puts this in
 * its place and keeps nothing of that space (RFC 9001 §4.9). Discarded, it sends nothing, owes no
 * probes and holds no keys; a write into it would throw.
 */
export function discardedSpace(space: PacketNumberSpace): PacketSpace {
  let s = discardedSpaces.get(space);
  if (s === undefined) {
    s = new PacketSpace(space, 0);
    s.discard();
    s.releaseDiscarded();
    deepFreeze(s);
    discardedSpaces.set(space, s);
  }
  return s;
}
