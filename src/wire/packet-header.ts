/**
 * QUIC packet headers: the version-independent view (RFC 8999 §5), the v1/v2 long and short headers
 * (RFC 9000 §17.2, §17.3, RFC 9369 §3.2), Version Negotiation (RFC 9000 §17.2.1) and Retry
 * (RFC 9000 §17.2.5) packets.
 *
 * Parsing happens before header protection is removed (RFC 9001 §5.4), so the reserved bits, the
 * key phase and the packet number length in the first byte are not interpreted here, and no packet
 * number is read. Returned CIDs, tokens and tags are views into the datagram.
 */
import type { BufferWriter } from './buffer-writer.js';
import { QUIC_V1, QUIC_V2 } from './version.js';

export enum PacketType {
  Initial,
  ZeroRtt,
  Handshake,
  Retry,
  OneRtt,
  VersionNegotiation,
}

export interface LongHeaderPacket {
  form: 'long';
  type: PacketType.Initial | PacketType.ZeroRtt | PacketType.Handshake;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial only; empty otherwise. */
  token: Uint8Array;
  /** Offset of the first byte of the packet in the datagram. */
  packetStart: number;
  /** Offset of the (still protected) packet number. */
  pnOffset: number;
  /** pnOffset + the Length field: one past the last byte of this packet. */
  packetEnd: number;
}

export interface RetryPacket {
  form: 'long';
  type: PacketType.Retry;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Never empty (RFC 9000 §17.2.5.2: a Retry with an empty token is discarded). */
  token: Uint8Array;
  /** The last 16 bytes of the packet (RFC 9001 §5.8). */
  integrityTag: Uint8Array;
  packetStart: number;
  /** End of the datagram: a Retry packet is never followed by another packet. */
  packetEnd: number;
}

export interface VersionNegotiationPacket {
  form: 'long';
  type: PacketType.VersionNegotiation;
  dcid: Uint8Array;
  scid: Uint8Array;
  versions: number[];
  packetStart: number;
  packetEnd: number;
}

export interface ShortHeaderPacket {
  form: 'short';
  type: PacketType.OneRtt;
  dcid: Uint8Array;
  packetStart: number;
  pnOffset: number;
  /** End of the datagram (RFC 9000 §17.3: a short header packet has no Length). */
  packetEnd: number;
}

export type ParsedPacket = LongHeaderPacket | RetryPacket | VersionNegotiationPacket | ShortHeaderPacket;

/** A malformed header: the packet (and the rest of the datagram) is dropped. */
export class PacketParseError extends Error {
  override readonly name = 'PacketParseError';
}

/** RFC 9000 §17.2: v1 and v2 connection IDs are at most 20 bytes. */
const MAX_CID_LENGTH = 20;
/** RFC 9001 §5.8 */
const RETRY_INTEGRITY_TAG_LENGTH = 16;
const HEADER_FORM_BIT = 0x80;
const FIXED_BIT = 0x40;
const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * The two Long Packet Type bits for `type` in `version` (RFC 9000 §17.2 Table 5; RFC 9369 §3.2 for
 * v2). Throws RangeError for an unsupported version or a type without a long header.
 */
export function longPacketTypeBits(version: number, type: PacketType): number {
  if (version === QUIC_V1) {
    switch (type) {
      case PacketType.Initial:
        return 0b00;
      case PacketType.ZeroRtt:
        return 0b01;
      case PacketType.Handshake:
        return 0b10;
      case PacketType.Retry:
        return 0b11;
      default:
        break;
    }
  } else if (version === QUIC_V2) {
    switch (type) {
      case PacketType.Initial:
        return 0b01;
      case PacketType.ZeroRtt:
        return 0b10;
      case PacketType.Handshake:
        return 0b11;
      case PacketType.Retry:
        return 0b00;
      default:
        break;
    }
  } else {
    throw new RangeError(`unsupported QUIC version 0x${version.toString(16)}`);
  }
  throw new RangeError(`packet type ${PacketType[type] ?? type} has no long header type code`);
}

