/**
 * TLS 1.3 registry values used by the engine (RFC 8446 §4, §B.3; RFC 9001 §8.2).
 */

/** Handshake message types (RFC 8446 §4, B.3). */
export enum HandshakeType {
  client_hello = 1,
  server_hello = 2,
  new_session_ticket = 4,
  end_of_early_data = 5,
  encrypted_extensions = 8,
  certificate = 11,
  certificate_request = 13,
  certificate_verify = 15,
  finished = 20,
  key_update = 24,
  message_hash = 254,
}

/** Extension types (RFC 8446 §4.2, RFC 9001 §8.2). */
export enum ExtensionType {
  server_name = 0,
  max_fragment_length = 1,
  status_request = 5,
  supported_groups = 10,
  signature_algorithms = 13,
  use_srtp = 14,
  heartbeat = 15,
  application_layer_protocol_negotiation = 16,
  signed_certificate_timestamp = 18,
  client_certificate_type = 19,
  server_certificate_type = 20,
  padding = 21,
  pre_shared_key = 41,
  early_data = 42,
  supported_versions = 43,
  cookie = 44,
  psk_key_exchange_modes = 45,
  certificate_authorities = 47,
  oid_filters = 48,
  post_handshake_auth = 49,
  signature_algorithms_cert = 50,
  key_share = 51,
  quic_transport_parameters = 0x39,
}

/** Named groups (RFC 8446 §4.2.7). */
export enum NamedGroup {
  secp256r1 = 0x0017,
  secp384r1 = 0x0018,
  x25519 = 0x001d,
}

/** RFC 8446 §4.2.9 */
export enum PskKeyExchangeMode {
  psk_ke = 0,
  psk_dhe_ke = 1,
}

/** RFC 8446 §4.2.1: the version number of TLS 1.3 in supported_versions. */
export const TLS13_VERSION = 0x0304;
/** RFC 8446 §4.1.2: legacy_version of every TLS 1.3 ClientHello / ServerHello. */
export const LEGACY_VERSION = 0x0303;

/** RFC 8446 §4.1.3: ServerHello.random of a HelloRetryRequest = SHA-256("HelloRetryRequest"). */
export const HELLO_RETRY_REQUEST_RANDOM: Uint8Array = Uint8Array.from(
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
);

/** RFC 8446 §4.1.3: downgrade sentinels in the last 8 bytes of ServerHello.random. */
export const DOWNGRADE_TLS12: Uint8Array = Uint8Array.from(Buffer.from('444f574e47524401', 'hex'));
export const DOWNGRADE_TLS11: Uint8Array = Uint8Array.from(Buffer.from('444f574e47524400', 'hex'));

/** RFC 9001 §4.6.1: the only max_early_data_size a QUIC server may send. */
export const QUIC_MAX_EARLY_DATA_SIZE = 0xffffffff;

/** Named group <-> name used in the configuration. */
export function namedGroupFromName(name: 'x25519' | 'secp256r1' | 'secp384r1'): NamedGroup {
  switch (name) {
    case 'x25519':
      return NamedGroup.x25519;
    case 'secp256r1':
      return NamedGroup.secp256r1;
    case 'secp384r1':
      return NamedGroup.secp384r1;
  }
}

export function isSupportedGroup(value: number): value is NamedGroup {
  return value === NamedGroup.x25519 || value === NamedGroup.secp256r1 || value === NamedGroup.secp384r1;
}
