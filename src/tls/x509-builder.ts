/**
 * Builds X.509 v3 certificates (RFC 5280 §4.1) for tests, the demo and self-signed deployments: a CA,
 * intermediates and leaves with subjectAltName, basicConstraints, keyUsage and extendedKeyUsage.
 *
 * Validity is explicit (no clock is read). Keys come from node:crypto's generator unless a key pair
 * is passed in.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import type { Millis } from '../util/time.js';
import { ipAddressToBytes } from './certificate-verifier.js';
import {
  DerTag,
  decodeBitString,
  derBitString,
  derBoolean,
  derChildren,
  derContext,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derUtf8String,
  expectUniversal,
  KeyUsageBit,
  OID,
  parseDer,
  readCertificateInfo,
} from './der.js';
import { encodePem, TlsConfigError } from './private-key.js';

export type CertificateKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'ed25519';

export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface CertificateOptions {
  commonName: string;
  /** subjectAltName dNSName entries (RFC 5280 §4.2.1.6), e.g. "example.com" or "*.example.com". */
  dnsNames?: string[];
  /** subjectAltName iPAddress entries, IPv4 or IPv6 literals. */
  ipAddresses?: string[];
  notBefore: Millis;
  notAfter: Millis;
  /** Default 'ec-p256'. Ignored when keyPair is given. */
  keyType?: CertificateKeyType;
  keyPair?: KeyPair;
  /** basicConstraints cA (critical) and keyUsage keyCertSign + cRLSign. */
  isCA?: boolean;
  /** basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9); only with isCA. */
  pathLength?: number;
  /** Overrides the default keyUsage; an empty list omits the extension. */
  keyUsage?: KeyUsageName[];
  /** Default ['serverAuth', 'clientAuth'] for leaves, none for CAs; an empty list omits the extension. */
  extendedKeyUsage?: Array<'serverAuth' | 'clientAuth'>;
  /** The signer; absent = self-signed. */
  issuer?: GeneratedCertificate;
  /** Positive serial number, big-endian; default derived from the public key hash. */
  serialNumber?: Uint8Array;
  /**
   * nameConstraints for a CA (RFC 5280 §4.2.1.10, critical): DNS names ("example.com") or IP ranges in
   * CIDR form ("10.0.0.0/8", "2001:db8::/32").
   */
  nameConstraints?: { permitted?: string[]; excluded?: string[] };
  /** Further extensions, verbatim (for negative tests). */
  extraExtensions?: Array<{ oid: string; critical: boolean; value: Uint8Array }>;
}

export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
  certDer: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  x509: X509Certificate;
}

interface SignatureAlgorithm {
  /** AlgorithmIdentifier DER (RFC 5280 §4.1.1.2). */
  identifier: Buffer;
  hash: 'sha256' | 'sha384' | 'sha512' | null;
}

const DAY: Millis = 24 * 60 * 60 * 1000;

function generateKeyPair(type: CertificateKeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (type) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
}

/** The certificate signature algorithm for an issuer key (RFC 5758 §3.2, RFC 4055 §5, RFC 8410 §3). */
function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    switch (key.asymmetricKeyDetails?.namedCurve) {
      case 'prime256v1':
        return { identifier: derSequence(derOid('1.2.840.10045.4.3.2')), hash: 'sha256' };
      case 'secp384r1':
        return { identifier: derSequence(derOid('1.2.840.10045.4.3.3')), hash: 'sha384' };
      case 'secp521r1':
        return { identifier: derSequence(derOid('1.2.840.10045.4.3.4')), hash: 'sha512' };
    }
  } else if (type === 'rsa') {
    // sha256WithRSAEncryption with NULL parameters (RFC 4055 §5).
    return { identifier: derSequence(derOid('1.2.840.113549.1.1.11'), derNull()), hash: 'sha256' };
  } else if (type === 'ed25519') {
    // RFC 8410 §3: parameters absent.
    return { identifier: derSequence(derOid('1.3.101.112')), hash: null };
  }
  throw new TlsConfigError(`cannot sign certificates with a ${type ?? 'unknown'} key`);
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
function keyIdentifier(spki: Uint8Array): Buffer {
  const [, bits] = derChildren(expectUniversal(parseDer(spki), DerTag.Sequence, 'SubjectPublicKeyInfo'));
  const { data } = decodeBitString(expectUniversal(bits, DerTag.BitString, 'subjectPublicKey'));
  return createHash('sha1').update(data).digest();
}

function extension(oid: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? derSequence(derOid(oid), derBoolean(true), derOctetString(value))
    : derSequence(derOid(oid), derOctetString(value));
}

