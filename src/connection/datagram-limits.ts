/**
 * How large a DATAGRAM frame's payload may be (RFC 9221 §3, §5): the frame must fit within the peer's
 * max_datagram_frame_size (which counts type, length and payload) and within one packet, since
 * DATAGRAM frames are never split.
 */
import { varintLength } from '../wire/varint.js';

const TAG_LENGTH = 16;
const MAX_CID_LENGTH = 20;
const MAX_PN_LENGTH = 4;

/**
 * Bytes a packet spends outside its frames, with the longest connection IDs and packet number, so
 * that a limit computed now still holds whatever connection ID the packet ends up carrying.
 * 1-RTT: first byte, DCID, packet number, AEAD tag (RFC 9000 §17.3). 0-RTT: first byte, version,
 * both CIDs with their lengths, a 2-byte Length, packet number, tag (RFC 9000 §17.2.3).
 */
export function packetOverhead(zeroRtt: boolean): number {
  return zeroRtt
    ? 1 + 4 + 1 + MAX_CID_LENGTH + 1 + MAX_CID_LENGTH + 2 + MAX_PN_LENGTH + TAG_LENGTH
    : 1 + MAX_CID_LENGTH + MAX_PN_LENGTH + TAG_LENGTH;
}

/** The largest payload whose DATAGRAM frame (type 0x31, with a Length) is at most `frameBytes`. */
export function payloadWithin(frameBytes: number): number {
  let best = -1;
  for (const lengthField of [1, 2, 4, 8]) {
    const n = frameBytes - 1 - lengthField;
    if (n >= 0 && varintLength(n) <= lengthField) best = Math.max(best, n);
  }
  return best;
}

/**
 * The largest DATAGRAM payload that may be sent: within the peer's `peerMaxFrameSize` and within a
 * packet of `packetSize` bytes. Undefined when the peer does not accept DATAGRAM frames (absent or 0).
 */
export function datagramPayloadLimit(
  peerMaxFrameSize: number | undefined,
  packetSize: number,
  zeroRtt: boolean,
): number | undefined {
  if (!peerMaxFrameSize) return undefined;
  const frameRoom = Math.min(peerMaxFrameSize, packetSize - packetOverhead(zeroRtt));
  return Math.max(0, payloadWithin(frameRoom));
}
