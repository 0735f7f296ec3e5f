/**
 * Serialisation of ResumptionSession for persistent session caches, and the usability check a client
 * applies before offering a ticket (RFC 8446 §4.2.11.1, §4.6.1).
 *
 * Format: "TQRS", u8 version 1, opaque serverName<0..2^16-1>, opaque ticket<1..2^16-1>, u32 ticketAgeAdd,
 * u32 lifetime, f64 receivedAt, u16 suite, opaque psk<1..255>, u32 maxEarlyDataSize, opaque alpn<0..255>,
 * opaque transportParameters<0..2^16-1>. Version 2 appends opaque applicationData<0..2^16-1>; version 3
 * appends u32 rtt (ms, 0 = unknown). Older versions still decode.
 */
import { cipherSuiteParams, isSupportedCipherSuite } from '../crypto/cipher-suite.js';
import { hashLength } from '../crypto/hkdf.js';
import type { Millis } from '../util/time.js';
import { TlsAlertError } from './alert.js';
import { MAX_TICKET_LIFETIME } from './messages/new-session-ticket.js';
import { TlsReader } from './tls-reader.js';
import { TlsWriter } from './tls-writer.js';
import type { ResumptionSession } from './types.js';

const MAGIC = Buffer.from('TQRS', 'latin1');
const VERSION = 3;

/** Thrown by decodeResumptionSession for bytes that are not a valid encoded session. */
export class InvalidResumptionSessionError extends Error {
  override readonly name = 'InvalidResumptionSessionError';
  readonly code = 'ERR_QUIC_INVALID_SESSION';
}

export function encodeResumptionSession(s: ResumptionSession): Uint8Array {
  const w = new TlsWriter(256 + s.ticket.length + s.transportParameters.length);
  w.bytes(MAGIC);
  w.u8(VERSION);
  w.vector16(Buffer.from(s.serverName, 'utf8'));
  w.vector16(s.ticket);
  w.u32(s.ticketAgeAdd);
  w.u32(s.lifetime);
  const t = Buffer.allocUnsafe(8);
  t.writeDoubleBE(s.receivedAt, 0);
  w.bytes(t);
  w.u16(s.suite);
  w.vector8(s.psk);
  w.u32(s.maxEarlyDataSize);
  w.vector8(Buffer.from(s.alpn, 'utf8'));
  w.vector16(s.transportParameters);
  w.vector16(s.applicationData ?? new Uint8Array(0));
  w.u32(rttField(s.rtt));
  return w.finish();
}

/** The remembered RTT as stored: whole milliseconds within u32, 0 for unknown. */
function rttField(rtt: Millis | undefined): number {
  if (rtt === undefined || !(rtt > 0) || !Number.isFinite(rtt)) return 0;
  return Math.min(0xffffffff, Math.max(1, Math.round(rtt)));
}

function invalid(reason: string): InvalidResumptionSessionError {
  return new InvalidResumptionSessionError(`invalid resumption session: ${reason}`);
}

export function decodeResumptionSession(data: Uint8Array): ResumptionSession {
  let s: ResumptionSession;
  try {
    const r = new TlsReader(data);
    if (!Buffer.from(r.bytes(4, 'magic')).equals(MAGIC)) throw invalid('bad magic');
    const version = r.u8('version');
    if (version < 1 || version > VERSION) throw invalid(`unsupported version ${version}`);
    const serverName = Buffer.from(r.vector16('serverName')).toString('utf8');
    const ticket = Buffer.from(r.vector16('ticket', 1));
    const ticketAgeAdd = r.u32('ticketAgeAdd');
    const lifetime = r.u32('lifetime');
    const receivedAt = Buffer.from(r.bytes(8, 'receivedAt')).readDoubleBE(0);
    const suite = r.u16('suite');
    const psk = Buffer.from(r.vector8('psk', 1));
    const maxEarlyDataSize = r.u32('maxEarlyDataSize');
    const alpn = Buffer.from(r.vector8('alpn')).toString('utf8');
    const transportParameters = Buffer.from(r.vector16('transportParameters'));
    const applicationData = version >= 2 ? Buffer.from(r.vector16('applicationData')) : undefined;
    const rtt = version >= 3 ? r.u32('rtt') : 0;
    r.expectEnd('session');
    if (!isSupportedCipherSuite(suite)) throw invalid(`unsupported cipher suite 0x${suite.toString(16)}`);
    if (psk.length !== hashLength(cipherSuiteParams(suite).hash))
      throw invalid('PSK length does not fit the suite');
    if (lifetime > MAX_TICKET_LIFETIME) throw invalid('lifetime above 7 days');
    if (!Number.isFinite(receivedAt)) throw invalid('receivedAt is not a time');
    s = {
      serverName,
      ticket,
      ticketAgeAdd,
      lifetime,
      receivedAt,
      suite,
      psk,
      maxEarlyDataSize,
      alpn,
      transportParameters,
      ...(applicationData && applicationData.length > 0 ? { applicationData } : {}),
      ...(rtt > 0 ? { rtt } : {}),
    };
  } catch (err) {
    if (err instanceof InvalidResumptionSessionError) throw err;
    if (err instanceof TlsAlertError) throw invalid(err.message);
    throw err;
  }
  return s;
}

/**
 * Whether the client may still offer this ticket at `now`: its age is below ticket_lifetime (RFC 8446
 * §4.2.11.1), never more than 7 days (§4.6.1), and it is well formed.
 */
export function isResumptionSessionUsable(s: ResumptionSession, now: Millis): boolean {
  if (s.ticket.length === 0 || s.lifetime <= 0 || !isSupportedCipherSuite(s.suite)) return false;
  if (s.psk.length !== hashLength(cipherSuiteParams(s.suite).hash)) return false;
  const lifetimeMs = Math.min(s.lifetime, MAX_TICKET_LIFETIME) * 1000;
  const age = now - s.receivedAt;
  return Number.isFinite(age) && age < lifetimeMs;
}
