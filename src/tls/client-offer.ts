/**
 * The server's view of a ClientHello: every extension it uses, decoded and validated (RFC 8446 §4.1.2,
 * §4.2; RFC 9001 §8), and the rules a second ClientHello must follow after a HelloRetryRequest.
 */
import { AlertDescription, TlsAlertError } from './alert.js';
import { ExtensionType, TLS13_VERSION } from './codepoints.js';
import {
  decodeAlpn,
  decodeCookie,
  decodeKeyShareClient,
  decodeOfferedPsks,
  decodePskModes,
  decodeServerName,
  decodeSignatureAlgorithms,
  decodeSupportedGroups,
  decodeSupportedVersionsClient,
  expectEmptyExtension,
  type KeyShareEntry,
  type OfferedPsks,
} from './extensions.js';
import { type ClientHello, decodeClientHello } from './messages/client-hello.js';

export interface ClientOffer {
  ch: ClientHello;
  /** The framed message, for the transcript and binders. */
  raw: Uint8Array;
  groups: number[];
  shares: KeyShareEntry[];
  signatureAlgorithms: number[] | undefined;
  alpn: Uint8Array[];
  serverName: string | undefined;
  transportParameters: Uint8Array;
  pskModes: number[];
  psks: OfferedPsks | undefined;
  earlyData: boolean;
  cookie: Uint8Array | undefined;
}

export function parseClientOffer(raw: Uint8Array): ClientOffer {
  const ch = decodeClientHello(raw.subarray(4));
  const e = ch.extensions;
  const sv = e.get(ExtensionType.supported_versions);
  // RFC 8446 §4.2.1: TLS 1.3 only; RFC 9001 §4.2: older versions must not be negotiated.
  if (sv === undefined || !decodeSupportedVersionsClient(sv).includes(TLS13_VERSION)) {
    throw new TlsAlertError(AlertDescription.protocol_version, 'client does not offer TLS 1.3');
  }
  // RFC 8446 §4.1.2: exactly one null compression method.
  if (ch.compressionMethods.length !== 1 || ch.compressionMethods[0] !== 0) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'legacy_compression_methods must be [null]');
  }
  // RFC 9001 §8.4: no middlebox compatibility mode.
  if (ch.legacySessionId.length !== 0) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'non-empty legacy_session_id');
  }
  // RFC 8446 §4.2.11: pre_shared_key must be the last extension.
  const pskIndex = e.order.indexOf(ExtensionType.pre_shared_key);
  if (pskIndex >= 0 && pskIndex !== e.order.length - 1) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'pre_shared_key is not the last extension');
  }
  const tp = e.get(ExtensionType.quic_transport_parameters);
  // RFC 9001 §8.2: missing quic_transport_parameters -> missing_extension.
  if (tp === undefined)
    throw new TlsAlertError(AlertDescription.missing_extension, 'no quic_transport_parameters');
  const groupsData = e.get(ExtensionType.supported_groups);
  const sharesData = e.get(ExtensionType.key_share);
  // RFC 8446 §9.2: we only do (EC)DHE (psk_dhe_ke), so both are required.
  if (groupsData === undefined || sharesData === undefined) {
    throw new TlsAlertError(
      AlertDescription.missing_extension,
      'supported_groups and key_share are required',
    );
  }
  const groups = decodeSupportedGroups(groupsData);
  const shares = decodeKeyShareClient(sharesData);
  // RFC 8446 §4.2.8: each share must be for a group in supported_groups.
  for (const s of shares) {
    if (!groups.includes(s.group)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `key share for unlisted group ${s.group}`);
    }
  }
  const sa = e.get(ExtensionType.signature_algorithms);
  const alpn = e.get(ExtensionType.application_layer_protocol_negotiation);
  const sni = e.get(ExtensionType.server_name);
  const modes = e.get(ExtensionType.psk_key_exchange_modes);
  const psk = e.get(ExtensionType.pre_shared_key);
  // RFC 8446 §4.2.9: pre_shared_key without psk_key_exchange_modes -> abort.
  if (psk !== undefined && modes === undefined) {
    throw new TlsAlertError(
      AlertDescription.missing_extension,
      'pre_shared_key without psk_key_exchange_modes',
    );
  }
  const earlyData = e.get(ExtensionType.early_data);
  if (earlyData !== undefined) expectEmptyExtension(earlyData, 'early_data in ClientHello');
  const cookie = e.get(ExtensionType.cookie);
  return {
    ch,
    raw,
    groups,
    shares,
    signatureAlgorithms: sa === undefined ? undefined : decodeSignatureAlgorithms(sa),
    alpn: alpn === undefined ? [] : decodeAlpn(alpn),
    serverName: sni === undefined ? undefined : decodeServerName(sni),
    transportParameters: tp,
    pskModes: modes === undefined ? [] : decodePskModes(modes),
    psks: psk === undefined ? undefined : decodeOfferedPsks(psk),
    earlyData: earlyData !== undefined,
    cookie: cookie === undefined ? undefined : decodeCookie(cookie),
  };
}

/** ClientHello2 extensions that must be byte-identical to ClientHello1's (RFC 8446 §4.1.2). */
const UNCHANGED_AFTER_HRR: readonly number[] = [
  ExtensionType.server_name,
  ExtensionType.supported_versions,
  ExtensionType.supported_groups,
  ExtensionType.signature_algorithms,
  ExtensionType.application_layer_protocol_negotiation,
  ExtensionType.quic_transport_parameters,
  ExtensionType.psk_key_exchange_modes,
];

/**
 * RFC 8446 §4.1.2: ClientHello2 repeats ClientHello1 except that key_share holds one share of the
 * group the HelloRetryRequest asked for, early_data is removed, a cookie is echoed only if one was sent
 * (this server sends none) and pre_shared_key / padding may change.
 */
export function checkSecondClientHello(first: ClientOffer, second: ClientOffer, group: number): void {
  const bad = (what: string) =>
    new TlsAlertError(AlertDescription.illegal_parameter, `second ClientHello changed ${what}`);
  const a = first.ch;
  const b = second.ch;
  if (!Buffer.from(a.random).equals(b.random)) throw bad('random');
  if (
    a.cipherSuites.length !== b.cipherSuites.length ||
    a.cipherSuites.some((s, i) => s !== b.cipherSuites[i])
  ) {
    throw bad('cipher_suites');
  }
  for (const type of UNCHANGED_AFTER_HRR) {
    const x = a.extensions.get(type);
    const y = b.extensions.get(type);
    if ((x === undefined) !== (y === undefined) || (x && y && !Buffer.from(x).equals(y))) {
      throw bad(`extension ${type}`);
    }
  }
  if (second.earlyData) throw bad('early_data (must be removed)');
  if (second.shares.length !== 1 || second.shares[0]!.group !== group) throw bad('key_share');
  if (second.cookie !== undefined) throw bad('cookie');
}
