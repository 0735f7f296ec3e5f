/**
 * A small DER (ITU-T X.690) encoder and strict reader, and a reader for the X.509 v3 fields the
 * certificate verifier needs (RFC 5280 §4.1, §4.2).
 *
 * The reader never reads out of bounds and throws only DerDecodeError on bad input.
 */
import type { Millis } from '../util/time.js';

/** The only error the DER, PEM and certificate readers throw on bad input. */
export class DerDecodeError extends Error {
  override readonly name = 'DerDecodeError';
  readonly code = 'ERR_QUIC_DER';
}

/** X.690 §8.1.2.2 tag classes. */
export enum DerClass {
  Universal = 0,
  Application = 1,
  Context = 2,
  Private = 3,
}

/** Universal tag numbers used here (X.680 §8.4). */
export enum DerTag {
  Boolean = 1,
  Integer = 2,
  BitString = 3,
  OctetString = 4,
  Null = 5,
  Oid = 6,
  Utf8String = 12,
  Sequence = 16,
  Set = 17,
  PrintableString = 19,
  TeletexString = 20,
  Ia5String = 22,
  UtcTime = 23,
  GeneralizedTime = 24,
  UniversalString = 28,
  BmpString = 30,
}

/** One decoded TLV. `bytes` and `value` are views into the input. */
export interface DerNode {
  cls: DerClass;
  constructed: boolean;
  /** The tag number within its class. */
  tag: number;
  /** The whole TLV (identifier, length and contents). */
  bytes: Uint8Array;
  /** The contents octets. */
  value: Uint8Array;
  /** Offset just past this TLV in the buffer it was read from. */
  end: number;
}

// ---- Reader ----

/** Reads one TLV starting at `offset` of `buf` (X.690 §8.1, with the DER restrictions of §10.1). */
export function readTlv(buf: Uint8Array, offset: number): DerNode {
  const start = offset;
  if (!Number.isInteger(offset) || offset < 0 || offset >= buf.length) {
    throw new DerDecodeError('truncated: missing identifier octet');
  }
  const first = buf[offset]!;
  let pos = offset + 1;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    // X.690 §8.1.2.4: high tag number form, base 128, minimal (§8.1.2.4.2 c).
    tag = 0;
    for (let i = 0; ; i++) {
      if (pos >= buf.length) throw new DerDecodeError('truncated tag number');
      const b = buf[pos++]!;
      if (i === 0 && b === 0x80) throw new DerDecodeError('non-minimal tag number');
      if (i === 3) throw new DerDecodeError('tag number too large');
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tag < 0x1f) throw new DerDecodeError('high tag number form used for a low tag number');
  }
  if (pos >= buf.length) throw new DerDecodeError('truncated: missing length');
  let length = buf[pos++]!;
  if (length === 0x80) throw new DerDecodeError('indefinite length is not allowed in DER'); // X.690 §10.1
  if (length > 0x80) {
    const n = length & 0x7f;
    if (n > 4) throw new DerDecodeError('length field too long');
    if (n > buf.length - pos) throw new DerDecodeError('truncated length');
    if (buf[pos] === 0) throw new DerDecodeError('non-minimal length encoding');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
    if (length < 0x80) throw new DerDecodeError('non-minimal length encoding'); // X.690 §10.1
  }
  if (length > buf.length - pos) throw new DerDecodeError('truncated contents');
  const end = pos + length;
  return {
    cls: first >> 6,
    constructed: (first & 0x20) !== 0,
    tag,
    bytes: buf.subarray(start, end),
    value: buf.subarray(pos, end),
    end,
  };
}

/** Decodes `buf` as exactly one TLV (no trailing bytes). */
export function parseDer(buf: Uint8Array): DerNode {
  const node = readTlv(buf, 0);
  if (node.end !== buf.length)
    throw new DerDecodeError(`${buf.length - node.end} trailing bytes after DER value`);
  return node;
}

