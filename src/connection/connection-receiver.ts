/**
 * Receiving side of a connection: splits datagrams into packets (RFC 9000 §12.2), removes packet
 * protection with the right keys (RFC 9001 §5, key phases §6), drops duplicates (RFC 9000 §12.3),
 * and dispatches each frame (RFC 9000 §12.4, §19).
 */

import { integrityLimit } from '../crypto/aead-limits.js';
import { CipherSuite } from '../crypto/cipher-suite.js';
import type { PacketKeys } from '../crypto/packet-keys.js';
import { decryptPayload, openPacket, removeHeaderProtection } from '../crypto/packet-protection.js';
import { verifyRetryIntegrity } from '../crypto/retry.js';
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { PacketNumberSpace } from '../recovery/types.js';
import { EncryptionLevel } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import { splitDatagram } from '../wire/coalesced.js';
import { decodeFrames } from '../wire/frame-codec.js';
import { isAckEliciting, isFrameAllowedInPacket } from '../wire/frame-rules.js';
import { type AckFrame, type Frame, FrameType } from '../wire/frames.js';
import {
  type LongHeaderPacket,
  PacketType,
  type ParsedPacket,
  parsePacket,
  type RetryPacket,
  type ShortHeaderPacket,
  type VersionNegotiationPacket,
} from '../wire/packet-header.js';
import { decodePacketNumber } from '../wire/packet-number.js';
import { SUPPORTED_VERSIONS } from '../wire/version.js';
import { ClosingAnswers } from './closing-answers.js';
import type { Connection, PacketDropReason } from './connection.js';
import { equalBytes } from './local-connection-ids.js';

/** Packets that arrived before their keys, kept for a later attempt (RFC 9001 §5.7). */
const MAX_BUFFERED_PACKETS = 16;

/** What became of a packet: processed, waiting for keys (buffered), or discarded for a reason. */
type Outcome = 'processed' | 'no-keys' | PacketDropReason;

/** A packet with its protection removed. */
interface Opened {
  spaceIndex: PacketNumberSpace;
  pn: number;
  payload: Uint8Array;
}

/** RFC 9000 §9.1: frames a probing packet may carry; any other frame makes a packet non-probing. */
function isProbingFrame(type: FrameType): boolean {
  return (
    type === FrameType.PathChallenge ||
    type === FrameType.PathResponse ||
    type === FrameType.NewConnectionId ||
    type === FrameType.Padding
  );
}

/**
 * The members of the connection the receiver uses, and nothing else: its dependency is written down
 * and a test can drive it with a fake (test/connection/receiver.test.ts).
 */
export type ReceiverHost = Pick<
  Connection,
  // what the connection is
  | 'role'
  | 'version'
  | 'options'
  | 'state'
  | 'isClosed'
  | 'trace'
  | 'dropTrace'
  // keys and handshake (owned by the handshake driver)
  | 'spaces'
  | 'oneRtt'
  | 'zeroRttKeys'
  | 'handshakeComplete'
  | 'handshakeConfirmed'
  | 'peerParams'
  | 'epoch'
  | 'handshake'
  // connection IDs, paths, the client's first-packet facts
  | 'peerCids'
  | 'localCids'
  | 'localCid'
  | 'originalDcid'
  | 'retrySourceCid'
  | 'receivedServerPacket'
  | 'canNegotiateVersion'
  | 'paths'
  | 'remoteAddress'
  // recovery
  | 'lossDetector'
  | 'recovery'
  | 'counters'
  | 'ptoPeriod'
  // pending control frames (moving to the framer)
  | 'framer'
  // what the receiver reports
  | 'pushEvent'
  | 'onPacketProcessed'
  | 'onFirstServerPacket'
  | 'onHandshakeConfirmed'
  | 'discardSpace'
  | 'startDraining'
  | 'abandon'
  | 'onRetry'
  | 'restartWithVersion'
>;

export class ConnectionReceiver {
  /** Packets waiting for keys, with the address they came from. */
  private buffered: Array<{ bytes: Uint8Array; from: string }> = [];

  /** Rate limit of the CONNECTION_CLOSE answers in the closing state (RFC 9000 §10.2.1). */
  readonly closingAnswers = new ClosingAnswers();

  constructor(private readonly c: ReceiverHost) {}

  /** Packets that failed authentication, across all keys of this connection (RFC 9001 §6.6). */
  private authenticationFailures = 0;

