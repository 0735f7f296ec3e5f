/**
 * 1-RTT packet protection keys across key updates (RFC 9001 §6): the current read and write keys,
 * the next read keys (to recognise the peer's update), and the previous read keys kept briefly for
 * reordered packets.
 */
import type { CipherSuite } from '../crypto/cipher-suite.js';
import { updatePacketKeys } from '../crypto/key-update.js';
import { derivePacketKeys, type PacketKeys } from '../crypto/packet-keys.js';
import type { Millis } from '../util/time.js';

export class OneRttKeys {
  /** Key phase bit of the keys we send with. */
  writePhase = 0;
  write: PacketKeys;
  /** Key phase bit of the current read keys. */
  readPhase = 0;
  read: PacketKeys;
  private nextReadKeys: PacketKeys | undefined;
  private previousRead: PacketKeys | undefined;
  /** When the previous read keys are dropped (RFC 9001 §6.5: after about 3 PTO). */
  previousReadDiscardAt: Millis | undefined;
  /** Lowest packet number received in the current read phase. */
  private readPhaseFirstPn = 0;
  /** Number of packets sent in the current write phase. */
  packetsSentInPhase = 0;
  /** First packet number sent in the current write phase, and whether one of them was acknowledged. */
  private writePhaseFirstPn: number | undefined;
  private writePhaseAcked = false;
  /** Key updates completed (for stats and tests). */
  updates = 0;

  constructor(
    private readonly suite: CipherSuite,
    private readonly version: number,
    readSecret: Uint8Array,
    writeSecret: Uint8Array,
  ) {
    this.read = derivePacketKeys(suite, readSecret, version);
    this.write = derivePacketKeys(suite, writeSecret, version);
  }

  /** The header protection key never changes across updates (RFC 9001 §6). */
  get readHeaderProtection() {
    return this.read.hp;
  }

  private get nextRead(): PacketKeys {
    if (!this.nextReadKeys) this.nextReadKeys = updatePacketKeys(this.read, this.version);
    return this.nextReadKeys;
  }

  /**
   * Keys to try for a received packet with key phase bit `phase` and packet number `pn`
   * (RFC 9001 §6.3): the current keys, the previous ones for a reordered packet of the old phase, or
   * the next ones when the peer has started an update.
   */
  readKeysFor(phase: number, pn: number): { keys: PacketKeys; which: 'current' | 'previous' | 'next' } {
    if (phase === this.readPhase) return { keys: this.read, which: 'current' };
    if (this.previousRead && pn < this.readPhaseFirstPn)
      return { keys: this.previousRead, which: 'previous' };
    return { keys: this.nextRead, which: 'next' };
  }

  /**
   * A packet decrypted with the next keys: the peer updated (or answered our update). Rotate the read
   * keys, and update our write keys too if the peer initiated (RFC 9001 §6.2).
   * Returns true if this was a peer-initiated update.
   */
  onNextPhaseReceived(pn: number, now: Millis, pto: Millis): boolean {
    this.previousRead = this.read;
    this.previousReadDiscardAt = now + 3 * pto;
    this.read = this.nextRead;
    this.nextReadKeys = undefined;
    this.readPhase ^= 1;
    this.readPhaseFirstPn = pn;
    const peerInitiated = this.writePhase !== this.readPhase;
    if (peerInitiated) this.rotateWrite();
    this.updates++;
    return peerInitiated;
  }

  /** A packet of the current read phase with a lower number than any seen in it. */
  onCurrentPhaseReceived(pn: number): void {
    if (pn < this.readPhaseFirstPn) this.readPhaseFirstPn = pn;
  }

  discardPreviousIfDue(now: Millis): void {
    if (this.previousReadDiscardAt !== undefined && now >= this.previousReadDiscardAt) {
      this.previousRead = undefined;
      this.previousReadDiscardAt = undefined;
    }
  }

  onPacketSent(pn: number): void {
    if (this.writePhaseFirstPn === undefined) this.writePhaseFirstPn = pn;
    this.packetsSentInPhase++;
  }

  /** An acknowledgment covered a packet sent with `phase`. */
  onPacketAcked(pn: number, phase: number): void {
    if (phase === this.writePhase && this.writePhaseFirstPn !== undefined && pn >= this.writePhaseFirstPn) {
      this.writePhaseAcked = true;
    }
  }

  /**
   * RFC 9001 §6.1: an endpoint may initiate an update only after the handshake is confirmed, once a
   * packet of the current phase has been acknowledged, and not while the peer has yet to answer the
   * previous update (read phase still behind write phase).
   */
  canInitiateUpdate(): boolean {
    return this.writePhaseAcked && this.readPhase === this.writePhase;
  }

  initiateUpdate(): void {
    this.rotateWrite();
  }

  private rotateWrite(): void {
    this.write = updatePacketKeys(this.write, this.version);
    this.writePhase ^= 1;
    this.packetsSentInPhase = 0;
    this.writePhaseFirstPn = undefined;
    this.writePhaseAcked = false;
  }

  get cipherSuite(): CipherSuite {
    return this.suite;
  }
}
