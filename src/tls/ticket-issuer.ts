/**
 * The server's NewSessionTicket messages (RFC 8446 §4.6.1, RFC 9001 §4.6.1): self-contained tickets
 * sealed by the ticket keyring, each with its own nonce, PSK, ticket_age_add and identifier.
 */
import { type CipherSuite, cipherSuiteParams } from '../crypto/cipher-suite.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { ExtensionType, QUIC_MAX_EARLY_DATA_SIZE } from './codepoints.js';
import { resumptionPsk } from './key-schedule.js';
import { encodeNewSessionTicket } from './messages/new-session-ticket.js';
import { encodeSessionTicket } from './session-ticket.js';
import type { SessionTicketKeyring } from './types.js';

export interface TicketIssueParams {
  keys: SessionTicketKeyring;
  random: RandomBytes;
  count: number;
  suite: CipherSuite;
  resumptionMasterSecret: Uint8Array;
  /** Seconds (already capped at 7 days). */
  lifetime: number;
  /** Whether the tickets allow 0-RTT (max_early_data_size 0xffffffff). */
  earlyData: boolean;
  alpn: Uint8Array;
  serverName: string | undefined;
  appData: Uint8Array;
  /** Time of the certificate handshake this session descends from. */
  authTime: Millis;
  now: Millis;
}

/** Framed NewSessionTicket messages. */
export function issueTickets(p: TicketIssueParams): Buffer[] {
  const out: Buffer[] = [];
  const hash = cipherSuiteParams(p.suite).hash;
  const maxEarlyData = p.earlyData ? QUIC_MAX_EARLY_DATA_SIZE : 0;
  for (let i = 0; i < p.count; i++) {
    // RFC 8446 §4.6.1: a nonce unique per ticket on this connection; a fresh ticket_age_add each.
    const nonce = Uint8Array.of(i);
    const ageAdd = Buffer.from(p.random(4)).readUInt32BE(0);
    const plaintext = encodeSessionTicket({
      suite: p.suite,
      psk: resumptionPsk(hash, p.resumptionMasterSecret, nonce),
      issuedAt: p.now,
      authTime: p.authTime,
      ageAdd,
      lifetime: p.lifetime,
      maxEarlyData,
      alpn: p.alpn,
      serverName: p.serverName ?? '',
      appData: p.appData,
      ticketId: Buffer.from(p.random(16)),
    });
    const ticket = p.keys.seal(plaintext, p.now);
    const extensions = [];
    if (maxEarlyData !== 0) {
      // RFC 9001 §4.6.1: max_early_data_size is the sentinel 0xffffffff.
      const data = Buffer.alloc(4);
      data.writeUInt32BE(maxEarlyData, 0);
      extensions.push({ type: ExtensionType.early_data, data });
    }
    out.push(encodeNewSessionTicket({ lifetime: p.lifetime, ageAdd, nonce, ticket, extensions }));
  }
  return out;
}
