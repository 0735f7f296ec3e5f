/**
 * Decides what a connection sends and when: coalesced Initial, Handshake and 0-RTT/1-RTT packets
 * (RFC 9000 §12.2), within the congestion window, the pacer and the anti-amplification limit of an
 * unvalidated path (RFC 9000 §8.1, §9.3.1, RFC 9002 §7), and the path validation datagrams of
 * connection-paths.ts (RFC 9000 §8.2). What goes in each packet comes from the framer (framer.ts)
 * and the ack managers.
 */
import { PacketNumberSpace, type SentPacket } from '../recovery/types.js';
import { EncryptionLevel } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import { FrameType } from '../wire/frames.js';
import { PacketType } from '../wire/packet-header.js';
import type { Connection } from './connection.js';
import type { BuiltPacket } from './datagram-builder.js';
import { packetOverhead } from './datagram-limits.js';
import { PROBE_WINDOW_SHARE } from './mtu-discovery.js';
import { MIN_INITIAL_DATAGRAM, type PacketHeaderSource, PacketPacker } from './packet-packer.js';
import type { PacketSpace } from './packet-space.js';
import type { Path } from './path.js';
import type { SentPacketPayload } from './sent-frames.js';

/** Largest datagram we ever build (bounded by connection-options validation). */
const MAX_BUILT_DATAGRAM = 16384;
/** Room for a short header, one PATH_CHALLENGE or PATH_RESPONSE and the AEAD tag, with margin. */
const MIN_PATH_PROBE = 64;

/** A datagram and the path it goes out on. */
export interface OutgoingDatagram {
  datagram: Uint8Array;
  path: Path;
}

export class ConnectionSender {
  private readonly packer: PacketPacker;
  /** When the pacer next allows an ack-eliciting packet, if it is what holds data back. */
  private pacingReleaseAt: Millis | undefined;

  constructor(private readonly c: Connection) {
    this.packer = new PacketPacker(new ConnectionHeaderSource(c), MAX_BUILT_DATAGRAM, c.trace);
  }

  /** The next datagram and its path, or undefined. */
  transmit(now: Millis): OutgoingDatagram | undefined {
    try {
      return this.next(now);
    } finally {
      // Built, sealed and registered, or abandoned: the packer keeps no slab between calls.
      this.packer.rest();
    }
  }

