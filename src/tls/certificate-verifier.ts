/**
 * Certificate chain verification for the TLS engine: path building from the leaf through the presented
 * intermediates to a trust anchor (RFC 5280 §6, RFC 8446 §4.4.2), and server identity checks against
 * DNS and IP subjectAltNames (RFC 6125 §6, RFC 9525).
 *
 * The result carries the TLS alert to send on failure (RFC 8446 §6.2) and a readable reason.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { domainToASCII } from 'node:url';
import type { Millis } from '../util/time.js';
import { AlertDescription } from './alert.js';
import { type CertificateInfo, DerDecodeError, KeyUsageBit, OID, readCertificateInfo } from './der.js';
import { decodePem, looksLikePem, TlsConfigError } from './private-key.js';

export interface CertificateVerifyOptions {
  /** The name the leaf must match: a DNS name or an IP literal. Absent: no name check. */
  serverName?: string;
  /** Trust anchors, PEM (bundles allowed) or DER. Default: Node's tls.rootCertificates. */
  ca?: Array<string | Uint8Array>;
  now: Millis;
  /**
   * Whose chain this is. 'server' (default): an empty chain is decode_error (RFC 8446 §4.4.2.4) and the
   * leaf's extendedKeyUsage must allow serverAuth. 'client': empty is certificate_required, and
   * clientAuth is required.
   */
  peer?: 'server' | 'client';
}

export type CertificateVerifyResult =
  | {
      ok: true;
      leaf: X509Certificate /** The leaf's public key, for CertificateVerify. */;
      leafKey: KeyObject;
    }
  | { ok: false; alert: AlertDescription; reason: string };

type Failure = { ok: false; alert: AlertDescription; reason: string };

/** A certificate parsed once for path building. */
export interface ParsedCert {
  der: Buffer;
  x509: X509Certificate;
  info: CertificateInfo;
  /** For messages: the subject as "CN=..." (or Node's subject text). */
  label: string;
  anchor: boolean;
}

/** A parsed set of trust anchors. */
export interface TrustStore {
  readonly size: number;
  /** Each anchor's DER as a latin1 string. */
  readonly byDer: ReadonlySet<string>;
  /** Anchors by base64 of their subject Name DER. */
  readonly bySubject: ReadonlyMap<string, readonly ParsedCert[]>;
}

interface MutableTrustStore {
  size: number;
  byDer: Set<string>;
  bySubject: Map<string, ParsedCert[]>;
}

function newTrustStore(): MutableTrustStore {
  return { size: 0, byDer: new Set(), bySubject: new Map() };
}

/** Longest path tried (leaf, intermediates, anchor). */
const MAX_PATH_LENGTH = 8;
/** Most certificates accepted from the peer. */
const MAX_PRESENTED = 16;
/** Bound on signature checks during path building, so crafted chains cannot make it hang. */
const MAX_SIGNATURE_CHECKS = 64;

/** Extensions we process or may safely ignore; any other critical one is rejected (RFC 5280 §4.2). */
const KNOWN_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.certificatePolicies,
  '2.5.29.36', // policyConstraints: policy processing runs with any-policy and no explicit-policy requirement
  '2.5.29.54', // inhibitAnyPolicy: likewise
]);