/** KeyUsage as a named-bit BIT STRING without trailing zero bits (X.690 §11.2.2). */
function keyUsageValue(names: KeyUsageName[]): Buffer | undefined {
  let mask = 0;
  for (const n of names) mask |= 1 << KeyUsageBit[n];
  if (mask === 0) return undefined;
  const highest = 31 - Math.clz32(mask);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (let bit = 0; bit <= highest; bit++) {
    if ((mask & (1 << bit)) !== 0) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  }
  return derBitString(bytes, 7 - (highest & 7));
}

function subjectAltName(dnsNames: string[], ipAddresses: string[]): Buffer | undefined {
  if (dnsNames.length === 0 && ipAddresses.length === 0) return undefined;
  const names: Buffer[] = [];
  for (const dns of dnsNames) {
    // dNSName is an IA5String (RFC 5280 §4.2.1.6): ASCII only, A-labels for IDNs.
    if (dns.length === 0 || !/^[\x21-\x7e]+$/.test(dns))
      throw new TlsConfigError(`invalid DNS name ${JSON.stringify(dns)}`);
    names.push(derContext(2, Buffer.from(dns, 'latin1'), false));
  }
  for (const ip of ipAddresses) {
    const bytes = ipAddressToBytes(ip);
    if (bytes === undefined) throw new TlsConfigError(`invalid IP address ${JSON.stringify(ip)}`);
    names.push(derContext(7, bytes, false));
  }
  return derSequence(...names);
}

