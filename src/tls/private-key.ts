/**
 * Loading a TLS identity: PEM armor (RFC 7468), the private key (PEM or DER) and the certificate chain,
 * and checking that they belong together. Configuration mistakes throw TlsConfigError.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { DerDecodeError, readTlv } from './der.js';

// ---- PEM (RFC 7468) ----

export interface PemBlock {
  label: string;
  der: Buffer;
  /** RFC 1421-style headers were present (e.g. legacy "Proc-Type: 4,ENCRYPTED"). */
  hasHeaders: boolean;
}

const PEM_BEGIN = /^-----BEGIN ([^-]*(?:-[^-]+)*)-----$/;
const PEM_END = /^-----END ([^-]*(?:-[^-]+)*)-----$/;

/** True when the input holds PEM armor rather than raw DER. */
export function looksLikePem(input: string | Uint8Array): boolean {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  return text.includes('-----BEGIN ');
}

/** All PEM blocks in `text`, in order; text outside blocks is ignored (RFC 7468 §5.2). */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let label: string | undefined;
  let body = '';
  let hasHeaders = false;
  let inHeaders = false;
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    const line = rawLine.trim();
    if (label === undefined) {
      const m = PEM_BEGIN.exec(line);
      if (m) {
        label = m[1]!;
        body = '';
        hasHeaders = false;
        inHeaders = true;
      }
      continue;
    }
    const end = PEM_END.exec(line);
    if (end) {
      if (end[1] !== label)
        throw new DerDecodeError(`PEM END label "${end[1]}" does not match BEGIN "${label}"`);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
        throw new DerDecodeError(`bad base64 in PEM block "${label}"`);
      }
      blocks.push({ label, der: Buffer.from(body, 'base64'), hasHeaders });
      label = undefined;
      continue;
    }
    if (inHeaders) {
      // RFC 1421 encapsulated headers ("Name: value") come right after BEGIN, then a blank line.
      if (line.includes(':')) {
        hasHeaders = true;
        continue;
      }
      if (line === '') continue;
      inHeaders = false;
    }
    body += line.replace(/\s+/g, '');
  }
  if (label !== undefined) throw new DerDecodeError(`PEM block "${label}" has no END line`);
  return blocks;
}

/** RFC 7468 §2: base64 in lines of 64 characters between BEGIN and END lines. */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// A TLS configuration problem (bad key, bad certificate, mismatched pair): a public error.
import { TlsConfigError } from '../errors/public-errors.js';

export { TlsConfigError };

/** Smallest RSA modulus accepted for an identity key. */
export const MIN_RSA_BITS = 2048;

const KEY_LABELS: Record<string, 'pkcs8' | 'sec1' | 'pkcs1'> = {
  'PRIVATE KEY': 'pkcs8', // RFC 5208 / RFC 5958
  'EC PRIVATE KEY': 'sec1', // RFC 5915
  'RSA PRIVATE KEY': 'pkcs1', // RFC 8017 Appendix A.1.2
};

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toText(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
}

function pemBlocks(input: string | Uint8Array, what: string) {
  try {
    return decodePem(toText(input));
  } catch (err) {
    throw new TlsConfigError(`invalid PEM ${what}: ${describe(err)}`);
  }
}

/** Rejects key types tsquic cannot sign CertificateVerify with (RFC 8446 §4.2.3). */
function checkKeyType(key: KeyObject): KeyObject {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (type === 'ed25519') return key;
  if (type === 'ec') {
    const curve = details?.namedCurve;
    if (curve === 'prime256v1' || curve === 'secp384r1') return key;
    throw new TlsConfigError(`unsupported EC curve ${curve ?? 'unknown'} (use P-256 or P-384)`);
  }
  if (type === 'rsa') {
    const bits = details?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS)
      throw new TlsConfigError(`RSA key of ${bits} bits is too small (minimum ${MIN_RSA_BITS})`);
    return key;
  }
  throw new TlsConfigError(
    `unsupported private key type ${type ?? 'unknown'} (use EC P-256/P-384, RSA or Ed25519)`,
  );
}