function fail(alert: AlertDescription, reason: string): Failure {
  return { ok: false, alert, reason };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Names from certificates go into messages: replace control characters. */
function printable(s: string): string {
  return s.replace(/\p{Cc}/gu, '?');
}

function iso(ms: Millis): string {
  return new Date(ms).toISOString();
}

/**
 * What parsing a certificate yields, kept per exact DER: a pure function of the bytes, so one parse
 * serves every handshake that presents the same certificate (a client dialling the same server, the
 * trust anchors of every store). Signature checks between two certificates are pure functions of both
 * byte strings too and are kept on the subject's entry, keyed by the issuer's entry. Nothing here
 * depends on the time, the trust store, the server name or the peer's role: those checks run on
 * every verification.
 */
interface CertificateEntry {
  der: Buffer;
  x509: X509Certificate;
  info: CertificateInfo;
  label: string;
  /** Whether this certificate's signature verifies under each issuer's key (x509.verify()). */
  signedBy: WeakMap<CertificateEntry, boolean>;
  /** The subject public key as a KeyObject, made on first use. */
  key: KeyObject | undefined;
}

/** Parsed certificates by their DER (as a latin1 string), least recently used first. */
const parsedCertificates = new Map<string, CertificateEntry>();
/** Bounds the memory a peer sending ever new certificates can pin; a hit costs one Map lookup. */
const PARSED_CACHE_SIZE = 256;
const entryOf = new WeakMap<ParsedCert, CertificateEntry>();

/** The cache key of a DER certificate: its exact bytes. */
function derKey(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
}

function parseEntry(der: Uint8Array, key: string): CertificateEntry {
  let entry = parsedCertificates.get(key);
  if (entry !== undefined) {
    // Most recently used last.
    parsedCertificates.delete(key);
    parsedCertificates.set(key, entry);
    return entry;
  }
  const buf = Buffer.from(der);
  const info = readCertificateInfo(buf);
  const x509 = new X509Certificate(buf);
  const cn = info.subjectCommonNames[0];
  const label = printable(cn !== undefined ? `"CN=${cn}"` : `"${x509.subject.replace(/\n/g, ', ')}"`);
  entry = { der: buf, x509, info, label, signedBy: new WeakMap(), key: undefined };
  parsedCertificates.set(key, entry);
  if (parsedCertificates.size > PARSED_CACHE_SIZE) {
    parsedCertificates.delete(parsedCertificates.keys().next().value!);
  }
  return entry;
}

function parseCertificate(der: Uint8Array, anchor: boolean, key = derKey(der)): ParsedCert {
  const e = parseEntry(der, key);
  // A fresh object per verification: path building tells certificates apart by identity.
  const cert: ParsedCert = { der: e.der, x509: e.x509, info: e.info, label: e.label, anchor };
  entryOf.set(cert, e);
  return cert;
}

/** Whether `cert` carries a valid signature by `issuer`'s key, computed once per pair of certificates. */
function signedBy(cert: ParsedCert, issuer: ParsedCert): boolean {
  const c = entryOf.get(cert);
  const i = entryOf.get(issuer);
  const known = c !== undefined && i !== undefined ? c.signedBy.get(i) : undefined;
  if (known !== undefined) return known;
  let signed = false;
  try {
    signed = cert.x509.verify(publicKeyOf(issuer));
  } catch {
    signed = false;
  }
  if (c !== undefined && i !== undefined) c.signedBy.set(i, signed);
  return signed;
}

/** The certificate's subject public key (one KeyObject per parsed certificate). */
function publicKeyOf(cert: ParsedCert): KeyObject {
  const e = entryOf.get(cert);
  if (e === undefined) return cert.x509.publicKey;
  e.key ??= e.x509.publicKey;
  return e.key;
}

function subjectKey(name: Uint8Array): string {
  return Buffer.from(name).toString('base64');
}

function addAnchor(store: MutableTrustStore, cert: ParsedCert): void {
  const key = derKey(cert.der);
  if (store.byDer.has(key)) return;
  store.byDer.add(key);
  const sk = subjectKey(cert.info.subject);
  const list = store.bySubject.get(sk);
  if (list === undefined) store.bySubject.set(sk, [cert]);
  else list.push(cert);
  store.size++;
}

/** Parses trust anchors (PEM bundles or DER). Throws TlsConfigError when an entry is invalid. */
export function createTrustStore(ca: ReadonlyArray<string | Uint8Array>): TrustStore {
  const store = newTrustStore();
  ca.forEach((entry, i) => {
    try {
      if (looksLikePem(entry)) {
        const text = typeof entry === 'string' ? entry : Buffer.from(entry).toString('latin1');
        const blocks = decodePem(text).filter((b) => b.label === 'CERTIFICATE');
        if (blocks.length === 0) throw new DerDecodeError('no CERTIFICATE block');
        for (const b of blocks) addAnchor(store, parseCertificate(b.der, true));
      } else if (typeof entry === 'string') {
        throw new DerDecodeError('string is not PEM');
      } else {
        addAnchor(store, parseCertificate(entry, true));
      }
    } catch (err) {
      throw new TlsConfigError(`invalid CA certificate #${i}: ${describe(err)}`);
    }
  });
  return store;
}

/** Recently used custom trust stores, by content: clients pass the same CA list on every dial. */
const storeCache = new Map<string, TrustStore>();
const STORE_CACHE_SIZE = 8;

/**
 * The CA list of the last lookup (strings as given, byte arrays copied) and its store: a client
 * dials with the same list each time, and comparing it costs less than building the cache key (a
 * base64 string of every certificate, hashed for the Map; issue 13, twice per dial).
 */
let lastCa: ReadonlyArray<string | Uint8Array> | undefined;
let lastStore: TrustStore | undefined;

function sameCaList(a: ReadonlyArray<string | Uint8Array>, b: ReadonlyArray<string | Uint8Array>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'string' || typeof y === 'string') {
      if (x !== y) return false;
    } else if (!Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(y)) {
      return false;
    }
  }
  return true;
}

