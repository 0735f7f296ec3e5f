/**
 * Encoding and decoding of QUIC frames (RFC 9000 §12.4, §19; RFC 9221 §4 for DATAGRAM).
 *
 * Decoding is on the per-packet hot path: it reads through a BufferReader without copying (data,
 * tokens and connection IDs are views of the payload) and maps every malformation to
 * QuicTransportError(FRAME_ENCODING_ERROR, reason, frameType). Encoding validates the frame first
 * (RangeError on invalid input) and then writes it whole: a frame is never half written.
 */
import { QuicTransportError, TransportErrorCode } from '../errors/transport-error.js';
import { BufferReader, TruncatedInputError } from './buffer-reader.js';
import type { BufferWriter } from './buffer-writer.js';
import {
  type AckFrame,
  type AckRange,
  type ConnectionCloseApplicationFrame,
  type ConnectionCloseTransportFrame,
  type Frame,
  FrameType,
  type NewConnectionIdFrame,
  type StreamFrame,
} from './frames.js';
import { MAX_VARINT, varintLength } from './varint.js';

/** RFC 9000 §19.8, §19.6: offset + length of stream or crypto data cannot exceed 2^62 - 1. */
const MAX_STREAM_END = (1n << 62n) - 1n;
/** Sums at or above this might exceed 2^62 - 1 once rounding is undone: check them exactly. */
const EXACT_CHECK_THRESHOLD = 2 ** 62 - 4096;
/** RFC 9000 §19.11, §19.14: a stream count cannot exceed 2^60. */
const MAX_STREAMS = 2 ** 60;
const MAX_STREAMS_BIG = 1n << 60n;
/** RFC 9000 §19.15 */
const MAX_CID_LENGTH = 20;
const STATELESS_RESET_TOKEN_LENGTH = 16;
/** RFC 9000 §19.17, §19.18 */
const PATH_DATA_LENGTH = 8;

const STREAM_OFF_BIT = 0x04;
const STREAM_LEN_BIT = 0x02;
const STREAM_FIN_BIT = 0x01;

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/*
 * Varints go to 2^62 - 1 (RFC 9000 §16) but a JS number is exact only up to 2^53 - 1: a larger value
 * read as a number is rounded, 2^62 - 1 even up to 2^62, which is no longer a varint. Every field
 * decoded here falls in one of these classes (docs/security.md, "Integers beyond 2^53"):
 * - RFC bounds (offset + length, stream counts): decided on the exact value (`exactVarintAt`);
 * - frame types: multi-byte types are all unknown, decided on the exact bytes;
 * - stream IDs: saturated, keeping the two type bits exact (RFC 9000 §2.1), see `readStreamId`;
 * - everything else (error codes, flow-control limits, offsets, ACK fields, sequence numbers) is at
 *   most rounded, then capped at MAX_VARINT so that it can always be encoded again; each of them is
 *   compared against state that stays far below 2^53 (our packet numbers, windows, CID sequence
 *   numbers), so the rounding cannot change an outcome.
 */

/** Stream IDs at or above 2^53 become this plus their two type bits (a multiple of 4). */
const SATURATED_STREAM_ID = 2 ** 53 - 4;

/** A varint as a number that can always be written again: rounded at worst, never above MAX_VARINT. */
function readCapped(r: BufferReader): number {
  const v = r.varint();
  return Math.min(v, MAX_VARINT);
}

/**
 * A stream ID. Beyond 2^53 - 1 it is saturated to 2^53 - 4 plus its exact two low bits, so that the
 * initiator and direction (RFC 9000 §2.1), which decide between STREAM_STATE_ERROR and
 * STREAM_LIMIT_ERROR, survive; no stream that high can be open.
 */
function readStreamId(r: BufferReader): number {
  const pos = r.offset;
  const v = r.varint();
  if (v <= Number.MAX_SAFE_INTEGER) return v;
  return SATURATED_STREAM_ID + Number(exactVarintAt(r.buffer, pos) & 3n);
}

