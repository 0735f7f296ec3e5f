/**
 * Whole-packet protection (RFC 9001 §5.3, §5.4): AEAD over the payload with the header as associated
 * data, then header protection over the first byte's low bits and the packet number.
 *
 * All functions work in place on a datagram buffer and take offsets, so that a packer or unpacker can
 * protect or open each of several coalesced packets without copying them out.
 */
import { decodePacketNumber } from '../wire/packet-number.js';
import type { Aead } from './aead.js';
import { type HeaderProtection, HP_SAMPLE_LENGTH } from './header-protection.js';
import type { PacketKeys } from './packet-keys.js';

const TAG_LENGTH = 16;
/** RFC 9001 §5.4.2: the sample starts 4 bytes after the start of the Packet Number field. */
const SAMPLE_OFFSET = 4;

/**
 * RFC 9001 §5.4.1: long headers (high bit set) protect the low 4 bits of the first byte, short headers
 * the low 5 bits (which include the Key Phase bit).
 */
function firstByteMask(firstByte: number): number {
  return (firstByte & 0x80) !== 0 ? 0x0f : 0x1f;
}

/**
 * buf[packetStart, pnOffset+pnLength) is the plaintext header (first byte with the pn length bits set,
 * Length field already counting the 16-byte tag), buf[pnOffset+pnLength, payloadEnd) the plaintext
 * payload, and buf has 16 bytes of room after payloadEnd. Encrypts in place, applies header protection,
 * returns the packet's end (payloadEnd + 16). Callers pad so that a sample exists (pnOffset + 4 + 16 <= end).
 * Throws RangeError when these preconditions do not hold (a bug in the caller, not bad input).
 */
export function sealPacket(
  keys: PacketKeys,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  pnLength: number,
  packetNumber: number,
  payloadEnd: number,
): number {
  const headerEnd = pnOffset + pnLength;
  const end = payloadEnd + TAG_LENGTH;
  if (
    packetStart < 0 ||
    pnOffset <= packetStart ||
    pnLength < 1 ||
    pnLength > 4 ||
    headerEnd > payloadEnd ||
    end > buf.length
  ) {
    throw new RangeError('sealPacket: offsets outside the buffer');
  }
  const firstByte = buf[packetStart]!;
  if ((firstByte & 0x03) + 1 !== pnLength) {
    throw new RangeError('sealPacket: first byte does not encode the packet number length');
  }
  // RFC 9001 §5.4.2: packets are padded so that the sample exists.
  const sampleStart = pnOffset + SAMPLE_OFFSET;
  if (sampleStart + HP_SAMPLE_LENGTH > end) {
    throw new RangeError('sealPacket: packet too short for a header protection sample');
  }
  // RFC 9001 §5.3: the associated data is the header up to and including the unprotected packet number.
  keys.aead.sealInPlace(packetNumber, buf, packetStart, headerEnd, payloadEnd);
  // RFC 9001 §5.4.1: header protection is applied after packet protection, over the ciphertext sample.
  const mask = keys.hp.maskAt(buf, sampleStart);
  buf[packetStart] = firstByte ^ (mask[0]! & firstByteMask(firstByte));
  for (let i = 0; i < pnLength; i++) buf[pnOffset + i] ^= mask[1 + i]!;
  return end;
}

/**
 * Removes header protection in place; returns the unprotected first byte and truncated packet number,
 * or null if the packet is too short to sample (RFC 9001 §5.4.2) or the offsets lie outside `buf`.
 * The reserved bits are not checked here: RFC 9000 §17.2 requires that only after the payload
 * authenticates.
 */
export function removeHeaderProtection(
  hp: HeaderProtection,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  packetEnd: number,
): { firstByte: number; truncatedPn: number; pnLength: number } | null {
  const sampleStart = pnOffset + SAMPLE_OFFSET;
  // RFC 9001 §5.4.2: an endpoint MUST discard packets that are not long enough to contain a sample.
  if (packetStart < 0 || pnOffset <= packetStart || sampleStart + HP_SAMPLE_LENGTH > packetEnd) return null;
  if (packetEnd > buf.length) return null;
  const mask = hp.maskAt(buf, sampleStart);
  const protectedFirst = buf[packetStart]!;
  const firstByte = protectedFirst ^ (mask[0]! & firstByteMask(protectedFirst));
  buf[packetStart] = firstByte;
  // RFC 9001 §5.4.1: the packet number length comes from the unprotected first byte.
  const pnLength = (firstByte & 0x03) + 1;
  let truncatedPn = 0;
  for (let i = 0; i < pnLength; i++) {
    const b = buf[pnOffset + i]! ^ mask[1 + i]!;
    buf[pnOffset + i] = b;
    truncatedPn = truncatedPn * 256 + b;
  }
  return { firstByte, truncatedPn, pnLength };
}

