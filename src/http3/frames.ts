/**
 * HTTP/3 frames (RFC 9114 §7): the types, their payload layout, and encoding. Every frame is
 * Type (varint), Length (varint), Payload. Decoding of a payload whose type and length are known is
 * here too (`decodeFramePayload`); reading frames incrementally off a stream is frame-reader.ts.
 *
 * Decoders throw H3ProtocolError(H3_FRAME_ERROR) for a payload that does not hold exactly its fields
 * (RFC 9114 §7.1) and nothing else.
 */
import { MAX_VARINT, readVarint, varintLength, writeVarint } from '../wire/varint.js';
import { H3ErrorCode } from './error-codes.js';
import { h3ConnectionError } from './h3-protocol-error.js';

export enum H3FrameType {
  Data = 0x00,
  Headers = 0x01,
  CancelPush = 0x03,
  Settings = 0x04,
  PushPromise = 0x05,
  Goaway = 0x07,
  MaxPushId = 0x0d,
}

/**
 * HTTP/2 frame types with no HTTP/3 counterpart (PRIORITY, PING, WINDOW_UPDATE, CONTINUATION):
 * receiving one is a connection error H3_FRAME_UNEXPECTED (RFC 9114 §7.2.8).
 */
export function isReservedHttp2FrameType(type: number): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

/** One setting as it appears on the wire (RFC 9114 §7.2.4); settings.ts gives them meaning. */
export interface SettingEntry {
  id: number;
  value: number;
}

export type H3Frame =
  | { type: H3FrameType.Data; data: Uint8Array }
  | { type: H3FrameType.Headers; fieldSection: Uint8Array }
  | { type: H3FrameType.CancelPush; pushId: number }
  | { type: H3FrameType.Settings; entries: SettingEntry[] }
  | { type: H3FrameType.PushPromise; pushId: number; fieldSection: Uint8Array }
  /** A stream ID (sent by a server) or a push ID (sent by a client), RFC 9114 §5.2. */
  | { type: H3FrameType.Goaway; id: number }
  | { type: H3FrameType.MaxPushId; pushId: number }
  /** A frame type we do not know (including reserved GREASE types): skipped on receipt (§9). */
  | { type: 'unknown'; frameType: number; payload: Uint8Array };

/** Type and Length of a frame: its header. */
export function encodeFrameHeader(type: number, length: number): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(length));
  writeVarint(out, writeVarint(out, 0, type), length);
  return out;
}

function varintFrame(type: number, value: number): Uint8Array {
  const len = varintLength(value);
  const out = new Uint8Array(varintLength(type) + varintLength(len) + len);
  writeVarint(out, writeVarint(out, writeVarint(out, 0, type), len), value);
  return out;
}

