/**
 * Receiving side of a connection: splits datagrams into packets (RFC 9000 §12.2), removes packet
 * protection with the right keys (RFC 9001 §5, key phases §6), drops duplicates (RFC 9000 §12.3),
 * and hands each frame to frame-dispatch.ts (RFC 9000 §12.4, §19).
 */

import { integrityLimit } from '../crypto/aead-limits.js';
import { CipherSuite } from '../crypto/cipher-suite.js';
import type { PacketKeys } from '../crypto/packet-keys.js';
import { decryptPayload, openPacket, removeHeaderProtection } from '../crypto/packet-protection.js';
import { verifyRetryIntegrity } from '../crypto/retry.js';
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { PacketNumberSpace } from '../recovery/types.js';
import type { Millis } from '../util/time.js';
import { splitDatagram } from '../wire/coalesced.js';
import { decodeFrames } from '../wire/frame-codec.js';
import { isAckEliciting, isFrameAllowedInPacket } from '../wire/frame-rules.js';
import { type Frame, FrameType } from '../wire/frames.js';
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
import type { AckManager } from './ack-manager.js';
import { ClosingAnswers } from './closing-answers.js';
import type {
  FrameTraceEvent,
  PacketDropReason,
  PacketDropTraceEvent,
  PreOpenedPacket,
} from './connection-config.js';
import type { CloseInfo, ConnectionEvent } from './connection-events.js';
import type { HandshakeDriver } from './connection-handshake.js';
import type { TransportOptions } from './connection-options.js';
import type { ConnectionPaths } from './connection-paths.js';
import type { ConnectionRecovery } from './connection-recovery.js';
import type { ConnectionState } from './connection-state.js';
import type { CryptoStream } from './crypto-stream.js';
import { dispatchFrame } from './frame-dispatch.js';
import type { Framer } from './framer.js';
import { equalBytes, type LocalConnectionIds } from './local-connection-ids.js';
import type { PeerConnectionIds } from './peer-connection-ids.js';
import type { TrafficCounters } from './traffic-counters.js';

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

/** A packet number space as the receiver sees it: read keys, received packet numbers, CRYPTO input. */
export interface ReceiveSpace {
  readonly discarded: boolean;
  readonly readKeys: PacketKeys | undefined;
  readonly acks: Pick<AckManager, 'largestReceived' | 'isDuplicate' | 'onPacketReceived'>;
  readonly crypto: Pick<CryptoStream, 'receive'>;
}

/** What the receiver reports to its connection; the connection decides what each means for its state. */
export interface ReceiverEvents {
  /** An event for the application (NEW_TOKEN, DATAGRAM). */
  pushEvent(e: ConnectionEvent): void;
  /** A packet was processed: the idle timer restarts (RFC 9000 §10.1). */
  onPacketProcessed(now: Millis): void;
  /** Server: a Handshake packet from `from` (RFC 9000 §8.1: it proves the address; RFC 9001 §4.9.1). */
  onHandshakePacket(from: string, now: Millis): void;
  /** Client: HANDSHAKE_DONE arrived (RFC 9001 §4.1.2: the handshake is confirmed). */
  onHandshakeDone(): void;
  /** The peer ended the connection: CONNECTION_CLOSE or a stateless reset (RFC 9000 §10.2.2, §10.3). */
  onPeerClosed(info: CloseInfo, now: Millis): void;
}

/**
 * Client only: the facts of the first packets exchanged, and what the server's first packet, a
 * Retry or a Version Negotiation changes (RFC 9000 §6, §7.2, §17.2.5).
 */
export interface ClientPackets {
  /** The SCID of our Initials: a Retry or Version Negotiation must be addressed to it. */
  readonly localCid: Uint8Array;
  /** The DCID of our first Initial: a Version Negotiation echoes it, a Retry must not reuse it. */
  readonly originalDcid: Uint8Array;
  readonly retrySourceCid: Uint8Array | undefined;
  /** A packet of the server was processed: no Retry or Version Negotiation is accepted after it. */
  readonly receivedServerPacket: boolean;
  readonly canNegotiateVersion: boolean;
  onFirstServerPacket(scid: Uint8Array): void;
  onRetry(scid: Uint8Array, token: Uint8Array, now: Millis): void;
  restartWithVersion(version: number, now: Millis): void;
  /** No version in common (RFC 9000 §6.2): the attempt ends without a word. */
  abandon(info: CloseInfo): void;
}

/**
 * What the receiver needs, each part from its owner: the spaces, the handshake driver (keys, TLS,
 * the peer's parameters, the stream epoch), the connection IDs, the paths, the recovery glue, the
 * framer; and the events it reports to the connection. The connection builds it
 * (Connection.receiverHost); a test drives the receiver with a fake (test/connection/receiver.test.ts).
 */
