/**
 * Hand-made packets for hostile-peer tests: any payload bytes (including frames no encoder would
 * write) sealed with real keys, and the opposite direction: the frames of a datagram an endpoint sent.
 * Built on the sans-IO core's own header writers and packet protection (RFC 9000 §17, RFC 9001 §5).
 */
import type { Connection } from '../../src/connection/connection.js';
import type { PacketKeys } from '../../src/crypto/packet-keys.js';
import { openPacket, sealPacket } from '../../src/crypto/packet-protection.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { BufferWriter } from '../../src/wire/buffer-writer.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { decodeFrames, encodeFrame as encode } from '../../src/wire/frame-codec.js';
import type { Frame } from '../../src/wire/frames.js';
import {
  PacketType,
  patchLongHeaderLength,
  writeLongHeader,
  writeShortHeader,
} from '../../src/wire/packet-header.js';
import { QUIC_V1 } from '../../src/wire/version.js';

const TAG = 16;

/** Raw frame bytes: `hex('ff ff ...')`. */
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

export interface LongSpec {
  type: PacketType.Initial | PacketType.ZeroRtt | PacketType.Handshake;
  dcid: Uint8Array;
  scid: Uint8Array;
  token?: Uint8Array;
  keys: PacketKeys;
  packetNumber: number;
  payload: Uint8Array;
  /** Pad the payload (with PADDING frames) so that the datagram has at least this size. */
  datagramSize?: number;
}

/** One long header packet whose payload is `payload`, exactly (plus PADDING to reach `datagramSize`). */
export function sealLong(spec: LongSpec): Uint8Array {
  const buf = new Uint8Array(Math.max(2048, spec.payload.length + 256 + (spec.datagramSize ?? 0)));
  const w = new BufferWriter(buf);
  const { lengthOffset, pnOffset } = writeLongHeader(w, {
    type: spec.type,
    version: QUIC_V1,
    dcid: spec.dcid,
    scid: spec.scid,
    ...(spec.token ? { token: spec.token } : {}),
    packetNumber: spec.packetNumber,
    packetNumberLength: 4,
  });
  w.bytes(spec.payload);
  const pad = Math.max(0, (spec.datagramSize ?? 0) - (w.offset + TAG), 20 - spec.payload.length);
  w.fill(0, pad);
  const payloadEnd = w.offset;
  patchLongHeaderLength(buf, lengthOffset, payloadEnd - pnOffset + TAG);
  const end = sealPacket(spec.keys, buf, 0, pnOffset, 4, spec.packetNumber, payloadEnd);
  return buf.slice(0, end);
}

/** One 1-RTT packet whose payload is `payload` exactly (padded to have a header protection sample). */
export function sealShort(spec: {
  dcid: Uint8Array;
  keys: PacketKeys;
  packetNumber: number;
  payload: Uint8Array;
  keyPhase?: boolean;
}): Uint8Array {
  const buf = new Uint8Array(spec.payload.length + 128);
  const w = new BufferWriter(buf);
  const { pnOffset } = writeShortHeader(w, {
    dcid: spec.dcid,
    packetNumber: spec.packetNumber,
    packetNumberLength: 4,
    keyPhase: spec.keyPhase ?? false,
    spin: false,
  });
  w.bytes(spec.payload);
  w.fill(0, Math.max(0, 20 - spec.payload.length));
  const end = sealPacket(spec.keys, buf, 0, pnOffset, 4, spec.packetNumber, w.offset);
  return buf.slice(0, end);
}

/** A 1-RTT packet from `conn` (a real connection whose keys and packet numbers are used) to its peer. */
export function forge1Rtt(conn: Connection, payload: Uint8Array): Uint8Array {
  const keys = conn.oneRtt;
  if (!keys) throw new Error('forge1Rtt: no 1-RTT keys yet');
  return sealShort({
    dcid: conn.peerCids.current,
    keys: keys.write,
    packetNumber: conn.spaces[PacketNumberSpace.ApplicationData].takePacketNumber(),
    payload,
    keyPhase: keys.writePhase === 1,
  });
}

/** A 0-RTT packet from a client connection that offered early data. */
export function forge0Rtt(conn: Connection, payload: Uint8Array): Uint8Array {
  const keys = conn.zeroRttKeys;
  if (!keys) throw new Error('forge0Rtt: no 0-RTT keys');
  return sealLong({
    type: PacketType.ZeroRtt,
    dcid: conn.peerCids.current,
    scid: conn.localParams.initialSourceConnectionId ?? new Uint8Array(0),
    keys,
    packetNumber: conn.spaces[PacketNumberSpace.ApplicationData].takePacketNumber(),
    payload,
  });
}

/** Frame bytes as written by the core's encoder (for building payloads next to raw bytes). */
export function frameBytes(...frames: Frame[]): Uint8Array {
  const w = BufferWriter.alloc(65_536);
  for (const f of frames) {
    // A STREAM or DATAGRAM frame keeps its Length field so that more frames can follow.
    encode(w, f);
  }
  return w.toBytes();
}

export interface OpenedFrames {
  type: PacketType;
  packetNumber: number;
  frames: Frame[];
}

/**
 * The frames of every packet in `datagram` that `keysFor` has keys for (largest packet number so
 * far taken as -1: fine for the first packets of a space).
 */
export function openDatagram(
  datagram: Uint8Array,
  keysFor: (type: PacketType) => PacketKeys | undefined,
  shortDcidLength = 8,
  largestPn = -1,
): OpenedFrames[] {
  const copy = Uint8Array.from(datagram);
  const out: OpenedFrames[] = [];
  for (const p of splitDatagram(copy, shortDcidLength)) {
    if (p.type === PacketType.Retry || p.type === PacketType.VersionNegotiation) continue;
    const keys = keysFor(p.type);
    if (!keys) continue;
    const opened = openPacket(keys, copy, p.packetStart, p.pnOffset, p.packetEnd, largestPn);
    if (!opened) continue;
    out.push({ type: p.type, packetNumber: opened.packetNumber, frames: decodeFrames(opened.payload) });
  }
  return out;
}
