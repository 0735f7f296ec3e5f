/**
 * Short byte sequences kept for a connection's lifetime (connection IDs, reset tokens) as latin1
 * strings: one char per byte, 16-40 bytes of heap, where a Uint8Array costs ~0.1 KiB and, once
 * native code has seen it, a buffer outside the heap as well (issue 13, idle memory). Strings also
 * compare with `===`.
 */

/** The bytes as a flat latin1 string (never a view of `b`). */
export function toByteString(b: Uint8Array): string {
  // One call, a flat string: concatenating chars would build a rope of cons strings.
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** A new Uint8Array of the string's bytes (small: V8 keeps them inside the object). */
export function fromByteString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Whether `bytes` equal the byte string `s`, in time that depends on their lengths only: every byte
 * is compared, whatever differs first (RFC 9000 §10.3.1: a stateless reset token is compared
 * "without leaking information about the value of the token").
 */
export function bytesEqualConstantTime(s: string, bytes: Uint8Array): boolean {
  if (s.length !== bytes.length) return false;
  let diff = 0;
  for (let i = 0; i < bytes.length; i++) diff |= s.charCodeAt(i) ^ bytes[i]!;
  return diff === 0;
}
