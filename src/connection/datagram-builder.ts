/**
 * Assembles one UDP datagram out of coalesced packets (RFC 9000 §12.2): headers and frames are written
 * in plaintext first, padding is added where needed, and every packet is sealed at the end
 * (RFC 9001 §5.3-5.4). Writing before sealing lets the padding that a datagram carrying an Initial
 * needs (RFC 9000 §14.1) go into whichever packet ends the datagram.
 */
import type { PacketKeys } from '../crypto/packet-keys.js';
import { sealPacket } from '../crypto/packet-protection.js';
import type { PacketNumberSpace } from '../recovery/types.js';
import { BufferWriter } from '../wire/buffer-writer.js';
import { encodeFrame, frameLength } from '../wire/frame-codec.js';
import { isAckEliciting } from '../wire/frame-rules.js';
import { type Frame, FrameType } from '../wire/frames.js';
import {
  PacketType,
  patchLongHeaderLength,
  writeLongHeader,
  writeShortHeaderFields,
} from '../wire/packet-header.js';
import { varintLength } from '../wire/varint.js';
import type { SentFrame } from './sent-frames.js';

const TAG_LENGTH = 16;
const NO_BUFFER = new Uint8Array(0);

export interface BuiltPacket {
  space: PacketNumberSpace;
  type: PacketType;
  packetNumber: number;
  keys: PacketKeys;
  packetStart: number;
  pnOffset: number;
  pnLength: 1 | 2 | 3 | 4;
  /** -1 for a short header packet. */
  lengthOffset: number;
  /** End of the plaintext payload (the tag follows). */
  payloadEnd: number;
  ackEliciting: boolean;
  /** Counts toward bytes in flight: ack-eliciting or carrying PADDING (RFC 9002 §2). */
  inFlight: boolean;
  frames: SentFrame[];
  /** Number of frames written (including those needing no record). */
  frameCount: number;
  /** Only ACK frames (and padding): not congestion controlled. */
  ackOnly: boolean;
  hasCrypto: boolean;
  /** Packet size on the wire, set by seal(). */
  size: number;
}

export interface LongHeaderSpec {
  type: PacketType.Initial | PacketType.ZeroRtt | PacketType.Handshake;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  token?: Uint8Array;
}

export interface ShortHeaderSpec {
  dcid: Uint8Array;
  keyPhase: boolean;
  spin: boolean;
}

export class DatagramBuilder {
  private readonly writer: BufferWriter;
  private target: Uint8Array;
  /** Where the datagram starts in `buffer`, and the offset it must end by. */
  private base = 0;
  private limit = 0;
  private current: BuiltPacket | undefined;
  private readonly built: BuiltPacket[] = [];

  /** `buffer`: where reset() writes by default (none: every reset() names its buffer). */
  constructor(buffer: Uint8Array = NO_BUFFER) {
    this.target = buffer;
    this.writer = new BufferWriter(buffer, 0);
  }

  /** The buffer the datagram is written in; packet offsets (BuiltPacket) are offsets in it. */
  get buffer(): Uint8Array {
    return this.target;
  }

  /**
   * Start a new datagram of at most `maxSize` bytes, written from `base` of `buffer` (by default at
   * the start of the buffer the last one was written in).
   */
  reset(maxSize: number, buffer: Uint8Array = this.target, base = 0): void {
    this.target = buffer;
    this.writer.restart(base, buffer);
    this.base = base;
    this.limit = base + Math.max(0, Math.min(maxSize, buffer.length - base));
    this.current = undefined;
    // Emptied by pop(), not `length = 0`: V8 gives up an array's backing store when its length is
    // set to 0, so every datagram's first push() allocated a new one (issue 13: 100-150 bytes and a
    // runtime call per datagram built).
    const built = this.built;
    while (built.length > 0) built.pop();
  }

  /**
   * Lets go of the buffer the last datagram was written in (the packets' records stay readable): a
   * connection at rest must not keep a shared 64 KiB slab alive (10k idle connections, each holding
   * the slab of its last datagram, would pin hundreds of them).
   */
  detach(): void {
    this.target = NO_BUFFER;
    this.writer.restart(0, NO_BUFFER);
    this.current = undefined;
    this.base = 0;
    this.limit = 0;
  }

  /** The packets of the datagram so far (closed ones; their records belong to the builder). */
  get packets(): readonly Readonly<BuiltPacket>[] {
    return this.built;
  }

  get datagramLength(): number {
    return this.writer.offset - this.base + (this.current ? TAG_LENGTH : 0);
  }

  /** Bytes left for frames in the packet being written (its tag already reserved). */
  get remaining(): number {
    if (!this.current) return 0;
    return this.limit - this.writer.offset - TAG_LENGTH;
  }

  /** Room left in the datagram for a further packet with a header of about `headerEstimate` bytes. */
  roomForPacket(headerEstimate: number): number {
    return this.limit - this.writer.offset - headerEstimate - TAG_LENGTH;
  }