/** createTrustStore(), cached by content. */
export function cachedTrustStore(ca: ReadonlyArray<string | Uint8Array>): TrustStore {
  if (lastStore !== undefined && lastCa !== undefined && sameCaList(ca, lastCa)) return lastStore;
  const store = storeFor(ca);
  // Copies: the caller may change its byte arrays later.
  lastCa = ca.map((e) => (typeof e === 'string' ? e : Uint8Array.from(e)));
  lastStore = store;
  return store;
}

function storeFor(ca: ReadonlyArray<string | Uint8Array>): TrustStore {
  const key = ca
    .map((e) => (typeof e === 'string' ? `s${e}` : `b${Buffer.from(e).toString('base64')}`))
    .join('\0');
  let store = storeCache.get(key);
  if (store === undefined) {
    store = createTrustStore(ca);
    storeCache.set(key, store);
    if (storeCache.size > STORE_CACHE_SIZE) storeCache.delete(storeCache.keys().next().value!);
  }
  return store;
}

let defaultStore: TrustStore | undefined;

/** Node's bundled root certificates, parsed once. Entries our reader rejects are skipped. */
export function defaultTrustStore(): TrustStore {
  if (defaultStore === undefined) {
    const store = newTrustStore();
    for (const pem of rootCertificates) {
      try {
        for (const b of decodePem(pem)) addAnchor(store, parseCertificate(b.der, true));
      } catch {
        // A root our strict reader cannot parse cannot anchor a path; skip it.
      }
    }
    defaultStore = store;
  }
  return defaultStore;
}

// ---- Validity, CA and usage checks (RFC 5280 §6.1.3, §6.1.4) ----

/** RFC 5280 §4.1.2.5: valid from notBefore through notAfter inclusive, at one-second granularity. */
function checkValidity(cert: ParsedCert, now: Millis): Failure | undefined {
  if (now < cert.info.notBefore) {
    return fail(
      AlertDescription.bad_certificate,
      `certificate not yet valid: ${cert.label} is valid from ${iso(cert.info.notBefore)}`,
    );
  }
  if (now >= cert.info.notAfter + 1000) {
    return fail(
      AlertDescription.certificate_expired,
      `certificate expired at ${iso(cert.info.notAfter)} (${cert.label})`,
    );
  }
  return undefined;
}

/** RFC 5280 §4.2: reject a certificate with a critical extension we do not process. */
function checkCriticalExtensions(cert: ParsedCert): Failure | undefined {
  for (const ext of cert.info.extensions) {
    if (ext.critical && !KNOWN_EXTENSIONS.has(ext.oid)) {
      return fail(
        AlertDescription.unsupported_certificate,
        `unsupported critical extension ${ext.oid} in ${cert.label}`,
      );
    }
  }
  return undefined;
}

