/**
 * Decides what a connection sends and builds the datagrams: coalesced Initial, Handshake and
 * 0-RTT/1-RTT packets (RFC 9000 §12.2), within the congestion window, the pacer and the
 * anti-amplification limit of an unvalidated path (RFC 9000 §8.1, §9.3.1, RFC 9002 §7), and the
 * path validation datagrams of connection-paths.ts (RFC 9000 §8.2).
 */
import { TransportErrorCode } from '../errors/transport-error.js';
import { PacketNumberSpace } from '../recovery/types.js';
import { EncryptionLevel } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import { frameLength } from '../wire/frame-codec.js';
import { type Frame, FrameType } from '../wire/frames.js';
import { PacketType } from '../wire/packet-header.js';
import { packetNumberLength } from '../wire/packet-number.js';
import type { Connection } from './connection.js';
import { type BuiltPacket, DatagramBuilder } from './datagram-builder.js';
import { packetOverhead } from './datagram-limits.js';
import type { PacketSpace } from './packet-space.js';
import type { Path } from './path.js';
import type { SentFrame } from './sent-frames.js';

/** RFC 9000 §14.1: datagrams carrying ack-eliciting Initial packets are at least this large. */
const MIN_INITIAL_DATAGRAM = 1200;
/** Upper bound for the reason phrase we put in CONNECTION_CLOSE. */
const MAX_REASON_BYTES = 256;
/** Largest datagram we ever build (bounded by connection-options validation). */
const SCRATCH_SIZE = 16384;
/** Room for a short header, one PATH_CHALLENGE or PATH_RESPONSE and the AEAD tag, with margin. */
const MIN_PATH_PROBE = 64;
/**
 * Scratch space where every connection builds its datagrams. One per process, not per connection
 * (16 KiB each would dominate the cost of a half-open connection, issue 10): a datagram is built,
 * sealed and copied out within one synchronous transmit() call, so nothing in it outlives the call.
 */
const sharedScratch = new Uint8Array(SCRATCH_SIZE);

/** A datagram and the path it goes out on. */
export interface OutgoingDatagram {
  datagram: Uint8Array;
  path: Path;
}

export class ConnectionSender {
  private readonly builder = new DatagramBuilder(sharedScratch);
  /** When the pacer next allows an ack-eliciting packet, if it is what holds data back. */
  private pacingReleaseAt: Millis | undefined;

  constructor(private readonly c: Connection) {}

  /** The next datagram and its path, or undefined. */
  transmit(now: Millis): OutgoingDatagram | undefined {
    const c = this.c;
    if (c.state === 'draining' || c.state === 'closed') return undefined;
    const path = c.paths.current;
    if (c.state === 'closing') {
      const close = c.closeSendPending ? this.buildClose(now) : undefined;
      return close && { datagram: close, path };
    }
    // RFC 9000 §8.2.2: PATH_RESPONSE is not delayed; challenges go out when due.
    const probe = this.buildPathProbe(now);
    if (probe) return probe;
    const datagram = this.buildDatagram(now);
    return datagram && { datagram, path };
  }

  private buildDatagram(now: Millis): Uint8Array | undefined {
    const c = this.c;
    const maxSize = this.sizeLimit();
    if (maxSize < 64) return undefined;

    const probing = c.spaces.some((s) => s.probesPending > 0);
    let allowData = probing || c.congestion.availableWindow() > 0;
    this.pacingReleaseAt = undefined;
    if (allowData && !probing && this.hasDataToSend()) {
      const release = c.pacer.nextSendTime(now, maxSize, c.congestion.congestionWindow, c.rtt.smoothedRtt);
      if (release > now) {
        allowData = false;
        this.pacingReleaseAt = release;
      }
    }

    const b = this.builder;
    if (allowData && !probing) {
      const probe = this.buildMtuProbe(now);
      if (probe) return probe;
    }
    b.reset(maxSize);
    for (const space of c.spaces) this.fillSpace(space, now, allowData, maxSize);
    if (b.packets.length === 0) return undefined;

    // RFC 9000 §14.1: a client pads every datagram with an Initial; a server pads those with an
    // ack-eliciting Initial.
    const initial = b.packets.find((p) => p.type === PacketType.Initial);
    if (initial) {
      if (c.role === 'client') b.padDatagramTo(Math.max(MIN_INITIAL_DATAGRAM, maxSize));
      else if (b.packets.some((p) => p.type === PacketType.Initial && p.ackEliciting)) {
        b.padDatagramTo(MIN_INITIAL_DATAGRAM);
      }
    }
    const length = b.seal();
    this.register(b.packets, now, length);
    return b.buffer.slice(0, length);
  }