/** The TLVs inside a constructed node. */
export function derChildren(node: DerNode): DerNode[] {
  if (!node.constructed) throw new DerDecodeError('expected a constructed value');
  const out: DerNode[] = [];
  let pos = 0;
  while (pos < node.value.length) {
    const child = readTlv(node.value, pos);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** Throws unless `node` is the universal type `tag` (constructed exactly for SEQUENCE and SET). */
export function expectUniversal(node: DerNode | undefined, tag: DerTag, what: string): DerNode {
  if (node === undefined) throw new DerDecodeError(`missing ${what}`);
  const constructed = tag === DerTag.Sequence || tag === DerTag.Set;
  if (node.cls !== DerClass.Universal || node.tag !== tag || node.constructed !== constructed) {
    throw new DerDecodeError(`expected ${what} (${DerTag[tag]})`);
  }
  return node;
}

/** True when `node` is [tag] in the context-specific class. */
export function isContext(node: DerNode | undefined, tag: number): node is DerNode {
  return node !== undefined && node.cls === DerClass.Context && node.tag === tag;
}

/** BOOLEAN (X.690 §8.2). DER requires 0xff for TRUE; any non-zero octet is accepted as TRUE. */
export function decodeBoolean(node: DerNode): boolean {
  expectUniversal(node, DerTag.Boolean, 'BOOLEAN');
  if (node.value.length !== 1) throw new DerDecodeError('BOOLEAN must be one octet');
  return node.value[0] !== 0;
}

/** INTEGER contents (two's complement, big-endian); at least one octet (X.690 §8.3.1). */
export function decodeIntegerBytes(node: DerNode): Uint8Array {
  expectUniversal(node, DerTag.Integer, 'INTEGER');
  if (node.value.length === 0) throw new DerDecodeError('empty INTEGER');
  return node.value;
}

/** A non-negative INTEGER that fits in 31 bits. */
export function decodeSmallInteger(node: DerNode): number {
  const v = decodeIntegerBytes(node);
  if ((v[0]! & 0x80) !== 0) throw new DerDecodeError('negative INTEGER');
  let n = 0;
  for (const b of v) {
    n = n * 256 + b;
    if (n > 0x7fffffff) throw new DerDecodeError('INTEGER too large');
  }
  return n;
}

/** BIT STRING (X.690 §8.6): the unused-bits count and the data octets. */
export function decodeBitString(node: DerNode): { unusedBits: number; data: Uint8Array } {
  expectUniversal(node, DerTag.BitString, 'BIT STRING');
  const v = node.value;
  if (v.length === 0) throw new DerDecodeError('empty BIT STRING');
  const unusedBits = v[0]!;
  if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0))
    throw new DerDecodeError('bad BIT STRING padding');
  return { unusedBits, data: v.subarray(1) };
}

/** OBJECT IDENTIFIER (X.690 §8.19) in dotted form. */
export function decodeOid(node: DerNode): string {
  expectUniversal(node, DerTag.Oid, 'OBJECT IDENTIFIER');
  const v = node.value;
  if (v.length === 0) throw new DerDecodeError('empty OBJECT IDENTIFIER');
  const arcs: string[] = [];
  let i = 0;
  while (i < v.length) {
    if (v[i] === 0x80) throw new DerDecodeError('non-minimal OID subidentifier'); // X.690 §8.19.2
    let n = 0;
    let big: bigint | undefined;
    for (;;) {
      if (i >= v.length) throw new DerDecodeError('truncated OID subidentifier');
      const b = v[i++]!;
      if (big === undefined && n >= 2 ** 45) big = BigInt(n);
      if (big !== undefined) big = big * 128n + BigInt(b & 0x7f);
      else n = n * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (arcs.length === 0) {
      // X.690 §8.19.4: the first subidentifier packs the first two arcs.
      if (big !== undefined) arcs.push('2', (big - 80n).toString());
      else if (n < 40) arcs.push('0', String(n));
      else if (n < 80) arcs.push('1', String(n - 40));
      else arcs.push('2', String(n - 80));
    } else {
      arcs.push(big !== undefined ? big.toString() : String(n));
    }
  }
  return arcs.join('.');
}

function twoDigits(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return Number.NaN;
  return a * 10 + b;
}

/** UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 allows, as Millis since the epoch. */
export function decodeTime(node: DerNode): Millis {
  if (node.cls !== DerClass.Universal || node.constructed) throw new DerDecodeError('expected a time');
  const s = Buffer.from(node.value).toString('latin1');
  let year: number;
  let rest: number;
  if (node.tag === DerTag.UtcTime) {
    // RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ; YY >= 50 is 19YY, else 20YY.
    if (s.length !== 13) throw new DerDecodeError('UTCTime must be YYMMDDHHMMSSZ');
    const yy = twoDigits(s, 0);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = 2;
  } else if (node.tag === DerTag.GeneralizedTime) {
    // RFC 5280 §4.1.2.5.2: YYYYMMDDHHMMSSZ, no fractional seconds.
    if (s.length !== 15) throw new DerDecodeError('GeneralizedTime must be YYYYMMDDHHMMSSZ');
    year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
    rest = 4;
  } else {
    throw new DerDecodeError('expected UTCTime or GeneralizedTime');
  }
  const month = twoDigits(s, rest);
  const day = twoDigits(s, rest + 2);
  const hour = twoDigits(s, rest + 4);
  const minute = twoDigits(s, rest + 6);
  const second = twoDigits(s, rest + 8);
  if (s[rest + 10] !== 'Z') throw new DerDecodeError('time must end in Z');
  // Not Date.UTC: it maps years 0-99 to 1900-1999.
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  check.setUTCHours(hour, minute, second, 0);
  const ms = check.getTime();
  if (
    !Number.isFinite(ms) ||
    month < 1 ||
    month > 12 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    check.getUTCDate() !== day ||
    check.getUTCMonth() !== month - 1
  ) {
    throw new DerDecodeError(`invalid time ${JSON.stringify(s)}`);
  }
  return ms;
}

/** A character string (UTF8String, PrintableString, IA5String, TeletexString, BMPString, UniversalString). */
export function decodeString(node: DerNode): string {
  if (node.cls !== DerClass.Universal || node.constructed) throw new DerDecodeError('expected a string');
  const v = Buffer.from(node.value.buffer, node.value.byteOffset, node.value.length);
  switch (node.tag) {
    case DerTag.Utf8String:
      return v.toString('utf8');
    case DerTag.PrintableString:
    case DerTag.Ia5String:
    case DerTag.TeletexString:
      return v.toString('latin1');
    case DerTag.BmpString: {
      if (v.length % 2 !== 0) throw new DerDecodeError('odd-length BMPString');
      let out = '';
      for (let i = 0; i < v.length; i += 2) out += String.fromCharCode(v.readUInt16BE(i));
      return out;
    }
    case DerTag.UniversalString: {
      if (v.length % 4 !== 0) throw new DerDecodeError('bad UniversalString length');
      let out = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = v.readUInt32BE(i);
        if (cp > 0x10ffff) throw new DerDecodeError('bad UniversalString code point');
        out += String.fromCodePoint(cp);
      }
      return out;
    }
    default:
      throw new DerDecodeError(`unsupported string type ${node.tag}`);
  }
}

