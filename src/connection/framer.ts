/**
 * The one owner of what goes in the next packet, ACKs apart (those are the ack manager's): the
 * connection-level control frames waiting to be sent, each in a bounded slot, and the order in which
 * a packet takes CRYPTO, control, DATAGRAM and STREAM frames and a PING from the modules that own
 * them (quic-go's framer.go plays the same part next to its packet packer). Other modules queue
 * frames through methods here; frames of lost packets come back here (RFC 9000 §13.3).
 *
 * The framer writes into a FrameSink (the open packet of the packer) and never sees a packet header,
 * keys or the congestion window: the sender decides whether a packet goes out, the packer builds it.
 */
import { TransportErrorCode } from '../errors/transport-error.js';
import type { EncryptionLevel } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import { frameLength } from '../wire/frame-codec.js';
import {
  type ConnectionCloseApplicationFrame,
  type ConnectionCloseTransportFrame,
  type Frame,
  FrameType,
  type NewConnectionIdFrame,
  type RetireConnectionIdFrame,
} from '../wire/frames.js';
import type { CloseInfo } from './connection-events.js';
import type { SentFrame } from './sent-frames.js';
import type { StreamEpoch } from './stream-epoch.js';

/** Upper bound for the reason phrase we put in CONNECTION_CLOSE. */
export const MAX_REASON_BYTES = 256;

/** The open packet, as the framer sees it. */
export interface FrameSink {
  /** Bytes left for frames in the open packet. */
  readonly remaining: number;
  fits(frame: Frame): boolean;
  /** Append a frame that fits; `record` is what ack and loss handling need to know of it. */
  write(frame: Frame, record?: SentFrame): void;
  /** Whether the open packet (not the datagram) already holds an ack-eliciting frame. */
  readonly packetAckEliciting: boolean;
}

/** Our connection IDs still to announce in NEW_CONNECTION_ID (local-connection-ids.ts owns them). */
export interface AnnouncementSource {
  hasPendingFrames(): boolean;
  nextAnnouncement(): NewConnectionIdFrame | undefined;
  onAnnouncementLost(sequenceNumber: number): void;
}

/** The peer's connection IDs still to retire in RETIRE_CONNECTION_ID (peer-connection-ids.ts). */
export interface RetirementSource {
  hasPendingFrames(): boolean;
  nextRetirement(): RetireConnectionIdFrame | undefined;
  onRetirementLost(sequenceNumber: number): void;
}

/** A packet number space's CRYPTO stream (crypto-stream.ts). */
export interface CryptoSource {
  hasDataToSend(): boolean;
  nextChunk(maxData: number): { offset: number; data: Uint8Array } | undefined;
}

/** A path with PATH_CHALLENGE / PATH_RESPONSE frames due (path.ts, connection-paths.ts). */
export interface PathProbeSource {
  /** The validation in progress, if any: it says when a PATH_CHALLENGE is due. */
  readonly validator?: { readonly challengeDue: boolean } | undefined;
  readonly hasResponses: boolean;
  takeResponse(): Uint8Array | undefined;
}

export interface FramerSources {
  localCids: AnnouncementSource;
  peerCids: RetirementSource;
}

export class Framer {
  // One slot each: a second request before the first went out asks for the same frame.
  private handshakeDone = false;
  private newToken: Uint8Array | undefined;
  private ping = false;
  private close = false;

  constructor(private readonly sources: FramerSources) {}

  // ------------------------------------------------------------------- queueing

  /** RFC 9000 §19.20: the server tells the client that the handshake is confirmed. */
  queueHandshakeDone(): void {
    this.handshakeDone = true;
  }

  /** RFC 9000 §8.1.3: a token for a future connection; a newer one replaces one not yet sent. */
  queueNewToken(token: Uint8Array): void {
    this.newToken = token;
  }

  /** An ack-eliciting packet is wanted (keep-alive, RFC 9000 §9.3.3); a PING if nothing else elicits. */
  queuePing(): void {
    this.ping = true;
  }

