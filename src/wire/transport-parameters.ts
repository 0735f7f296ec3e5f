/**
 * QUIC transport parameters (RFC 9000 §18), RFC 9221's max_datagram_frame_size and RFC 9368's
 * version_information.
 *
 * CONTRACT (shared with the connection and TLS layers): the interface and defaults below; the codec
 * (`encodeTransportParameters`, `decodeTransportParameters`) is implemented in this file too.
 */
import { QuicTransportError, TransportErrorCode } from '../errors/transport-error.js';
import type { RandomBytes } from '../util/random.js';
import { unpooledCopy } from '../util/unpooled.js';
import { BufferReader, TruncatedInputError } from './buffer-reader.js';
import { BufferWriter } from './buffer-writer.js';
import { MAX_VARINT, varintLength, writeVarint } from './varint.js';

export interface PreferredAddress {
  /** 4 bytes, all zero when absent. */
  ipv4Address: Uint8Array;
  ipv4Port: number;
  /** 16 bytes, all zero when absent. */
  ipv6Address: Uint8Array;
  ipv6Port: number;
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

export interface TransportParameters {
  /** 0x00, server only. */
  originalDestinationConnectionId?: Uint8Array;
  /** 0x01, milliseconds; 0 = no idle timeout from this side. */
  maxIdleTimeout: number;
  /** 0x02, server only, 16 bytes. */
  statelessResetToken?: Uint8Array;
  /** 0x03, >= 1200. */
  maxUdpPayloadSize: number;
  /** 0x04 */
  initialMaxData: number;
  /** 0x05 */
  initialMaxStreamDataBidiLocal: number;
  /** 0x06 */
  initialMaxStreamDataBidiRemote: number;
  /** 0x07 */
  initialMaxStreamDataUni: number;
  /** 0x08, <= 2^60 */
  initialMaxStreamsBidi: number;
  /** 0x09, <= 2^60 */
  initialMaxStreamsUni: number;
  /** 0x0a, <= 20 */
  ackDelayExponent: number;
  /** 0x0b, milliseconds, < 2^14 */
  maxAckDelay: number;
  /** 0x0c */
  disableActiveMigration: boolean;
  /** 0x0d, server only */
  preferredAddress?: PreferredAddress;
  /** 0x0e, >= 2 */
  activeConnectionIdLimit: number;
  /** 0x0f */
  initialSourceConnectionId?: Uint8Array;
  /** 0x10, server only */
  retrySourceConnectionId?: Uint8Array;
  /** 0x20 (RFC 9221); absent = DATAGRAM frames not supported. */
  maxDatagramFrameSize?: number;
  /** 0x11 (RFC 9368) */
  versionInformation?: VersionInformation;
}

/** The values that apply when a parameter is absent (RFC 9000 §18.2). */
export function defaultTransportParameters(): TransportParameters {
  return {
    maxIdleTimeout: 0,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    activeConnectionIdLimit: 2,
  };
}

// ---------------------------------------------------------------------------------------------
// Codec (RFC 9000 §18)

/** Transport parameter identifiers (RFC 9000 §18.2, RFC 9221 §3, RFC 9368 §3). */
export enum TransportParameterId {
  OriginalDestinationConnectionId = 0x00,
  MaxIdleTimeout = 0x01,
  StatelessResetToken = 0x02,
  MaxUdpPayloadSize = 0x03,
  InitialMaxData = 0x04,
  InitialMaxStreamDataBidiLocal = 0x05,
  InitialMaxStreamDataBidiRemote = 0x06,
  InitialMaxStreamDataUni = 0x07,
  InitialMaxStreamsBidi = 0x08,
  InitialMaxStreamsUni = 0x09,
  AckDelayExponent = 0x0a,
  MaxAckDelay = 0x0b,
  DisableActiveMigration = 0x0c,
  PreferredAddress = 0x0d,
  ActiveConnectionIdLimit = 0x0e,
  InitialSourceConnectionId = 0x0f,
  RetrySourceConnectionId = 0x10,
  VersionInformation = 0x11,
  MaxDatagramFrameSize = 0x20,
}

const MAX_CID_LENGTH = 20;
const RESET_TOKEN_LENGTH = 16;
const MIN_UDP_PAYLOAD_SIZE = 1200;
const MAX_ACK_DELAY_EXPONENT = 20;
const MAX_ACK_DELAY_LIMIT = 2 ** 14;
const MAX_STREAMS_LIMIT = 2 ** 60;
const MAX_STREAMS_LIMIT_BIG = 1n << 60n;
/** IPv4 address + port + IPv6 address + port + CID length (RFC 9000 §18.2 preferred_address). */
const PREFERRED_ADDRESS_FIXED = 4 + 2 + 16 + 2 + 1;

/**
 * Writes parameters one after another into one scratch buffer (grown when a parameter does not
 * fit) and copies the result out once: no Buffer per parameter (issue 13: both sides encode their
 * parameters on every connection).
 */
class ParameterWriter {
  private static scratch = new Uint8Array(512);
  private buf = ParameterWriter.scratch;
  private pos = 0;

