/**
 * The client's checks of the server's authentication messages (RFC 8446 §4.4.2, §4.4.3): the
 * Certificate message and chain verification, then the CertificateVerify signature.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import type { Millis } from '../util/time.js';
import { AlertDescription, TlsAlertError } from './alert.js';
import { verifyCertificateChain } from './certificate-verifier.js';
import { ExtensionType } from './codepoints.js';
import { checkAllowedExtensions, checkSolicitedExtensions } from './extensions.js';
import { decodeCertificate } from './messages/certificate.js';
import { decodeCertificateVerify } from './messages/certificate-verify.js';
import {
  certificateVerifyContent,
  HANDSHAKE_SIGNATURE_SCHEMES,
  verifyWithScheme,
} from './signature-scheme.js';

export interface ServerCertificateOptions {
  serverName: string | undefined;
  ca: Array<string | Uint8Array> | undefined;
  insecureSkipVerify: boolean;
  /** ClientHello extensions sent (certificate entry extensions must answer one of them). */
  sentExtensions: ReadonlySet<number>;
  now: Millis;
}

export interface AuthenticatedChain {
  /** DER certificates, leaf first (copies). */
  chain: Buffer[];
  /** The leaf's public key, for CertificateVerify. */
  key: KeyObject;
}

/** Decodes and verifies the server's Certificate message; throws the matching alert on failure. */
export function verifyServerCertificate(
  body: Uint8Array,
  opts: ServerCertificateOptions,
): AuthenticatedChain {
  const cert = decodeCertificate(body);
  // RFC 8446 §4.4.2: the context is empty for server authentication.
  if (cert.context.length !== 0) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'server Certificate with a request context');
  }
  // RFC 8446 §4.4.2.4: an empty server certificate list -> decode_error.
  if (cert.entries.length === 0)
    throw new TlsAlertError(AlertDescription.decode_error, 'empty server certificate list');
  for (const entry of cert.entries) {
    // RFC 8446 §4.4.2: entry extensions must correspond to ClientHello extensions.
    checkSolicitedExtensions(entry.extensions, opts.sentExtensions, 'CertificateEntry');
    checkAllowedExtensions(
      entry.extensions,
      [ExtensionType.status_request, ExtensionType.signed_certificate_timestamp],
      'CertificateEntry',
    );
  }
  const chain = cert.entries.map((e) => Buffer.from(e.certData));
  if (opts.insecureSkipVerify) {
    try {
      return { chain, key: new X509Certificate(chain[0]!).publicKey };
    } catch {
      throw new TlsAlertError(AlertDescription.bad_certificate, 'unparseable server certificate');
    }
  }
  const result = verifyCertificateChain(chain, { serverName: opts.serverName, ca: opts.ca, now: opts.now });
  if (!result.ok) throw new TlsAlertError(result.alert, `server certificate rejected: ${result.reason}`);
  return { chain, key: result.leafKey };
}

/** Verifies the server's CertificateVerify over `transcriptHash` (through the Certificate). */
export function verifyServerCertificateVerify(
  body: Uint8Array,
  key: KeyObject,
  transcriptHash: Uint8Array,
): void {
  const cv = decodeCertificateVerify(body);
  // RFC 8446 §4.4.3: the scheme must be one offered in signature_algorithms.
  if (!(HANDSHAKE_SIGNATURE_SCHEMES as readonly number[]).includes(cv.scheme)) {
    throw new TlsAlertError(
      AlertDescription.illegal_parameter,
      `CertificateVerify scheme ${cv.scheme} not offered`,
    );
  }
  const content = certificateVerifyContent('server', transcriptHash);
  if (!verifyWithScheme(cv.scheme, key, content, cv.signature)) {
    // RFC 8446 §4.4.3: a signature that does not verify -> decrypt_error.
    throw new TlsAlertError(AlertDescription.decrypt_error, 'server CertificateVerify signature is invalid');
  }
}