  /** RFC 9000 §10.2.1: a CONNECTION_CLOSE is owed (closing, or a packet arrived while closing). */
  queueClose(): void {
    this.close = true;
  }

  /** The CONNECTION_CLOSE went out, or is no longer owed (draining, RFC 9000 §10.2.2). */
  clearClose(): void {
    this.close = false;
  }

  get closePending(): boolean {
    return this.close;
  }

  get pingPending(): boolean {
    return this.ping;
  }

  /**
   * A control frame of a lost packet: queue it again if it still matters (RFC 9000 §13.3). Returns
   * false for a frame that is not a connection-level control frame.
   */
  onFrameLost(f: SentFrame): boolean {
    switch (f.kind) {
      case 'handshake-done':
        this.handshakeDone = true;
        return true;
      case 'new-token':
        // A token queued since is newer: it replaces the lost one.
        this.newToken ??= f.token;
        return true;
      case 'new-connection-id':
        this.sources.localCids.onAnnouncementLost(f.sequenceNumber);
        return true;
      case 'retire-connection-id':
        this.sources.peerCids.onRetirementLost(f.sequenceNumber);
        return true;
      default:
        return false;
    }
  }

  /** Whether a 1-RTT packet has control frames (or a PING) to carry. */
  hasControlFrames(): boolean {
    return (
      this.handshakeDone ||
      this.ping ||
      this.newToken !== undefined ||
      this.sources.localCids.hasPendingFrames() ||
      this.sources.peerCids.hasPendingFrames()
    );
  }

  // ------------------------------------------------------------------- filling a packet

  /** CRYPTO frames of one space, as many as fit. */
  appendCrypto(sink: FrameSink, crypto: CryptoSource, level: EncryptionLevel): void {
    while (crypto.hasDataToSend()) {
      // CRYPTO header: type (1), offset (up to 8), length (2 for < 16384).
      const maxData = sink.remaining - 11;
      if (maxData < 16) break;
      const chunk = crypto.nextChunk(maxData);
      if (!chunk) break;
      sink.write(
        { type: FrameType.Crypto, offset: chunk.offset, data: chunk.data },
        { kind: 'crypto', level, offset: chunk.offset, length: chunk.data.length },
      );
    }
  }

  /** 1-RTT control frames that are not about streams, in a fixed order. */
  appendControlFrames(sink: FrameSink): void {
    if (this.handshakeDone && sink.remaining >= 1) {
      this.handshakeDone = false;
      sink.write({ type: FrameType.HandshakeDone }, { kind: 'handshake-done' });
    }
    const { localCids, peerCids } = this.sources;
    for (;;) {
      const f = localCids.nextAnnouncement();
      if (!f) break;
      if (!sink.fits(f)) {
        localCids.onAnnouncementLost(f.sequenceNumber);
        break;
      }
      sink.write(f, { kind: 'new-connection-id', sequenceNumber: f.sequenceNumber });
    }
    for (;;) {
      const f = peerCids.nextRetirement();
      if (!f) break;
      if (!sink.fits(f)) {
        peerCids.onRetirementLost(f.sequenceNumber);
        break;
      }
      sink.write(f, { kind: 'retire-connection-id', sequenceNumber: f.sequenceNumber });
    }
    const token = this.newToken;
    if (token) {
      const f: Frame = { type: FrameType.NewToken, token };
      if (sink.fits(f)) {
        sink.write(f, { kind: 'new-token', token });
        this.newToken = undefined;
      }
    }
  }

  /**
   * Frames of a stream epoch: DATAGRAM, then stream control and STREAM frames. `maxFrameRoom` is the
   * room an empty packet has for frames at the current packet size.
   */
  appendEpochFrames(sink: FrameSink, epoch: StreamEpoch, now: Millis, maxFrameRoom: number): void {
    if (epoch.rejected) return;
    for (let data = epoch.peekDatagram(); data; data = epoch.peekDatagram()) {
      const f: Frame = { type: FrameType.Datagram, data };
      const fits = sink.fits(f);
      // RFC 9221 §5: DATAGRAM frames are never split. One that cannot fit even an empty packet (the
      // path's packet size shrank since it was queued) is dropped rather than blocking the queue.
      if (!fits && frameLength(f) <= maxFrameRoom) break;
      epoch.shiftDatagram();
      if (fits) sink.write(f);
    }
    // Not built: no stream was opened and no stream frame arrived, so nothing to send (issue 13).
    const streams = epoch.builtStreams;
    while (streams !== undefined && sink.remaining > 3) {
      const next = streams.popFrame(sink.remaining, now);
      if (!next) break;
      sink.write(next.frame, { kind: 'stream', epoch, record: next.record });
    }
  }