function frameError(reason: string, frameType: number): QuicTransportError {
  return new QuicTransportError(TransportErrorCode.FRAME_ENCODING_ERROR, reason, frameType);
}

/** The exact value of the varint at `pos` (for the rare checks where number rounding matters). */
function exactVarintAt(buf: Uint8Array, pos: number): bigint {
  return new BufferReader(buf, pos).varintBig();
}

function decodeReason(bytes: Uint8Array): string {
  // RFC 9000 §19.19: the reason phrase SHOULD be UTF-8; invalid sequences become U+FFFD.
  return bytes.length === 0 ? '' : utf8Decoder.decode(bytes);
}

/**
 * Checks offset + length <= 2^62 - 1 (RFC 9000 §19.6, §19.8) for data whose offset varint starts at
 * `offsetPos` (or is absent, -1) in `buf`.
 */
function checkDataEnd(
  buf: Uint8Array,
  offsetPos: number,
  offset: number,
  length: number,
  type: number,
): void {
  if (offset + length < EXACT_CHECK_THRESHOLD) return;
  const exactOffset = offsetPos < 0 ? 0n : exactVarintAt(buf, offsetPos);
  if (exactOffset + BigInt(length) > MAX_STREAM_END) {
    throw frameError('offset + length exceeds 2^62-1', type);
  }
}

/** Reads a stream count and rejects one above 2^60 (RFC 9000 §19.11, §19.14). */
function readStreamCount(r: BufferReader, type: number): number {
  const pos = r.offset;
  const v = r.varint();
  // Values just above 2^60 round down to 2^60 as numbers: check those exactly.
  if (v >= MAX_STREAMS && exactVarintAt(r.buffer, pos) > MAX_STREAMS_BIG) {
    throw frameError('maximum streams exceeds 2^60', type);
  }
  return v;
}

function decodeAck(r: BufferReader, type: number): AckFrame {
  // RFC 9000 §19.3
  const largest = readCapped(r);
  // RFC 9000 §13.1: an acknowledgment of a packet that was never sent MAY be a PROTOCOL_VIOLATION.
  // No tsquic packet number comes near 2^53, and above 2^53 - 1 the ranges would be rounded (two
  // of them could touch or overlap), so such an ACK is refused here, exactly.
  if (largest > Number.MAX_SAFE_INTEGER) {
    throw new QuicTransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      'ACK of a packet number above 2^53 - 1 (never sent)',
      type,
    );
  }
  const ackDelay = readCapped(r);
  const rangeCount = r.varint();
  const firstRange = readCapped(r);
  let smallest = largest - firstRange;
  if (smallest < 0) throw frameError('ACK range below packet number 0', type);
  // Each further range takes at least two bytes: reject impossible counts before allocating.
  if (rangeCount > r.remaining / 2) throw frameError('ACK range count exceeds the frame', type);
  const ranges: AckRange[] = [{ smallest, largest }];
  for (let i = 0; i < rangeCount; i++) {
    const gap = readCapped(r);
    const length = readCapped(r);
    // RFC 9000 §19.3.1: largest = previous_smallest - gap - 2; smallest = largest - ack_range.
    const rangeLargest = smallest - gap - 2;
    const rangeSmallest = rangeLargest - length;
    if (rangeSmallest < 0) throw frameError('ACK range below packet number 0', type);
    ranges.push({ smallest: rangeSmallest, largest: rangeLargest });
    smallest = rangeSmallest;
  }
  if (type === FrameType.AckEcn) {
    // RFC 9000 §19.3.2
    const ect0 = readCapped(r);
    const ect1 = readCapped(r);
    const ce = readCapped(r);
    return { type: FrameType.Ack, ackDelay, ranges, ecn: { ect0, ect1, ce } };
  }
  return { type: FrameType.Ack, ackDelay, ranges };
}

