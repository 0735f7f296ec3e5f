/**
 * ClientHello (RFC 8446 §4.1.2).
 */
import { AlertDescription, TlsAlertError } from '../alert.js';
import { HandshakeType, LEGACY_VERSION } from '../codepoints.js';
import { type Extension, type ExtensionBlock, readExtensions, writeExtensions } from '../extensions.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';
import { TlsReader } from '../tls-reader.js';
import { TlsWriter } from '../tls-writer.js';

export interface ClientHello {
  legacyVersion: number;
  random: Uint8Array;
  legacySessionId: Uint8Array;
  cipherSuites: number[];
  compressionMethods: Uint8Array;
  extensions: ExtensionBlock;
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = new TlsReader(body);
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const legacySessionId = r.vector8('legacy_session_id');
  if (legacySessionId.length > 32) {
    // RFC 8446 §4.1.2: opaque legacy_session_id<0..32>
    throw new TlsAlertError(AlertDescription.decode_error, 'legacy_session_id longer than 32 bytes');
  }
  const suites = r.sub16('cipher_suites', 2);
  if (suites.remaining % 2 !== 0)
    throw new TlsAlertError(AlertDescription.decode_error, 'odd cipher_suites length');
  const cipherSuites: number[] = [];
  while (!suites.atEnd) cipherSuites.push(suites.u16('cipher suite'));
  const compressionMethods = r.vector8('legacy_compression_methods', 1);
  // RFC 8446 §4.1.2: a TLS 1.3 ClientHello always has extensions (at least supported_versions).
  const extensions = readExtensions(r, 'ClientHello', 8);
  r.expectEnd('ClientHello');
  return { legacyVersion, random, legacySessionId, cipherSuites, compressionMethods, extensions };
}

export interface ClientHelloFields {
  random: Uint8Array;
  cipherSuites: readonly number[];
  extensions: readonly Extension[];
}

/** Encodes a framed ClientHello with an empty legacy_session_id (RFC 9001 §8.4). */
export function encodeClientHello(f: ClientHelloFields): Buffer {
  const w = new TlsWriter(512);
  w.u16(LEGACY_VERSION);
  w.bytes(f.random);
  w.vector8(new Uint8Array(0));
  w.vector(2, () => {
    for (const s of f.cipherSuites) w.u16(s);
  });
  w.vector8(Uint8Array.of(0));
  writeExtensions(w, f.extensions);
  return frameHandshakeMessage(HandshakeType.client_hello, w.finish());
}
