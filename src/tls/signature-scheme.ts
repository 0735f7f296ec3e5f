/**
 * TLS 1.3 signature schemes (RFC 8446 §4.2.3) and the CertificateVerify signature (RFC 8446 §4.4.3).
 *
 * Signing and verifying use node:crypto; this module maps each SignatureScheme code point to the
 * exact algorithm parameters it stands for and checks that a key fits the scheme before using it.
 */
import { constants, type KeyObject, sign, verify } from 'node:crypto';
import { AlertDescription, TlsAlertError } from './alert.js';

/** RFC 8446 §4.2.3 SignatureScheme code points supported by tsquic. */
export enum SignatureScheme {
  rsa_pkcs1_sha256 = 0x0401,
  rsa_pkcs1_sha384 = 0x0501,
  rsa_pkcs1_sha512 = 0x0601,
  ecdsa_secp256r1_sha256 = 0x0403,
  ecdsa_secp384r1_sha384 = 0x0503,
  ecdsa_secp521r1_sha512 = 0x0603,
  rsa_pss_rsae_sha256 = 0x0804,
  rsa_pss_rsae_sha384 = 0x0805,
  rsa_pss_rsae_sha512 = 0x0806,
  ed25519 = 0x0807,
}

/**
 * What we advertise in signature_algorithms, in preference order. No rsa_pkcs1_*: RFC 8446 §4.2.3 and
 * §4.4.3 forbid RSASSA-PKCS1-v1_5 in CertificateVerify.
 */
export const HANDSHAKE_SIGNATURE_SCHEMES: readonly SignatureScheme[] = Object.freeze([
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.ed25519,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.ecdsa_secp521r1_sha512,
  SignatureScheme.rsa_pss_rsae_sha512,
]);

type SchemeFamily = 'ecdsa' | 'rsa-pss' | 'rsa-pkcs1' | 'ed25519';

interface SchemeParams {
  family: SchemeFamily;
  /** node:crypto digest name; null for Ed25519 (PureEdDSA hashes internally). */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  hashLength: number;
  /** OpenSSL curve name for ECDSA: RFC 8446 §4.2.3 binds each ECDSA scheme to one curve. */
  curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
}

const PARAMS = new Map<number, SchemeParams>([
  [SignatureScheme.rsa_pkcs1_sha256, { family: 'rsa-pkcs1', hash: 'sha256', hashLength: 32 }],
  [SignatureScheme.rsa_pkcs1_sha384, { family: 'rsa-pkcs1', hash: 'sha384', hashLength: 48 }],
  [SignatureScheme.rsa_pkcs1_sha512, { family: 'rsa-pkcs1', hash: 'sha512', hashLength: 64 }],
  [
    SignatureScheme.ecdsa_secp256r1_sha256,
    { family: 'ecdsa', hash: 'sha256', hashLength: 32, curve: 'prime256v1' },
  ],
  [
    SignatureScheme.ecdsa_secp384r1_sha384,
    { family: 'ecdsa', hash: 'sha384', hashLength: 48, curve: 'secp384r1' },
  ],
  [
    SignatureScheme.ecdsa_secp521r1_sha512,
    { family: 'ecdsa', hash: 'sha512', hashLength: 64, curve: 'secp521r1' },
  ],
  [SignatureScheme.rsa_pss_rsae_sha256, { family: 'rsa-pss', hash: 'sha256', hashLength: 32 }],
  [SignatureScheme.rsa_pss_rsae_sha384, { family: 'rsa-pss', hash: 'sha384', hashLength: 48 }],
  [SignatureScheme.rsa_pss_rsae_sha512, { family: 'rsa-pss', hash: 'sha512', hashLength: 64 }],
  [SignatureScheme.ed25519, { family: 'ed25519', hash: null, hashLength: 0 }],
]);

/** True when `scheme` may be used in a TLS 1.3 CertificateVerify (RFC 8446 §4.4.3). */
export function isHandshakeSignatureScheme(scheme: number): scheme is SignatureScheme {
  return (HANDSHAKE_SIGNATURE_SCHEMES as readonly number[]).includes(scheme);
}

/** A readable name such as "ecdsa_secp256r1_sha256", or "0x1234" for an unknown code point. */
export function signatureSchemeName(scheme: number): string {
  return SignatureScheme[scheme] ?? `0x${scheme.toString(16).padStart(4, '0')}`;
}

/** Whether `key` (public or private) can produce or check signatures of the given scheme. */
function keyFits(params: SchemeParams, key: KeyObject): boolean {
  if (key.type === 'secret') return false;
  const details = key.asymmetricKeyDetails;
  switch (params.family) {
    case 'ecdsa':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === params.curve;
    case 'ed25519':
      return key.asymmetricKeyType === 'ed25519';
    case 'rsa-pkcs1':
      // RFC 8017 §9.2: emLen >= tLen + 11, where tLen is the DigestInfo (19 bytes of prefix + hash).
      return key.asymmetricKeyType === 'rsa' && rsaModulusBytes(key) >= params.hashLength + 19 + 11;
    case 'rsa-pss':
      // RFC 8446 §4.2.3: rsa_pss_rsae_* uses an rsaEncryption key (not an id-RSASSA-PSS one), salt length
      // equal to the hash length; RFC 8017 §9.1.1 needs emLen >= hLen + sLen + 2.
      return key.asymmetricKeyType === 'rsa' && rsaModulusBytes(key) >= 2 * params.hashLength + 2;
  }
}

function rsaModulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  // RFC 8017 §9.1: emLen = ceil((modBits - 1) / 8).
  return Math.ceil((bits - 1) / 8);
}

/** Schemes this key can produce for CertificateVerify, best first (RFC 8446 §4.4.3: no rsa_pkcs1). */
export function schemesForKey(key: KeyObject): SignatureScheme[] {
  const out: SignatureScheme[] = [];
  for (const scheme of HANDSHAKE_SIGNATURE_SCHEMES) {
    const params = PARAMS.get(scheme);
    if (params !== undefined && keyFits(params, key)) out.push(scheme);
  }
  return out;
}

/**
 * Picks the scheme to sign CertificateVerify with: our best scheme for `key` that the peer offered in
 * signature_algorithms (RFC 8446 §4.4.3). Undefined when there is none (the caller then aborts with
 * handshake_failure, RFC 8446 §4.4.2.2).
 */
export function selectSignatureScheme(
  key: KeyObject,
  peerSchemes: readonly number[],
): SignatureScheme | undefined {
  for (const scheme of schemesForKey(key)) {
    if (peerSchemes.includes(scheme)) return scheme;
  }
  return undefined;
}

const CONTEXT_SERVER = Buffer.from('TLS 1.3, server CertificateVerify', 'latin1');
const CONTEXT_CLIENT = Buffer.from('TLS 1.3, client CertificateVerify', 'latin1');

/**
 * RFC 8446 §4.4.3: the signed content is 64 bytes of 0x20, the context string, a single 0x00 byte,
 * then the transcript hash (Transcript-Hash(Handshake Context, Certificate)).
 */
export function certificateVerifyContent(signer: 'server' | 'client', transcriptHash: Uint8Array): Buffer {
  const context = signer === 'server' ? CONTEXT_SERVER : CONTEXT_CLIENT;
  const out = Buffer.alloc(64 + context.length + 1 + transcriptHash.length, 0x20);
  context.copy(out, 64);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}

/**
 * Signs `content` with `key` under `scheme`. Throws TlsAlertError(internal_error) when the key does
 * not fit the scheme: the caller chose the scheme with selectSignatureScheme, so that is a local bug.
 */
export function signWithScheme(scheme: SignatureScheme, key: KeyObject, content: Uint8Array): Buffer {
  const params = PARAMS.get(scheme);
  if (params === undefined) {
    throw new TlsAlertError(
      AlertDescription.internal_error,
      `unsupported signature scheme ${signatureSchemeName(scheme)}`,
    );
  }
  if (key.type !== 'private' || !keyFits(params, key)) {
    throw new TlsAlertError(
      AlertDescription.internal_error,
      `a ${key.type} ${key.asymmetricKeyType ?? 'secret'} key cannot sign with ${signatureSchemeName(scheme)}`,
    );
  }
  try {
    switch (params.family) {
      case 'ed25519':
        return sign(null, content, key);
      case 'ecdsa':
        // RFC 8446 §4.2.3: the ECDSA signature is the DER-encoded ECDSA-Sig-Value.
        return sign(params.hash, content, { key, dsaEncoding: 'der' });
      case 'rsa-pss':
        // RFC 8446 §4.2.3: MGF1 with the same hash, salt length equal to the digest length.
        return sign(params.hash, content, {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: params.hashLength,
        });
      case 'rsa-pkcs1':
        return sign(params.hash, content, { key, padding: constants.RSA_PKCS1_PADDING });
    }
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new TlsAlertError(AlertDescription.internal_error, `signing failed: ${detail}`);
  }
}

/**
 * Verifies `signature` over `content`. Never throws: false for a bad signature, an unknown scheme, a
 * key that does not fit the scheme (RFC 8446 §4.2.3: ECDSA curve bound to the scheme, rsae keys for
 * RSA-PSS), or garbage input.
 */
export function verifyWithScheme(
  scheme: number,
  publicKey: KeyObject,
  content: Uint8Array,
  signature: Uint8Array,
): boolean {
  const params = PARAMS.get(scheme);
  if (params === undefined) return false;
  try {
    if (!keyFits(params, publicKey)) return false;
    switch (params.family) {
      case 'ed25519':
        return verify(null, content, publicKey, signature);
      case 'ecdsa':
        return verify(params.hash, content, { key: publicKey, dsaEncoding: 'der' }, signature);
      case 'rsa-pss':
        return verify(
          params.hash,
          content,
          { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.hashLength },
          signature,
        );
      case 'rsa-pkcs1':
        return verify(
          params.hash,
          content,
          { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
          signature,
        );
    }
  } catch {
    return false;
  }
}
