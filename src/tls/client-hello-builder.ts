/**
 * Building the client's ClientHello for QUIC (RFC 8446 §4.1.2, RFC 9001 §8): extensions in a fixed
 * order with pre_shared_key last, and the PSK binder computed over the truncated message
 * (RFC 8446 §4.2.11.2) and patched in.
 */
import { type CipherSuite, cipherSuiteParams } from '../crypto/cipher-suite.js';
import { hashLength } from '../crypto/hkdf.js';
import type { Millis } from '../util/time.js';
import { ExtensionType, PskKeyExchangeMode, TLS13_VERSION } from './codepoints.js';
import {
  encodeAlpn,
  encodeCookie,
  encodeKeyShareClient,
  encodeOfferedPsks,
  encodePskModes,
  encodeServerName,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  encodeSupportedVersionsClient,
} from './extensions.js';
import type { KeyShare } from './key-exchange.js';
import { KeySchedule } from './key-schedule.js';
import { writeClientHello } from './messages/client-hello.js';
import { obfuscateTicketAge, patchSingleBinder, singleBinderListLength, truncateClientHello } from './psk.js';
import { HANDSHAKE_SIGNATURE_SCHEMES } from './signature-scheme.js';
import { TlsWriter } from './tls-writer.js';
import type { TranscriptHash } from './transcript-hash.js';
import type { ResumptionSession } from './types.js';

export interface ClientHelloParams {
  random: Uint8Array;
  suites: readonly CipherSuite[];
  groups: readonly number[];
  alpn: readonly Uint8Array[];
  transportParameters: Uint8Array;
  /** SNI host name; absent for IP literals. */
  sniHost: string | undefined;
  keyShare: KeyShare;
  /** Echoed from a HelloRetryRequest (RFC 8446 §4.2.2). */
  cookie: Uint8Array | undefined;
  /** Include the early_data extension (never after a HelloRetryRequest). */
  earlyData: boolean;
  /** The session offered as PSK, if any. */
  psk: ResumptionSession | undefined;
  now: Millis;
  /** Messages before this ClientHello (empty, or message_hash + HelloRetryRequest) for the binder. */
  transcript: TranscriptHash;
}

export interface BuiltClientHello {
  message: Buffer;
  /** Extension types sent: responses to anything else are unsolicited (RFC 8446 §4.2). */
  sent: Set<number>;
}

export function buildClientHello(p: ClientHelloParams): BuiltClientHello {
  // One writer for the whole message, extensions written in place: a writer and a copy per
  // extension cost ~20 us of every dial with the caches cold (issue 13).
  const sent = new Set<number>();
  const s = p.psk;
  const hash = s ? cipherSuiteParams(s.suite).hash : 'sha256';
  const binderLength = hashLength(hash);
  const w = new TlsWriter(1024);
  const extension = (type: number, body: (w: TlsWriter) => void) => {
    sent.add(type);
    w.u16(type).vector(2, body);
  };
  writeClientHello(w, p.random, p.suites, () => {
    const sniHost = p.sniHost;
    if (sniHost !== undefined) extension(ExtensionType.server_name, (w) => encodeServerName(w, sniHost));
    // RFC 9001 §4.2: TLS 1.3 only.
    extension(ExtensionType.supported_versions, (w) => encodeSupportedVersionsClient(w, [TLS13_VERSION]));
    extension(ExtensionType.supported_groups, (w) => encodeSupportedGroups(w, p.groups));
    extension(ExtensionType.key_share, (w) =>
      encodeKeyShareClient(w, [{ group: p.keyShare.group, keyExchange: p.keyShare.publicKey }]),
    );
    extension(ExtensionType.signature_algorithms, (w) =>
      encodeSignatureAlgorithms(w, HANDSHAKE_SIGNATURE_SCHEMES),
    );
    // RFC 9001 §8.1: ALPN is mandatory; §8.2: the transport parameters.
    extension(ExtensionType.application_layer_protocol_negotiation, (w) => encodeAlpn(w, p.alpn));
    extension(ExtensionType.quic_transport_parameters, (w) => w.bytes(p.transportParameters));
    // RFC 8446 §4.2.9: psk_dhe_ke only (also tells the server which tickets we can use).
    extension(ExtensionType.psk_key_exchange_modes, (w) =>
      encodePskModes(w, [PskKeyExchangeMode.psk_dhe_ke]),
    );
    const cookie = p.cookie;
    if (cookie) extension(ExtensionType.cookie, (w) => encodeCookie(w, cookie));
    if (p.earlyData) extension(ExtensionType.early_data, () => {});
    if (s) {
      // RFC 8446 §4.2.11: pre_shared_key is the last extension; a zero binder is patched below.
      const identity = {
        identity: s.ticket,
        obfuscatedTicketAge: obfuscateTicketAge(p.now - s.receivedAt, s.ticketAgeAdd),
      };
      extension(ExtensionType.pre_shared_key, (w) =>
        encodeOfferedPsks(w, [identity], [new Uint8Array(binderLength)]),
      );
    }
  });
  const message = w.finish();
  if (s) {
    // RFC 8446 §4.2.11.2: binder = HMAC over Transcript-Hash(prefix, Truncate(ClientHello)).
    const truncated = truncateClientHello(message, singleBinderListLength(binderLength));
    const binder = new KeySchedule(hash, s.psk).binder(p.transcript.digestWith(truncated, hash));
    patchSingleBinder(message, binder);
  }
  return { message, sent };
}