function withPayload(type: number, payload: Uint8Array): Uint8Array {
  const header = encodeFrameHeader(type, payload.length);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

export function encodeSettingsPayload(entries: readonly SettingEntry[]): Uint8Array {
  let size = 0;
  for (const e of entries) size += varintLength(e.id) + varintLength(e.value);
  const out = new Uint8Array(size);
  let off = 0;
  for (const e of entries) off = writeVarint(out, writeVarint(out, off, e.id), e.value);
  return out;
}

/** The complete frame, header and payload. Throws RangeError for values that are not varints. */
export function encodeFrame(f: H3Frame): Uint8Array {
  switch (f.type) {
    case H3FrameType.Data:
      return withPayload(f.type, f.data);
    case H3FrameType.Headers:
      return withPayload(f.type, f.fieldSection);
    case H3FrameType.CancelPush:
    case H3FrameType.MaxPushId:
      return varintFrame(f.type, f.pushId);
    case H3FrameType.Goaway:
      return varintFrame(f.type, f.id);
    case H3FrameType.Settings:
      return withPayload(f.type, encodeSettingsPayload(f.entries));
    case H3FrameType.PushPromise: {
      const idLen = varintLength(f.pushId);
      const payload = new Uint8Array(idLen + f.fieldSection.length);
      writeVarint(payload, 0, f.pushId);
      payload.set(f.fieldSection, idLen);
      return withPayload(f.type, payload);
    }
    case 'unknown':
      return withPayload(f.frameType, f.payload);
  }
}

function frameError(reason: string) {
  return h3ConnectionError(H3ErrorCode.H3_FRAME_ERROR, reason);
}

/** Stream and push IDs at or above 2^53 become this plus their two low bits (a multiple of 4). */
const SATURATED_ID = 2 ** 53 - 4;

/**
 * A stream or push ID. A JS number is exact only up to 2^53 - 1 (varints reach 2^62 - 1, RFC 9000
 * §16): beyond, the ID is saturated to 2^53 - 4 plus its exact two low bits, so that the stream type
 * check of a GOAWAY (RFC 9114 §5.2) stays exact and the value can be encoded again. No stream or
 * push that high can exist; what is lost is only the order between two such IDs.
 */
function readId(payload: Uint8Array, offset: number): number {
  const { value, length } = readVarint(payload, offset);
  if (value <= Number.MAX_SAFE_INTEGER) return value;
  return SATURATED_ID + (payload[offset + length - 1]! & 3);
}

/** A payload made of exactly one varint (CANCEL_PUSH, GOAWAY, MAX_PUSH_ID). */
function singleVarint(payload: Uint8Array, what: string): number {
  if (payload.length === 0) throw frameError(`${what} frame without its value`);
  const first = payload[0]!;
  const len = 1 << (first >> 6);
  if (len !== payload.length) throw frameError(`${what} frame payload is not exactly one varint`);
  return readId(payload, 0);
}

export function decodeSettingsPayload(payload: Uint8Array): SettingEntry[] {
  const entries: SettingEntry[] = [];
  let off = 0;
  while (off < payload.length) {
    const idLen = 1 << (payload[off]! >> 6);
    if (off + idLen >= payload.length) throw frameError('SETTINGS frame ends inside a setting');
    const id = readVarint(payload, off).value;
    off += idLen;
    const valueLen = 1 << (payload[off]! >> 6);
    if (off + valueLen > payload.length) throw frameError('SETTINGS frame ends inside a setting value');
    const value = readVarint(payload, off).value;
    off += valueLen;
    // Identifiers beyond 2^53 - 1 are all unknown (GREASE, RFC 9114 §7.2.4.1) and ignored: as
    // rounded numbers two different ones could look like a duplicate (H3_SETTINGS_ERROR).
    if (id > Number.MAX_SAFE_INTEGER) continue;
    entries.push({ id, value: Math.min(value, MAX_VARINT) });
  }
  return entries;
}

/**
 * The frame of `type` whose payload is `payload` (a view; DATA and field sections keep referencing
 * it). Unknown and reserved types come back as 'unknown': the caller decides whether they are
 * allowed where they appeared.
 */
export function decodeFramePayload(type: number, payload: Uint8Array): H3Frame {
  switch (type) {
    case H3FrameType.Data:
      return { type, data: payload };
    case H3FrameType.Headers:
      return { type, fieldSection: payload };
    case H3FrameType.CancelPush:
      return { type, pushId: singleVarint(payload, 'CANCEL_PUSH') };
    case H3FrameType.Settings:
      return { type, entries: decodeSettingsPayload(payload) };
    case H3FrameType.PushPromise: {
      if (payload.length === 0) throw frameError('PUSH_PROMISE frame without a push ID');
      const idLen = 1 << (payload[0]! >> 6);
      if (idLen > payload.length) throw frameError('PUSH_PROMISE frame ends inside its push ID');
      return { type, pushId: readId(payload, 0), fieldSection: payload.subarray(idLen) };
    }
    case H3FrameType.Goaway:
      return { type, id: singleVarint(payload, 'GOAWAY') };
    case H3FrameType.MaxPushId:
      return { type, pushId: singleVarint(payload, 'MAX_PUSH_ID') };
    default:
      return { type: 'unknown', frameType: type, payload };
  }
}

/**
 * One whole frame at the start of `buf`: the frame and the bytes it took, or undefined when `buf`
 * holds only part of it. For tests and tools; streams use FrameReader.
 */
export function decodeFrame(buf: Uint8Array): { frame: H3Frame; length: number } | undefined {
  const header = peekFrameHeader(buf, 0);
  if (!header) return undefined;
  const end = header.headerLength + header.length;
  if (end > buf.length) return undefined;
  return { frame: decodeFramePayload(header.type, buf.subarray(header.headerLength, end)), length: end };
}

/** Type and Length at `offset`, or undefined if the header is not complete yet. */
export function peekFrameHeader(
  buf: Uint8Array,
  offset: number,
): { type: number; length: number; headerLength: number } | undefined {
  if (offset >= buf.length) return undefined;
  const typeLen = 1 << (buf[offset]! >> 6);
  if (offset + typeLen >= buf.length) return undefined;
  const lenLen = 1 << (buf[offset + typeLen]! >> 6);
  if (offset + typeLen + lenLen > buf.length) return undefined;
  // A type beyond 2^62 - 512 rounds to a number that is not a varint: cap it (all such types are unknown).
  const type = Math.min(readVarint(buf, offset).value, MAX_VARINT);
  const length = readVarint(buf, offset + typeLen).value;
  return { type, length, headerLength: typeLen + lenLen };
}
