/**
 * Key update (RFC 9001 §6): the next traffic secret is HKDF-Expand-Label(secret, "quic ku", "",
 * Hash.length) ("quicv2 ku" in QUIC v2, RFC 9369 §3.3.2); the AEAD key and IV are derived from it
 * as usual, while the header protection key stays the same (RFC 9001 §5.4, §6).
 */
import { type CipherSuite, cipherSuiteParams } from './cipher-suite.js';
import { hashLength, hkdfExpandLabel } from './hkdf.js';
import { deriveAead, type PacketKeys, StoredPacketKeys } from './packet-keys.js';
import { quicKeyLabels } from './quic-version.js';

const EMPTY = new Uint8Array(0);

/** RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length). */
export function nextTrafficSecret(suite: CipherSuite, secret: Uint8Array, version: number): Buffer {
  const hash = cipherSuiteParams(suite).hash;
  return hkdfExpandLabel(hash, secret, quicKeyLabels(version).ku, EMPTY, hashLength(hash));
}

/** Next-phase keys share the header protection key of the current ones (RFC 9001 §6). */
export function updatePacketKeys(keys: PacketKeys, version: number): PacketKeys {
  const secret = nextTrafficSecret(keys.suite, keys.secret, version);
  return new StoredPacketKeys(keys.suite, deriveAead(keys.suite, secret, version), keys.hp, secret);
}
