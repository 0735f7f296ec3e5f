/**
 * The server's PSK choice (RFC 8446 §4.2.11): open the offered tickets in order, take the first one
 * that may resume this connection, then verify only its binder. Unusable tickets are ignored (a full
 * handshake follows); a binder that does not verify aborts the handshake.
 */
import { type CipherSuite, cipherSuiteParams } from '../crypto/cipher-suite.js';
import type { Millis } from '../util/time.js';
import { AlertDescription, TlsAlertError } from './alert.js';
import type { ClientOffer } from './client-offer.js';
import { PskKeyExchangeMode } from './codepoints.js';
import { KeySchedule, macEquals } from './key-schedule.js';
import { MAX_TICKET_LIFETIME } from './messages/new-session-ticket.js';
import { deobfuscateTicketAge, ticketAgeWithinWindow, truncateClientHello } from './psk.js';
import { decodeSessionTicket, type SessionTicketContents } from './session-ticket.js';
import type { TranscriptHash } from './transcript-hash.js';
import type { SessionTicketKeyring } from './types.js';

/** RFC 8446 §4.6.1: PSKs derived from one certificate handshake are not used beyond 7 days. */
export const MAX_PSK_CHAIN_AGE: Millis = MAX_TICKET_LIFETIME * 1000;
/** PSK identities examined per ClientHello (each costs one ticket decryption). */
const MAX_IDENTITIES_TRIED = 4;

export interface SelectedPsk {
  /** Index into the client's identities (0 is required for 0-RTT). */
  index: number;
  ticket: SessionTicketContents;
  /** De-obfuscated client ticket age, ms. */
  clientAge: Millis;
  /** Age from the server's issue time, ms. */
  serverAge: Millis;
  /** Both ages agree within the tolerance (RFC 8446 §8.3): required for 0-RTT. */
  fresh: boolean;
}

export interface PskSelectionContext {
  keys: SessionTicketKeyring | undefined;
  suite: CipherSuite;
  /** The ALPN protocol selected for this connection. */
  alpn: Uint8Array;
  now: Millis;
  ticketAgeTolerance: Millis;
  /** The transcript before this ClientHello (empty, or message_hash + HelloRetryRequest). */
  transcript: TranscriptHash;
  /**
   * Identity 0 as the caller already opened it (`ticket` undefined: not one of our tickets), so that
   * it is not decrypted a second time; omitted, it is opened here.
   */
  first?: { ticket: SessionTicketContents | undefined };
}

/** Opens identity `index` of the offer with the keyring; undefined when it is not one of our tickets. */
export function openOfferedTicket(
  offer: ClientOffer,
  keys: SessionTicketKeyring | undefined,
  index: number,
  now: Millis,
): SessionTicketContents | undefined {
  const id = offer.psks?.identities[index];
  if (!keys || !id) return undefined;
  const plaintext = keys.open(id.identity, now);
  return plaintext === undefined ? undefined : decodeSessionTicket(plaintext);
}

export function selectPsk(offer: ClientOffer, ctx: PskSelectionContext): SelectedPsk | undefined {
  const psks = offer.psks;
  // RFC 8446 §4.2.9: only psk_dhe_ke is supported.
  if (!psks || !ctx.keys || !offer.pskModes.includes(PskKeyExchangeMode.psk_dhe_ke)) return undefined;
  const hash = cipherSuiteParams(ctx.suite).hash;
  const alpn = Buffer.from(ctx.alpn);
  const count = Math.min(psks.identities.length, MAX_IDENTITIES_TRIED);
  for (let i = 0; i < count; i++) {
    const t = i === 0 && ctx.first ? ctx.first.ticket : openOfferedTicket(offer, ctx.keys, i, ctx.now);
    if (!t) continue;
    // RFC 8446 §4.2.11, §4.6.1: the same KDF hash, used within the ticket lifetime.
    if (cipherSuiteParams(t.suite).hash !== hash) continue;
    const serverAge = ctx.now - t.issuedAt;
    if (serverAge > t.lifetime * 1000 || serverAge < -ctx.ticketAgeTolerance) continue;
    if (ctx.now - t.authTime > MAX_PSK_CHAIN_AGE) continue;
    // Resume only for the ALPN and server name of the original connection.
    if (!alpn.equals(t.alpn) || t.serverName !== (offer.serverName ?? '')) continue;
    // RFC 8446 §4.2.11.2: the binder over Transcript-Hash(prefix, Truncate(ClientHello)), constant time.
    const truncated = truncateClientHello(offer.raw, psks.bindersLength);
    const expected = new KeySchedule(hash, t.psk).binder(ctx.transcript.digestWith(truncated, hash));
    if (!macEquals(psks.binders[i]!, expected)) {
      throw new TlsAlertError(AlertDescription.decrypt_error, 'PSK binder does not verify');
    }
    const clientAge = deobfuscateTicketAge(psks.identities[i]!.obfuscatedTicketAge, t.ageAdd);
    const age = Math.max(0, serverAge);
    // RFC 8446 §4.2.10: outside the age window the PSK is still used but 0-RTT is rejected.
    return {
      index: i,
      ticket: t,
      clientAge,
      serverAge: age,
      fresh: ticketAgeWithinWindow(clientAge, age, ctx.ticketAgeTolerance),
    };
  }
  return undefined;
}