  /**
   * A PMTU probe (RFC 9000 §14.3): a 1-RTT packet with PING, padded to the size being probed, in a
   * datagram of its own. Only once the handshake is confirmed, one at a time, within the congestion
   * window like any packet.
   */
  private buildMtuProbe(now: Millis): Uint8Array | undefined {
    const c = this.c;
    // Not toward an address still being validated (RFC 9000 §9.3.1: its amplification limit).
    if (!c.handshakeConfirmed || !c.oneRtt || !c.paths.current.validated) return undefined;
    const size = c.mtu.nextProbe();
    if (size === undefined || size > (c.peerParams?.maxUdpPayloadSize ?? 65527)) return undefined;
    // A probe is congestion controlled like any packet (RFC 9002 §7): it waits until the whole of it
    // fits in the window, so it never holds back data that does (e.g. the first response).
    if (c.congestion.availableWindow() < size) return undefined;
    const s = c.spaces[PacketNumberSpace.ApplicationData];
    const b = this.builder;
    b.reset(size);
    const pn = s.nextPacketNumber;
    const opened = b.openShort(
      { dcid: c.peerCids.current, keyPhase: c.oneRtt.writePhase === 1, spin: false },
      s.space,
      c.oneRtt.write,
      pn,
      packetNumberLength(pn, c.lossDetector.largestAcked(s.space)),
    );
    if (!opened) return undefined;
    this.write({ type: FrameType.Ping }, PacketType.OneRtt, pn);
    b.closePacket();
    b.padDatagramTo(size);
    const length = b.seal();
    s.nextPacketNumber++;
    c.mtu.onProbeSent(size);
    this.register(b.packets, now, length, size);
    return b.buffer.slice(0, length);
  }

  /** When the pacer releases the data it held back (the connection's pacing timer). */
  pacingTimeout(): Millis | undefined {
    return this.c.isClosed ? undefined : this.pacingReleaseAt;
  }

