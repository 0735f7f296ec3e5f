/**
 * The QUIC versions whose packet protection this layer knows, and the HKDF labels each one uses
 * (RFC 9001 §5.1, §6.1; RFC 9369 §3.3.2).
 */

import { QUIC_V1, QUIC_V2 } from '../wire/version.js';

export { QUIC_V1, QUIC_V2 };

/** The HKDF-Expand-Label labels (without the "tls13 " prefix) used by one QUIC version. */
export interface QuicKeyLabels {
  readonly key: string;
  readonly iv: string;
  readonly hp: string;
  readonly ku: string;
}

// RFC 9001 §5.1 ("quic key", "quic iv", "quic hp") and §6.1 ("quic ku").
const V1_LABELS: QuicKeyLabels = { key: 'quic key', iv: 'quic iv', hp: 'quic hp', ku: 'quic ku' };
// RFC 9369 §3.3.2: every label gains a "v2".
const V2_LABELS: QuicKeyLabels = { key: 'quicv2 key', iv: 'quicv2 iv', hp: 'quicv2 hp', ku: 'quicv2 ku' };

export function isSupportedQuicVersion(version: number): boolean {
  return version === QUIC_V1 || version === QUIC_V2;
}

/** Labels for `version`; throws RangeError for a version without defined packet protection. */
export function quicKeyLabels(version: number): QuicKeyLabels {
  if (version === QUIC_V1) return V1_LABELS;
  if (version === QUIC_V2) return V2_LABELS;
  throw new RangeError(`no packet protection defined for QUIC version 0x${(version >>> 0).toString(16)}`);
}