function isSelfIssued(cert: ParsedCert): boolean {
  return Buffer.compare(cert.info.issuer, cert.info.subject) === 0;
}

/**
 * RFC 5280 §6.1.4 (k), (l), (n): an issuer must be a CA, its pathLenConstraint must allow the
 * intermediates below it, and a keyUsage extension must assert keyCertSign.
 */
function checkIssuer(issuer: ParsedCert, below: ParsedCert[]): Failure | undefined {
  const bc = issuer.info.basicConstraints;
  // Legacy v1 trust anchors carry no extensions; a configured anchor without basicConstraints is trusted
  // as a CA (RFC 5280 §6.1.1 (d): trust anchor information is an input, not a certificate to check).
  const legacyAnchor = issuer.anchor && bc === undefined && issuer.info.version < 3;
  if (!legacyAnchor && bc?.ca !== true) {
    return fail(
      AlertDescription.bad_certificate,
      `issuer ${issuer.label} is not a CA (basicConstraints cA is not set)`,
    );
  }
  if (issuer.info.keyUsage !== undefined && (issuer.info.keyUsage & (1 << KeyUsageBit.keyCertSign)) === 0) {
    return fail(
      AlertDescription.bad_certificate,
      `issuer ${issuer.label} keyUsage does not allow keyCertSign`,
    );
  }
  if (bc?.pathLength !== undefined) {
    // Non-self-issued intermediates between this issuer and the leaf (the leaf is below[0]).
    const intermediates = below.slice(1).filter((c) => !isSelfIssued(c)).length;
    if (intermediates > bc.pathLength) {
      return fail(
        AlertDescription.bad_certificate,
        `path length constraint exceeded: ${issuer.label} allows ${bc.pathLength} intermediate(s) below it, found ${intermediates}`,
      );
    }
  }
  return checkCriticalExtensions(issuer);
}

/** Candidate issuers for `cert`: same subject as its issuer, with a matching key identifier if both carry one. */
function issuerCandidates(cert: ParsedCert, store: TrustStore, presented: ParsedCert[]): ParsedCert[] {
  const key = subjectKey(cert.info.issuer);
  const aki = cert.info.authorityKeyIdentifier;
  const fits = (c: ParsedCert) =>
    c !== cert &&
    subjectKey(c.info.subject) === key &&
    (aki === undefined ||
      c.info.subjectKeyIdentifier === undefined ||
      Buffer.compare(aki, c.info.subjectKeyIdentifier) === 0);
  return [...(store.bySubject.get(key) ?? []).filter(fits), ...presented.filter(fits)];
}

// ---- Path building (RFC 5280 §6.1, RFC 8446 §4.4.2: extra certificates and any order tolerated) ----

interface Search {
  store: TrustStore;
  presented: ParsedCert[];
  now: Millis;
  budget: number;
  best: Failure | undefined;
  path: ParsedCert[] | undefined;
}

/** Keeps the most telling failure: anything beats "unknown CA", otherwise the first one found. */
function record(s: Search, f: Failure): void {
  if (
    s.best === undefined ||
    (s.best.alert === AlertDescription.unknown_ca && f.alert !== AlertDescription.unknown_ca)
  ) {
    s.best = f;
  }
}