/** GeneralSubtree for a DNS name or an IP range in CIDR notation (RFC 5280 §4.2.1.10). */
function generalSubtree(entry: string): Buffer {
  const slash = entry.indexOf('/');
  if (slash < 0) return derSequence(derContext(2, Buffer.from(entry, 'latin1'), false));
  const address = ipAddressToBytes(entry.slice(0, slash));
  const prefix = Number(entry.slice(slash + 1));
  if (address === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > address.length * 8) {
    throw new TlsConfigError(`invalid IP range ${JSON.stringify(entry)}`);
  }
  const mask = Buffer.alloc(address.length);
  for (let i = 0; i < prefix; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
  return derSequence(derContext(7, Buffer.concat([address, mask]), false));
}

function defaultSerial(spki: Uint8Array, subject: Uint8Array, notBefore: Millis, notAfter: Millis): Buffer {
  const h = createHash('sha256').update(spki).update(subject).update(`${notBefore}/${notAfter}`).digest();
  const serial = h.subarray(0, 16);
  // RFC 5280 §4.1.2.2: a positive integer of at most 20 octets; keep it 16 octets long.
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

/** Creates and signs one certificate. Throws TlsConfigError on unusable options. */
export function createCertificate(opts: CertificateOptions): GeneratedCertificate {
  if (!Number.isFinite(opts.notBefore) || !Number.isFinite(opts.notAfter) || opts.notAfter < opts.notBefore) {
    throw new TlsConfigError('notAfter must not be before notBefore');
  }
  const { privateKey, publicKey } = opts.keyPair ?? generateKeyPair(opts.keyType ?? 'ec-p256');
  const isCA = opts.isCA ?? false;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const signerKey = opts.issuer?.privateKey ?? privateKey;
  const sigAlg = signatureAlgorithmFor(signerKey);

  const subject =
    opts.commonName === ''
      ? derSequence()
      : derSequence(derSet(derSequence(derOid(OID.commonName), derUtf8String(opts.commonName))));
  let issuerName: Uint8Array = subject;
  let authorityKeyId = keyIdentifier(spki);
  if (opts.issuer !== undefined) {
    const issuerInfo = readCertificateInfo(opts.issuer.certDer);
    issuerName = issuerInfo.subject;
    authorityKeyId = Buffer.from(
      issuerInfo.subjectKeyIdentifier ?? keyIdentifier(issuerInfo.subjectPublicKeyInfo),
    );
  }

  // RFC 5280 §4.2: the extensions of a v3 certificate.
  const extensions: Buffer[] = [];
  if (opts.pathLength !== undefined && !isCA) throw new TlsConfigError('pathLength requires isCA');
  extensions.push(
    extension(
      OID.basicConstraints,
      true, // RFC 5280 §4.2.1.9: MUST be critical in CA certificates
      isCA
        ? derSequence(
            derBoolean(true),
            ...(opts.pathLength !== undefined ? [derInteger(opts.pathLength)] : []),
          )
        : derSequence(),
    ),
  );
  const usage =
    opts.keyUsage ??
    (isCA
      ? (['keyCertSign', 'cRLSign'] as KeyUsageName[])
      : ([
          'digitalSignature',
          ...(publicKey.asymmetricKeyType === 'rsa' ? ['keyEncipherment'] : []),
        ] as KeyUsageName[]));
  const ku = keyUsageValue(usage);
  if (ku !== undefined) extensions.push(extension(OID.keyUsage, true, ku)); // RFC 5280 §4.2.1.3: SHOULD be critical
  const eku = opts.extendedKeyUsage ?? (isCA ? [] : ['serverAuth', 'clientAuth']);
  if (eku.length > 0) {
    extensions.push(extension(OID.extKeyUsage, false, derSequence(...eku.map((p) => derOid(OID[p])))));
  }
  const san = subjectAltName(opts.dnsNames ?? [], opts.ipAddresses ?? []);
  if (san !== undefined) {
    // RFC 5280 §4.2.1.6: critical when the subject is empty.
    extensions.push(extension(OID.subjectAltName, opts.commonName === '', san));
  } else if (opts.commonName === '') {
    throw new TlsConfigError('a certificate needs a commonName or subjectAltName entries');
  }
  if (opts.nameConstraints !== undefined) {
    const permitted = opts.nameConstraints.permitted ?? [];
    const excluded = opts.nameConstraints.excluded ?? [];
    const parts: Buffer[] = [];
    if (permitted.length > 0) parts.push(derContext(0, Buffer.concat(permitted.map(generalSubtree)), true));
    if (excluded.length > 0) parts.push(derContext(1, Buffer.concat(excluded.map(generalSubtree)), true));
    extensions.push(extension(OID.nameConstraints, true, derSequence(...parts)));
  }
  for (const extra of opts.extraExtensions ?? [])
    extensions.push(extension(extra.oid, extra.critical, extra.value));
  extensions.push(extension(OID.subjectKeyIdentifier, false, derOctetString(keyIdentifier(spki))));
  extensions.push(
    extension(OID.authorityKeyIdentifier, false, derSequence(derContext(0, authorityKeyId, false))),
  );

  const serial = opts.serialNumber ?? defaultSerial(spki, subject, opts.notBefore, opts.notAfter);
  if (serial.length === 0 || serial.length > 20 || serial.every((b) => b === 0)) {
    throw new TlsConfigError('serialNumber must be a positive integer of at most 20 octets');
  }
  const tbs = derSequence(
    derContext(0, derInteger(2), true), // version v3
    derInteger(serial),
    sigAlg.identifier,
    issuerName,
    derSequence(derTime(opts.notBefore), derTime(opts.notAfter)),
    subject,
    spki,
    derContext(3, derSequence(...extensions), true),
  );
  let signature: Buffer;
  try {
    signature = sign(sigAlg.hash, tbs, signerKey);
  } catch (err) {
    throw new TlsConfigError(
      `signing the certificate failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const certDer = derSequence(tbs, sigAlg.identifier, derBitString(signature));
  return {
    certPem: encodePem('CERTIFICATE', certDer),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certDer,
    privateKey,
    publicKey,
    x509: new X509Certificate(certDer),
  };
}

/**
 * A CA and a leaf signed by it for `names` (DNS names or IP literals). The CA is valid from an hour
 * before `now` for a year, the leaf from an hour before `now` for 90 days.
 */
export function createTestPki(opts: {
  names: string[];
  now: Millis;
  keyType?: CertificateKeyType;
  /** Fixed keys (e.g. derived from a seed, so that a simulation is byte-for-byte repeatable). */
  keyPairs?: { ca: KeyPair; leaf: KeyPair };
}): {
  ca: GeneratedCertificate;
  leaf: GeneratedCertificate;
} {
  const keyType = opts.keyType ?? 'ec-p256';
  const notBefore = opts.now - 60 * 60 * 1000;
  const ca = createCertificate({
    commonName: 'tsquic test CA',
    notBefore,
    notAfter: opts.now + 365 * DAY,
    keyType,
    ...(opts.keyPairs ? { keyPair: opts.keyPairs.ca } : {}),
    isCA: true,
  });
  const ipAddresses = opts.names.filter((n) => ipAddressToBytes(n) !== undefined);
  const dnsNames = opts.names.filter((n) => ipAddressToBytes(n) === undefined);
  const leaf = createCertificate({
    commonName: opts.names[0] ?? 'localhost',
    dnsNames,
    ipAddresses,
    notBefore,
    notAfter: opts.now + 90 * DAY,
    keyType,
    ...(opts.keyPairs ? { keyPair: opts.keyPairs.leaf } : {}),
    issuer: ca,
  });
  return { ca, leaf };
}