/**
 * Decrypts the payload of a packet whose header protection was removed; null on authentication failure
 * (counted in `aead.openFailures`) or when the offsets lie outside `buf`. The plaintext may be written
 * over the ciphertext in `buf` and returned as a view of it.
 */
export function decryptPayload(
  aead: Aead,
  buf: Uint8Array,
  packetStart: number,
  headerEnd: number,
  packetEnd: number,
  packetNumber: number,
): Uint8Array | null {
  if (packetStart < 0 || headerEnd <= packetStart || headerEnd > packetEnd || packetEnd > buf.length)
    return null;
  // In place: the datagram is read once, and its header protection was removed in place already.
  return aead.openInPlace(packetNumber, buf, packetStart, headerEnd, packetEnd);
}

export interface OpenedPacket {
  packetNumber: number;
  /** The first byte with header protection removed (reserved bits, key phase, pn length). */
  firstByte: number;
  pnLength: number;
  /** Offset in the buffer where the payload starts (pnOffset + pnLength). */
  headerEnd: number;
  payload: Uint8Array;
}

/**
 * removeHeaderProtection + decodePacketNumber(largestPn, ...) + decryptPayload (RFC 9001 §5.3, §5.4,
 * RFC 9000 §17.1). `largestPn` is the largest packet number processed in this space, -1 if none.
 * null = drop the packet. The header in `buf` is left unprotected either way.
 */
export function openPacket(
  keys: PacketKeys,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  packetEnd: number,
  largestPn: number,
): OpenedPacket | null {
  const header = removeHeaderProtection(keys.hp, buf, packetStart, pnOffset, packetEnd);
  if (header === null) return null;
  const headerEnd = pnOffset + header.pnLength;
  const packetNumber = decodePacketNumber(largestPn, header.truncatedPn, header.pnLength * 8);
  const payload = decryptPayload(keys.aead, buf, packetStart, headerEnd, packetEnd, packetNumber);
  if (payload === null) return null;
  return { packetNumber, firstByte: header.firstByte, pnLength: header.pnLength, headerEnd, payload };
}

/**
 * openPacket without writing to `buf`: header protection is removed in a copy of the header only
 * (RFC 9001 §5.4; the AEAD's associated data is the unprotected header, §5.3) and the payload is
 * decrypted from `buf` into a new buffer. A server checks a client's first Initial this way before
 * it spends any state (endpoint/client-hello-check.ts), and the connection it then creates takes
 * over the result instead of opening the packet a second time; a datagram that fails the check is
 * left as it arrived. null = drop the packet.
 */
export function openPacketIntact(
  keys: PacketKeys,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  packetEnd: number,
  largestPn: number,
): OpenedPacket | null {
  const sampleEnd = pnOffset + SAMPLE_OFFSET + HP_SAMPLE_LENGTH;
  if (packetStart < 0 || sampleEnd > packetEnd || packetEnd > buf.length) return null;
  // A real copy of the header and the sample (a Buffer's slice() would be a view of `buf`), whose
  // header protection is removed as openPacket removes it in place.
  const head = new Uint8Array(sampleEnd - packetStart);
  for (let i = 0; i < head.length; i++) head[i] = buf[packetStart + i]!;
  const header = removeHeaderProtection(keys.hp, head, 0, pnOffset - packetStart, head.length);
  if (header === null) return null;
  const { firstByte, pnLength } = header;
  const headerEnd = pnOffset + pnLength;
  const packetNumber = decodePacketNumber(largestPn, header.truncatedPn, pnLength * 8);
  // RFC 9001 §5.3: the associated data is the unprotected header.
  const payload = keys.aead.open(
    packetNumber,
    head.subarray(0, headerEnd - packetStart),
    buf.subarray(headerEnd, packetEnd),
  );
  if (payload === null) return null;
  return { packetNumber, firstByte, pnLength, headerEnd, payload };
}