function extend(path: ParsedCert[], s: Search): boolean {
  const cert = path[path.length - 1]!;
  if (cert.anchor) {
    const problem = checkNameConstraints(path);
    if (problem !== undefined) {
      record(s, problem);
      return false;
    }
    s.path = path.slice();
    return true;
  }
  if (path.length >= MAX_PATH_LENGTH) {
    record(s, fail(AlertDescription.bad_certificate, `certificate chain longer than ${MAX_PATH_LENGTH}`));
    return false;
  }
  const unused = s.presented.filter((c) => !path.includes(c));
  const candidates = issuerCandidates(cert, s.store, unused);
  if (candidates.length === 0) {
    const issuer = printable(cert.x509.issuer.replace(/\n/g, ', '));
    record(
      s,
      fail(AlertDescription.unknown_ca, `unknown CA: no trusted issuer "${issuer}" for ${cert.label}`),
    );
    return false;
  }
  for (const candidate of candidates) {
    if (s.budget-- <= 0) {
      record(s, fail(AlertDescription.bad_certificate, 'too many candidate issuers while building the path'));
      return false;
    }
    if (!signedBy(cert, candidate)) {
      record(
        s,
        fail(
          AlertDescription.bad_certificate,
          `bad signature: ${cert.label} is not signed by ${candidate.label}`,
        ),
      );
      continue;
    }
    const problem = checkValidity(candidate, s.now) ?? checkIssuer(candidate, path);
    if (problem !== undefined) {
      record(s, problem);
      continue;
    }
    path.push(candidate);
    if (extend(path, s)) return true;
    path.pop();
  }
  return false;
}

// ---- Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b), (c)) ----

