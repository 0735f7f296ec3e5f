/**
 * Initial secrets (RFC 9001 §5.2, RFC 9369 §3.3.1): derived from the Destination Connection ID of the
 * client's first Initial packet, with a per-version salt, always with SHA-256.
 */
import { hkdfExpandLabel, hkdfExtract } from './hkdf.js';
import { QUIC_V1, QUIC_V2 } from './quic-version.js';

// RFC 9001 §5.2
const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
// RFC 9369 §3.3.1
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');

const EMPTY = new Uint8Array(0);

/** The Initial salt of `version`; throws RangeError for a version without one. */
export function initialSalt(version: number): Uint8Array {
  // A copy, so that no caller can alter the constant.
  return Uint8Array.from(saltFor(version));
}

function saltFor(version: number): Buffer {
  if (version === QUIC_V1) return SALT_V1;
  if (version === QUIC_V2) return SALT_V2;
  throw new RangeError(`no Initial salt for QUIC version 0x${(version >>> 0).toString(16)}`);
}

/**
 * client_initial_secret and server_initial_secret (RFC 9001 §5.2): HKDF-Extract(salt, dcid), then
 * HKDF-Expand-Label with "client in" / "server in" to 32 bytes. The labels are the same in v2.
 */
export function deriveInitialSecrets(version: number, dcid: Uint8Array): { client: Buffer; server: Buffer } {
  const initialSecret = hkdfExtract('sha256', saltFor(version), dcid);
  return {
    client: hkdfExpandLabel('sha256', initialSecret, 'client in', EMPTY, 32),
    server: hkdfExpandLabel('sha256', initialSecret, 'server in', EMPTY, 32),
  };
}
