/**
 * ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4): the same structure, told apart by the
 * special random value.
 */
import { AlertDescription, TlsAlertError } from '../alert.js';
import { HandshakeType, HELLO_RETRY_REQUEST_RANDOM, LEGACY_VERSION } from '../codepoints.js';
import { type Extension, type ExtensionBlock, readExtensions, writeExtensions } from '../extensions.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';
import { TlsReader } from '../tls-reader.js';
import { TlsWriter } from '../tls-writer.js';

export interface ServerHello {
  legacyVersion: number;
  random: Uint8Array;
  legacySessionIdEcho: Uint8Array;
  cipherSuite: number;
  compressionMethod: number;
  extensions: ExtensionBlock;
  isHelloRetryRequest: boolean;
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = new TlsReader(body);
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const legacySessionIdEcho = r.vector8('legacy_session_id_echo');
  if (legacySessionIdEcho.length > 32) {
    throw new TlsAlertError(AlertDescription.decode_error, 'legacy_session_id_echo longer than 32 bytes');
  }
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('legacy_compression_method');
  // RFC 8446 §4.1.3: Extension extensions<6..2^16-1> (supported_versions is mandatory).
  const extensions = readExtensions(r, 'ServerHello', 6);
  r.expectEnd('ServerHello');
  const isHelloRetryRequest = Buffer.from(random).equals(HELLO_RETRY_REQUEST_RANDOM);
  return {
    legacyVersion,
    random,
    legacySessionIdEcho,
    cipherSuite,
    compressionMethod,
    extensions,
    isHelloRetryRequest,
  };
}

export interface ServerHelloFields {
  /** 32 random bytes, or HELLO_RETRY_REQUEST_RANDOM for a HelloRetryRequest. */
  random: Uint8Array;
  legacySessionIdEcho: Uint8Array;
  cipherSuite: number;
  extensions: readonly Extension[];
}

export function encodeServerHello(f: ServerHelloFields): Buffer {
  const w = new TlsWriter(128);
  w.u16(LEGACY_VERSION);
  w.bytes(f.random);
  w.vector8(f.legacySessionIdEcho);
  w.u16(f.cipherSuite);
  w.u8(0);
  writeExtensions(w, f.extensions);
  return frameHandshakeMessage(HandshakeType.server_hello, w.finish());
}