  private next(now: Millis): OutgoingDatagram | undefined {
    const c = this.c;
    if (c.state === 'draining' || c.state === 'closed') return undefined;
    const path = c.paths.current;
    if (c.state === 'closing') {
      const close = c.framer.closePending ? this.buildClose() : undefined;
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

    if (allowData && !probing) {
      const probe = this.buildMtuProbe(now);
      if (probe) return probe;
    }
    const packer = this.packer;
    packer.startDatagram(maxSize);
    for (const space of c.spaces) this.fillSpace(space, now, allowData, maxSize);
    if (packer.packets.length === 0) return undefined;
    packer.padInitial(maxSize);
    const datagram = packer.seal();
    this.register(packer.packets, now, datagram.length);
    return datagram;
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
    // Both sides wait before their search (mtu-discovery.ts): short connections never probe.
    if (!c.mtu.probeAllowed(now, c.rtt.smoothedRtt)) return undefined;
    const size = c.mtu.nextProbe();
    if (size === undefined || size > (c.peerParams?.maxUdpPayloadSize ?? 65527)) return undefined;
    // A probe is congestion controlled like any packet (RFC 9002 §7): it waits until the whole of it
    // fits in the window, so it never holds back data that does (e.g. the first response), and until
    // the window is PROBE_WINDOW_SHARE times its size: a 16,383-byte probe toward loopback in a
    // 40 KB initial window took the room of the data paced behind it for a round trip.
    if (c.congestion.availableWindow() < size || c.congestion.congestionWindow < PROBE_WINDOW_SHARE * size) {
      return undefined;
    }
    const s = c.spaces[PacketNumberSpace.ApplicationData];
    const packer = this.packer;
    packer.startDatagram(size);
    if (!packer.openPacket(PacketType.OneRtt, s.space, c.oneRtt.write, s.nextPacketNumber)) return undefined;
    packer.write({ type: FrameType.Ping });
    packer.closePacket();
    packer.padTo(size);
    const datagram = packer.seal();
    s.takePacketNumber();
    c.mtu.onProbeSent(size);
    this.register(packer.packets, now, datagram.length, size);
    return datagram;
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
    const packer = this.packer;
    packer.startDatagram(size);
    if (!packer.openPacket(PacketType.OneRtt, s.space, keys.write, s.nextPacketNumber, dcid))
      return undefined;
    const challenge = c.framer.appendPathFrames(packer, path, () => c.paths.newChallengeData());
    if (!packer.closePacket()) return undefined;
    if (expand) packer.padTo(size);
    const datagram = packer.seal();
    s.takePacketNumber();
    this.register(packer.packets, now, datagram.length, undefined, true);
    if (challenge) path.validator?.onChallengeSent(challenge, datagram.length >= MIN_INITIAL_DATAGRAM, now);
    c.paths.afterProbe(path);
    return { datagram, path };
  }

  /**
   * Datagram size allowed now on the current path: the path MTU and, while the address is not
   * validated, 3x what it received (RFC 9000 §8.1, §9.3.1).
   */
  private sizeLimit(): number {
    const c = this.c;
    let size = c.maxDatagramSize;
    const path = c.paths.current;
    if (!path.validated) size = Math.min(size, path.allowance);
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
    if (oneRtt && c.framer.hasControlFrames()) return true;
    const epoch = c.epoch;
    return (
      !!epoch &&
      !epoch.rejected &&
      (epoch.datagrams.length > 0 || epoch.builtStreams?.hasPendingFrames() === true)
    );
  }

  private fillSpace(s: PacketSpace, now: Millis, allowData: boolean, maxSize: number): void {
    const c = this.c;
    if (s.discarded) return;
    const packer = this.packer;
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
      s.skipPacketNumber();
    }
    const keys = type === PacketType.OneRtt ? c.oneRtt!.write : zeroRtt ? c.zeroRttKeys! : s.writeKeys!;
    if (!packer.openPacket(type, s.space, keys, s.nextPacketNumber)) return;

    if (!zeroRtt && s.acks.hasNewAckable) {
      const exponent = app ? c.options.ackDelayExponent : 3;
      const ack = s.acks.buildAckFrame(now, exponent, packer.remaining);
      if (ack && packer.fits(ack)) {
        packer.write(ack, { kind: 'ack', largestAcked: ack.ranges[0]!.largest });
        s.acks.onAckSent(now);
      }
    }

    // Without content (an ACK-only packet) the framer would find nothing: hasContent covers every
    // source it reads (CRYPTO, control frames and PING in 1-RTT, DATAGRAM and stream frames).
    if (allowData && hasContent) {
      const framer = c.framer;
      if (!zeroRtt) framer.appendCrypto(packer, s.crypto, s.level);
      if (type === PacketType.OneRtt) framer.appendControlFrames(packer);
      const epoch = c.epoch;
      if (app && epoch) {
        const room = c.maxDatagramSize - packetOverhead(zeroRtt);
        framer.appendEpochFrames(packer, epoch, now, room);
      }
      framer.appendPing(packer, s.probesPending > 0, type === PacketType.OneRtt);
    }
    const built = packer.closePacket();
    if (!built) return;
    s.takePacketNumber();
    if (built.ackEliciting) {
      s.onAckElicitingSent();
      c.framer.onAckElicitingPacket(type === PacketType.OneRtt);
    }
  }

