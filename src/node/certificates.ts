/**
 * Certificates for development and tests, as the public API offers them: the core builder
 * (src/tls/x509-builder.ts) takes the time as an argument like everything in the sans-IO core; here
 * the validity period defaults to the wall clock, so `createTestPki({ names: ['localhost'] })` works.
 */
import {
  createCertificate as buildCertificate,
  createTestPki as buildTestPki,
  type CertificateKeyType,
  type CertificateOptions,
  type GeneratedCertificate,
  type KeyPair,
} from '../tls/x509-builder.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

export type { CertificateKeyType, GeneratedCertificate, KeyPair };

/** Options of createCertificate(); the validity defaults to an hour ago until 90 days from now. */
export type CreateCertificateOptions = Omit<CertificateOptions, 'notBefore' | 'notAfter'> & {
  /** Milliseconds since the epoch; default: an hour ago. */
  notBefore?: number;
  /** Milliseconds since the epoch; default: 90 days from now. */
  notAfter?: number;
};

/** One X.509 certificate and its key pair, self-signed or signed by `issuer`. */
export function createCertificate(opts: CreateCertificateOptions): GeneratedCertificate {
  const now = Date.now();
  return buildCertificate({
    ...opts,
    notBefore: opts.notBefore ?? now - HOUR,
    notAfter: opts.notAfter ?? now + 90 * DAY,
  });
}

/**
 * A test CA and a leaf certificate signed by it for `names` (DNS names or IP literals), e.g.
 * `createTestPki({ names: ['localhost', '127.0.0.1'] })`. Pass `ca.certPem` as the client's `ca`
 * and `leaf.certPem`/`leaf.keyPem` as the server's `cert`/`key`. For development and tests only.
 */
export function createTestPki(opts: { names: string[]; now?: number; keyType?: CertificateKeyType }): {
  ca: GeneratedCertificate;
  leaf: GeneratedCertificate;
} {
  return buildTestPki({ ...opts, now: opts.now ?? Date.now() });
}