  /**
   * A PING when the packet must elicit an ACK and nothing in it does yet: a probe (RFC 9002 §6.2.4)
   * or a queued ping in a 1-RTT packet. Only the open packet counts: an ack-eliciting packet before
   * it in the same datagram does not make this one a valid probe.
   */
  appendPing(sink: FrameSink, probe: boolean, oneRtt: boolean): void {
    if (sink.packetAckEliciting || !(probe || (oneRtt && this.ping))) return;
    if (sink.remaining >= 1) sink.write({ type: FrameType.Ping });
  }

  /** An ack-eliciting packet went out: a queued ping is satisfied by a 1-RTT one. */
  onAckElicitingPacket(oneRtt: boolean): void {
    if (oneRtt) this.ping = false;
  }

  /**
   * Probing frames for a path (RFC 9000 §8.2): one PATH_CHALLENGE when due (`newChallenge` gives its
   * data) and every PATH_RESPONSE owed, each sent once (§13.3). Returns the challenge data written.
   */
  appendPathFrames(
    sink: FrameSink,
    path: PathProbeSource,
    newChallenge: () => Uint8Array,
  ): Uint8Array | undefined {
    let challenge: Uint8Array | undefined;
    if (path.validator?.challengeDue) {
      challenge = newChallenge();
      // RFC 9000 §8.2.1: one PATH_CHALLENGE per packet.
      sink.write({ type: FrameType.PathChallenge, data: challenge });
    }
    while (path.hasResponses && sink.remaining >= 9) {
      // RFC 9000 §8.2.2: one PATH_RESPONSE per challenge, never retransmitted.
      const data = path.takeResponse();
      if (!data) break;
      sink.write({ type: FrameType.PathResponse, data });
    }
    return challenge;
  }

  /**
   * The CONNECTION_CLOSE for a packet of the application space (`app`) or of Initial/Handshake
   * (RFC 9000 §10.2.3: an application close outside 1-RTT becomes APPLICATION_ERROR, without reason).
   * The reason phrase is cut, on a UTF-8 character boundary, to MAX_REASON_BYTES and to what lets the
   * frame fit in `room` bytes: the close matters, the phrase is only diagnostic (RFC 9000 §19.19).
   */
  closeFrame(info: CloseInfo, app: boolean, room = Number.POSITIVE_INFINITY): Frame {
    if (info.application && !app) {
      return {
        type: FrameType.ConnectionCloseTransport,
        errorCode: TransportErrorCode.APPLICATION_ERROR,
        frameType: 0,
        reason: '',
      };
    }
    const withReason = (reason: string): ConnectionCloseApplicationFrame | ConnectionCloseTransportFrame =>
      info.application
        ? { type: FrameType.ConnectionCloseApplication, errorCode: info.errorCode, reason }
        : {
            type: FrameType.ConnectionCloseTransport,
            errorCode: info.errorCode,
            frameType: info.frameType ?? 0,
            reason,
          };
    // Room for the phrase: frameLength counts a one-byte Reason Phrase Length, and a phrase of 64
    // bytes or more needs a two-byte one (RFC 9000 §16).
    const budget = room - frameLength(withReason(''));
    const max =
      budget > MAX_REASON_BYTES ? MAX_REASON_BYTES : budget > 64 ? budget - 1 : Math.min(budget, 63);
    return withReason(truncateUtf8(info.reason, Math.max(0, max)));
  }
}

function truncateUtf8(s: string, maxBytes: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxBytes) return s;
  // Cut on a character boundary.
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