function decodeStream(r: BufferReader, type: number): StreamFrame {
  // RFC 9000 §19.8: type 0x08-0x0f with OFF, LEN and FIN bits.
  const streamId = readStreamId(r);
  let offsetPos = -1;
  let offset = 0;
  if ((type & STREAM_OFF_BIT) !== 0) {
    offsetPos = r.offset;
    offset = readCapped(r);
  }
  let data: Uint8Array;
  if ((type & STREAM_LEN_BIT) !== 0) {
    const length = r.varint();
    data = r.bytes(length);
  } else {
    data = r.rest();
  }
  checkDataEnd(r.buffer, offsetPos, offset, data.length, type);
  return { type: FrameType.Stream, streamId, offset, data, fin: (type & STREAM_FIN_BIT) !== 0 };
}

function decodeNewConnectionId(r: BufferReader, type: number): NewConnectionIdFrame {
  // RFC 9000 §19.15
  const seqPos = r.offset;
  const sequenceNumber = readCapped(r);
  const rptPos = r.offset;
  const retirePriorTo = readCapped(r);
  if (
    retirePriorTo > sequenceNumber ||
    (retirePriorTo === sequenceNumber &&
      sequenceNumber > Number.MAX_SAFE_INTEGER &&
      exactVarintAt(r.buffer, rptPos) > exactVarintAt(r.buffer, seqPos))
  ) {
    throw frameError('Retire Prior To greater than Sequence Number', type);
  }
  const length = r.u8();
  if (length < 1 || length > MAX_CID_LENGTH) throw frameError(`connection ID length ${length}`, type);
  const connectionId = r.bytes(length);
  const statelessResetToken = r.bytes(STATELESS_RESET_TOKEN_LENGTH);
  return {
    type: FrameType.NewConnectionId,
    sequenceNumber,
    retirePriorTo,
    connectionId,
    statelessResetToken,
  };
}

