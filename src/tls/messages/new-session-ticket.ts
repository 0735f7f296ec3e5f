/**
 * NewSessionTicket (RFC 8446 §4.6.1).
 */
import { AlertDescription, TlsAlertError } from '../alert.js';
import { HandshakeType } from '../codepoints.js';
import { type Extension, type ExtensionBlock, readExtensions, writeExtensions } from '../extensions.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';
import { TlsReader } from '../tls-reader.js';
import { TlsWriter } from '../tls-writer.js';

/** RFC 8446 §4.6.1: servers MUST NOT use a lifetime greater than 604800 seconds (7 days). */
export const MAX_TICKET_LIFETIME = 604800;

export interface NewSessionTicket {
  lifetime: number;
  ageAdd: number;
  nonce: Uint8Array;
  ticket: Uint8Array;
  extensions: ExtensionBlock;
}

export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  const r = new TlsReader(body);
  const lifetime = r.u32('ticket_lifetime');
  const ageAdd = r.u32('ticket_age_add');
  const nonce = r.vector8('ticket_nonce');
  const ticket = r.vector16('ticket', 1);
  const extensions = readExtensions(r, 'NewSessionTicket');
  r.expectEnd('NewSessionTicket');
  if (lifetime > MAX_TICKET_LIFETIME) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, `ticket_lifetime ${lifetime} exceeds 7 days`);
  }
  return { lifetime, ageAdd, nonce, ticket, extensions };
}

export interface NewSessionTicketFields {
  lifetime: number;
  ageAdd: number;
  nonce: Uint8Array;
  ticket: Uint8Array;
  extensions: readonly Extension[];
}

export function encodeNewSessionTicket(f: NewSessionTicketFields): Buffer {
  const w = new TlsWriter(64 + f.ticket.length);
  w.u32(f.lifetime);
  w.u32(f.ageAdd);
  w.vector8(f.nonce);
  w.vector16(f.ticket);
  writeExtensions(w, f.extensions);
  return frameHandshakeMessage(HandshakeType.new_session_ticket, w.finish());
}