  /**
   * RFC 9001 §6.6: an endpoint counts the packets that fail authentication over the connection's
   * lifetime and closes with AEAD_LIMIT_REACHED once the AEAD's integrity limit is reached (2^52 for
   * AES-GCM, 2^36 for ChaCha20-Poly1305): a forger has then had too many tries against the keys.
   */
  private onAuthenticationFailure(): void {
    this.authenticationFailures++;
    const suite = this.c.oneRtt?.cipherSuite ?? CipherSuite.AES_128_GCM_SHA256;
    if (this.authenticationFailures >= integrityLimit(suite)) {
      throw transportError(TransportErrorCode.AEAD_LIMIT_REACHED, 'too many packets failed authentication');
    }
  }

  receiveDatagram(datagram: Uint8Array, from: string, now: Millis): void {
    const c = this.c;
    if (c.state === 'closing') {
      this.receiveWhileClosing(datagram, from, now);
      return;
    }
    const packets = splitDatagram(datagram, c.options.connectionIdLength);
    if (packets.length === 0) {
      this.checkStatelessReset(datagram, now);
      return;
    }
    let firstDcid: Uint8Array | undefined;
    let keysChanged = false;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.type === PacketType.VersionNegotiation) {
        this.onVersionNegotiation(p, now);
        return;
      }
      if (p.type === PacketType.Retry) {
        this.onRetry(p, datagram, now);
        continue;
      }
      // RFC 9000 §12.2: coalesced packets with another DCID are not part of this connection.
      if (firstDcid && !equalBytes(p.dcid, firstDcid)) continue;
      firstDcid ??= p.dcid;
      const before = this.keyState();
      // Opening a packet removes its header protection in place: the drop trace gets a copy as received.
      // Uint8Array.from: a real copy even when the shell passes a Buffer (whose slice() is a view).
      const received = c.dropTrace
        ? Uint8Array.from(datagram.subarray(p.packetStart, p.packetEnd))
        : undefined;
      const outcome = this.processPacket(datagram, p, now, from);
      this.settle(outcome, p.type, datagram.subarray(p.packetStart, p.packetEnd), from, received);
      if (outcome === 'decryption_failure' && i === packets.length - 1 && p.form === 'short') {
        this.checkStatelessReset(datagram, now);
      }
      if (c.isClosed) return;
      if (outcome === 'decryption_failure') this.onAuthenticationFailure();
      if (this.keyState() !== before) keysChanged = true;
    }
    if (keysChanged) this.retryBuffered(now);
  }

  /**
   * RFC 9000 §10.2.1: a closing endpoint "is not required to process any received frame" and here
   * processes none: no stream data, new stream, flow-control credit, ACK or handshake message acts any
   * more. A packet is opened only to attribute it to the connection (it authenticates with our keys)
   * and to find a peer's CONNECTION_CLOSE, which moves the connection to draining (§10.2.2). An
   * attributed datagram from the peer's address may draw a CONNECTION_CLOSE in answer, at the rate
   * `ClosingAnswers` allows; packets from another address are discarded (§10.2.1 allows that for an
   * unvalidated address, and a closing connection validates none).
   */
  private receiveWhileClosing(datagram: Uint8Array, from: string, now: Millis): void {
    const c = this.c;
    const packets = splitDatagram(datagram, c.options.connectionIdLength);
    let attributed = false;
    let firstDcid: Uint8Array | undefined;
    for (const p of packets) {
      if (p.type === PacketType.VersionNegotiation || p.type === PacketType.Retry) continue;
      if (firstDcid && !equalBytes(p.dcid, firstDcid)) continue;
      firstDcid ??= p.dcid;
      const opened = this.open(datagram, p, now, true);
      if (typeof opened === 'string') continue;
      attributed = true;
      c.counters.onPacketReceived();
      let frames: Frame[];
      try {
        frames = decodeFrames(opened.payload);
      } catch {
        continue;
      }
      if (c.trace) {
        for (const f of frames)
          c.trace({ direction: 'received', packetType: p.type, packetNumber: opened.pn, frame: f });
      }
      for (const f of frames) {
        const isClose =
          f.type === FrameType.ConnectionCloseTransport || f.type === FrameType.ConnectionCloseApplication;
        if (isClose && isFrameAllowedInPacket(f.type, p.type)) {
          this.handleFrame(f, opened.spaceIndex, p, from, now);
          return;
        }
      }
    }
    if (!attributed) {
      this.checkStatelessReset(datagram, now);
      return;
    }
    if (from === c.remoteAddress && this.closingAnswers.onDatagram()) c.framer.queueClose();
  }

  /** A bit set that changes whenever new read keys or handshake state make buffered packets readable. */
  private keyState(): number {
    const c = this.c;
    return (
      (c.spaces[1].readKeys ? 1 : 0) |
      (c.oneRtt ? 2 : 0) |
      (c.zeroRttKeys ? 4 : 0) |
      (c.handshakeComplete ? 8 : 0)
    );
  }

  /** Buffers the packet; false when the buffer is full (the packet is then dropped). */
  private buffer(packet: Uint8Array, from: string): boolean {
    if (this.buffered.length >= MAX_BUFFERED_PACKETS) return false;
    this.buffered.push({ bytes: new Uint8Array(packet), from });
    return true;
  }

  /**
   * Buffers a packet that waits for keys; reports one that is discarded to the drop trace, with its
   * bytes as received (`received`, copied before processing) or as buffered.
   */
  private settle(
    outcome: Outcome,
    type: PacketType,
    packet: Uint8Array,
    from: string,
    received?: Uint8Array,
  ): void {
    if (outcome === 'processed') return;
    if (outcome === 'no-keys') {
      if (this.buffer(packet, from)) return;
      outcome = 'key_unavailable';
    }
    this.c.dropTrace?.({ packetType: type, reason: outcome, packet: received ?? new Uint8Array(packet) });
  }

  private retryBuffered(now: Millis): void {
    const c = this.c;
    for (let round = 0; round < 4 && this.buffered.length > 0; round++) {
      const pending = this.buffered;
      this.buffered = [];
      const before = this.keyState();
      for (const { bytes, from } of pending) {
        let p: ParsedPacket;
        try {
          p = parsePacket(bytes, 0, c.options.connectionIdLength);
        } catch {
          continue;
        }
        if (p.type === PacketType.VersionNegotiation || p.type === PacketType.Retry) continue;
        const received = c.dropTrace ? new Uint8Array(bytes) : undefined;
        const outcome = this.processPacket(bytes, p, now, from);
        this.settle(outcome, p.type, bytes, from, received);
        if (c.isClosed) return;
      }
      if (this.keyState() === before) break;
    }
  }

  /**
   * Removes packet protection (RFC 9001 §5) with the keys of the packet's space. While `closing`, a
   * key update is not followed (RFC 9000 §10.2.1: not expected of a closing endpoint) and no
   * header rule is enforced: the packet is only opened to attribute it and to find a CONNECTION_CLOSE.
   */
  private open(
    buf: Uint8Array,
    p: LongHeaderPacket | ShortHeaderPacket,
    now: Millis,
    closing: boolean,
  ): Opened | Outcome {
    const c = this.c;
    if (p.form === 'long' && p.version !== c.version) return 'unsupported';
    let spaceIndex: PacketNumberSpace;
    switch (p.type) {
      case PacketType.Initial:
        spaceIndex = PacketNumberSpace.Initial;
        break;
      case PacketType.Handshake:
        spaceIndex = PacketNumberSpace.Handshake;
        break;
      default:
        spaceIndex = PacketNumberSpace.ApplicationData;
    }
    const space = c.spaces[spaceIndex];
    if (space.discarded) return 'key_unavailable';

    let pn: number;
    let firstByte: number;
    let payload: Uint8Array;
    if (p.type === PacketType.OneRtt) {
      const keys = c.oneRtt;
      // RFC 9001 §5.7: a server does not process 1-RTT packets before the handshake completes.
      if (!keys || (c.role === 'server' && !c.handshakeComplete)) return 'no-keys';
      const hp = removeHeaderProtection(
        keys.readHeaderProtection,
        buf,
        p.packetStart,
        p.pnOffset,
        p.packetEnd,
      );
      if (!hp) return 'decryption_failure';
      pn = decodePacketNumber(space.acks.largestReceived, hp.truncatedPn, hp.pnLength * 8);
      const phase = (hp.firstByte >> 2) & 1;
      const choice = keys.readKeysFor(phase, pn);
      if (closing && choice.which === 'next') return 'key_unavailable';
      const plain = decryptPayload(
        choice.keys.aead,
        buf,
        p.packetStart,
        p.pnOffset + hp.pnLength,
        p.packetEnd,
        pn,
      );
      if (!plain) {
        // The header is unprotected in place; restore nothing: the packet is dropped anyway.
        return 'decryption_failure';
      }
      if (closing) return { spaceIndex, pn, payload: plain };
      if (choice.which === 'next') keys.onNextPhaseReceived(pn, now, c.ptoPeriod());
      else if (choice.which === 'current') keys.onCurrentPhaseReceived(pn);
      firstByte = hp.firstByte;
      payload = plain;
      // RFC 9000 §17.3.1: reserved bits must be zero after removing protection.
      if ((firstByte & 0x18) !== 0) {
        throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved bits set in a short header');
      }
    } else {
      let keys: PacketKeys | undefined;
      if (p.type === PacketType.ZeroRtt) {
        if (c.role === 'client') return 'key_unavailable';
        keys = c.zeroRttKeys;
        // 0-RTT rejected (or never offered): RFC 9001 §4.6.2, such packets are discarded. The server
        // has decided once it processed the ClientHello (it then has Handshake keys): from then on
        // they are dropped at once, rather than held in the buffer that early 1-RTT packets need.
        if (!keys) {
          const decided = c.handshakeComplete || c.spaces[PacketNumberSpace.Handshake].readKeys !== undefined;
          return decided ? 'key_unavailable' : 'no-keys';
        }
      } else {
        keys = space.readKeys;
        if (!keys) return 'no-keys';
      }
      const opened = openPacket(
        keys,
        buf,
        p.packetStart,
        p.pnOffset,
        p.packetEnd,
        space.acks.largestReceived,
      );
      if (!opened) return 'decryption_failure';
      pn = opened.packetNumber;
      firstByte = opened.firstByte;
      payload = opened.payload;
      if (closing) return { spaceIndex, pn, payload };
      // RFC 9000 §17.2: reserved bits must be zero after removing protection.
      if ((firstByte & 0x0c) !== 0) {
        throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved bits set in a long header');
      }
    }
    return { spaceIndex, pn, payload };
  }

  private processPacket(
    buf: Uint8Array,
    p: LongHeaderPacket | ShortHeaderPacket,
    now: Millis,
    from: string,
  ): Outcome {
    const c = this.c;
    const opened = this.open(buf, p, now, false);
    if (typeof opened === 'string') return opened;
    const { spaceIndex, pn, payload } = opened;
    const space = c.spaces[spaceIndex];

    if (space.acks.isDuplicate(pn)) return 'duplicate';
    c.counters.onPacketReceived();
    const frames = decodeFrames(payload);

    if (p.form === 'long') this.onLongHeaderPacket(p, from, now);

    // The trace sees the whole packet, also the frames after one that ends the connection: an
    // observer (qlog, the 0-RTT auditor) learns everything the peer sent.
    if (c.trace) {
      for (const f of frames)
        c.trace({ direction: 'received', packetType: p.type, packetNumber: pn, frame: f });
    }
    let ackEliciting = false;
    let nonProbing = false;
    for (const f of frames) {
      if (!isFrameAllowedInPacket(f.type, p.type)) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `frame type 0x${f.type.toString(16)} not allowed in this packet type`,
          f.type,
        );
      }
      if (isAckEliciting(f.type)) ackEliciting = true;
      if (!isProbingFrame(f.type)) nonProbing = true;
      this.handleFrame(f, spaceIndex, p, from, now);
      if (c.state === 'draining' || c.state === 'closed') return 'processed';
    }
    space.acks.onPacketReceived(pn, ackEliciting, now);
    c.onPacketProcessed(now);
    // RFC 9000 §9.3: the highest-numbered non-probing packet from a new address starts a migration
    // (path validation, amplification limit and all: connection-paths.ts).
    if (p.type === PacketType.OneRtt) c.paths.onPacket(from, pn, nonProbing, c.handshakeConfirmed, now);
    return 'processed';
  }

  private onLongHeaderPacket(p: LongHeaderPacket, from: string, now: Millis): void {
    const c = this.c;
    if (c.role === 'client') {
      if (!c.receivedServerPacket && p.type !== PacketType.ZeroRtt) {
        // RFC 9000 §7.2: the client switches to the server's chosen connection ID.
        c.onFirstServerPacket(p.scid);
      }
    } else if (p.type === PacketType.Handshake) {
      // RFC 9000 §8.1: a Handshake packet proves the client's address.
      if (from === c.remoteAddress) {
        c.paths.validateCurrent();
        c.lossDetector.setAmplificationBlocked(false);
      }
      // RFC 9001 §4.9.1: the server discards Initial keys on its first Handshake packet.
      c.discardSpace(PacketNumberSpace.Initial, now);
    }
  }

  private handleFrame(
    f: Frame,
    spaceIndex: PacketNumberSpace,
    p: LongHeaderPacket | ShortHeaderPacket,
    from: string,
    now: Millis,
  ): void {
    const c = this.c;
    switch (f.type) {
      case FrameType.Padding:
      case FrameType.Ping:
        return;
      case FrameType.Ack:
        this.onAck(spaceIndex, f, now);
        return;
      case FrameType.Crypto: {
        const level =
          spaceIndex === PacketNumberSpace.Initial
            ? EncryptionLevel.Initial
            : spaceIndex === PacketNumberSpace.Handshake
              ? EncryptionLevel.Handshake
              : EncryptionLevel.Application;
        const bytes = c.spaces[spaceIndex].crypto.receive(f.offset, f.data);
        if (bytes && bytes.length > 0) c.handshake.feed(level, bytes, now);
        return;
      }
      case FrameType.NewToken:
        // RFC 9000 §19.7: only servers send NEW_TOKEN.
        if (c.role === 'server') {
          throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_TOKEN from a client', f.type);
        }
        c.pushEvent({ type: 'new-token', token: new Uint8Array(f.token) });
        return;
      case FrameType.Stream:
      case FrameType.ResetStream:
      case FrameType.StopSending:
      case FrameType.MaxData:
      case FrameType.MaxStreamData:
      case FrameType.MaxStreamsBidi:
      case FrameType.MaxStreamsUni:
      case FrameType.DataBlocked:
      case FrameType.StreamDataBlocked:
      case FrameType.StreamsBlockedBidi:
      case FrameType.StreamsBlockedUni: {
        const epoch = c.epoch;
        if (!epoch || epoch.rejected) {
          throw transportError(
            TransportErrorCode.PROTOCOL_VIOLATION,
            'stream frame before the handshake',
            f.type,
          );
        }
        // The frame's data is a view of the decrypted payload, a fresh buffer nobody writes again.
        epoch.streams.handleFrame(f, now, p.type === PacketType.ZeroRtt, true);
        return;
      }
      case FrameType.NewConnectionId:
        c.peerCids.onNewConnectionId(f, c.peerCids.current.length === 0);
        return;
      case FrameType.RetireConnectionId:
        c.localCids.onRetire(f.sequenceNumber, p.dcid);
        // RFC 9000 §5.1.1: an endpoint SHOULD supply a new connection ID when the peer retires one.
        if (c.handshakeConfirmed) c.localCids.replenish(c.peerParams?.activeConnectionIdLimit ?? 2);
        return;
      case FrameType.PathChallenge:
        // RFC 9000 §8.2.2: answered on the path it arrived on.
        c.paths.onChallenge(from, f.data);
        // RFC 9000 §9.3.3: a challenge on the active path gets a non-probing packet too, so that a
        // peer misled by a copied packet moves back here.
        if (from === c.remoteAddress) c.framer.queuePing();
        return;
      case FrameType.PathResponse:
        // RFC 9000 §8.2.3: validates the path its challenge went out on, wherever it arrives; one
        // matching no challenge of ours is ignored (§19.18 allows that).
        c.paths.onResponse(f.data, now);
        return;
      case FrameType.ConnectionCloseTransport:
        c.startDraining(
          {
            source: 'remote',
            application: false,
            errorCode: f.errorCode,
            frameType: f.frameType,
            reason: f.reason,
            ...(f.errorCode >= 0x100 && f.errorCode <= 0x1ff ? { tlsAlert: f.errorCode - 0x100 } : {}),
          },
          now,
        );
        return;
      case FrameType.ConnectionCloseApplication:
        c.startDraining(
          { source: 'remote', application: true, errorCode: f.errorCode, reason: f.reason },
          now,
        );
        return;
      case FrameType.HandshakeDone:
        // RFC 9000 §19.20: a server receiving HANDSHAKE_DONE treats it as PROTOCOL_VIOLATION.
        if (c.role === 'server') {
          throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'HANDSHAKE_DONE from a client', f.type);
        }
        c.onHandshakeConfirmed();
        return;
      case FrameType.Datagram: {
        const max = c.options.maxDatagramFrameSize;
        // RFC 9221 §3: DATAGRAM without having advertised support (absent or 0), or larger than our
        // limit, which counts the whole frame: PROTOCOL_VIOLATION. The decoded frame no longer says
        // whether it carried a Length field, so its smallest encoding (type + payload) is compared.
        if (max === undefined || max === 0 || 1 + f.data.length > max) {
          throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'unexpected DATAGRAM frame', f.type);
        }
        const epoch = c.epoch;
        if (epoch && !epoch.rejected) c.pushEvent({ type: 'datagram', epoch, data: new Uint8Array(f.data) });
        return;
      }
    }
  }

  private onAck(space: PacketNumberSpace, f: AckFrame, now: Millis): void {
    const c = this.c;
    // RFC 9002 §5.3: the Initial ack delay may be ignored; other spaces use the peer's exponent.
    const exponent = space === PacketNumberSpace.ApplicationData ? (c.peerParams?.ackDelayExponent ?? 3) : 3;
    const ackDelay = space === PacketNumberSpace.Initial ? 0 : (f.ackDelay * 2 ** exponent) / 1000;
    const result = c.lossDetector.onAckReceived(space, f.ranges, ackDelay, now, f.ecn, c.handshakeConfirmed);
    for (const p of result.newlyAcked) {
      c.recovery.onFramesAcked(p);
      c.recovery.onAckOfAck(space, p);
    }
    for (const p of result.lost) c.recovery.onFramesLost(p);
    // RFC 9002 §6.2.2.1: a Handshake ACK tells the client the server validated its address.
    if (c.role === 'client' && space === PacketNumberSpace.Handshake) {
      c.lossDetector.setPeerCompletedAddressValidation();
    }
  }

  /**
   * RFC 9000 §10.3.1: a datagram ending with a stateless reset token of the peer's ends the
   * connection. Returns whether it was one.
   */
  checkStatelessReset(datagram: Uint8Array, now: Millis): boolean {
    const c = this.c;
    if (datagram.length < 21 || (datagram[0]! & 0x80) !== 0) return false;
    const token = datagram.subarray(datagram.length - 16);
    if (!c.peerCids.isStatelessResetToken(token)) return false;
    c.startDraining(
      {
        source: 'stateless-reset',
        application: false,
        errorCode: TransportErrorCode.NO_ERROR,
        reason: 'stateless reset received',
      },
      now,
    );
    return true;
  }

  /** RFC 9000 §6.2: the client's handling of Version Negotiation. */
  private onVersionNegotiation(p: VersionNegotiationPacket, now: Millis): void {
    const c = this.c;
    if (!c.canNegotiateVersion) return;
    if (!equalBytes(p.dcid, c.localCid) || !equalBytes(p.scid, c.originalDcid)) return;
    // A VN listing our version is spoofed or stale: ignore it.
    if (p.versions.includes(c.version)) return;
    const pick = SUPPORTED_VERSIONS.find((v) => p.versions.includes(v));
    if (pick === undefined) {
      c.abandon({
        source: 'version-negotiation',
        application: false,
        errorCode: TransportErrorCode.VERSION_NEGOTIATION_ERROR,
        reason: `no common QUIC version (server offers ${p.versions.map((v) => `0x${v.toString(16)}`).join(', ')})`,
      });
      return;
    }
    c.restartWithVersion(pick, now);
  }

  /** RFC 9000 §17.2.5.2: the client accepts at most one valid Retry, before any other server packet. */
  private onRetry(p: RetryPacket, datagram: Uint8Array, now: Millis): void {
    const c = this.c;
    if (c.role !== 'client' || c.receivedServerPacket || c.retrySourceCid) return;
    if (p.version !== c.version) return;
    if (!equalBytes(p.dcid, c.localCid) || p.token.length === 0) return;
    // RFC 9000 §17.2.5.2: a Retry whose SCID equals the DCID of our Initial is discarded.
    if (equalBytes(p.scid, c.originalDcid)) return;
    if (!verifyRetryIntegrity(c.version, c.originalDcid, datagram.subarray(p.packetStart, p.packetEnd)))
      return;
    c.onRetry(p.scid, p.token, now);
  }
}
