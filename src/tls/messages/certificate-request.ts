/**
 * CertificateRequest (RFC 8446 §4.3.2).
 */
import { HandshakeType } from '../codepoints.js';
import { type Extension, type ExtensionBlock, readExtensions, writeExtensions } from '../extensions.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';
import { TlsReader } from '../tls-reader.js';
import { TlsWriter } from '../tls-writer.js';

export interface CertificateRequest {
  context: Uint8Array;
  extensions: ExtensionBlock;
}

export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  const r = new TlsReader(body);
  const context = r.vector8('certificate_request_context');
  // RFC 8446 §4.3.2: Extension extensions<2..2^16-1>
  const extensions = readExtensions(r, 'CertificateRequest', 2);
  r.expectEnd('CertificateRequest');
  return { context, extensions };
}

export function encodeCertificateRequest(context: Uint8Array, extensions: readonly Extension[]): Buffer {
  const w = new TlsWriter(64);
  w.vector8(context);
  writeExtensions(w, extensions);
  return frameHandshakeMessage(HandshakeType.certificate_request, w.finish());
}
