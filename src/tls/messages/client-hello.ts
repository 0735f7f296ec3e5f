/**
 * ClientHello (RFC 8446 §4.1.2).
 */
import { AlertDescription, TlsAlertError } from '../alert.js';
import { HandshakeType, LEGACY_VERSION } from '../codepoints.js';
import { type Extension, type ExtensionBlock, readExtensions } from '../extensions.js';
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

/**
 * Writes a framed ClientHello with an empty legacy_session_id (RFC 9001 §8.4) into `w`;
 * `extensions` writes the entries of its extension list (each type, then its length-prefixed data).
 */
export function writeClientHello(
  w: TlsWriter,
  random: Uint8Array,
  cipherSuites: readonly number[],
  extensions: (w: TlsWriter) => void,
): void {
  w.u8(HandshakeType.client_hello);
  w.vector(3, () => {
    w.u16(LEGACY_VERSION);
    w.bytes(random);
    w.u8(0); // legacy_session_id: empty
    w.vector(2, () => {
      for (const s of cipherSuites) w.u16(s);
    });
    w.u8(1).u8(0); // legacy_compression_methods: the null method only
    w.vector(2, extensions);
  });
}

/** Encodes a framed ClientHello with an empty legacy_session_id (RFC 9001 §8.4). */
export function encodeClientHello(f: ClientHelloFields): Buffer {
  const w = new TlsWriter(512);
  writeClientHello(w, f.random, f.cipherSuites, () => {
    for (const e of f.extensions) w.u16(e.type).vector16(e.data);
  });
  return w.finish();
}