export interface ReceiverHost {
  readonly role: 'client' | 'server';
  /** The QUIC version in use: long header packets of another version are not this connection's. */
  readonly version: number;
  readonly options: Pick<TransportOptions, 'connectionIdLength' | 'maxDatagramFrameSize'>;
  readonly state: ConnectionState;
  readonly trace: ((e: FrameTraceEvent) => void) | undefined;
  readonly dropTrace: ((e: PacketDropTraceEvent) => void) | undefined;
  readonly spaces: readonly [ReceiveSpace, ReceiveSpace, ReceiveSpace];
  readonly handshake: Pick<
    HandshakeDriver,
    'oneRtt' | 'zeroRttKeys' | 'complete' | 'confirmed' | 'peerParams' | 'epoch' | 'feed'
  >;
  readonly peerCids: Pick<PeerConnectionIds, 'current' | 'onNewConnectionId' | 'isStatelessResetToken'>;
  readonly localCids: Pick<LocalConnectionIds, 'onRetire' | 'replenish'>;
  readonly paths: Pick<ConnectionPaths, 'onPacket' | 'onChallenge' | 'onResponse'> & {
    /** The peer's address on the current path: a closing connection answers only it. */
    readonly current: { readonly address: string };
  };
  readonly recovery: Pick<ConnectionRecovery, 'onAckFrame'>;
  readonly counters: Pick<TrafficCounters, 'onPacketReceived'>;
  readonly framer: Pick<Framer, 'queuePing' | 'queueClose'>;
  /** How long the previous 1-RTT keys stay after a key update (RFC 9001 §6.5). */
  ptoPeriod(): Millis;
  readonly events: ReceiverEvents;
  /** Undefined for a server. */
  readonly client: ClientPackets | undefined;
}

/** Closing, draining or closed: nothing more is processed. */
function closed(state: ConnectionState): boolean {
  return state === 'closing' || state === 'draining' || state === 'closed';
}

export class ConnectionReceiver {
  /** Packets waiting for keys, with the address they came from. */
  private buffered: Array<{ bytes: Uint8Array; from: string }> = [];

  /**
   * @param closingAnswers The rate limit of the CONNECTION_CLOSE answers in the closing state (RFC
   *   9000 §10.2.1); a closing remnant carries on with its connection's (closing-remnant.ts).
   */
  constructor(
    private readonly c: ReceiverHost,
    readonly closingAnswers: ClosingAnswers = new ClosingAnswers(),
  ) {}

  /** A packet of the next datagram that is already open (a server's first Initial), until then. */
  private preOpened: PreOpenedPacket | undefined;

  /**
   * Server: the endpoint opened the first Initial of the datagram it created the connection for
   * (endpoint/client-hello-check.ts); the next receiveDatagram() of that same datagram uses it
   * instead of opening the packet again (issue 13: one decryption per packet).
   */
  expectOpened(packet: PreOpenedPacket | undefined): void {
    this.preOpened = packet;
  }

  /** Packets that failed authentication, across all keys of this connection (RFC 9001 §6.6). */
  private authenticationFailures = 0;

  /**
   * RFC 9001 §6.6: an endpoint counts the packets that fail authentication over the connection's
   * lifetime and closes with AEAD_LIMIT_REACHED once the AEAD's integrity limit is reached (2^52 for
   * AES-GCM, 2^36 for ChaCha20-Poly1305): a forger has then had too many tries against the keys.
   */
  private onAuthenticationFailure(): void {
    this.authenticationFailures++;
    const suite = this.c.handshake.oneRtt?.cipherSuite ?? CipherSuite.AES_128_GCM_SHA256;
    if (this.authenticationFailures >= integrityLimit(suite)) {
      throw transportError(TransportErrorCode.AEAD_LIMIT_REACHED, 'too many packets failed authentication');
    }
  }

  receiveDatagram(datagram: Uint8Array, from: string, now: Millis): void {
    try {
      this.receivePackets(datagram, from, now);
    } finally {
      // Only ever for the datagram it came with.
      this.preOpened = undefined;
    }
  }