  openLong(
    spec: LongHeaderSpec,
    space: PacketNumberSpace,
    keys: PacketKeys,
    packetNumber: number,
    pnLength: 1 | 2 | 3 | 4,
  ): boolean {
    const start = this.writer.offset;
    const headerSize =
      1 +
      4 +
      1 +
      spec.dcid.length +
      1 +
      spec.scid.length +
      2 +
      pnLength +
      (spec.type === PacketType.Initial
        ? varintLength(spec.token?.length ?? 0) + (spec.token?.length ?? 0)
        : 0);
    if (start + headerSize + TAG_LENGTH + 4 > this.limit) return false;
    const { lengthOffset, pnOffset } = writeLongHeader(this.writer, {
      type: spec.type,
      version: spec.version,
      dcid: spec.dcid,
      scid: spec.scid,
      token: spec.token,
      packetNumber,
      packetNumberLength: pnLength,
    });
    this.current = this.newPacket(
      space,
      spec.type,
      keys,
      packetNumber,
      start,
      pnOffset,
      pnLength,
      lengthOffset,
    );
    return true;
  }

  openShort(
    spec: ShortHeaderSpec,
    space: PacketNumberSpace,
    keys: PacketKeys,
    packetNumber: number,
    pnLength: 1 | 2 | 3 | 4,
  ): boolean {
    const start = this.writer.offset;
    if (start + 1 + spec.dcid.length + pnLength + TAG_LENGTH + 4 > this.limit) return false;
    const pnOffset = writeShortHeaderFields(
      this.writer,
      spec.dcid,
      packetNumber,
      pnLength,
      spec.keyPhase,
      spec.spin,
    );
    this.current = this.newPacket(
      space,
      PacketType.OneRtt,
      keys,
      packetNumber,
      start,
      pnOffset,
      pnLength,
      -1,
    );
    return true;
  }

  private newPacket(
    space: PacketNumberSpace,
    type: PacketType,
    keys: PacketKeys,
    packetNumber: number,
    packetStart: number,
    pnOffset: number,
    pnLength: 1 | 2 | 3 | 4,
    lengthOffset: number,
  ): BuiltPacket {
    return {
      space,
      type,
      packetNumber,
      keys,
      packetStart,
      pnOffset,
      pnLength,
      lengthOffset,
      payloadEnd: 0,
      ackEliciting: false,
      inFlight: false,
      frames: [],
      frameCount: 0,
      ackOnly: true,
      hasCrypto: false,
      size: 0,
    };
  }

  /** Whether `frame` fits in the current packet. */
  fits(frame: Frame): boolean {
    return frameLength(frame) <= this.remaining;
  }

  /** Append a frame (the caller checked that it fits); `record` is kept for ack/loss handling. */
  writeFrame(frame: Frame, record?: SentFrame): void {
    const p = this.current;
    if (!p) throw new Error('writeFrame without an open packet');
    encodeFrame(this.writer, frame);
    p.frameCount++;
    if (record) {
      // The first record replaces the empty list with one of exactly one slot, where a push would
      // reserve 17 (issue 13: ~140 bytes per packet built, kept while the packet is in flight).
      if (p.frames.length === 0) p.frames = [record];
      else p.frames.push(record);
    }
    if (isAckEliciting(frame.type)) p.ackEliciting = true;
    if (frame.type !== FrameType.Ack && frame.type !== FrameType.Padding) p.ackOnly = false;
    if (frame.type === FrameType.Padding || p.ackEliciting) p.inFlight = true;
    if (frame.type === FrameType.Crypto) p.hasCrypto = true;
  }

  /** Append PADDING bytes to the open packet. */
  pad(n: number): void {
    const p = this.current;
    if (!p || n <= 0) return;
    this.writer.fill(0, n);
    p.inFlight = true;
    p.frameCount++;
  }

  /**
   * Finish the open packet. A packet without frames is rolled back (nothing written). Short payloads
   * are padded so that header protection has its 16-byte sample (RFC 9001 §5.4.2).
   */
  closePacket(): BuiltPacket | undefined {
    const p = this.current;
    this.current = undefined;
    if (!p) return undefined;
    if (p.frameCount === 0) {
      this.writer.rewind(p.packetStart);
      return undefined;
    }
    const payloadLength = this.writer.offset - p.pnOffset - p.pnLength;
    if (p.pnLength + payloadLength < 4) this.writer.fill(0, 4 - p.pnLength - payloadLength);
    p.payloadEnd = this.writer.offset;
    // Reserve the tag; sealing writes it.
    this.writer.advance(TAG_LENGTH);
    this.built.push(p);
    return p;
  }

  /**
   * Grow the datagram to `size` bytes by padding its last packet (RFC 9000 §14.1). Short header
   * packets take the padding as PADDING frames too, since they extend to the datagram's end.
   */
  padDatagramTo(size: number): void {
    const last = this.built[this.built.length - 1];
    const target = Math.min(this.base + size, this.limit);
    if (!last || this.writer.offset >= target) return;
    const extra = target - this.writer.offset;
    // Move the tag room: padding goes before the tag.
    this.target.fill(0, last.payloadEnd, last.payloadEnd + extra);
    last.payloadEnd += extra;
    last.inFlight = true;
    this.writer.advance(extra);
  }

  /** Seal every packet; returns the datagram length (it ends at `base` + that). */
  seal(): number {
    for (const p of this.built) {
      if (p.lengthOffset >= 0) {
        patchLongHeaderLength(this.target, p.lengthOffset, p.payloadEnd - p.pnOffset + TAG_LENGTH);
      }
      const end = sealPacket(
        p.keys,
        this.target,
        p.packetStart,
        p.pnOffset,
        p.pnLength,
        p.packetNumber,
        p.payloadEnd,
      );
      p.size = end - p.packetStart;
    }
    return this.writer.offset - this.base;
  }
}