/**
 * Loads a private key: PEM ("PRIVATE KEY" PKCS#8, "EC PRIVATE KEY" SEC1, "RSA PRIVATE KEY" PKCS#1; other
 * blocks such as "EC PARAMETERS" are skipped) or DER (PKCS#8, also SEC1 or PKCS#1). EC P-256/P-384, RSA
 * (at least 2048 bits) or Ed25519; anything else, including encrypted keys, throws TlsConfigError.
 */
export function loadPrivateKey(pem: string | Uint8Array): KeyObject {
  if (looksLikePem(pem)) {
    const blocks = pemBlocks(pem, 'private key');
    for (const block of blocks) {
      if (block.label === 'ENCRYPTED PRIVATE KEY' || (block.hasHeaders && block.label in KEY_LABELS)) {
        throw new TlsConfigError('encrypted private keys are not supported; decrypt the key first');
      }
      const type = KEY_LABELS[block.label];
      if (type === undefined) continue;
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: block.der, format: 'der', type });
      } catch (err) {
        throw new TlsConfigError(`invalid ${block.label}: ${describe(err)}`);
      }
      return checkKeyType(key);
    }
    throw new TlsConfigError('no private key found in PEM input');
  }
  if (typeof pem === 'string') throw new TlsConfigError('private key string is not PEM');
  if (pem.length === 0) throw new TlsConfigError('empty private key');
  const der = Buffer.from(pem);
  let firstError: unknown;
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return checkKeyType(createPrivateKey({ key: der, format: 'der', type }));
    } catch (err) {
      if (err instanceof TlsConfigError) throw err;
      firstError ??= err;
    }
  }
  throw new TlsConfigError(`invalid DER private key: ${describe(firstError)}`);
}

function checkCertificateDer(der: Buffer, where: string): Buffer {
  try {
    // One complete DER value, nothing after it; X509Certificate then checks the structure.
    const tlv = readTlv(der, 0);
    if (tlv.end !== der.length) throw new DerDecodeError('trailing bytes after the certificate');
    new X509Certificate(der);
  } catch (err) {
    throw new TlsConfigError(`invalid certificate ${where}: ${describe(err)}`);
  }
  return der;
}

/**
 * A certificate chain as DER, leaf first: from a PEM bundle ("CERTIFICATE" blocks in order; other blocks
 * are ignored) or from one DER certificate. Throws TlsConfigError when empty or invalid.
 */
export function parseCertificateChain(input: string | Uint8Array): Buffer[] {
  if (looksLikePem(input)) {
    const certs = pemBlocks(input, 'certificate chain')
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b, i) => checkCertificateDer(b.der, `#${i} in the chain`));
    if (certs.length === 0) throw new TlsConfigError('no CERTIFICATE block in the PEM certificate chain');
    return certs;
  }
  if (typeof input === 'string') throw new TlsConfigError('certificate chain string is not PEM');
  if (input.length === 0) throw new TlsConfigError('empty certificate chain');
  return [checkCertificateDer(Buffer.from(input), '(DER)')];
}

/** Throws TlsConfigError unless `key` is the private key for the certificate's public key. */
export function assertKeyMatchesCertificate(key: KeyObject, certDer: Uint8Array): void {
  let certSpki: Buffer;
  let keySpki: Buffer;
  try {
    certSpki = new X509Certificate(Buffer.from(certDer)).publicKey.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new TlsConfigError(`invalid certificate: ${describe(err)}`);
  }
  try {
    keySpki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new TlsConfigError(`invalid private key: ${describe(err)}`);
  }
  if (!certSpki.equals(keySpki)) {
    throw new TlsConfigError('the private key does not match the certificate public key');
  }
}
