/**
 * Packs and seals what it is given: the packer opens packet headers (one function for every kind of
 * packet, RFC 9000 §17), takes frames as the framer's FrameSink, pads a datagram where the rules say
 * so (RFC 9000 §14.1) and seals it (RFC 9001 §5). It decides nothing about what to send or when:
 * that is the sender's part (connection-sender.ts), and the frames are the framer's (framer.ts).
 *
 * It sees the connection through PacketHeaderSource only, so unit tests drive it with a fake.
 */
import type { PacketKeys } from '../crypto/packet-keys.js';
import type { PacketNumberSpace } from '../recovery/types.js';
import { isAckEliciting } from '../wire/frame-rules.js';
import type { Frame } from '../wire/frames.js';
import { PacketType } from '../wire/packet-header.js';
import { packetNumberLength } from '../wire/packet-number.js';
import type { FrameTraceEvent } from './connection.js';
import { type BuiltPacket, DatagramBuilder, type ShortHeaderSpec } from './datagram-builder.js';
import { DatagramSlab } from './datagram-slab.js';
import type { FrameSink } from './framer.js';
import type { SentFrame } from './sent-frames.js';

/** Where every connection of the process builds its datagrams, in place (short-lived bytes). */
const outgoing = new DatagramSlab();

/** RFC 9000 §14.1: datagrams carrying ack-eliciting Initial packets are at least this large. */
export const MIN_INITIAL_DATAGRAM = 1200;

/** The header fields the packer takes from the connection. */
export interface PacketHeaderSource {
  readonly role: 'client' | 'server';
  readonly version: number;
  /** The peer's connection ID on the current path (RFC 9000 §5.1). */
  readonly dcid: Uint8Array;
  /** Our connection ID, for long headers. */
  readonly scid: Uint8Array;
  /** Client: the token its Initial packets carry (Retry or NEW_TOKEN, RFC 9000 §8.1); else empty. */
  readonly token: Uint8Array;
  /** The 1-RTT key phase bit we send (RFC 9001 §6). */
  readonly keyPhase: boolean;
  /** Largest acknowledged packet number of a space: the packet number's encoded length follows from it. */
  largestAcked(space: PacketNumberSpace): number | undefined;
}

export class PacketPacker implements FrameSink {
  private readonly builder: DatagramBuilder;
  private type: PacketType = PacketType.OneRtt;
  private packetNumber = 0;
  /** Whether the open packet holds an ack-eliciting frame (RFC 9002 §2): a property of each packet. */
  private ackEliciting = false;
  /**
   * The 1-RTT header fields of the last short header: a new object only when the DCID or the key
   * phase changes, not per packet (issue 13).
   */
  private shortSpec: ShortHeaderSpec = { dcid: new Uint8Array(0), keyPhase: false, spin: false };
  /** Where the open datagram starts in the slab. */
  private start = 0;

  constructor(
    private readonly header: PacketHeaderSource,
    /** The largest datagram this packer builds, whatever startDatagram() is asked for. */
    private readonly maxDatagram: number,
    private readonly trace?: (e: FrameTraceEvent) => void,
  ) {
    // No buffer until startDatagram(): a packer at rest holds no slab.
    this.builder = new DatagramBuilder();
  }

  /** Start a datagram of at most `maxSize` bytes. */
  startDatagram(maxSize: number): void {
    const size = Math.min(maxSize, this.maxDatagram);
    this.start = outgoing.reserve(size);
    this.builder.reset(size, outgoing.buffer, this.start);
  }

