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
  private _writePhase = 0;
  private _write: PacketKeys;
  private _readPhase = 0;
  private _read: PacketKeys;
  private nextReadKeys: PacketKeys | undefined;
  private previousRead: PacketKeys | undefined;
  private _previousReadDiscardAt: Millis | undefined;
  /** Lowest packet number received in the current read phase. */
  private readPhaseFirstPn = 0;
  private _packetsSentInPhase = 0;
  /** First packet number sent in the current write phase, and whether one of them was acknowledged. */
  private writePhaseFirstPn: number | undefined;
  private writePhaseAcked = false;
  private _updates = 0;

  constructor(
    private readonly suite: CipherSuite,
    private readonly version: number,
    readSecret: Uint8Array,
    writeSecret: Uint8Array,
  ) {
    // The header protection ciphers of 1-RTT keys live in a bounded pool (header-protection.ts):
    // an idle connection does not hold two OpenSSL contexts (issue 13).
    this._read = derivePacketKeys(suite, readSecret, version, true);
    this._write = derivePacketKeys(suite, writeSecret, version, true);
  }

  /**
   * The connection has ended: its header protection ciphers leave the pool now rather than when
   * the pool's hand reaches them (every phase shares the same two, RFC 9001 §6).
   */
  releaseCiphers(): void {
    this._read.hp.release();
    this._write.hp.release();
  }

  /** Key phase bit of the keys we send with. */
  get writePhase(): number {
    return this._writePhase;
  }

  get write(): PacketKeys {
    return this._write;
  }

  /** Key phase bit of the current read keys. */
  get readPhase(): number {
    return this._readPhase;
  }

  get read(): PacketKeys {
    return this._read;
  }

  /** When the previous read keys are dropped (RFC 9001 §6.5: after about 3 PTO). */
  get previousReadDiscardAt(): Millis | undefined {
    return this._previousReadDiscardAt;
  }

  /** Number of packets sent in the current write phase. */
  get packetsSentInPhase(): number {
    return this._packetsSentInPhase;
  }

  /** Key updates completed (for stats and tests). */
  get updates(): number {
    return this._updates;
  }

  /** The header protection key never changes across updates (RFC 9001 §6). */
  get readHeaderProtection() {
    return this._read.hp;
  }

  private get nextRead(): PacketKeys {
    if (!this.nextReadKeys) this.nextReadKeys = updatePacketKeys(this._read, this.version);
    return this.nextReadKeys;
  }

  /**
   * Keys to try for a received packet with key phase bit `phase` and packet number `pn`
   * (RFC 9001 §6.3): the current keys, the previous ones for a reordered packet of the old phase, or
   * the next ones when the peer has started an update.
   */
  readKeysFor(phase: number, pn: number): { keys: PacketKeys; which: 'current' | 'previous' | 'next' } {
    if (phase === this._readPhase) return { keys: this._read, which: 'current' };
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
    this.previousRead = this._read;
    this._previousReadDiscardAt = now + 3 * pto;
    this._read = this.nextRead;
    this.nextReadKeys = undefined;
    this._readPhase ^= 1;
    this.readPhaseFirstPn = pn;
    const peerInitiated = this._writePhase !== this._readPhase;
    if (peerInitiated) this.rotateWrite();
    this._updates++;
    return peerInitiated;
  }

  /** A packet of the current read phase with a lower number than any seen in it. */
  onCurrentPhaseReceived(pn: number): void {
    if (pn < this.readPhaseFirstPn) this.readPhaseFirstPn = pn;
  }

  discardPreviousIfDue(now: Millis): void {
    if (this._previousReadDiscardAt !== undefined && now >= this._previousReadDiscardAt) {
      this.previousRead = undefined;
      this._previousReadDiscardAt = undefined;
    }
  }

  onPacketSent(pn: number): void {
    if (this.writePhaseFirstPn === undefined) this.writePhaseFirstPn = pn;
    this._packetsSentInPhase++;
  }

  /** An acknowledgment covered a packet sent with `phase`. */
  onPacketAcked(pn: number, phase: number): void {
    if (phase === this._writePhase && this.writePhaseFirstPn !== undefined && pn >= this.writePhaseFirstPn) {
      this.writePhaseAcked = true;
    }
  }

  /**
   * RFC 9001 §6.1: an endpoint may initiate an update only after the handshake is confirmed, once a
   * packet of the current phase has been acknowledged, and not while the peer has yet to answer the
   * previous update (read phase still behind write phase).
   */
  canInitiateUpdate(): boolean {
    return this.writePhaseAcked && this._readPhase === this._writePhase;
  }

  initiateUpdate(): void {
    this.rotateWrite();
  }

  private rotateWrite(): void {
    this._write = updatePacketKeys(this._write, this.version);
    this._writePhase ^= 1;
    this._packetsSentInPhase = 0;
    this.writePhaseFirstPn = undefined;
    this.writePhaseAcked = false;
  }

  get cipherSuite(): CipherSuite {
    return this.suite;
  }
}