function normalizeDns(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** RFC 5280 §4.2.1.10: a DNS name is in the subtree when it equals `base` or adds labels on the left. */
function inDnsSubtree(name: string, base: string): boolean {
  const b = normalizeDns(base);
  const n = normalizeDns(name);
  if (b === '') return true;
  if (b.startsWith('.')) return n.endsWith(b); // widely used form: subdomains only
  return n === b || n.endsWith(`.${b}`);
}

/** A wildcard name "*.x" may stand for any single-label child of x: it conflicts with such a subtree. */
function mayOverlapDnsSubtree(name: string, base: string): boolean {
  if (inDnsSubtree(name, base)) return true;
  const n = normalizeDns(name);
  if (!n.startsWith('*.')) return false;
  const rest = n.slice(2);
  const b = normalizeDns(base).replace(/^\./, '');
  return b.endsWith(`.${rest}`) && !b.slice(0, b.length - rest.length - 1).includes('.');
}

function inIpRange(ip: Uint8Array, range: { address: Uint8Array; mask: Uint8Array }): boolean {
  if (ip.length !== range.address.length) return false;
  for (let i = 0; i < ip.length; i++) {
    if ((ip[i]! & range.mask[i]!) !== (range.address[i]! & range.mask[i]!)) return false;
  }
  return true;
}

function checkNameConstraints(path: ParsedCert[]): Failure | undefined {
  for (let k = 1; k < path.length; k++) {
    const nc = path[k]!.info.nameConstraints;
    if (nc === undefined) continue;
    for (let i = 0; i < k; i++) {
      const cert = path[i]!;
      if (i > 0 && isSelfIssued(cert)) continue; // §6.1.3 (b): self-issued intermediates are exempt
      const san = cert.info.subjectAltNames;
      const dns = [...(san?.dnsNames ?? [])];
      // A leaf without subjectAltName may be matched by its CN: constrain that too.
      if (i === 0 && san === undefined)
        dns.push(...cert.info.subjectCommonNames.filter((n) => /^[\w.*-]+$/.test(n)));
      const forbid = (name: string) =>
        fail(
          AlertDescription.bad_certificate,
          `name constraints of ${path[k]!.label} forbid ${name} in ${cert.label}`,
        );
      for (const name of dns) {
        if (nc.permitted.dnsNames.length > 0 && !nc.permitted.dnsNames.some((b) => inDnsSubtree(name, b))) {
          return forbid(`DNS:${name}`);
        }
        if (nc.excluded.dnsNames.some((b) => mayOverlapDnsSubtree(name, b))) return forbid(`DNS:${name}`);
      }
      for (const ip of san?.ipAddresses ?? []) {
        const sameFamily = nc.permitted.ipRanges.filter((r) => r.address.length === ip.length);
        if (sameFamily.length > 0 && !sameFamily.some((r) => inIpRange(ip, r)))
          return forbid(`IP:${ipBytesToString(ip)}`);
        if (nc.excluded.ipRanges.some((r) => inIpRange(ip, r))) return forbid(`IP:${ipBytesToString(ip)}`);
      }
    }
  }
  return undefined;
}

// ---- Server identity (RFC 6125 §6.4, RFC 9525 §6.3) ----

/**
 * Whether a presented DNS identifier matches the reference name. Case-insensitive, trailing dot ignored.
 * Wildcards (RFC 6125 §6.4.3, RFC 9525 §6.3): only "*" as the whole leftmost label, matching exactly one
 * non-empty label, and never directly under a single label (no "*.com").
 */
export function dnsNameMatches(presented: string, reference: string): boolean {
  const p = normalizeDns(presented);
  const r = normalizeDns(reference);
  if (p === '' || r === '' || r.includes('*')) return false;
  if (!p.includes('*')) return p === r;
  if (!p.startsWith('*.')) return false; // partial wildcards such as "f*.example.com" are not honoured
  const rest = p.slice(2);
  if (rest.includes('*') || !rest.includes('.') || rest.split('.').some((l) => l === '')) return false;
  const dot = r.indexOf('.');
  return dot > 0 && r.slice(dot + 1) === rest;
}

function presentedNames(info: CertificateInfo): string {
  const san = info.subjectAltNames;
  const names = san
    ? [...san.dnsNames.map((n) => `DNS:${n}`), ...san.ipAddresses.map((ip) => `IP:${ipBytesToString(ip)}`)]
    : info.subjectCommonNames.map((n) => `CN=${n}`);
  return names.length > 0 ? printable(`certificate is for ${names.join(', ')}`) : 'certificate has no names';
}

/** Checks the leaf against `serverName`; undefined when it matches. */
export function checkServerName(info: CertificateInfo, serverName: string): Failure | undefined {
  const ip = ipAddressToBytes(serverName);
  const san = info.subjectAltNames;
  if (ip !== undefined) {
    // IP literals match iPAddress entries only, never DNS names or the CN.
    if (san?.ipAddresses.some((a) => Buffer.compare(a, ip) === 0)) return undefined;
    return fail(
      AlertDescription.bad_certificate,
      `name mismatch: expected IP address ${ipBytesToString(ip)}, ${presentedNames(info)}`,
    );
  }
  let reference = serverName;
  if (/[\u0080-\uffff]/.test(reference)) reference = domainToASCII(reference) || reference; // IDN to A-labels
  // RFC 6125 §6.4.4: the CN is consulted only when there is no subjectAltName at all.
  const dnsIds = san !== undefined ? san.dnsNames : info.subjectCommonNames;
  if (dnsIds.some((p) => dnsNameMatches(p, reference))) return undefined;
  return fail(
    AlertDescription.bad_certificate,
    `name mismatch: expected "${printable(serverName)}", ${presentedNames(info)}`,
  );
}

// ---- Entry point ----

/**
 * Verifies a peer's certificate chain (DER, leaf first) at `opts.now`: a path to a trust anchor with
 * every signature, validity period, CA flag, keyUsage and pathLenConstraint checked, the leaf's
 * (extended) key usage, and the name when `opts.serverName` is given. Never throws.
 */
export function verifyCertificateChain(
  chain: Uint8Array[],
  opts: CertificateVerifyOptions,
): CertificateVerifyResult {
  const peer = opts.peer ?? 'server';
  if (chain.length === 0) {
    // RFC 8446 §4.4.2.4: an empty server Certificate is a decode_error; a client that must authenticate
    // and sends none gets certificate_required.
    return peer === 'server'
      ? fail(AlertDescription.decode_error, 'the server sent an empty certificate chain')
      : fail(AlertDescription.certificate_required, 'the client sent no certificate');
  }
  if (chain.length > MAX_PRESENTED) {
    return fail(AlertDescription.bad_certificate, `too many certificates in the chain (${chain.length})`);
  }
  let store: TrustStore;
  try {
    store = opts.ca !== undefined ? cachedTrustStore(opts.ca) : defaultTrustStore();
  } catch (err) {
    return fail(AlertDescription.internal_error, describe(err));
  }
  const presented: ParsedCert[] = [];
  for (let i = 0; i < chain.length; i++) {
    try {
      // A presented certificate that is also a trust anchor is treated as the anchor.
      const key = derKey(chain[i]!);
      presented.push(parseCertificate(chain[i]!, store.byDer.has(key), key));
    } catch (err) {
      return fail(
        AlertDescription.bad_certificate,
        `malformed certificate #${i} in the chain: ${describe(err)}`,
      );
    }
  }
  const leaf = presented[0]!;
  const leafProblem = checkValidity(leaf, opts.now) ?? checkCriticalExtensions(leaf);
  if (leafProblem !== undefined) return leafProblem;

  const search: Search = {
    store,
    presented: presented.slice(1),
    now: opts.now,
    budget: MAX_SIGNATURE_CHECKS,
    best: undefined,
    path: undefined,
  };
  if (!extend([leaf], search)) {
    return search.best ?? fail(AlertDescription.bad_certificate, 'no valid certificate path');
  }

  // RFC 8446 §4.4.2.2: the key must be allowed to sign (digitalSignature, if keyUsage is present).
  const ku = leaf.info.keyUsage;
  if (ku !== undefined && (ku & (1 << KeyUsageBit.digitalSignature)) === 0) {
    return fail(
      AlertDescription.unsupported_certificate,
      `certificate keyUsage of ${leaf.label} does not allow digitalSignature`,
    );
  }
  // RFC 5280 §4.2.1.12: when extendedKeyUsage is present, the purpose must be listed.
  const eku = leaf.info.extendedKeyUsage;
  const purpose = peer === 'server' ? OID.serverAuth : OID.clientAuth;
  if (eku !== undefined && !eku.includes(purpose) && !eku.includes(OID.anyExtendedKeyUsage)) {
    return fail(
      AlertDescription.unsupported_certificate,
      `certificate extendedKeyUsage of ${leaf.label} does not include ${peer === 'server' ? 'serverAuth' : 'clientAuth'}`,
    );
  }
  if (opts.serverName !== undefined) {
    const mismatch = checkServerName(leaf.info, opts.serverName);
    if (mismatch !== undefined) return mismatch;
  }
  return { ok: true, leaf: leaf.x509, leafKey: publicKeyOf(leaf) };
}

// ---- IP address literals (the iPAddress GeneralName of RFC 5280 §4.2.1.6 holds 4 or 16 octets) ----

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    // Decimal only; a leading zero would be ambiguous (octal in some parsers).
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIpv6Groups(part: string): number[] | undefined {
  if (part === '') return [];
  const groups = part.split(':');
  const out: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g);
      if (v4 === undefined) return undefined;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
  }
  return out;
}

/**
 * The octets of an IPv4 (dotted decimal) or IPv6 (RFC 4291 §2.2, optionally in brackets) literal, or
 * undefined when `text` is not one. IPv6 zone identifiers are not accepted.
 */
export function ipAddressToBytes(text: string): Buffer | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return Buffer.from(v4);
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!s.includes(':')) return undefined;
  const halves = s.split('::');
  let groups: number[];
  if (halves.length === 1) {
    const all = parseIpv6Groups(s);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else if (halves.length === 2) {
    const head = parseIpv6Groups(halves[0]!);
    const tail = parseIpv6Groups(halves[1]!);
    if (head === undefined || tail === undefined) return undefined;
    // A dotted IPv4 tail may only end the address.
    if (halves[0]!.includes('.')) return undefined;
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    return undefined;
  }
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i]!, i * 2);
  return out;
}

/** Text form of 4 or 16 address octets (IPv6 per RFC 5952 §4); other lengths as hex. */
export function ipBytesToString(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return `0x${Buffer.from(bytes).toString('hex')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 §4.2: compress the longest run (the first if tied) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
