/**
 * QUIC versions: v1 (RFC 9000 §15), v2 (RFC 9369 §3.1) and the reserved (GREASE) pattern.
 */

/** RFC 9000 §15 */
export const QUIC_V1 = 0x00000001;
/** RFC 9369 §3.1 */
export const QUIC_V2 = 0x6b3343cf;

/** The versions this implementation speaks, in order of preference for a client's first flight. */
export const SUPPORTED_VERSIONS: readonly number[] = Object.freeze([QUIC_V1, QUIC_V2]);

export function isSupportedVersion(v: number): boolean {
  return v === QUIC_V1 || v === QUIC_V2;
}

/**
 * RFC 9000 §15: versions of the form 0x?a?a?a?a are reserved to exercise version negotiation; they
 * are never supported.
 */
export function isReservedVersion(v: number): boolean {
  return (v & 0x0f0f0f0f) === 0x0a0a0a0a;
}