// ---- Encoder ----

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A TLV with a one-octet identifier (class, constructed bit and a tag number below 31). */
export function derTlv(identifier: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(identifier), encodeLength(content.length), content]);
}

export function derSequence(...items: Uint8Array[]): Buffer {
  return derTlv(0x30, Buffer.concat(items));
}

/** SET OF: X.690 §11.6 sorts the encodings. */
export function derSet(...items: Uint8Array[]): Buffer {
  const sorted = items.map((i) => Buffer.from(i)).sort(Buffer.compare);
  return derTlv(0x31, Buffer.concat(sorted));
}

/** A non-negative INTEGER from a number or from big-endian magnitude bytes (X.690 §8.3). */
export function derInteger(value: number | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`bad INTEGER ${value}`);
    const digits: number[] = [];
    do {
      digits.unshift(value % 256);
      value = Math.floor(value / 256);
    } while (value > 0);
    bytes = Buffer.from(digits);
  } else {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    bytes = Buffer.from(value.subarray(i));
    if (bytes.length === 0) bytes = Buffer.of(0);
  }
  if ((bytes[0]! & 0x80) !== 0) bytes = Buffer.concat([Buffer.of(0), bytes]);
  return derTlv(0x02, bytes);
}

export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`bad OID ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! >= 40n))
    throw new RangeError(`bad OID ${dotted}`);
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (let sub of subs) {
    const groups: number[] = [Number(sub & 0x7fn)];
    sub >>= 7n;
    while (sub > 0n) {
      groups.unshift(Number(sub & 0x7fn) | 0x80);
      sub >>= 7n;
    }
    out.push(...groups);
  }
  return derTlv(0x06, Buffer.from(out));
}

export function derBoolean(value: boolean): Buffer {
  return derTlv(0x01, Buffer.of(value ? 0xff : 0x00));
}

export function derNull(): Buffer {
  return Buffer.of(0x05, 0x00);
}

export function derOctetString(bytes: Uint8Array): Buffer {
  return derTlv(0x04, bytes);
}

export function derBitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  return derTlv(0x03, Buffer.concat([Buffer.of(unusedBits), bytes]));
}

export function derUtf8String(s: string): Buffer {
  return derTlv(0x0c, Buffer.from(s, 'utf8'));
}

export function derPrintableString(s: string): Buffer {
  return derTlv(0x13, Buffer.from(s, 'latin1'));
}

export function derIa5String(s: string): Buffer {
  return derTlv(0x16, Buffer.from(s, 'latin1'));
}

/** RFC 5280 §4.1.2.5: UTCTime for years 1950 through 2049, GeneralizedTime otherwise; whole seconds. */
export function derTime(ms: Millis): Buffer {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(ms) || year < 0 || year > 9999) throw new RangeError(`time out of range: ${ms}`);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const tail = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  if (year >= 1950 && year <= 2049) return derTlv(0x17, Buffer.from(`${p2(year % 100)}${tail}`, 'latin1'));
  return derTlv(0x18, Buffer.from(`${String(year).padStart(4, '0')}${tail}`, 'latin1'));
}

/** A context-specific [tag] (tag below 31): constructed for EXPLICIT tagging, or IMPLICIT contents. */
export function derContext(tag: number, content: Uint8Array, constructed: boolean): Buffer {
  return derTlv(0x80 | (constructed ? 0x20 : 0) | tag, content);
}

// ---- X.509 v3 certificate fields (RFC 5280 §4.1, §4.2) ----

export const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  anyExtendedKeyUsage: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
export enum KeyUsageBit {
  digitalSignature = 0,
  nonRepudiation = 1,
  keyEncipherment = 2,
  dataEncipherment = 3,
  keyAgreement = 4,
  keyCertSign = 5,
  cRLSign = 6,
  encipherOnly = 7,
  decipherOnly = 8,
}

export interface CertificateExtension {
  oid: string;
  critical: boolean;
  /** The extnValue OCTET STRING contents. */
  value: Uint8Array;
}

/** The GeneralName forms tsquic evaluates (RFC 5280 §4.2.1.6); others are only counted. */
export interface GeneralNames {
  dnsNames: string[];
  ipAddresses: Uint8Array[];
  otherCount: number;
}

export interface GeneralSubtrees {
  dnsNames: string[];
  /** iPAddress subtrees: address and mask of equal length (RFC 5280 §4.2.1.10). */
  ipRanges: Array<{ address: Uint8Array; mask: Uint8Array }>;
  /** Subtrees of other name forms (directoryName, rfc822Name, URI, ...). */
  otherCount: number;
}

export interface CertificateInfo {
  /** 1, 2 or 3. */
  version: number;
  serialNumber: Uint8Array;
  /** The outer signatureAlgorithm OID. */
  signatureAlgorithm: string;
  /** The DER of the Name fields, byte for byte. */
  issuer: Uint8Array;
  subject: Uint8Array;
  subjectCommonNames: string[];
  notBefore: Millis;
  notAfter: Millis;
  subjectPublicKeyInfo: Uint8Array;
  extensions: CertificateExtension[];
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** Bit i set = KeyUsageBit i asserted. */
  keyUsage?: number;
  extendedKeyUsage?: string[];
  subjectAltNames?: GeneralNames;
  nameConstraints?: { permitted: GeneralSubtrees; excluded: GeneralSubtrees };
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: Uint8Array;
}

function readName(node: DerNode): string[] {
  // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue) (RFC 5280 §4.1.2.4)
  expectUniversal(node, DerTag.Sequence, 'Name');
  const commonNames: string[] = [];
  for (const rdn of derChildren(node)) {
    expectUniversal(rdn, DerTag.Set, 'RelativeDistinguishedName');
    for (const atv of derChildren(rdn)) {
      const [type, value] = derChildren(expectUniversal(atv, DerTag.Sequence, 'AttributeTypeAndValue'));
      if (decodeOid(expectUniversal(type, DerTag.Oid, 'attribute type')) === OID.commonName) {
        if (value === undefined) throw new DerDecodeError('missing attribute value');
        commonNames.push(decodeString(value));
      }
    }
  }
  return commonNames;
}

function readGeneralNames(node: DerNode): GeneralNames {
  const out: GeneralNames = { dnsNames: [], ipAddresses: [], otherCount: 0 };
  for (const gn of derChildren(expectUniversal(node, DerTag.Sequence, 'GeneralNames'))) {
    if (isContext(gn, 2) && !gn.constructed) {
      out.dnsNames.push(Buffer.from(gn.value).toString('latin1')); // dNSName [2] IA5String
    } else if (isContext(gn, 7) && !gn.constructed) {
      if (gn.value.length !== 4 && gn.value.length !== 16) throw new DerDecodeError('bad iPAddress length');
      out.ipAddresses.push(gn.value); // iPAddress [7] OCTET STRING
    } else if (gn.cls === DerClass.Context) {
      out.otherCount++;
    } else {
      throw new DerDecodeError('GeneralName must be context-tagged');
    }
  }
  return out;
}

function readSubtrees(node: DerNode): GeneralSubtrees {
  const out: GeneralSubtrees = { dnsNames: [], ipRanges: [], otherCount: 0 };
  for (const subtree of derChildren(node)) {
    const [base] = derChildren(expectUniversal(subtree, DerTag.Sequence, 'GeneralSubtree'));
    if (isContext(base, 2) && !base.constructed) {
      out.dnsNames.push(Buffer.from(base.value).toString('latin1'));
    } else if (isContext(base, 7) && !base.constructed) {
      const half = base.value.length / 2;
      if (half !== 4 && half !== 16) throw new DerDecodeError('bad iPAddress constraint length');
      out.ipRanges.push({ address: base.value.subarray(0, half), mask: base.value.subarray(half) });
    } else if (base !== undefined && base.cls === DerClass.Context) {
      out.otherCount++;
    } else {
      throw new DerDecodeError('bad GeneralSubtree base');
    }
  }
  return out;
}

function bitIsSet(data: Uint8Array, bit: number): boolean {
  const byte = bit >> 3;
  return byte < data.length && (data[byte]! & (0x80 >> (bit & 7))) !== 0;
}

function applyExtension(info: CertificateInfo, ext: CertificateExtension): void {
  switch (ext.oid) {
    case OID.basicConstraints: {
      // RFC 5280 §4.2.1.9: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
      const items = derChildren(expectUniversal(parseDer(ext.value), DerTag.Sequence, 'BasicConstraints'));
      let i = 0;
      let ca = false;
      if (items[i]?.tag === DerTag.Boolean && items[i]?.cls === DerClass.Universal)
        ca = decodeBoolean(items[i++]!);
      const bc: { ca: boolean; pathLength?: number } = { ca };
      if (items[i] !== undefined) bc.pathLength = decodeSmallInteger(items[i++]!);
      if (i !== items.length) throw new DerDecodeError('extra fields in BasicConstraints');
      info.basicConstraints = bc;
      return;
    }
    case OID.keyUsage: {
      // RFC 5280 §4.2.1.3: KeyUsage ::= BIT STRING
      const { data } = decodeBitString(parseDer(ext.value));
      let mask = 0;
      for (let bit = KeyUsageBit.digitalSignature; bit <= KeyUsageBit.decipherOnly; bit++) {
        if (bitIsSet(data, bit)) mask |= 1 << bit;
      }
      info.keyUsage = mask;
      return;
    }
    case OID.extKeyUsage: {
      // RFC 5280 §4.2.1.12: SEQUENCE SIZE (1..MAX) OF KeyPurposeId
      const seq = expectUniversal(parseDer(ext.value), DerTag.Sequence, 'ExtKeyUsageSyntax');
      info.extendedKeyUsage = derChildren(seq).map(decodeOid);
      return;
    }
    case OID.subjectAltName:
      info.subjectAltNames = readGeneralNames(parseDer(ext.value));
      return;
    case OID.nameConstraints: {
      // RFC 5280 §4.2.1.10: permittedSubtrees [0], excludedSubtrees [1]
      const nc = {
        permitted: { dnsNames: [], ipRanges: [], otherCount: 0 } as GeneralSubtrees,
        excluded: { dnsNames: [], ipRanges: [], otherCount: 0 } as GeneralSubtrees,
      };
      for (const part of derChildren(
        expectUniversal(parseDer(ext.value), DerTag.Sequence, 'NameConstraints'),
      )) {
        if (isContext(part, 0)) nc.permitted = readSubtrees(part);
        else if (isContext(part, 1)) nc.excluded = readSubtrees(part);
        else throw new DerDecodeError('bad NameConstraints field');
      }
      info.nameConstraints = nc;
      return;
    }
    case OID.subjectKeyIdentifier:
      info.subjectKeyIdentifier = expectUniversal(
        parseDer(ext.value),
        DerTag.OctetString,
        'KeyIdentifier',
      ).value;
      return;
    case OID.authorityKeyIdentifier: {
      const [first] = derChildren(
        expectUniversal(parseDer(ext.value), DerTag.Sequence, 'AuthorityKeyIdentifier'),
      );
      if (isContext(first, 0) && !first.constructed) info.authorityKeyIdentifier = first.value;
      return;
    }
    default:
      return;
  }
}

/** Reads the fields of an X.509 certificate (RFC 5280 §4.1) and decodes the extensions tsquic uses. */
export function readCertificateInfo(der: Uint8Array): CertificateInfo {
  const cert = expectUniversal(parseDer(der), DerTag.Sequence, 'Certificate');
  const [tbs, sigAlg, sigValue, extra] = derChildren(cert);
  if (extra !== undefined) throw new DerDecodeError('extra fields in Certificate');
  expectUniversal(tbs, DerTag.Sequence, 'TBSCertificate');
  const sigAlgNode = expectUniversal(sigAlg, DerTag.Sequence, 'signatureAlgorithm');
  decodeBitString(expectUniversal(sigValue, DerTag.BitString, 'signatureValue'));
  const fields = derChildren(tbs!);
  let i = 0;
  let version = 1;
  if (isContext(fields[0], 0)) {
    const [v] = derChildren(fields[i++]!);
    version = decodeSmallInteger(expectUniversal(v, DerTag.Integer, 'version')) + 1;
    if (version > 3) throw new DerDecodeError(`unknown certificate version ${version}`);
  }
  const serialNumber = decodeIntegerBytes(expectUniversal(fields[i++], DerTag.Integer, 'serialNumber'));
  const innerSigAlg = expectUniversal(fields[i++], DerTag.Sequence, 'signature');
  // RFC 5280 §4.1.1.2: signatureAlgorithm MUST be the same as the signature field in the TBS.
  if (Buffer.compare(innerSigAlg.bytes, sigAlgNode.bytes) !== 0) {
    throw new DerDecodeError('signatureAlgorithm differs from the TBS signature field');
  }
  const [algOid] = derChildren(sigAlgNode);
  const signatureAlgorithm = decodeOid(expectUniversal(algOid, DerTag.Oid, 'algorithm'));
  const issuer = expectUniversal(fields[i++], DerTag.Sequence, 'issuer');
  readName(issuer);
  const [nb, na, moreValidity] = derChildren(expectUniversal(fields[i++], DerTag.Sequence, 'validity'));
  if (nb === undefined || na === undefined || moreValidity !== undefined)
    throw new DerDecodeError('bad Validity');
  const subject = expectUniversal(fields[i++], DerTag.Sequence, 'subject');
  const spki = expectUniversal(fields[i++], DerTag.Sequence, 'subjectPublicKeyInfo');
  const info: CertificateInfo = {
    version,
    serialNumber,
    signatureAlgorithm,
    issuer: issuer.bytes,
    subject: subject.bytes,
    subjectCommonNames: readName(subject),
    notBefore: decodeTime(nb),
    notAfter: decodeTime(na),
    subjectPublicKeyInfo: spki.bytes,
    extensions: [],
  };
  // issuerUniqueID [1] and subjectUniqueID [2] (v2 and v3 only) are skipped.
  while (version >= 2 && (isContext(fields[i], 1) || isContext(fields[i], 2))) i++;
  if (isContext(fields[i], 3)) {
    if (version !== 3) throw new DerDecodeError('extensions in a certificate older than v3');
    const [seq, more] = derChildren(fields[i++]!);
    if (more !== undefined) throw new DerDecodeError('extra data after Extensions');
    const seen = new Set<string>();
    for (const extNode of derChildren(expectUniversal(seq, DerTag.Sequence, 'Extensions'))) {
      const parts = derChildren(expectUniversal(extNode, DerTag.Sequence, 'Extension'));
      const oid = decodeOid(expectUniversal(parts[0], DerTag.Oid, 'extnID'));
      let critical = false;
      let j = 1;
      if (parts[j]?.tag === DerTag.Boolean && parts[j]?.cls === DerClass.Universal)
        critical = decodeBoolean(parts[j++]!);
      const value = expectUniversal(parts[j++], DerTag.OctetString, 'extnValue').value;
      if (j !== parts.length) throw new DerDecodeError('extra fields in Extension');
      // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
      if (seen.has(oid)) throw new DerDecodeError(`duplicate extension ${oid}`);
      seen.add(oid);
      const ext = { oid, critical, value };
      info.extensions.push(ext);
      applyExtension(info, ext);
    }
  }
  if (i !== fields.length) throw new DerDecodeError('extra fields in TBSCertificate');
  return info;
}