  private header(id: number, length: number): void {
    const need = this.pos + varintLength(id) + varintLength(length) + length;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.pos));
      this.buf = grown;
      ParameterWriter.scratch = grown;
    }
    this.pos = writeVarint(this.buf, this.pos, id);
    this.pos = writeVarint(this.buf, this.pos, length);
  }

  bytes(id: number, value: Uint8Array): void {
    this.header(id, value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  int(id: number, value: number): void {
    this.header(id, varintLength(value));
    this.pos = writeVarint(this.buf, this.pos, value);
  }

  finish(): Uint8Array {
    // A copy of exact size, not from the shared Buffer pool: a connection keeps its encoded parameters.
    return this.buf.slice(0, this.pos);
  }
}

function checkEncodeCid(cid: Uint8Array, what: string): void {
  if (cid.length > MAX_CID_LENGTH) throw new RangeError(`${what}: connection ID longer than 20 bytes`);
}

function checkEncodeInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${what}: invalid value ${v}`);
}

function encodePreferredAddress(a: PreferredAddress): Uint8Array {
  // RFC 9000 §18.2: a preferred address carries a non-empty connection ID and a 16-byte token.
  if (a.ipv4Address.length !== 4 || a.ipv6Address.length !== 16) {
    throw new RangeError('preferred_address: IPv4 address must be 4 bytes, IPv6 16 bytes');
  }
  if (a.connectionId.length === 0) throw new RangeError('preferred_address: empty connection ID');
  checkEncodeCid(a.connectionId, 'preferred_address');
  if (a.statelessResetToken.length !== RESET_TOKEN_LENGTH) {
    throw new RangeError('preferred_address: stateless reset token must be 16 bytes');
  }
  const w = BufferWriter.alloc(PREFERRED_ADDRESS_FIXED + a.connectionId.length + RESET_TOKEN_LENGTH);
  w.bytes(a.ipv4Address);
  w.u16(a.ipv4Port);
  w.bytes(a.ipv6Address);
  w.u16(a.ipv6Port);
  w.u8(a.connectionId.length);
  w.bytes(a.connectionId);
  w.bytes(a.statelessResetToken);
  return w.buffer;
}

function encodeVersionInformation(v: VersionInformation): Uint8Array {
  // RFC 9368 §3: Chosen Version (32), Available Versions (32) ...; none of them 0.
  const w = BufferWriter.alloc(4 * (1 + v.availableVersions.length));
  for (const version of [v.chosenVersion, ...v.availableVersions]) {
    if (version === 0) throw new RangeError('version_information: version 0');
    w.u32(version);
  }
  return w.buffer;
}

/**
 * Encodes the quic_transport_parameters extension value (RFC 9000 §18). Parameters equal to their
 * default are omitted; optional ones are sent when defined. With `grease`, one reserved parameter
 * (id 31 * N + 27, RFC 9000 §18.1) with a random value of 0-16 bytes is added. Throws RangeError for
 * values that the decoder would reject.
 */
export function encodeTransportParameters(p: TransportParameters, grease?: RandomBytes): Uint8Array {
  const d = defaultTransportParameters();
  const out = new ParameterWriter();
  if (p.originalDestinationConnectionId !== undefined) {
    checkEncodeCid(p.originalDestinationConnectionId, 'original_destination_connection_id');
    out.bytes(TransportParameterId.OriginalDestinationConnectionId, p.originalDestinationConnectionId);
  }
  if (p.maxIdleTimeout !== d.maxIdleTimeout) out.int(TransportParameterId.MaxIdleTimeout, p.maxIdleTimeout);
  if (p.statelessResetToken !== undefined) {
    if (p.statelessResetToken.length !== RESET_TOKEN_LENGTH) {
      throw new RangeError('stateless_reset_token must be 16 bytes');
    }
    out.bytes(TransportParameterId.StatelessResetToken, p.statelessResetToken);
  }
  if (p.maxUdpPayloadSize !== d.maxUdpPayloadSize) {
    checkEncodeInt(p.maxUdpPayloadSize, 'max_udp_payload_size');
    if (p.maxUdpPayloadSize < MIN_UDP_PAYLOAD_SIZE) throw new RangeError('max_udp_payload_size below 1200');
    out.int(TransportParameterId.MaxUdpPayloadSize, p.maxUdpPayloadSize);
  }
  const ints: Array<[TransportParameterId, number, number]> = [
    [TransportParameterId.InitialMaxData, p.initialMaxData, d.initialMaxData],
    [
      TransportParameterId.InitialMaxStreamDataBidiLocal,
      p.initialMaxStreamDataBidiLocal,
      d.initialMaxStreamDataBidiLocal,
    ],
    [
      TransportParameterId.InitialMaxStreamDataBidiRemote,
      p.initialMaxStreamDataBidiRemote,
      d.initialMaxStreamDataBidiRemote,
    ],
    [TransportParameterId.InitialMaxStreamDataUni, p.initialMaxStreamDataUni, d.initialMaxStreamDataUni],
  ];
  for (const [id, value, def] of ints) if (value !== def) out.int(id, value);
  for (const [id, value, def] of [
    [TransportParameterId.InitialMaxStreamsBidi, p.initialMaxStreamsBidi, d.initialMaxStreamsBidi],
    [TransportParameterId.InitialMaxStreamsUni, p.initialMaxStreamsUni, d.initialMaxStreamsUni],
  ] as const) {
    if (value === def) continue;
    checkEncodeInt(value, 'initial_max_streams');
    // RFC 9000 §18.2, §4.6: at most 2^60.
    if (value > MAX_STREAMS_LIMIT) throw new RangeError('initial_max_streams exceeds 2^60');
    out.int(id, value);
  }
  if (p.ackDelayExponent !== d.ackDelayExponent) {
    checkEncodeInt(p.ackDelayExponent, 'ack_delay_exponent');
    if (p.ackDelayExponent > MAX_ACK_DELAY_EXPONENT) throw new RangeError('ack_delay_exponent above 20');
    out.int(TransportParameterId.AckDelayExponent, p.ackDelayExponent);
  }
  if (p.maxAckDelay !== d.maxAckDelay) {
    checkEncodeInt(p.maxAckDelay, 'max_ack_delay');
    if (p.maxAckDelay >= MAX_ACK_DELAY_LIMIT) throw new RangeError('max_ack_delay of 2^14 or more');
    out.int(TransportParameterId.MaxAckDelay, p.maxAckDelay);
  }
  if (p.disableActiveMigration) out.bytes(TransportParameterId.DisableActiveMigration, new Uint8Array(0));
  if (p.preferredAddress !== undefined) {
    out.bytes(TransportParameterId.PreferredAddress, encodePreferredAddress(p.preferredAddress));
  }
  if (p.activeConnectionIdLimit !== d.activeConnectionIdLimit) {
    checkEncodeInt(p.activeConnectionIdLimit, 'active_connection_id_limit');
    if (p.activeConnectionIdLimit < 2) throw new RangeError('active_connection_id_limit below 2');
    out.int(TransportParameterId.ActiveConnectionIdLimit, p.activeConnectionIdLimit);
  }
  if (p.initialSourceConnectionId !== undefined) {
    checkEncodeCid(p.initialSourceConnectionId, 'initial_source_connection_id');
    out.bytes(TransportParameterId.InitialSourceConnectionId, p.initialSourceConnectionId);
  }
  if (p.retrySourceConnectionId !== undefined) {
    checkEncodeCid(p.retrySourceConnectionId, 'retry_source_connection_id');
    out.bytes(TransportParameterId.RetrySourceConnectionId, p.retrySourceConnectionId);
  }
  if (p.versionInformation !== undefined) {
    out.bytes(TransportParameterId.VersionInformation, encodeVersionInformation(p.versionInformation));
  }
  if (p.maxDatagramFrameSize !== undefined) {
    out.int(TransportParameterId.MaxDatagramFrameSize, p.maxDatagramFrameSize);
  }
  if (grease !== undefined) {
    // RFC 9000 §18.1: reserved identifiers 31 * N + 27 exercise the "ignore unknown" rule.
    const r = grease(5);
    const n = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
    out.bytes(31 * n + 27, Buffer.from(grease(r[4]! % 17)));
  }
  return out.finish();
}

function paramError(reason: string): QuicTransportError {
  return new QuicTransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, reason);
}

/** A varint that fills the parameter value exactly (RFC 9000 §18.2). */
function decodeIntValue(value: Uint8Array, name: string): number {
  const r = new BufferReader(value);
  let v: number;
  try {
    v = r.varint();
  } catch {
    throw paramError(`${name}: truncated integer`);
  }
  if (r.remaining !== 0) throw paramError(`${name}: length does not match its integer`);
  // Beyond 2^62 - 512 a number cannot say the exact value; keep it encodable (effectively unlimited).
  return Math.min(v, MAX_VARINT);
}

function decodeCid(value: Uint8Array, name: string): Uint8Array {
  if (value.length > MAX_CID_LENGTH) throw paramError(`${name}: connection ID longer than 20 bytes`);
  return unpooledCopy(value);
}

function decodePreferredAddress(value: Uint8Array): PreferredAddress {
  if (value.length < PREFERRED_ADDRESS_FIXED) throw paramError('preferred_address: truncated');
  const r = new BufferReader(value);
  const ipv4Address = Buffer.from(r.bytes(4));
  const ipv4Port = r.u16();
  const ipv6Address = Buffer.from(r.bytes(16));
  const ipv6Port = r.u16();
  const cidLength = r.u8();
  // RFC 9000 §18.2: a server MUST NOT include a zero-length connection ID in preferred_address.
  if (cidLength === 0) throw paramError('preferred_address: zero-length connection ID');
  if (cidLength > MAX_CID_LENGTH) throw paramError('preferred_address: connection ID longer than 20 bytes');
  if (r.remaining !== cidLength + RESET_TOKEN_LENGTH) throw paramError('preferred_address: bad length');
  const connectionId = unpooledCopy(r.bytes(cidLength));
  const statelessResetToken = unpooledCopy(r.bytes(RESET_TOKEN_LENGTH));
  return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
}

function decodeVersionInformation(value: Uint8Array): VersionInformation {
  // RFC 9368 §3: a length that is not a positive multiple of 4, or a version 0, is a parsing failure.
  if (value.length === 0 || value.length % 4 !== 0) throw paramError('version_information: bad length');
  const r = new BufferReader(value);
  const chosenVersion = r.u32();
  const availableVersions: number[] = [];
  while (r.remaining > 0) availableVersions.push(r.u32());
  if (chosenVersion === 0 || availableVersions.includes(0))
    throw paramError('version_information: version 0');
  return { chosenVersion, availableVersions };
}

/**
 * Decodes the peer's quic_transport_parameters (RFC 9000 §18), starting from the defaults.
 * `sender` is the role of the peer that sent them. Throws QuicTransportError(TRANSPORT_PARAMETER_ERROR)
 * on truncation, duplicates (RFC 9000 §7.4), server-only parameters from a client (§18.2) and every
 * invalid value of §18.2. Unknown and reserved identifiers are ignored (§7.4.2). Byte values are copies.
 */
export function decodeTransportParameters(
  data: Uint8Array,
  sender: 'client' | 'server',
): TransportParameters {
  const p = defaultTransportParameters();
  // A plain Uint8Array view: a Buffer's subarray() builds each value's view through JavaScript, a
  // Uint8Array's is V8's builtin. Every value is read or copied here, none is kept as a view.
  const r = new BufferReader(
    data instanceof Buffer ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data,
  );
  const seen = new Set<number | bigint>();
  while (r.remaining > 0) {
    let id: number | bigint;
    let value: Uint8Array;
    try {
      // Ids below 2^30 (1, 2 or 4 bytes: every defined one) as numbers, without a BigInt each
      // (both sides decode their peer's parameters on every connection, issue 13).
      if (r.peekU8() < 0xc0) id = r.varint();
      else {
        const big = r.varintBig();
        id = big <= MAX_SAFE_BIG ? Number(big) : big;
      }
      value = r.bytes(r.varint());
    } catch (err) {
      if (err instanceof TruncatedInputError) throw paramError('truncated transport parameter');
      throw err;
    }
    // RFC 9000 §7.4: a parameter MUST NOT be sent more than once.
    if (seen.has(id)) throw paramError(`duplicate transport parameter 0x${id.toString(16)}`);
    seen.add(id);
    if (typeof id !== 'number') continue;
    if (
      sender === 'client' &&
      (id === TransportParameterId.OriginalDestinationConnectionId ||
        id === TransportParameterId.StatelessResetToken ||
        id === TransportParameterId.PreferredAddress ||
        id === TransportParameterId.RetrySourceConnectionId)
    ) {
      // RFC 9000 §18.2: a server MUST treat receipt of a server-only parameter as an error.
      throw paramError(`server-only transport parameter 0x${id.toString(16)} sent by a client`);
    }
    switch (id) {
      case TransportParameterId.OriginalDestinationConnectionId:
        p.originalDestinationConnectionId = decodeCid(value, 'original_destination_connection_id');
        break;
      case TransportParameterId.MaxIdleTimeout:
        p.maxIdleTimeout = decodeIntValue(value, 'max_idle_timeout');
        break;
      case TransportParameterId.StatelessResetToken:
        if (value.length !== RESET_TOKEN_LENGTH) throw paramError('stateless_reset_token must be 16 bytes');
        p.statelessResetToken = unpooledCopy(value);
        break;
      case TransportParameterId.MaxUdpPayloadSize:
        p.maxUdpPayloadSize = decodeIntValue(value, 'max_udp_payload_size');
        if (p.maxUdpPayloadSize < MIN_UDP_PAYLOAD_SIZE) throw paramError('max_udp_payload_size below 1200');
        break;
      case TransportParameterId.InitialMaxData:
        p.initialMaxData = decodeIntValue(value, 'initial_max_data');
        break;
      case TransportParameterId.InitialMaxStreamDataBidiLocal:
        p.initialMaxStreamDataBidiLocal = decodeIntValue(value, 'initial_max_stream_data_bidi_local');
        break;
      case TransportParameterId.InitialMaxStreamDataBidiRemote:
        p.initialMaxStreamDataBidiRemote = decodeIntValue(value, 'initial_max_stream_data_bidi_remote');
        break;
      case TransportParameterId.InitialMaxStreamDataUni:
        p.initialMaxStreamDataUni = decodeIntValue(value, 'initial_max_stream_data_uni');
        break;
      case TransportParameterId.InitialMaxStreamsBidi:
        p.initialMaxStreamsBidi = decodeStreamLimit(value, 'initial_max_streams_bidi');
        break;
      case TransportParameterId.InitialMaxStreamsUni:
        p.initialMaxStreamsUni = decodeStreamLimit(value, 'initial_max_streams_uni');
        break;
      case TransportParameterId.AckDelayExponent:
        p.ackDelayExponent = decodeIntValue(value, 'ack_delay_exponent');
        if (p.ackDelayExponent > MAX_ACK_DELAY_EXPONENT) throw paramError('ack_delay_exponent above 20');
        break;
      case TransportParameterId.MaxAckDelay:
        p.maxAckDelay = decodeIntValue(value, 'max_ack_delay');
        if (p.maxAckDelay >= MAX_ACK_DELAY_LIMIT) throw paramError('max_ack_delay of 2^14 or more');
        break;
      case TransportParameterId.DisableActiveMigration:
        // RFC 9000 §18.2: a zero-length value.
        if (value.length !== 0) throw paramError('disable_active_migration must be empty');
        p.disableActiveMigration = true;
        break;
      case TransportParameterId.PreferredAddress:
        p.preferredAddress = decodePreferredAddress(value);
        break;
      case TransportParameterId.ActiveConnectionIdLimit:
        p.activeConnectionIdLimit = decodeIntValue(value, 'active_connection_id_limit');
        if (p.activeConnectionIdLimit < 2) throw paramError('active_connection_id_limit below 2');
        break;
      case TransportParameterId.InitialSourceConnectionId:
        p.initialSourceConnectionId = decodeCid(value, 'initial_source_connection_id');
        break;
      case TransportParameterId.RetrySourceConnectionId:
        p.retrySourceConnectionId = decodeCid(value, 'retry_source_connection_id');
        break;
      case TransportParameterId.VersionInformation:
        p.versionInformation = decodeVersionInformation(value);
        break;
      case TransportParameterId.MaxDatagramFrameSize:
        p.maxDatagramFrameSize = decodeIntValue(value, 'max_datagram_frame_size');
        break;
      default:
        // RFC 9000 §7.4.2: unknown (including reserved, §18.1) parameters are ignored.
        break;
    }
  }
  return p;
}

/** Parameter ids above this are kept as bigints (and ignored: no defined id is that large). */
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** RFC 9000 §18.2 (initial_max_streams_*): a value above 2^60 is a TRANSPORT_PARAMETER_ERROR. */
function decodeStreamLimit(value: Uint8Array, name: string): number {
  const v = decodeIntValue(value, name);
  // Values just above 2^60 round to 2^60 as numbers: decide those exactly.
  if (v >= MAX_STREAMS_LIMIT && new BufferReader(value).varintBig() > MAX_STREAMS_LIMIT_BIG) {
    throw paramError(`${name} exceeds 2^60`);
  }
  return v;
}
