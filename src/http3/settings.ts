/**
 * HTTP/3 SETTINGS (RFC 9114 §7.2.4) with the QPACK settings (RFC 9204 §5), Extended CONNECT
 * (RFC 9220 / RFC 8441 §3) and HTTP Datagrams (RFC 9297 §2.1.1): their meaning, defaults and checks,
 * and the compatibility rule for settings remembered for 0-RTT (RFC 9114 §7.2.4.2).
 */
import { H3ErrorCode } from './error-codes.js';
import { decodeSettingsPayload, encodeSettingsPayload, type SettingEntry } from './frames.js';
import { isGreaseValue } from './grease.js';
import { h3ConnectionError } from './h3-protocol-error.js';

export enum SettingId {
  QpackMaxTableCapacity = 0x01,
  MaxFieldSectionSize = 0x06,
  QpackBlockedStreams = 0x07,
  EnableConnectProtocol = 0x08,
  H3Datagram = 0x33,
}

/** What one endpoint announced. */
export interface H3Settings {
  /** RFC 9204 §5: dynamic table capacity the sender's decoder allows (default 0). */
  qpackMaxTableCapacity: number;
  /** RFC 9114 §4.2.2: largest field section the sender accepts (default unlimited). */
  maxFieldSectionSize: number;
  /** RFC 9204 §5: streams that may be blocked on the sender's decoder (default 0). */
  qpackBlockedStreams: number;
  /** RFC 9220: the sender accepts Extended CONNECT (default false). */
  enableConnectProtocol: boolean;
  /** RFC 9297: the sender accepts HTTP Datagrams (default false). */
  h3Datagram: boolean;
}

/** RFC 9114 §7.2.4.2: the value of every setting before the peer's SETTINGS arrive. */
export const DEFAULT_SETTINGS: Readonly<H3Settings> = Object.freeze({
  qpackMaxTableCapacity: 0,
  maxFieldSectionSize: Number.POSITIVE_INFINITY,
  qpackBlockedStreams: 0,
  enableConnectProtocol: false,
  h3Datagram: false,
});

/**
 * RFC 9114 §7.2.4.1, §11.2.2: identifiers of HTTP/2 settings with no HTTP/3 counterpart
 * (ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE): H3_SETTINGS_ERROR.
 */
function isReservedHttp2Setting(id: number): boolean {
  return id >= 0x02 && id <= 0x05;
}

function settingsError(reason: string) {
  return h3ConnectionError(H3ErrorCode.H3_SETTINGS_ERROR, reason);
}

function booleanSetting(value: number, name: string): boolean {
  // RFC 8441 §3, RFC 9297 §2.1.1: only 0 or 1.
  if (value !== 0 && value !== 1) throw settingsError(`${name} must be 0 or 1, got ${value}`);
  return value === 1;
}

/** Interpret a SETTINGS frame's entries. Throws H3ProtocolError(H3_SETTINGS_ERROR). */
export function settingsFromEntries(entries: readonly SettingEntry[]): H3Settings {
  const s: H3Settings = { ...DEFAULT_SETTINGS };
  const seen = new Set<number>();
  for (const { id, value: raw } of entries) {
    // Values beyond 2^53 (varints go to 2^62) mean "effectively unlimited".
    const value = Math.min(raw, Number.MAX_SAFE_INTEGER);
    // RFC 9114 §7.2.4: the same identifier twice MAY be treated as H3_SETTINGS_ERROR; we do.
    if (seen.has(id)) throw settingsError(`setting 0x${id.toString(16)} appears twice`);
    seen.add(id);
    if (isReservedHttp2Setting(id)) throw settingsError(`HTTP/2 setting 0x${id.toString(16)}`);
    switch (id) {
      case SettingId.QpackMaxTableCapacity:
        s.qpackMaxTableCapacity = value;
        break;
      case SettingId.MaxFieldSectionSize:
        s.maxFieldSectionSize = value;
        break;
      case SettingId.QpackBlockedStreams:
        s.qpackBlockedStreams = value;
        break;
      case SettingId.EnableConnectProtocol:
        s.enableConnectProtocol = booleanSetting(value, 'SETTINGS_ENABLE_CONNECT_PROTOCOL');
        break;
      case SettingId.H3Datagram:
        s.h3Datagram = booleanSetting(value, 'SETTINGS_H3_DATAGRAM');
        break;
      default:
        // RFC 9114 §7.2.4: unknown identifiers (GREASE among them) are ignored.
        break;
    }
  }
  return s;
}

/** The entries announcing `s`: only values that differ from the defaults (RFC 9114 §7.2.4.2). */
export function settingsEntries(s: H3Settings): SettingEntry[] {
  const out: SettingEntry[] = [];
  if (s.qpackMaxTableCapacity !== 0)
    out.push({ id: SettingId.QpackMaxTableCapacity, value: s.qpackMaxTableCapacity });
  if (Number.isFinite(s.maxFieldSectionSize))
    out.push({ id: SettingId.MaxFieldSectionSize, value: s.maxFieldSectionSize });
  if (s.qpackBlockedStreams !== 0)
    out.push({ id: SettingId.QpackBlockedStreams, value: s.qpackBlockedStreams });
  if (s.enableConnectProtocol) out.push({ id: SettingId.EnableConnectProtocol, value: 1 });
  if (s.h3Datagram) out.push({ id: SettingId.H3Datagram, value: 1 });
  return out;
}

/**
 * RFC 9114 §7.2.4.2: a server that accepted 0-RTT must not send settings that a client complying
 * with the remembered ones could violate: no limit lower, no feature withdrawn, and every setting
 * that was non-default still present. Returns why not, or undefined when compatible.
 */
export function incompatibleWithRemembered(remembered: H3Settings, current: H3Settings): string | undefined {
  if (current.qpackMaxTableCapacity < remembered.qpackMaxTableCapacity)
    return 'QPACK_MAX_TABLE_CAPACITY reduced';
  if (current.qpackBlockedStreams < remembered.qpackBlockedStreams) return 'QPACK_BLOCKED_STREAMS reduced';
  if (current.maxFieldSectionSize < remembered.maxFieldSectionSize) return 'MAX_FIELD_SECTION_SIZE reduced';
  if (remembered.enableConnectProtocol && !current.enableConnectProtocol)
    return 'ENABLE_CONNECT_PROTOCOL withdrawn';
  if (remembered.h3Datagram && !current.h3Datagram) return 'H3_DATAGRAM withdrawn';
  return undefined;
}

/**
 * Settings as bytes to keep with a session ticket (a SETTINGS payload without GREASE), and back.
 * Bytes that do not decode give undefined: the client then uses the defaults, which are always safe.
 */
export function encodeRememberedSettings(s: H3Settings): Uint8Array {
  return encodeSettingsPayload(settingsEntries(s));
}

export function decodeRememberedSettings(bytes: Uint8Array | undefined): H3Settings | undefined {
  if (!bytes || bytes.length === 0) return bytes ? { ...DEFAULT_SETTINGS } : undefined;
  try {
    return settingsFromEntries(decodeSettingsPayload(bytes).filter((e) => !isGreaseValue(e.id)));
  } catch {
    return undefined;
  }
}