// Long Packet Type bits -> PacketType, indexed by the bits (RFC 9000 §17.2, RFC 9369 §3.2).
const V1_TYPES = [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake, PacketType.Retry] as const;
const V2_TYPES = [PacketType.Retry, PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake] as const;

function fail(reason: string): never {
  throw new PacketParseError(reason);
}

function readU32(b: Uint8Array, o: number): number {
  return b[o]! * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/**
 * Reads the varint at `o` of `b` (bounded by `end`): [value, offset after it]. Local to header
 * parsing so that truncation maps directly to PacketParseError.
 */
function readVarintAt(b: Uint8Array, o: number, end: number, what: string): [number, number] {
  if (o >= end) fail(`truncated ${what}`);
  const first = b[o]!;
  const len = 1 << (first >> 6);
  if (o + len > end) fail(`truncated ${what}`);
  let v = first & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[o + i]!;
  return [v, o + len];
}

/**
 * The version-independent part of a long header (RFC 8999 §5.1): version, DCID and SCID (up to 255
 * bytes each here), and the offset just after them. Throws PacketParseError on truncation.
 */
function readLongPrefix(
  datagram: Uint8Array,
  offset: number,
  end: number,
): { version: number; dcid: Uint8Array; scid: Uint8Array; next: number } {
  let o = offset + 1;
  if (o + 5 > end) fail('truncated long header');
  const version = readU32(datagram, o);
  o += 4;
  const dcidLen = datagram[o++]!;
  if (o + dcidLen + 1 > end) fail('truncated destination connection ID');
  const dcid = datagram.subarray(o, o + dcidLen);
  o += dcidLen;
  const scidLen = datagram[o++]!;
  if (o + scidLen > end) fail('truncated source connection ID');
  const scid = datagram.subarray(o, o + scidLen);
  return { version, dcid, scid, next: o + scidLen };
}

/**
 * Version-independent header (RFC 8999 §5): for routing and for answering unknown versions.
 * Connection IDs of a long header may be up to 255 bytes here. Throws PacketParseError on truncation.
 */
export function parseInvariantHeader(
  datagram: Uint8Array,
  offset: number,
  shortHeaderDcidLength: number,
): { form: 'long' | 'short'; version: number; dcid: Uint8Array; scid: Uint8Array } {
  const end = datagram.length;
  if (offset < 0 || offset >= end) fail('empty packet');
  const first = datagram[offset]!;
  if ((first & HEADER_FORM_BIT) === 0) {
    // RFC 8999 §5.2: short header, DCID length known only to the endpoint.
    const dcidEnd = offset + 1 + shortHeaderDcidLength;
    if (dcidEnd > end) fail('truncated short header');
    return { form: 'short', version: 0, dcid: datagram.subarray(offset + 1, dcidEnd), scid: EMPTY };
  }
  const { version, dcid, scid } = readLongPrefix(datagram, offset, end);
  return { form: 'long', version, dcid, scid };
}

/**
 * Header of a v1/v2 packet before header protection is removed (so no packet number yet).
 * Throws PacketParseError on truncation, fixed bit 0 (RFC 9000 §17.2, §17.3), a Length beyond the
 * datagram, an unsupported version (other than 0 = Version Negotiation), or a CID longer than 20.
 */
export function parsePacket(
  datagram: Uint8Array,
  offset: number,
  shortHeaderDcidLength: number,
): ParsedPacket {
  const end = datagram.length;
  if (offset < 0 || offset >= end) fail('empty packet');
  const first = datagram[offset]!;

  if ((first & HEADER_FORM_BIT) === 0) {
    // RFC 9000 §17.3.1: 1-RTT packet.
    if ((first & FIXED_BIT) === 0) fail('fixed bit is 0'); // RFC 9000 §17.3.1
    const pnOffset = offset + 1 + shortHeaderDcidLength;
    // At least one packet number byte must follow the DCID.
    if (pnOffset >= end) fail('truncated short header');
    return {
      form: 'short',
      type: PacketType.OneRtt,
      dcid: datagram.subarray(offset + 1, pnOffset),
      packetStart: offset,
      pnOffset,
      packetEnd: end,
    };
  }

  const prefix = readLongPrefix(datagram, offset, end);
  const { version, dcid, scid } = prefix;
  let o = prefix.next;

  if (version === 0) {
    // RFC 9000 §17.2.1: Version Negotiation. The Unused bits (including the fixed bit position) are
    // arbitrary; CIDs follow RFC 8999 (up to 255 bytes); the rest of the datagram is a version list.
    if ((end - o) % 4 !== 0) fail('version negotiation list is not a multiple of 4 bytes');
    const versions: number[] = [];
    for (; o < end; o += 4) versions.push(readU32(datagram, o));
    return {
      form: 'long',
      type: PacketType.VersionNegotiation,
      dcid,
      scid,
      versions,
      packetStart: offset,
      packetEnd: end,
    };
  }

  let types: typeof V1_TYPES | typeof V2_TYPES;
  if (version === QUIC_V1) types = V1_TYPES;
  else if (version === QUIC_V2) types = V2_TYPES;
  else fail(`unsupported version 0x${version.toString(16)}`);
  // RFC 9000 §17.2: the fixed bit is 1 in v1 (and v2) long headers; 0 means not a QUIC packet.
  if ((first & FIXED_BIT) === 0) fail('fixed bit is 0');
  // RFC 9000 §17.2: connection IDs of v1 (and v2, RFC 9369 §3) are at most 20 bytes.
  if (dcid.length > MAX_CID_LENGTH || scid.length > MAX_CID_LENGTH)
    fail('connection ID longer than 20 bytes');

  const type = types[(first >> 4) & 0x03]!;
  if (type === PacketType.Retry) {
    // RFC 9000 §17.2.5: Retry Token then the 16-byte Retry Integrity Tag, to the end of the datagram.
    const tagStart = end - RETRY_INTEGRITY_TAG_LENGTH;
    // RFC 9000 §17.2.5.2: a client MUST discard a Retry packet with a zero-length Retry Token.
    if (tagStart <= o) fail('retry packet without token or integrity tag');
    return {
      form: 'long',
      type,
      version,
      dcid,
      scid,
      token: datagram.subarray(o, tagStart),
      integrityTag: datagram.subarray(tagStart, end),
      packetStart: offset,
      packetEnd: end,
    };
  }

  let token = EMPTY;
  if (type === PacketType.Initial) {
    // RFC 9000 §17.2.2: Token Length (i), Token (..).
    const [tokenLength, after] = readVarintAt(datagram, o, end, 'token length');
    if (tokenLength > end - after) fail('truncated token');
    token = datagram.subarray(after, after + tokenLength);
    o = after + tokenLength;
  }
  // RFC 9000 §17.2: Length (i) covers the Packet Number and the Payload.
  const [length, pnOffset] = readVarintAt(datagram, o, end, 'length');
  if (length > end - pnOffset) fail('length beyond the end of the datagram');
  // The packet number takes at least one byte (RFC 9000 §17.1).
  if (length < 1) fail('length too small for a packet number');
  return {
    form: 'long',
    type,
    version,
    dcid,
    scid,
    token,
    packetStart: offset,
    pnOffset,
    packetEnd: pnOffset + length,
  };
}

function checkCid(cid: Uint8Array, max: number): void {
  if (cid.length > max) throw new RangeError(`connection ID of ${cid.length} bytes (max ${max})`);
}

function checkPacketNumberLength(n: number): void {
  if (n !== 1 && n !== 2 && n !== 3 && n !== 4) throw new RangeError(`invalid packet number length ${n}`);
}

/** Writes the `length` low bytes of `packetNumber` (RFC 9000 §17.1: truncated packet number). */
function writeTruncatedPacketNumber(w: BufferWriter, packetNumber: number, length: 1 | 2 | 3 | 4): void {
  if (!Number.isInteger(packetNumber) || packetNumber < 0) {
    throw new RangeError(`invalid packet number ${packetNumber}`);
  }
  // The low 8 * length bits (RFC 9000 §17.1). `>>> 0` is the number modulo 2^32, exact for any
  // integer below 2^53; `2 ** (8 * length)` with a variable exponent was a call into V8's generic pow
  // and a float modulo for every packet sent (issue 13).
  const low = packetNumber >>> 0;
  switch (length) {
    case 1:
      w.u8(low & 0xff);
      break;
    case 2:
      w.u16(low & 0xffff);
      break;
    case 3:
      w.u24(low & 0xff_ffff);
      break;
    default:
      w.u32(low);
  }
}

/**
 * Writes a long header (Initial/0-RTT/Handshake) with the packet number, reserved bits 0 and a
 * 2-byte Length placeholder (RFC 9000 §17.2); returns where Length and the packet number are, as
 * offsets into `w.buffer`. Patch Length with `patchLongHeaderLength` once the payload is known.
 */
export function writeLongHeader(
  w: BufferWriter,
  h: {
    type: PacketType.Initial | PacketType.ZeroRtt | PacketType.Handshake;
    version: number;
    dcid: Uint8Array;
    scid: Uint8Array;
    token?: Uint8Array;
    packetNumber: number;
    packetNumberLength: 1 | 2 | 3 | 4;
  },
): { lengthOffset: number; pnOffset: number } {
  if (h.type !== PacketType.Initial && h.type !== PacketType.ZeroRtt && h.type !== PacketType.Handshake) {
    throw new RangeError(`writeLongHeader: packet type ${h.type} has no protected long header`);
  }
  const bits = longPacketTypeBits(h.version, h.type);
  checkCid(h.dcid, MAX_CID_LENGTH);
  checkCid(h.scid, MAX_CID_LENGTH);
  checkPacketNumberLength(h.packetNumberLength);
  const token = h.token ?? EMPTY;
  // RFC 9000 §17.2.3, §17.2.4: only Initial packets carry a token.
  if (token.length > 0 && h.type !== PacketType.Initial)
    throw new RangeError('only Initial packets carry a token');
  // RFC 9000 §17.2: Header Form 1, Fixed Bit 1, type, Reserved Bits 0, Packet Number Length - 1.
  w.u8(HEADER_FORM_BIT | FIXED_BIT | (bits << 4) | (h.packetNumberLength - 1));
  w.u32(h.version);
  w.u8(h.dcid.length);
  w.bytes(h.dcid);
  w.u8(h.scid.length);
  w.bytes(h.scid);
  if (h.type === PacketType.Initial) {
    w.varint(token.length);
    w.bytes(token);
  }
  const lengthOffset = w.offset;
  w.varintFixed(0, 2);
  const pnOffset = w.offset;
  writeTruncatedPacketNumber(w, h.packetNumber, h.packetNumberLength);
  return { lengthOffset, pnOffset };
}

/**
 * Fills in the 2-byte Length placeholder written by `writeLongHeader`: `length` counts the packet
 * number, the payload and the AEAD tag (RFC 9000 §17.2). Must be < 16384.
 */
export function patchLongHeaderLength(buf: Uint8Array, lengthOffset: number, length: number): void {
  if (!Number.isInteger(length) || length < 0 || length >= 0x4000) {
    throw new RangeError(`long header length ${length} does not fit in a 2-byte varint`);
  }
  if (!Number.isInteger(lengthOffset) || lengthOffset < 0 || lengthOffset + 2 > buf.length) {
    throw new RangeError(`length offset ${lengthOffset} outside the buffer`);
  }
  buf[lengthOffset] = 0x40 | (length >> 8);
  buf[lengthOffset + 1] = length & 0xff;
}

/** Writes a 1-RTT short header (RFC 9000 §17.3.1) with reserved bits 0; returns the packet number offset. */
export function writeShortHeader(
  w: BufferWriter,
  h: {
    dcid: Uint8Array;
    packetNumber: number;
    packetNumberLength: 1 | 2 | 3 | 4;
    keyPhase: boolean;
    spin: boolean;
  },
): { pnOffset: number } {
  return {
    pnOffset: writeShortHeaderFields(w, h.dcid, h.packetNumber, h.packetNumberLength, h.keyPhase, h.spin),
  };
}

/** writeShortHeader with the fields as arguments, returning pnOffset: no object per packet (issue 13). */
export function writeShortHeaderFields(
  w: BufferWriter,
  dcid: Uint8Array,
  packetNumber: number,
  packetNumberLength: 1 | 2 | 3 | 4,
  keyPhase: boolean,
  spin: boolean,
): number {
  checkCid(dcid, MAX_CID_LENGTH);
  checkPacketNumberLength(packetNumberLength);
  // Header Form 0, Fixed Bit 1, Spin Bit (0x20), Reserved Bits 0, Key Phase (0x04), PN Length - 1.
  w.u8(FIXED_BIT | (spin ? 0x20 : 0) | (keyPhase ? 0x04 : 0) | (packetNumberLength - 1));
  w.bytes(dcid);
  const pnOffset = w.offset;
  writeTruncatedPacketNumber(w, packetNumber, packetNumberLength);
  return pnOffset;
}

/**
 * A Version Negotiation packet (RFC 9000 §17.2.1). `dcid`/`scid` are the client's SCID/DCID echoed
 * (up to 255 bytes each, RFC 8999 §6). The low 7 bits of `unusedBits` fill the Unused field, with
 * 0x40 always set (RFC 9000 §17.2.1: SHOULD, so the packet looks like it has the fixed bit).
 */
export function encodeVersionNegotiation(
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: readonly number[],
  unusedBits: number,
): Uint8Array {
  checkCid(dcid, 255);
  checkCid(scid, 255);
  const out = Buffer.alloc(7 + dcid.length + scid.length + 4 * versions.length);
  let o = 0;
  out[o++] = HEADER_FORM_BIT | FIXED_BIT | (unusedBits & 0x7f);
  // Version 0 (bytes 1-4 already zero).
  o += 4;
  out[o++] = dcid.length;
  out.set(dcid, o);
  o += dcid.length;
  out[o++] = scid.length;
  out.set(scid, o);
  o += scid.length;
  for (const v of versions) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`invalid version ${v}`);
    out.writeUInt32BE(v, o);
    o += 4;
  }
  return out;
}

/**
 * A Retry packet without its Retry Integrity Tag (RFC 9000 §17.2.5); the crypto layer computes the
 * tag over the pseudo-packet (RFC 9001 §5.8) and appends it. The low 4 bits of `unusedBits` fill the
 * Unused field.
 */
export function encodeRetryWithoutTag(
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  unusedBits: number,
): Uint8Array {
  const bits = longPacketTypeBits(version, PacketType.Retry);
  checkCid(dcid, MAX_CID_LENGTH);
  checkCid(scid, MAX_CID_LENGTH);
  // RFC 9000 §17.2.5.2: a Retry with an empty token is discarded by the client.
  if (token.length === 0) throw new RangeError('a Retry token must not be empty');
  const out = Buffer.alloc(7 + dcid.length + scid.length + token.length);
  let o = 0;
  out[o++] = HEADER_FORM_BIT | FIXED_BIT | (bits << 4) | (unusedBits & 0x0f);
  out.writeUInt32BE(version >>> 0, o);
  o += 4;
  out[o++] = dcid.length;
  out.set(dcid, o);
  o += dcid.length;
  out[o++] = scid.length;
  out.set(scid, o);
  o += scid.length;
  out.set(token, o);
  return out;
}
