/**
 * Certificate (RFC 8446 §4.4.2): X.509 entries only (no raw public keys are negotiated).
 */
import { AlertDescription, TlsAlertError } from '../alert.js';
import { HandshakeType } from '../codepoints.js';
import { type ExtensionBlock, readExtensions } from '../extensions.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';
import { TlsReader } from '../tls-reader.js';
import { TlsWriter } from '../tls-writer.js';

export interface CertificateEntry {
  certData: Uint8Array;
  extensions: ExtensionBlock;
}

export interface CertificateMessage {
  context: Uint8Array;
  entries: CertificateEntry[];
}

/** Bound on the number of certificates in a chain (the message size already bounds it; keep it sane). */
export const MAX_CHAIN_LENGTH = 16;

export function decodeCertificate(body: Uint8Array): CertificateMessage {
  const r = new TlsReader(body);
  const context = r.vector8('certificate_request_context');
  const list = r.sub24('certificate_list');
  r.expectEnd('Certificate');
  const entries: CertificateEntry[] = [];
  while (!list.atEnd) {
    const certData = list.vector24('cert_data', 1);
    const extensions = readExtensions(list, 'CertificateEntry');
    entries.push({ certData, extensions });
    if (entries.length > MAX_CHAIN_LENGTH) {
      throw new TlsAlertError(AlertDescription.bad_certificate, `more than ${MAX_CHAIN_LENGTH} certificates`);
    }
  }
  return { context, entries };
}

/** Certificate with empty per-entry extensions. */
export function encodeCertificate(context: Uint8Array, chain: readonly Uint8Array[]): Buffer {
  const w = new TlsWriter(2048);
  w.vector8(context);
  w.vector(3, () => {
    for (const der of chain) {
      w.vector24(der);
      w.u16(0);
    }
  });
  return frameHandshakeMessage(HandshakeType.certificate, w.finish());
}