  /** The earliest ACK deadline of a space that can send now (the connection's ACK delay timer). */
  ackTimeout(): Millis | undefined {
    const c = this.c;
    if (c.isClosed) return undefined;
    let t: Millis | undefined;
    if (this.sizeLimit() < 64) return t;
    for (const s of c.spaces) {
      if (!this.canSendIn(s) || !s.acks.hasNewAckable) continue;
      const d = s.acks.ackDeadline();
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  /**
   * A datagram of PATH_CHALLENGE and PATH_RESPONSE frames for a path that has one due (RFC 9000
   * §8.2): a 1-RTT packet with only probing frames (so it may go to any path, §9.3), expanded to
   * 1200 bytes unless the path's amplification limit does not allow it (§8.2.1, §8.2.2). It is not
   * congestion controlled and not tracked for loss: the validation has its own timer (§9.4).
   */
  private buildPathProbe(now: Millis): OutgoingDatagram | undefined {
    const c = this.c;
    const keys = c.oneRtt;
    if (!keys || (c.role === 'server' && !c.handshakeComplete)) return undefined;
    const path = c.paths.nextProbe(MIN_PATH_PROBE);
    if (!path) return undefined;
    const dcid = path === c.paths.current ? c.peerCids.current : c.paths.dcidFor(path);
    if (!dcid) return undefined;
    // Expanded to 1200 bytes where the limit allows; else as small as it is, leaving the rest of
    // the allowance to other packets (the MTU is then checked by a second validation, §8.2.1).
    const expand = path.allowance >= MIN_INITIAL_DATAGRAM;
    const size = expand ? MIN_INITIAL_DATAGRAM : Math.min(c.maxDatagramSize, path.allowance);
    const s = c.spaces[PacketNumberSpace.ApplicationData];
    const b = this.builder;
    b.reset(size);
    const pn = s.nextPacketNumber;
    const opened = b.openShort(
      { dcid, keyPhase: keys.writePhase === 1, spin: false },
      s.space,
      keys.write,
      pn,
      packetNumberLength(pn, c.lossDetector.largestAcked(s.space)),
    );
    if (!opened) return undefined;
    let challenge: Uint8Array | undefined;
    if (path.validator?.challengeDue) {
      challenge = c.paths.newChallengeData();
      // RFC 9000 §8.2.1: one PATH_CHALLENGE per packet.
      this.write({ type: FrameType.PathChallenge, data: challenge }, PacketType.OneRtt, pn);
    }
    while (path.hasResponses && b.remaining >= 9) {
      // RFC 9000 §8.2.2: one PATH_RESPONSE per challenge, never retransmitted.
      this.write({ type: FrameType.PathResponse, data: path.takeResponse()! }, PacketType.OneRtt, pn);
    }
    if (!b.closePacket()) return undefined;
    if (expand) b.padDatagramTo(size);
    const length = b.seal();
    s.nextPacketNumber++;
    this.register(b.packets, now, length, undefined, true);
    if (challenge) path.validator?.onChallengeSent(challenge, length >= MIN_INITIAL_DATAGRAM, now);
    c.paths.afterProbe(path);
    return { datagram: b.buffer.slice(0, length), path };
  }

  /**
   * Datagram size allowed now on the current path: the path MTU and, while the address is not
   * validated, 3x what it received (RFC 9000 §8.1, §9.3.1).
   */
  private sizeLimit(): number {
    const c = this.c;
    let size = c.maxDatagramSize;
    const path = c.paths.current;
    if (!path.validated) {
      const allowance = path.allowance;
      c.lossDetector.setAmplificationBlocked(allowance < MIN_INITIAL_DATAGRAM);
      size = Math.min(size, allowance);
    }
    return size;
  }

  private canSendIn(s: PacketSpace): boolean {
    if (s.discarded) return false;
    if (s.space === PacketNumberSpace.ApplicationData) return this.c.oneRtt !== undefined;
    return s.writeKeys !== undefined;
  }

  private hasDataToSend(): boolean {
    const c = this.c;
    for (const s of c.spaces) {
      if (s.discarded) continue;
      if (s.crypto.hasDataToSend() || s.probesPending > 0) return true;
    }
    return this.hasAppData(true);
  }

  private hasAppData(oneRtt: boolean): boolean {
    const c = this.c;
    if (oneRtt) {
      if (
        c.handshakeDonePending ||
        c.pingPending ||
        c.newTokenPending !== undefined ||
        c.localCids.hasPendingFrames() ||
        c.peerCids.hasPendingFrames()
      ) {
        return true;
      }
    }
    const epoch = c.epoch;
    return !!epoch && !epoch.rejected && (epoch.datagrams.length > 0 || epoch.streams.hasPendingFrames());
  }

  private fillSpace(s: PacketSpace, now: Millis, allowData: boolean, maxSize: number): void {
    const c = this.c;
    if (s.discarded) return;
    const b = this.builder;
    let type: PacketType;
    const app = s.space === PacketNumberSpace.ApplicationData;
    if (app) {
      if (c.oneRtt) type = PacketType.OneRtt;
      else if (c.role === 'client' && c.zeroRttKeys && c.epoch && !c.epoch.rejected)
        type = PacketType.ZeroRtt;
      else return;
    } else {
      if (!s.writeKeys) return;
      // An unvalidated server that cannot pad an Initial to 1200 bytes must not send one.
      if (s.space === PacketNumberSpace.Initial && c.role === 'server' && maxSize < MIN_INITIAL_DATAGRAM) {
        allowData = false;
      }
      type = s.space === PacketNumberSpace.Initial ? PacketType.Initial : PacketType.Handshake;
    }
    const zeroRtt = type === PacketType.ZeroRtt;
    const ackDue =
      !zeroRtt && s.acks.hasNewAckable && (s.acks.ackDeadline() ?? Number.POSITIVE_INFINITY) <= now;
    const hasContent =
      s.probesPending > 0 ||
      (!zeroRtt && s.crypto.hasDataToSend()) ||
      (app && this.hasAppData(type === PacketType.OneRtt));
    if (!ackDue && !(allowData && hasContent)) return;

    if (type === PacketType.OneRtt && allowData && s.probesPending > 0) {
      // RFC 9002 §6.2.4, RFC 9000 §13.2.1: skip a packet number before each 1-RTT probe, so the peer
      // sees a gap and acknowledges every probe at once instead of one ACK per two probes (§13.2.2)
      // or after max_ack_delay. When a burst also drops ACKs, each PTO round then gives two chances
      // to get an ACK back, not one (docs/recovery.md). The skipped number is remembered: an ACK of
      // it is a PROTOCOL_VIOLATION (RFC 9000 §21.4).
      s.nextPacketNumber++;
    }
    const pn = s.nextPacketNumber;
    const pnLength = packetNumberLength(pn, c.lossDetector.largestAcked(s.space));
    let opened: boolean;
    if (type === PacketType.OneRtt) {
      opened = b.openShort(
        { dcid: c.peerCids.current, keyPhase: c.oneRtt!.writePhase === 1, spin: false },
        s.space,
        c.oneRtt!.write,
        pn,
        pnLength,
      );
    } else {
      const keys = zeroRtt ? c.zeroRttKeys! : s.writeKeys!;
      opened = b.openLong(
        {
          type: type as PacketType.Initial | PacketType.Handshake | PacketType.ZeroRtt,
          version: c.version,
          dcid: c.peerCids.current,
          scid: c.localCid,
          token:
            type === PacketType.Initial ? (c.role === 'client' ? c.token : new Uint8Array(0)) : undefined,
        },
        s.space,
        keys,
        pn,
        pnLength,
      );
    }
    if (!opened) return;

    if (!zeroRtt && s.acks.hasNewAckable) {
      const exponent = app ? c.options.ackDelayExponent : 3;
      const ack = s.acks.buildAckFrame(now, exponent, b.remaining);
      if (ack && b.fits(ack)) {
        this.write(ack, type, pn, { kind: 'ack', largestAcked: ack.ranges[0]!.largest });
        s.acks.onAckSent();
      }
    }

    if (allowData) {
      if (!zeroRtt) this.writeCrypto(s, type, pn);
      if (type === PacketType.OneRtt) this.writeControlFrames(type, pn);
      if (app) this.writeEpochFrames(type, pn, now);
      const packetSoFar = this.currentPacketAckEliciting();
      if (!packetSoFar && (s.probesPending > 0 || (type === PacketType.OneRtt && c.pingPending))) {
        if (b.remaining >= 1) this.write({ type: FrameType.Ping }, type, pn);
      }
    }
    const built = b.closePacket();
    if (!built) return;
    s.nextPacketNumber++;
    if (built.ackEliciting) {
      if (s.probesPending > 0) s.probesPending--;
      if (type === PacketType.OneRtt) c.pingPending = false;
    }
  }

  private currentAckEliciting = false;

  private currentPacketAckEliciting(): boolean {
    return this.currentAckEliciting;
  }

  private write(frame: Frame, type: PacketType, pn: number, record?: SentFrame): void {
    this.builder.writeFrame(frame, record);
    if (frame.type !== FrameType.Ack && frame.type !== FrameType.Padding) {
      if (
        frame.type !== FrameType.ConnectionCloseTransport &&
        frame.type !== FrameType.ConnectionCloseApplication
      ) {
        this.currentAckEliciting = true;
      }
    }
    this.c.trace?.({ direction: 'sent', packetType: type, packetNumber: pn, frame });
  }

  private writeCrypto(s: PacketSpace, type: PacketType, pn: number): void {
    const b = this.builder;
    const level = s.level;
    while (s.crypto.hasDataToSend()) {
      // CRYPTO header: type (1), offset (up to 8), length (2 for < 16384).
      const maxData = b.remaining - 11;
      if (maxData < 16) break;
      const chunk = s.crypto.nextChunk(maxData);
      if (!chunk) break;
      this.write({ type: FrameType.Crypto, offset: chunk.offset, data: chunk.data }, type, pn, {
        kind: 'crypto',
        level,
        offset: chunk.offset,
        length: chunk.data.length,
      });
    }
  }

  /** 1-RTT control frames that are not about streams. */
  private writeControlFrames(type: PacketType, pn: number): void {
    const c = this.c;
    const b = this.builder;
    if (c.handshakeDonePending && b.remaining >= 1) {
      c.handshakeDonePending = false;
      this.write({ type: FrameType.HandshakeDone }, type, pn, { kind: 'handshake-done' });
    }
    for (;;) {
      const f = c.localCids.nextAnnouncement();
      if (!f) break;
      if (!b.fits(f)) {
        c.localCids.onAnnouncementLost(f.sequenceNumber);
        break;
      }
      this.write(f, type, pn, { kind: 'new-connection-id', sequenceNumber: f.sequenceNumber });
    }
    for (;;) {
      const f = c.peerCids.nextRetirement();
      if (!f) break;
      if (!b.fits(f)) {
        c.peerCids.onRetirementLost(f.sequenceNumber);
        break;
      }
      this.write(f, type, pn, { kind: 'retire-connection-id', sequenceNumber: f.sequenceNumber });
    }
    if (c.newTokenPending) {
      const f: Frame = { type: FrameType.NewToken, token: c.newTokenPending };
      if (b.fits(f)) {
        this.write(f, type, pn, { kind: 'new-token', token: c.newTokenPending });
        c.newTokenPending = undefined;
      }
    }
  }

  /** Frames of the current stream epoch: DATAGRAM, then stream control and STREAM frames. */
  private writeEpochFrames(type: PacketType, pn: number, now: Millis): void {
    const epoch = this.c.epoch;
    if (!epoch || epoch.rejected) return;
    const b = this.builder;
    while (epoch.datagrams.length > 0) {
      const data = epoch.datagrams[0]!;
      const f: Frame = { type: FrameType.Datagram, data };
      const fits = b.fits(f);
      // RFC 9221 §5: DATAGRAM frames are never split. One that cannot fit even an empty packet (the
      // path's packet size shrank since it was queued) is dropped rather than blocking the queue.
      if (!fits && frameLength(f) <= this.c.maxDatagramSize - packetOverhead(type === PacketType.ZeroRtt))
        break;
      epoch.datagrams.shift();
      epoch.datagramBytes -= data.length;
      if (fits) this.write(f, type, pn);
    }
    while (b.remaining > 3) {
      const next = epoch.streams.popFrame(b.remaining, now);
      if (!next) break;
      this.write(next.frame, type, pn, { kind: 'stream', epoch, record: next.record });
    }
  }

  /** `pathProbe`: a path validation datagram, tracked as neither ack-eliciting nor in flight. */
  private register(
    packets: BuiltPacket[],
    now: Millis,
    datagramLength: number,
    pmtuProbe?: number,
    pathProbe = false,
  ): void {
    const c = this.c;
    let inFlight = false;
    let sentHandshake = false;
    for (const p of packets) {
      if (pathProbe) {
        p.ackEliciting = false;
        p.inFlight = false;
      }
      c.lossDetector.onPacketSent({
        packetNumber: p.packetNumber,
        space: p.space,
        timeSent: now,
        size: p.size,
        ackEliciting: p.ackEliciting,
        inFlight: p.inFlight,
        ...(pmtuProbe !== undefined ? { pmtuProbe: true } : {}),
        payload: {
          frames: p.frames,
          zeroRtt: p.type === PacketType.ZeroRtt,
          keyPhase: c.oneRtt?.writePhase ?? 0,
          ...(pmtuProbe !== undefined ? { pmtuProbe } : {}),
        },
      });
      c.counters.onPacketsSent(1);
      if (p.inFlight) inFlight = true;
      if (p.ackEliciting) c.onAckElicitingSent(now);
      if (p.type === PacketType.OneRtt) c.oneRtt!.onPacketSent(p.packetNumber);
      if (p.space === PacketNumberSpace.Handshake) sentHandshake = true;
    }
    this.currentAckEliciting = false;
    if (inFlight) {
      c.pacer.onPacketSent(now, datagramLength, c.congestion.congestionWindow, c.rtt.smoothedRtt);
    }
    // RFC 9001 §4.9.1: a client discards Initial keys when it first sends a Handshake packet.
    if (sentHandshake && c.role === 'client') c.discardSpace(PacketNumberSpace.Initial, now);
    this.maybeInitiateKeyUpdate();
  }

  /** RFC 9001 §6: update keys after `keyUpdateInterval` packets, once allowed. */
  private maybeInitiateKeyUpdate(): void {
    const c = this.c;
    const keys = c.oneRtt;
    if (!keys || !c.handshakeConfirmed) return;
    if (keys.packetsSentInPhase >= c.options.keyUpdateInterval && keys.canInitiateUpdate()) {
      keys.initiateUpdate();
    }
  }

  /** CONNECTION_CLOSE in every space the peer may be able to read (RFC 9000 §10.2.3). */
  private buildClose(now: Millis): Uint8Array | undefined {
    const c = this.c;
    const info = c.closeInfo!;
    const b = this.builder;
    const maxSize = this.sizeLimit();
    if (maxSize < 64) return undefined;
    b.reset(maxSize);
    const reason = truncateUtf8(info.reason, MAX_REASON_BYTES);
    for (const s of c.spaces) {
      if (s.discarded) continue;
      const app = s.space === PacketNumberSpace.ApplicationData;
      if (app && !c.oneRtt) continue;
      if (!app && !s.writeKeys) continue;
      if (c.handshakeConfirmed && !app) continue;
      // Before the handshake is confirmed, 1-RTT may not be readable by the peer yet; the client
      // sends it only once its handshake is complete.
      if (app && !c.handshakeComplete) continue;
      let frame: Frame;
      if (info.application && app) {
        frame = { type: FrameType.ConnectionCloseApplication, errorCode: info.errorCode, reason };
      } else if (info.application) {
        // RFC 9000 §10.2.3: an application close outside 1-RTT becomes APPLICATION_ERROR.
        frame = {
          type: FrameType.ConnectionCloseTransport,
          errorCode: TransportErrorCode.APPLICATION_ERROR,
          frameType: 0,
          reason: '',
        };
      } else {
        frame = {
          type: FrameType.ConnectionCloseTransport,
          errorCode: info.errorCode,
          frameType: info.frameType ?? 0,
          reason,
        };
      }
      const pn = s.nextPacketNumber;
      const pnLength = packetNumberLength(pn, c.lossDetector.largestAcked(s.space));
      const opened = app
        ? b.openShort(
            { dcid: c.peerCids.current, keyPhase: c.oneRtt!.writePhase === 1, spin: false },
            s.space,
            c.oneRtt!.write,
            pn,
            pnLength,
          )
        : b.openLong(
            {
              type: s.level === EncryptionLevel.Initial ? PacketType.Initial : PacketType.Handshake,
              version: c.version,
              dcid: c.peerCids.current,
              scid: c.localCid,
              token: s.level === EncryptionLevel.Initial && c.role === 'client' ? c.token : new Uint8Array(0),
            },
            s.space,
            s.writeKeys!,
            pn,
            pnLength,
          );
      if (!opened) continue;
      if (!b.fits(frame)) {
        b.closePacket();
        continue;
      }
      this.write(
        frame,
        app
          ? PacketType.OneRtt
          : s.level === EncryptionLevel.Initial
            ? PacketType.Initial
            : PacketType.Handshake,
        pn,
      );
      if (b.closePacket()) s.nextPacketNumber++;
    }
    this.currentAckEliciting = false;
    if (b.packets.length === 0) {
      c.closeSendPending = false;
      return undefined;
    }
    if (c.role === 'client' && b.packets.some((p) => p.type === PacketType.Initial)) {
      b.padDatagramTo(Math.max(MIN_INITIAL_DATAGRAM, maxSize));
    }
    const length = b.seal();
    c.closeSendPending = false;
    c.counters.onPacketsSent(b.packets.length);
    void now;
    return b.buffer.slice(0, length);
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