  /**
   * Open a packet of `type` in `space` with `keys`: a long header for Initial, Handshake and 0-RTT,
   * a short one for 1-RTT (to `dcid`, the current path's by default). False when the datagram has no
   * room left for another packet.
   */
  openPacket(
    type: PacketType,
    space: PacketNumberSpace,
    keys: PacketKeys,
    packetNumber: number,
    dcid: Uint8Array = this.header.dcid,
  ): boolean {
    const h = this.header;
    const pnLength = packetNumberLength(packetNumber, h.largestAcked(space));
    let opened: boolean;
    if (type === PacketType.OneRtt) {
      let spec = this.shortSpec;
      if (spec.dcid !== dcid || spec.keyPhase !== h.keyPhase) {
        spec = { dcid, keyPhase: h.keyPhase, spin: false };
        this.shortSpec = spec;
      }
      opened = this.builder.openShort(spec, space, keys, packetNumber, pnLength);
    } else if (type === PacketType.Initial || type === PacketType.Handshake || type === PacketType.ZeroRtt) {
      opened = this.builder.openLong(
        {
          type,
          version: h.version,
          dcid,
          scid: h.scid,
          // RFC 9000 §17.2.2: a server's Initial carries an empty token.
          token:
            type === PacketType.Initial ? (h.role === 'client' ? h.token : new Uint8Array(0)) : undefined,
        },
        space,
        keys,
        packetNumber,
        pnLength,
      );
    } else {
      throw new RangeError(`cannot pack a packet of type ${type}`);
    }
    if (opened) {
      this.type = type;
      this.packetNumber = packetNumber;
      this.ackEliciting = false;
    }
    return opened;
  }

  /** Bytes left for frames in the open packet (its AEAD tag already counted). */
  get remaining(): number {
    return this.builder.remaining;
  }

  fits(frame: Frame): boolean {
    return this.builder.fits(frame);
  }

  write(frame: Frame, record?: SentFrame): void {
    this.builder.writeFrame(frame, record);
    if (isAckEliciting(frame.type)) this.ackEliciting = true;
    this.trace?.({ direction: 'sent', packetType: this.type, packetNumber: this.packetNumber, frame });
  }

  /**
   * Whether the open packet already elicits an ACK. Per packet, not per datagram: a probe that
   * follows an ack-eliciting packet in the same datagram must still elicit one itself (RFC 9002
   * §6.2.4), and each packet's own status decides its PTO and bytes in flight (RFC 9002 §2, §6.2.1).
   */
  get packetAckEliciting(): boolean {
    return this.ackEliciting;
  }

  /** Finish the open packet; undefined (and nothing written) if it has no frames. */
  closePacket(): Readonly<BuiltPacket> | undefined {
    return this.builder.closePacket();
  }

  /** The packets of the datagram so far. */
  get packets(): readonly Readonly<BuiltPacket>[] {
    return this.builder.packets;
  }

  /** Grow the datagram to `size` bytes (within its maximum) with padding in its last packet. */
  padTo(size: number): void {
    this.builder.padDatagramTo(size);
  }

  /**
   * RFC 9000 §14.1: a client pads every datagram that carries an Initial packet to at least 1200
   * bytes (we use the whole datagram size); a server pads those with an ack-eliciting Initial.
   */
  padInitial(maxSize: number): void {
    // Loops, not some() with a callback: this runs for every datagram (issue 13: no closure each).
    const packets = this.builder.packets;
    let initial = false;
    let ackElicitingInitial = false;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i] as Readonly<BuiltPacket>;
      if (p.type !== PacketType.Initial) continue;
      initial = true;
      if (p.ackEliciting) ackElicitingInitial = true;
    }
    if (!initial) return;
    if (this.header.role === 'client') this.padTo(Math.max(MIN_INITIAL_DATAGRAM, maxSize));
    else if (ackElicitingInitial) this.padTo(MIN_INITIAL_DATAGRAM);
  }

  /**
   * The datagram is sealed (or abandoned): let go of the slab it was built in. The packets' records
   * stay readable until the next startDatagram().
   */
  rest(): void {
    this.builder.detach();
  }

  /** Seal every packet and return the datagram (a view of the slab it was built in). */
  seal(): Uint8Array {
    return outgoing.commit(this.start, this.builder.seal());
  }
}
