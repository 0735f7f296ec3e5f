/**
 * One packet number space (RFC 9000 §12.3): its next packet number, received-packet tracking for
 * ACKs, its CRYPTO stream and (for Initial and Handshake) its keys.
 */
import type { PacketKeys } from '../crypto/packet-keys.js';
import { PacketNumberSpace } from '../recovery/types.js';
import { EncryptionLevel } from '../tls/types.js';
import { deepFreeze } from '../util/deep-freeze.js';
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
  nextPacketNumber = 0;
  /** Replaced by an inert shared instance when the space is discarded (see discardedParts). */
  acks: AckManager;
  /** The client's Initial CRYPTO data is kept whole until discarded: a Retry resends all of it. */
  crypto: CryptoStream;
  /** Initial and Handshake only; the application space keeps its keys in OneRttKeys / 0-RTT keys. */
  readKeys: PacketKeys | undefined;
  writeKeys: PacketKeys | undefined;
  /** Keys discarded (RFC 9001 §4.9): nothing is sent or accepted in this space any more. */
  discarded = false;
  /** Ack-eliciting probe packets owed after a PTO (RFC 9002 §6.2.4). */
  probesPending = 0;

  constructor(
    readonly space: PacketNumberSpace,
    maxAckDelay: number,
  ) {
    this.crypto = new CryptoStream(space === PacketNumberSpace.Initial);
    this.acks = new AckManager({
      space,
      maxAckDelay: space === PacketNumberSpace.ApplicationData ? maxAckDelay : 0,
      immediateAck: space !== PacketNumberSpace.ApplicationData,
    });
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
    if (direction === 'read') this.readKeys = keys;
    else this.writeKeys = keys;
  }

  /** At least `count` probe packets are owed (RFC 9002 §6.2.4). */
  requestProbes(count: number): void {
    this.probesPending = Math.max(this.probesPending, count);
  }

  /** A new connection attempt (Version Negotiation): the handshake starts over, packet numbers go on. */
  restartHandshake(): void {
    this.crypto = new CryptoStream(this.space === PacketNumberSpace.Initial);
    this.probesPending = 0;
  }

  discard(): void {
    this.discarded = true;
    this.crypto.release();
    this.readKeys = undefined;
    this.writeKeys = undefined;
    this.probesPending = 0;
  }

  /**
   * After discard(), once the call that discarded the space has returned (the packet being
   * processed may still have touched this space's ACK state): the space's own ACK state and CRYPTO
   * stream go, the shared inert pair takes their place.
   */
  releaseDiscarded(): void {
    if (!this.discarded) return;
    const parts = discardedPartsOf(this.space);
    this.acks = parts.acks;
    this.crypto = parts.crypto;
  }
}
