/**
 * The plaintext of tsquic's self-contained session tickets (RFC 8446 §4.6.1: "a self-encrypted and
 * self-authenticated value"). SessionTicketKeys seals it; any server with the same keys can resume.
 *
 * Format (version 1): u8 version, u16 suite, opaque psk<0..255>, f64 issuedAt, f64 authTime,
 * u32 ageAdd, u32 lifetime, u32 maxEarlyData, opaque alpn<0..255>, opaque serverName<0..255>,
 * opaque appData<0..2^16-1>, opaque ticketId<0..255>.
 */
import { type CipherSuite, cipherSuiteParams, isSupportedCipherSuite } from '../crypto/cipher-suite.js';
import { hashLength } from '../crypto/hkdf.js';
import type { Millis } from '../util/time.js';
import { TlsAlertError } from './alert.js';
import { TlsReader } from './tls-reader.js';
import { TlsWriter } from './tls-writer.js';

const VERSION = 1;

export interface SessionTicketContents {
  suite: CipherSuite;
  /** The resumption PSK (RFC 8446 §4.6.1), so the server needs no state. */
  psk: Uint8Array;
  /** When the ticket was issued. */
  issuedAt: Millis;
  /** When the original (certificate-authenticated) handshake happened: bounds the PSK chain's life. */
  authTime: Millis;
  ageAdd: number;
  /** Seconds. */
  lifetime: number;
  /** 0 or 0xffffffff (RFC 9001 §4.6.1). */
  maxEarlyData: number;
  /** The negotiated ALPN protocol id. */
  alpn: Uint8Array;
  /** SNI of the connection ('' when none). */
  serverName: string;
  /** Opaque application data (e.g. the server's transport parameters, for 0-RTT checks). */
  appData: Uint8Array;
  /** Random identifier for single-use anti-replay. */
  ticketId: Uint8Array;
}

export function encodeSessionTicket(t: SessionTicketContents): Buffer {
  const w = new TlsWriter(128 + t.appData.length);
  w.u8(VERSION);
  w.u16(t.suite);
  w.vector8(t.psk);
  const times = Buffer.allocUnsafe(16);
  times.writeDoubleBE(t.issuedAt, 0);
  times.writeDoubleBE(t.authTime, 8);
  w.bytes(times);
  w.u32(t.ageAdd);
  w.u32(t.lifetime);
  w.u32(t.maxEarlyData);
  w.vector8(t.alpn);
  w.vector8(Buffer.from(t.serverName, 'ascii'));
  w.vector16(t.appData);
  w.vector8(t.ticketId);
  return w.finish();
}

/** Decodes a ticket plaintext; undefined when it is not a valid version-1 ticket. */
export function decodeSessionTicket(data: Uint8Array): SessionTicketContents | undefined {
  try {
    const r = new TlsReader(data);
    if (r.u8() !== VERSION) return undefined;
    const suite = r.u16();
    if (!isSupportedCipherSuite(suite)) return undefined;
    const psk = Buffer.from(r.vector8('psk'));
    if (psk.length !== hashLength(cipherSuiteParams(suite).hash)) return undefined;
    const times = Buffer.from(r.bytes(16));
    const issuedAt = times.readDoubleBE(0);
    const authTime = times.readDoubleBE(8);
    if (!Number.isFinite(issuedAt) || !Number.isFinite(authTime)) return undefined;
    const ageAdd = r.u32();
    const lifetime = r.u32();
    const maxEarlyData = r.u32();
    const alpn = Buffer.from(r.vector8('alpn'));
    const serverName = Buffer.from(r.vector8('serverName')).toString('ascii');
    const appData = Buffer.from(r.vector16('appData'));
    const ticketId = Buffer.from(r.vector8('ticketId'));
    r.expectEnd('ticket');
    return {
      suite,
      psk,
      issuedAt,
      authTime,
      ageAdd,
      lifetime,
      maxEarlyData,
      alpn,
      serverName,
      appData,
      ticketId,
    };
  } catch (err) {
    if (err instanceof TlsAlertError) return undefined;
    throw err;
  }
}
