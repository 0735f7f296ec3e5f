/**
 * PSK helpers (RFC 8446 §4.2.11): ticket age obfuscation and the truncated ClientHello that binders
 * are computed over.
 */
import type { Millis } from '../util/time.js';

/** RFC 8446 §4.2.11.1: obfuscated_ticket_age = (age in ms + ticket_age_add) mod 2^32. */
export function obfuscateTicketAge(ageMs: Millis, ageAdd: number): number {
  const age = Math.max(0, Math.floor(ageMs));
  return (age + ageAdd) >>> 0;
}

/** RFC 8446 §4.2.10: the client's ticket age = obfuscated_ticket_age - ticket_age_add mod 2^32. */
export function deobfuscateTicketAge(obfuscatedAge: number, ageAdd: number): number {
  return (obfuscatedAge - ageAdd) >>> 0;
}

/**
 * RFC 8446 §4.2.11.2: Truncate(ClientHello) removes the binders list (which is at the very end of the
 * message, since pre_shared_key is the last extension) but keeps every length field as if it were there.
 */
export function truncateClientHello(rawClientHello: Uint8Array, bindersLength: number): Uint8Array {
  return rawClientHello.subarray(0, rawClientHello.length - bindersLength);
}

/** Length of a binders list with one binder of `hashLength` bytes: uint16 list length + uint8 + binder. */
export function singleBinderListLength(hashLength: number): number {
  return 2 + 1 + hashLength;
}

/** Writes the binder into a ClientHello that was encoded with a zero placeholder binder (one PSK). */
export function patchSingleBinder(rawClientHello: Buffer, binder: Uint8Array): void {
  rawClientHello.set(binder, rawClientHello.length - binder.length);
}

/**
 * Whether the ticket ages agree within `tolerance` (RFC 8446 §8.3 freshness check). Both ages in ms.
 */
export function ticketAgeWithinWindow(clientAge: Millis, serverAge: Millis, tolerance: Millis): boolean {
  return Math.abs(clientAge - serverAge) <= tolerance;
}
