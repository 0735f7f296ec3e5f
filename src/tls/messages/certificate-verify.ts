/**
 * CertificateVerify (RFC 8446 §4.4.3).
 */
import { HandshakeType } from '../codepoints.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';
import { TlsReader } from '../tls-reader.js';
import { TlsWriter } from '../tls-writer.js';

export interface CertificateVerify {
  scheme: number;
  signature: Uint8Array;
}

export function decodeCertificateVerify(body: Uint8Array): CertificateVerify {
  const r = new TlsReader(body);
  const scheme = r.u16('signature scheme');
  const signature = r.vector16('signature', 1);
  r.expectEnd('CertificateVerify');
  return { scheme, signature };
}

export function encodeCertificateVerify(scheme: number, signature: Uint8Array): Buffer {
  const w = new TlsWriter(16 + signature.length);
  w.u16(scheme);
  w.vector16(signature);
  return frameHandshakeMessage(HandshakeType.certificate_verify, w.finish());
}