function decodeFrameBody(r: BufferReader, type: number): Frame {
  switch (type) {
    case FrameType.Padding: {
      // RFC 9000 §19.1: a run of PADDING bytes is reported as one frame (its type byte, and the
      // zero bytes after it).
      return { type: FrameType.Padding, length: 1 + r.skipZeroBytes() };
    }
    case FrameType.Ping:
      return { type: FrameType.Ping };
    case FrameType.Ack:
    case FrameType.AckEcn:
      return decodeAck(r, type);
    case FrameType.ResetStream: {
      // RFC 9000 §19.4
      const streamId = readStreamId(r);
      const errorCode = readCapped(r);
      const finalSize = readCapped(r);
      return { type: FrameType.ResetStream, streamId, errorCode, finalSize };
    }
    case FrameType.StopSending: {
      // RFC 9000 §19.5
      const streamId = readStreamId(r);
      const errorCode = readCapped(r);
      return { type: FrameType.StopSending, streamId, errorCode };
    }
    case FrameType.Crypto: {
      // RFC 9000 §19.6
      const offsetPos = r.offset;
      const offset = readCapped(r);
      const length = r.varint();
      const data = r.bytes(length);
      checkDataEnd(r.buffer, offsetPos, offset, length, type);
      return { type: FrameType.Crypto, offset, data };
    }
    case FrameType.NewToken: {
      // RFC 9000 §19.7: the token MUST NOT be empty.
      const length = r.varint();
      if (length === 0) throw frameError('empty NEW_TOKEN', type);
      return { type: FrameType.NewToken, token: r.bytes(length) };
    }
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f:
      return decodeStream(r, type);
    case FrameType.MaxData:
      // RFC 9000 §19.9
      return { type: FrameType.MaxData, maximumData: readCapped(r) };
    case FrameType.MaxStreamData: {
      // RFC 9000 §19.10
      const streamId = readStreamId(r);
      return { type: FrameType.MaxStreamData, streamId, maximumStreamData: readCapped(r) };
    }
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
      // RFC 9000 §19.11
      return { type, maximumStreams: readStreamCount(r, type) };
    case FrameType.DataBlocked:
      // RFC 9000 §19.12
      return { type: FrameType.DataBlocked, maximumData: readCapped(r) };
    case FrameType.StreamDataBlocked: {
      // RFC 9000 §19.13
      const streamId = readStreamId(r);
      return { type: FrameType.StreamDataBlocked, streamId, maximumStreamData: readCapped(r) };
    }
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      // RFC 9000 §19.14
      return { type, maximumStreams: readStreamCount(r, type) };
    case FrameType.NewConnectionId:
      return decodeNewConnectionId(r, type);
    case FrameType.RetireConnectionId:
      // RFC 9000 §19.16
      return { type: FrameType.RetireConnectionId, sequenceNumber: readCapped(r) };
    case FrameType.PathChallenge:
      // RFC 9000 §19.17
      return { type: FrameType.PathChallenge, data: r.bytes(PATH_DATA_LENGTH) };
    case FrameType.PathResponse:
      // RFC 9000 §19.18
      return { type: FrameType.PathResponse, data: r.bytes(PATH_DATA_LENGTH) };
    case FrameType.ConnectionCloseTransport: {
      // RFC 9000 §19.19
      const errorCode = readCapped(r);
      const frameType = readCapped(r);
      const reason = decodeReason(r.bytes(r.varint()));
      return { type: FrameType.ConnectionCloseTransport, errorCode, frameType, reason };
    }
    case FrameType.ConnectionCloseApplication: {
      const errorCode = readCapped(r);
      const reason = decodeReason(r.bytes(r.varint()));
      return { type: FrameType.ConnectionCloseApplication, errorCode, reason };
    }
    case FrameType.HandshakeDone:
      // RFC 9000 §19.20
      return { type: FrameType.HandshakeDone };
    case FrameType.Datagram:
      // RFC 9221 §4: 0x30 extends to the end of the packet.
      return { type: FrameType.Datagram, data: r.rest() };
    case FrameType.DatagramWithLength:
      return { type: FrameType.Datagram, data: r.bytes(r.varint()) };
    default:
      // RFC 9000 §12.4: an unknown frame type is a FRAME_ENCODING_ERROR.
      throw frameError(`unknown frame type 0x${type.toString(16)}`, type);
  }
}

/**
 * Decodes one frame at `r.offset` and advances past it; a run of PADDING bytes becomes one frame.
 * Throws QuicTransportError (FRAME_ENCODING_ERROR; PROTOCOL_VIOLATION for a frame type that is not
 * minimally encoded, RFC 9000 §12.4) and nothing else.
 */
export function decodeFrame(r: BufferReader): Frame {
  let type = 0;
  try {
    const first = r.peekU8();
    if (first < 0x40) {
      r.skip(1);
      type = first;
    } else {
      // A multi-byte frame type: every type defined so far fits in one byte.
      const length = 1 << (first >> 6);
      const exact = r.varintBig();
      // Beyond 2^53 a number cannot name the type; RFC 9000 §19.19 reports an unknown type as 0.
      type = exact <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(exact) : 0;
      // RFC 9000 §12.4: a frame type MUST use the shortest encoding; MAY be a PROTOCOL_VIOLATION.
      if (varintLength(exact) < length) {
        throw new QuicTransportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          'frame type not minimally encoded',
          type,
        );
      }
      if (type === 0) {
        // RFC 9000 §12.4: an unknown frame type is a FRAME_ENCODING_ERROR.
        throw frameError(`unknown frame type 0x${exact.toString(16)}`, 0);
      }
    }
    return decodeFrameBody(r, type);
  } catch (err) {
    if (err instanceof TruncatedInputError) throw frameError('truncated frame', type);
    throw err;
  }
}

/**
 * Decodes a whole packet payload. RFC 9000 §12.4: a packet with no frames is a PROTOCOL_VIOLATION.
 */