  private receivePackets(datagram: Uint8Array, from: string, now: Millis): void {
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
      // The packet's view only for what settle() keeps or reports: no view per processed packet.
      if (outcome !== 'processed') {
        this.settle(outcome, p.type, datagram.subarray(p.packetStart, p.packetEnd), from, received);
      }
      if (outcome === 'decryption_failure' && i === packets.length - 1 && p.form === 'short') {
        this.checkStatelessReset(datagram, now);
      }
      if (closed(c.state)) return;
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
          dispatchFrame(this.c, f, opened.spaceIndex, p, from, now);
          return;
        }
      }
    }
    if (!attributed) {
      this.checkStatelessReset(datagram, now);
      return;
    }
    if (from === c.paths.current.address && this.closingAnswers.onDatagram()) c.framer.queueClose();
  }

  /** A bit set that changes whenever new read keys or handshake state make buffered packets readable. */
  private keyState(): number {
    const c = this.c;
    const h = c.handshake;
    return (
      (c.spaces[1].readKeys ? 1 : 0) | (h.oneRtt ? 2 : 0) | (h.zeroRttKeys ? 4 : 0) | (h.complete ? 8 : 0)
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
        if (closed(c.state)) return;
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
      const keys = c.handshake.oneRtt;
      // RFC 9001 §5.7: a server does not process 1-RTT packets before the handshake completes.
      if (!keys || (c.role === 'server' && !c.handshake.complete)) return 'no-keys';
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
        keys = c.handshake.zeroRttKeys;
        // 0-RTT rejected (or never offered): RFC 9001 §4.6.2, such packets are discarded. The server
        // has decided once it processed the ClientHello (it then has Handshake keys): from then on
        // they are dropped at once, rather than held in the buffer that early 1-RTT packets need.
        if (!keys) {
          const decided =
            c.handshake.complete || c.spaces[PacketNumberSpace.Handshake].readKeys !== undefined;
          return decided ? 'key_unavailable' : 'no-keys';
        }
      } else {
        keys = space.readKeys;
        if (!keys) return 'no-keys';
      }
      const pre = this.preOpened;
      const opened =
        pre !== undefined &&
        pre.datagram === buf &&
        pre.packetStart === p.packetStart &&
        p.type === PacketType.Initial
          ? pre.opened
          : openPacket(keys, buf, p.packetStart, p.pnOffset, p.packetEnd, space.acks.largestReceived);
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
    // PING the only ack-eliciting frame: a probe, acknowledged at once (ack-manager.ts).
    let pingOnly = true;
    let nonProbing = false;
    for (const f of frames) {
      if (!isFrameAllowedInPacket(f.type, p.type)) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `frame type 0x${f.type.toString(16)} not allowed in this packet type`,
          f.type,
        );
      }
      if (isAckEliciting(f.type)) {
        ackEliciting = true;
        if (f.type !== FrameType.Ping) pingOnly = false;
      }
      if (!isProbingFrame(f.type)) nonProbing = true;
      dispatchFrame(this.c, f, spaceIndex, p, from, now);
      if (c.state === 'draining' || c.state === 'closed') return 'processed';
    }
    space.acks.onPacketReceived(pn, ackEliciting, now, undefined, ackEliciting && pingOnly);
    c.events.onPacketProcessed(now);
    // RFC 9000 §9.3: the highest-numbered non-probing packet from a new address starts a migration
    // (path validation, amplification limit and all: connection-paths.ts).
    if (p.type === PacketType.OneRtt) c.paths.onPacket(from, pn, nonProbing, c.handshake.confirmed, now);
    return 'processed';
  }

  private onLongHeaderPacket(p: LongHeaderPacket, from: string, now: Millis): void {
    const client = this.c.client;
    if (client) {
      if (!client.receivedServerPacket && p.type !== PacketType.ZeroRtt) {
        // RFC 9000 §7.2: the client switches to the server's chosen connection ID.
        client.onFirstServerPacket(p.scid);
      }
    } else if (p.type === PacketType.Handshake) {
      // RFC 9000 §8.1: a Handshake packet proves the client's address; RFC 9001 §4.9.1: the server
      // discards its Initial keys.
      this.c.events.onHandshakePacket(from, now);
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
    c.events.onPeerClosed(
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
    const client = this.c.client;
    if (!client?.canNegotiateVersion) return;
    if (!equalBytes(p.dcid, client.localCid) || !equalBytes(p.scid, client.originalDcid)) return;
    // A VN listing our version is spoofed or stale: ignore it.
    if (p.versions.includes(this.c.version)) return;
    const pick = SUPPORTED_VERSIONS.find((v) => p.versions.includes(v));
    if (pick === undefined) {
      client.abandon({
        source: 'version-negotiation',
        application: false,
        errorCode: TransportErrorCode.VERSION_NEGOTIATION_ERROR,
        reason: `no common QUIC version (server offers ${p.versions.map((v) => `0x${v.toString(16)}`).join(', ')})`,
      });
      return;
    }
    client.restartWithVersion(pick, now);
  }

  /** RFC 9000 §17.2.5.2: the client accepts at most one valid Retry, before any other server packet. */
  private onRetry(p: RetryPacket, datagram: Uint8Array, now: Millis): void {
    const client = this.c.client;
    const version = this.c.version;
    if (!client || client.receivedServerPacket || client.retrySourceCid) return;
    if (p.version !== version) return;
    // An empty Retry Token (RFC 9000 §17.2.5.2) never gets here: parsePacket rejects it, the one check.
    if (!equalBytes(p.dcid, client.localCid)) return;
    // RFC 9000 §17.2.5.2: a Retry whose SCID equals the DCID of our Initial is discarded.
    if (equalBytes(p.scid, client.originalDcid)) return;
    const packet = datagram.subarray(p.packetStart, p.packetEnd);
    if (!verifyRetryIntegrity(version, client.originalDcid, packet)) return;
    client.onRetry(p.scid, p.token, now);
  }
}
