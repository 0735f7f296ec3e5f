/**
 * Encoded sizes of the stream-related frames, as the packer needs them before encoding
 * (RFC 9000 §16 variable-length integers, §19 frame layouts). STREAM frames are always sized with
 * their Length field present (type 0x0a-0x0f), so that any frame can be followed by another.
 * Varint sizes come from the wire codec, so these sizes match what it encodes.
 */
import { streamFrameOverhead } from '../wire/frame-codec.js';
import { varintLength } from '../wire/varint.js';

export { varintLength };

/** Type byte + Stream ID + Offset (omitted when 0) of a STREAM frame, i.e. everything but Length and data. */
export function streamFrameHeaderLength(streamId: number, offset: number): number {
  return streamFrameOverhead(streamId, offset, 0, true);
}

/** Full encoded size of a STREAM frame with a Length field (RFC 9000 §19.8). */
export function streamFrameLength(streamId: number, offset: number, dataLength: number): number {
  return streamFrameOverhead(streamId, offset, dataLength) + dataLength;
}

/**
 * The largest data length L such that a Length field for L plus L bytes fit in `room` bytes,
 * or -1 when not even an empty Length field fits.
 */
export function maxDataInRoom(room: number): number {
  if (room < 1) return -1;
  // For each Length field size n, the most data is min(room - n, largest value n bytes encode).
  let best = Math.min(room - 1, 0x3f);
  if (room - 2 > best) best = Math.max(best, Math.min(room - 2, 0x3fff));
  if (room - 4 > best) best = Math.max(best, Math.min(room - 4, 0x3fffffff));
  if (room - 8 > best) best = room - 8;
  return best;
}

/** RESET_STREAM (RFC 9000 §19.4). */
export function resetStreamFrameLength(streamId: number, errorCode: number, finalSize: number): number {
  return 1 + varintLength(streamId) + varintLength(errorCode) + varintLength(finalSize);
}

/** Frames made of a type byte, a stream ID and one varint: STOP_SENDING (§19.5), MAX_STREAM_DATA (§19.10),
 * STREAM_DATA_BLOCKED (§19.13). */
export function streamControlFrameLength(streamId: number, value: number): number {
  return 1 + varintLength(streamId) + varintLength(value);
}

/** Frames made of a type byte and one varint: MAX_DATA (§19.9), MAX_STREAMS (§19.11), DATA_BLOCKED (§19.12),
 * STREAMS_BLOCKED (§19.14). */
export function connectionControlFrameLength(value: number): number {
  return 1 + varintLength(value);
}