  /** `pathProbe`: a path validation datagram, tracked as neither ack-eliciting nor in flight. */
  private register(
    packets: readonly Readonly<BuiltPacket>[],
    now: Millis,
    datagramLength: number,
    pmtuProbe?: number,
    pathProbe = false,
  ): void {
    const c = this.c;
    let inFlight = false;
    let sentHandshake = false;
    for (const p of packets) {
      const ackEliciting = p.ackEliciting && !pathProbe;
      const packetInFlight = p.inFlight && !pathProbe;
      // Built field by field, without spreads: one object of one shape per packet (the hot path).
      const payload: SentPacketPayload = {
        frames: p.frames,
        zeroRtt: p.type === PacketType.ZeroRtt,
        keyPhase: c.oneRtt?.writePhase ?? 0,
      };
      const sent: SentPacket<SentPacketPayload> = {
        packetNumber: p.packetNumber,
        space: p.space,
        timeSent: now,
        size: p.size,
        ackEliciting,
        inFlight: packetInFlight,
        payload,
      };
      if (pmtuProbe !== undefined) {
        payload.pmtuProbe = pmtuProbe;
        sent.pmtuProbe = true;
      }
      c.lossDetector.onPacketSent(sent);
      c.counters.onPacketsSent(1);
      if (packetInFlight) inFlight = true;
      if (ackEliciting) c.onAckElicitingSent(now);
      if (p.type === PacketType.OneRtt) c.oneRtt!.onPacketSent(p.packetNumber);
      if (p.space === PacketNumberSpace.Handshake) sentHandshake = true;
    }
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

  /**
   * CONNECTION_CLOSE in every space the peer may be able to read (RFC 9000 §10.2.3), alone in its
   * packets: nothing else goes out while closing (§10.2.1).
   */
  private buildClose(): Uint8Array | undefined {
    const c = this.c;
    const info = c.closeInfo!;
    const maxSize = this.sizeLimit();
    if (maxSize < 64) return undefined;
    const packer = this.packer;
    packer.startDatagram(maxSize);
    for (const s of c.spaces) {
      if (s.discarded) continue;
      const app = s.space === PacketNumberSpace.ApplicationData;
      if (app && !c.oneRtt) continue;
      if (!app && !s.writeKeys) continue;
      if (c.handshakeConfirmed && !app) continue;
      // Before the handshake is confirmed, 1-RTT may not be readable by the peer yet; the client
      // sends it only once its handshake is complete.
      if (app && !c.handshakeComplete) continue;
      const type = app
        ? PacketType.OneRtt
        : s.level === EncryptionLevel.Initial
          ? PacketType.Initial
          : PacketType.Handshake;
      const keys = app ? c.oneRtt!.write : s.writeKeys!;
      if (!packer.openPacket(type, s.space, keys, s.nextPacketNumber)) continue;
      const frame = c.framer.closeFrame(info, app, packer.remaining);
      if (!packer.fits(frame)) {
        packer.closePacket();
        continue;
      }
      packer.write(frame);
      if (packer.closePacket()) s.takePacketNumber();
    }
    c.framer.clearClose();
    if (packer.packets.length === 0) return undefined;
    packer.padInitial(maxSize);
    const datagram = packer.seal();
    c.counters.onPacketsSent(packer.packets.length);
    return datagram;
  }
}

/**
 * The header fields of `c`'s packets, as the packer sees them. A class, not an object literal of
 * getters: one small object per connection instead of a dictionary-mode object and eight closures
 * (about 1 KiB of every idle connection, issue 13).
 */
class ConnectionHeaderSource implements PacketHeaderSource {
  constructor(private readonly c: Connection) {}
  get role(): 'client' | 'server' {
    return this.c.role;
  }
  get version(): number {
    return this.c.version;
  }
  get dcid(): Uint8Array {
    return this.c.peerCids.current;
  }
  get scid(): Uint8Array {
    return this.c.localCid;
  }
  get token(): Uint8Array {
    return this.c.token;
  }
  get keyPhase(): boolean {
    return this.c.oneRtt?.writePhase === 1;
  }
  largestAcked(space: PacketNumberSpace): number | undefined {
    return this.c.lossDetector.largestAcked(space);
  }
}