export function decodeFrames(payload: Uint8Array): Frame[] {
  if (payload.length === 0) {
    throw new QuicTransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet without frames', 0);
  }
  const r = new BufferReader(payload);
  // A list of exactly one slot for the first frame (a bulk transfer's packets carry one): an empty
  // list's first push reserves 17 (issue 13: ~140 bytes per packet received).
  const frames: Frame[] = [decodeFrame(r)];
  while (r.offset < r.end) frames.push(decodeFrame(r));
  return frames;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkUint(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${what}: invalid value ${v}`);
}

function checkStreamCount(v: number): void {
  checkUint(v, 'maximum streams');
  // RFC 9000 §19.11, §19.14
  if (v > MAX_STREAMS) throw new RangeError(`maximum streams ${v} exceeds 2^60`);
}

function checkEncodedDataEnd(offset: number, length: number): void {
  checkUint(offset, 'offset');
  // RFC 9000 §19.6, §19.8: offset + length <= 2^62 - 1.
  if (offset + length >= 2 ** 62) throw new RangeError(`offset + length exceeds 2^62-1`);
}

/** Header bytes of a STREAM frame (type, Stream ID, Offset if > 0, Length unless omitted). */
export function streamFrameOverhead(
  streamId: number,
  offset: number,
  dataLength: number,
  omitLength = false,
): number {
  return (
    1 +
    varintLength(streamId) +
    (offset > 0 ? varintLength(offset) : 0) +
    (omitLength ? 0 : varintLength(dataLength))
  );
}

function ackLength(f: AckFrame): number {
  const ranges = f.ranges;
  if (ranges.length === 0) throw new RangeError('ACK frame without ranges');
  const first = ranges[0]!;
  checkUint(first.smallest, 'ACK range');
  if (first.largest < first.smallest) throw new RangeError('ACK range with largest < smallest');
  let n =
    1 +
    varintLength(first.largest) +
    varintLength(f.ackDelay) +
    varintLength(ranges.length - 1) +
    varintLength(first.largest - first.smallest);
  let previousSmallest = first.smallest;
  for (let i = 1; i < ranges.length; i++) {
    const range = ranges[i]!;
    checkUint(range.smallest, 'ACK range');
    if (range.largest < range.smallest) throw new RangeError('ACK range with largest < smallest');
    // RFC 9000 §19.3.1: ranges descend, separated by at least one unacknowledged packet.
    const gap = previousSmallest - range.largest - 2;
    if (gap < 0) throw new RangeError('ACK ranges overlap, touch or are not in descending order');
    n += varintLength(gap) + varintLength(range.largest - range.smallest);
    previousSmallest = range.smallest;
  }
  if (f.ecn !== undefined) n += varintLength(f.ecn.ect0) + varintLength(f.ecn.ect1) + varintLength(f.ecn.ce);
  return n;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function newConnectionIdLength(f: NewConnectionIdFrame): number {
  // RFC 9000 §19.15
  if (f.retirePriorTo > f.sequenceNumber)
    throw new RangeError('Retire Prior To greater than Sequence Number');
  if (f.connectionId.length < 1 || f.connectionId.length > MAX_CID_LENGTH) {
    throw new RangeError(`connection ID length ${f.connectionId.length}`);
  }
  if (f.statelessResetToken.length !== STATELESS_RESET_TOKEN_LENGTH) {
    throw new RangeError('stateless reset token must be 16 bytes');
  }
  return (
    1 +
    varintLength(f.sequenceNumber) +
    varintLength(f.retirePriorTo) +
    1 +
    f.connectionId.length +
    STATELESS_RESET_TOKEN_LENGTH
  );
}

/**
 * Exact encoded size of `frame`; validates it (RangeError on invalid fields). `omitLength` applies
 * to STREAM and DATAGRAM frames placed last in a packet.
 */
export function frameLength(frame: Frame, omitLength = false): number {
  switch (frame.type) {
    case FrameType.Padding:
      if (!Number.isInteger(frame.length) || frame.length < 1) {
        throw new RangeError(`PADDING length ${frame.length}`);
      }
      return frame.length;
    case FrameType.Ping:
    case FrameType.HandshakeDone:
      return 1;
    case FrameType.Ack:
      return ackLength(frame);
    case FrameType.ResetStream:
      return 1 + varintLength(frame.streamId) + varintLength(frame.errorCode) + varintLength(frame.finalSize);
    case FrameType.StopSending:
      return 1 + varintLength(frame.streamId) + varintLength(frame.errorCode);
    case FrameType.Crypto:
      checkEncodedDataEnd(frame.offset, frame.data.length);
      return 1 + varintLength(frame.offset) + varintLength(frame.data.length) + frame.data.length;
    case FrameType.NewToken:
      // RFC 9000 §19.7
      if (frame.token.length === 0) throw new RangeError('NEW_TOKEN token must not be empty');
      return 1 + varintLength(frame.token.length) + frame.token.length;
    case FrameType.Stream:
      checkEncodedDataEnd(frame.offset, frame.data.length);
      return (
        streamFrameOverhead(frame.streamId, frame.offset, frame.data.length, omitLength) + frame.data.length
      );
    case FrameType.MaxData:
      return 1 + varintLength(frame.maximumData);
    case FrameType.MaxStreamData:
      return 1 + varintLength(frame.streamId) + varintLength(frame.maximumStreamData);
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      checkStreamCount(frame.maximumStreams);
      return 1 + varintLength(frame.maximumStreams);
    case FrameType.DataBlocked:
      return 1 + varintLength(frame.maximumData);
    case FrameType.StreamDataBlocked:
      return 1 + varintLength(frame.streamId) + varintLength(frame.maximumStreamData);
    case FrameType.NewConnectionId:
      return newConnectionIdLength(frame);
    case FrameType.RetireConnectionId:
      return 1 + varintLength(frame.sequenceNumber);
    case FrameType.PathChallenge:
    case FrameType.PathResponse:
      if (frame.data.length !== PATH_DATA_LENGTH) throw new RangeError('path challenge data must be 8 bytes');
      return 1 + PATH_DATA_LENGTH;
    case FrameType.ConnectionCloseTransport: {
      const reasonLength = utf8Length(frame.reason);
      return (
        1 +
        varintLength(frame.errorCode) +
        varintLength(frame.frameType) +
        varintLength(reasonLength) +
        reasonLength
      );
    }
    case FrameType.ConnectionCloseApplication: {
      const reasonLength = utf8Length(frame.reason);
      return 1 + varintLength(frame.errorCode) + varintLength(reasonLength) + reasonLength;
    }
    case FrameType.Datagram:
      return 1 + (omitLength ? 0 : varintLength(frame.data.length)) + frame.data.length;
    default:
      return unknownFrame(frame);
  }
}

function unknownFrame(frame: never): never {
  throw new RangeError(`cannot encode frame type ${(frame as { type: unknown }).type}`);
}

function encodeAck(w: BufferWriter, f: AckFrame): void {
  // RFC 9000 §19.3; ranges were validated by ackLength.
  const ranges = f.ranges;
  const first = ranges[0]!;
  w.u8(f.ecn !== undefined ? FrameType.AckEcn : FrameType.Ack);
  w.varint(first.largest);
  w.varint(f.ackDelay);
  w.varint(ranges.length - 1);
  w.varint(first.largest - first.smallest);
  let previousSmallest = first.smallest;
  for (let i = 1; i < ranges.length; i++) {
    const range = ranges[i]!;
    w.varint(previousSmallest - range.largest - 2);
    w.varint(range.largest - range.smallest);
    previousSmallest = range.smallest;
  }
  if (f.ecn !== undefined) {
    w.varint(f.ecn.ect0);
    w.varint(f.ecn.ect1);
    w.varint(f.ecn.ce);
  }
}

function encodeClose(
  w: BufferWriter,
  f: ConnectionCloseTransportFrame | ConnectionCloseApplicationFrame,
): void {
  // RFC 9000 §19.19
  w.u8(f.type);
  w.varint(f.errorCode);
  if (f.type === FrameType.ConnectionCloseTransport) w.varint(f.frameType);
  const reason = Buffer.from(f.reason, 'utf8');
  w.varint(reason.length);
  w.bytes(reason);
}

/**
 * Writes `frame`. `omitLength`: a STREAM or DATAGRAM frame without its Length field, extending to
 * the end of the packet (so it must be the last frame). Throws RangeError, writing nothing, if the
 * frame is invalid or does not fit in `w`.
 */
export function encodeFrame(w: BufferWriter, frame: Frame, omitLength = false): void {
  const length = frameLength(frame, omitLength);
  if (length > w.remaining) {
    throw new RangeError(`frame of ${length} bytes does not fit in ${w.remaining} remaining bytes`);
  }
  switch (frame.type) {
    case FrameType.Padding:
      w.fill(0, frame.length);
      return;
    case FrameType.Ping:
    case FrameType.HandshakeDone:
      w.u8(frame.type);
      return;
    case FrameType.Ack:
      encodeAck(w, frame);
      return;
    case FrameType.ResetStream:
      w.u8(frame.type);
      w.varint(frame.streamId);
      w.varint(frame.errorCode);
      w.varint(frame.finalSize);
      return;
    case FrameType.StopSending:
      w.u8(frame.type);
      w.varint(frame.streamId);
      w.varint(frame.errorCode);
      return;
    case FrameType.Crypto:
      w.u8(frame.type);
      w.varint(frame.offset);
      w.varint(frame.data.length);
      w.bytes(frame.data);
      return;
    case FrameType.NewToken:
      w.u8(frame.type);
      w.varint(frame.token.length);
      w.bytes(frame.token);
      return;
    case FrameType.Stream: {
      // RFC 9000 §19.8: OFF only when the offset is non-zero.
      const hasOffset = frame.offset > 0;
      w.u8(
        FrameType.Stream |
          (hasOffset ? STREAM_OFF_BIT : 0) |
          (omitLength ? 0 : STREAM_LEN_BIT) |
          (frame.fin ? STREAM_FIN_BIT : 0),
      );
      w.varint(frame.streamId);
      if (hasOffset) w.varint(frame.offset);
      if (!omitLength) w.varint(frame.data.length);
      w.bytes(frame.data);
      return;
    }
    case FrameType.MaxData:
    case FrameType.DataBlocked:
      w.u8(frame.type);
      w.varint(frame.maximumData);
      return;
    case FrameType.MaxStreamData:
    case FrameType.StreamDataBlocked:
      w.u8(frame.type);
      w.varint(frame.streamId);
      w.varint(frame.maximumStreamData);
      return;
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      w.u8(frame.type);
      w.varint(frame.maximumStreams);
      return;
    case FrameType.NewConnectionId:
      w.u8(frame.type);
      w.varint(frame.sequenceNumber);
      w.varint(frame.retirePriorTo);
      w.u8(frame.connectionId.length);
      w.bytes(frame.connectionId);
      w.bytes(frame.statelessResetToken);
      return;
    case FrameType.RetireConnectionId:
      w.u8(frame.type);
      w.varint(frame.sequenceNumber);
      return;
    case FrameType.PathChallenge:
    case FrameType.PathResponse:
      w.u8(frame.type);
      w.bytes(frame.data);
      return;
    case FrameType.ConnectionCloseTransport:
    case FrameType.ConnectionCloseApplication:
      encodeClose(w, frame);
      return;
    case FrameType.Datagram:
      // RFC 9221 §4: 0x30 without Length, 0x31 with.
      if (omitLength) {
        w.u8(FrameType.Datagram);
      } else {
        w.u8(FrameType.DatagramWithLength);
        w.varint(frame.data.length);
      }
      w.bytes(frame.data);
      return;
    default:
      unknownFrame(frame);
  }
}
