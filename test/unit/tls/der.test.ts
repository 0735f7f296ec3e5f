import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { rootCertificates } from 'node:tls';
import {
  DerClass,
  DerDecodeError,
  DerTag,
  decodeBitString,
  decodeBoolean,
  decodeOid,
  decodeSmallInteger,
  decodeString,
  decodeTime,
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
  OID,
  parseDer,
  readCertificateInfo,
  readTlv,
} from '../../../src/tls/der.js';
import { decodePem } from '../../../src/tls/private-key.js';
import { createCertificate } from '../../../src/tls/x509-builder.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isDerError = (e: unknown) => e instanceof DerDecodeError && e.code === 'ERR_QUIC_DER';

test('readTlv: short and long lengths, classes, constructed bit, high tag numbers', () => {
  const n = readTlv(hex('ff 04 04 0a0b0c0d 30 00'), 1);
  assert.equal(n.cls, DerClass.Universal);
  assert.equal(n.tag, DerTag.OctetString);
  assert.equal(n.constructed, false);
  assert.deepEqual(Buffer.from(n.value), hex('0a0b0c0d'));
  assert.deepEqual(Buffer.from(n.bytes), hex('04 04 0a0b0c0d'));
  assert.equal(n.end, 7);
  const long = Buffer.concat([hex('04 81 80'), Buffer.alloc(128, 7)]);
  assert.equal(parseDer(long).value.length, 128);
  const longer = Buffer.concat([hex('04 82 01 00'), Buffer.alloc(256, 7)]);
  assert.equal(parseDer(longer).value.length, 256);
  const ctx = parseDer(hex('a3 03 02 01 05'));
  assert.equal(ctx.cls, DerClass.Context);
  assert.equal(ctx.tag, 3);
  assert.equal(ctx.constructed, true);
  assert.equal(decodeSmallInteger(derChildren(ctx)[0]!), 5);
  const high = parseDer(hex('9f 81 00 01 aa')); // [128] primitive, context class
  assert.equal(high.tag, 128);
  assert.equal(high.cls, DerClass.Context);
  assert.deepEqual(Buffer.from(high.value), hex('aa'));
  assert.equal(parseDer(hex('df 1f 00')).tag, 31);
  assert.equal(parseDer(hex('df 1f 00')).cls, DerClass.Private);
});

test('readTlv rejects non-DER and truncated encodings with DerDecodeError', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /missing identifier/],
    ['04', /missing length/],
    ['04 05 00', /truncated contents/],
    ['30 80 00 00', /indefinite length/],
    ['04 81 05 0000000000', /non-minimal length/],
    ['04 82 00 80', /non-minimal length/],
    ['04 85 0000000001 00', /length field too long/],
    ['04 82 01', /truncated length/],
    ['1f 05 00', /low tag number/],
    ['1f 80 01 00', /non-minimal tag/],
    ['1f 81 81 81 81 01 00', /too large/],
    ['1f 81', /truncated tag/],
  ];
  for (const [h, re] of bad) {
    assert.throws(
      () => parseDer(hex(h)),
      (e: unknown) => isDerError(e) && re.test((e as Error).message),
      h,
    );
  }
  assert.throws(() => parseDer(hex('05 00 00')), /trailing bytes/);
  assert.throws(() => readTlv(hex('05 00'), 2), DerDecodeError);
  assert.throws(() => readTlv(hex('05 00'), -1), DerDecodeError);
  assert.throws(() => derChildren(parseDer(hex('04 00'))), /constructed/);
  assert.throws(() => derChildren(parseDer(hex('30 03 02 05 00'))), /truncated/);
});

test('OBJECT IDENTIFIER encoding and decoding (X.690 §8.19)', () => {
  const vectors: Array<[string, string]> = [
    ['1.2.840.113549.1.1.11', '06 09 2a864886f70d01010b'],
    ['2.5.29.19', '06 03 551d13'],
    ['1.3.101.112', '06 03 2b6570'],
    ['2.999.3', '06 03 883703'], // X.690 §8.19.5 example
    ['0.0', '06 01 00'],
    ['1.3.6.1.5.5.7.3.1', '06 08 2b06010505070301'],
  ];
  for (const [oid, enc] of vectors) {
    assert.deepEqual(derOid(oid), hex(enc), oid);
    assert.equal(decodeOid(parseDer(hex(enc))), oid);
  }
  const uuid = '2.25.329800735698586629295641978511506172918';
  assert.equal(decodeOid(parseDer(derOid(uuid))), uuid);
  const bigFirst = '2.100000000000000000000';
  assert.equal(decodeOid(parseDer(derOid(bigFirst))), bigFirst);
  assert.throws(() => decodeOid(parseDer(hex('06 00'))), /empty/);
  assert.throws(() => decodeOid(parseDer(hex('06 02 2a 86'))), /truncated/);
  assert.throws(() => decodeOid(parseDer(hex('06 03 2a 80 01'))), /non-minimal/);
  assert.throws(() => decodeOid(parseDer(hex('04 01 2a'))), /OBJECT IDENTIFIER/);
  assert.throws(() => derOid('3.1'), RangeError);
  assert.throws(() => derOid('1.40'), RangeError);
  assert.throws(() => derOid('1'), RangeError);
  assert.throws(() => derOid('1.x'), RangeError);
});

test('INTEGER, BOOLEAN, NULL, OCTET STRING, BIT STRING and SET encodings', () => {
  assert.deepEqual(derInteger(0), hex('02 01 00'));
  assert.deepEqual(derInteger(127), hex('02 01 7f'));
  assert.deepEqual(derInteger(128), hex('02 02 0080'));
  assert.deepEqual(derInteger(256), hex('02 02 0100'));
  assert.deepEqual(derInteger(hex('0000ff')), hex('02 02 00ff'));
  assert.deepEqual(derInteger(new Uint8Array(0)), hex('02 01 00'));
  assert.throws(() => derInteger(-1), RangeError);
  assert.equal(decodeSmallInteger(parseDer(hex('02 02 0080'))), 128);
  assert.throws(() => decodeSmallInteger(parseDer(hex('02 01 80'))), /negative/);
  assert.throws(() => decodeSmallInteger(parseDer(hex('02 05 0100000000'))), /too large/);
  assert.throws(() => decodeSmallInteger(parseDer(hex('02 00'))), /empty INTEGER/);
  assert.deepEqual(derBoolean(true), hex('01 01 ff'));
  assert.deepEqual(derBoolean(false), hex('01 01 00'));
  assert.equal(decodeBoolean(parseDer(hex('01 01 ff'))), true);
  assert.equal(decodeBoolean(parseDer(hex('01 01 00'))), false);
  assert.throws(() => decodeBoolean(parseDer(hex('01 02 0000'))), /one octet/);
  assert.deepEqual(derNull(), hex('05 00'));
  assert.deepEqual(derOctetString(hex('0102')), hex('04 02 0102'));
  assert.deepEqual(derBitString(hex('a0'), 5), hex('03 02 05 a0'));
  assert.deepEqual(decodeBitString(parseDer(hex('03 02 05 a0'))), { unusedBits: 5, data: hex('a0') });
  assert.throws(() => decodeBitString(parseDer(hex('03 00'))), /empty/);
  assert.throws(() => decodeBitString(parseDer(hex('03 01 03'))), /padding/);
  assert.throws(() => decodeBitString(parseDer(hex('03 02 08 00'))), /padding/);
  // SET OF sorts its elements (X.690 §11.6); SEQUENCE keeps the order.
  assert.deepEqual(derSet(hex('0201 02'), hex('0201 01')), hex('31 06 020101 020102'));
  assert.deepEqual(derSequence(hex('0201 02'), hex('0201 01')), hex('30 06 020102 020101'));
  assert.deepEqual(derContext(2, Buffer.from('a'), false), hex('82 01 61'));
  assert.deepEqual(derContext(0, derInteger(2), true), hex('a0 03 020102'));
  // A 200-byte value needs the long form.
  assert.deepEqual(derOctetString(Buffer.alloc(200)).subarray(0, 3), hex('04 81 c8'));
});

test('times: UTCTime 1950-2049 and GeneralizedTime (RFC 5280 §4.1.2.5)', () => {
  const t = (tag: number, s: string) =>
    decodeTime(parseDer(Buffer.concat([Buffer.of(tag, s.length), Buffer.from(s)])));
  assert.equal(t(0x17, '500101000000Z'), Date.UTC(1950, 0, 1));
  assert.equal(t(0x17, '491231235959Z'), Date.UTC(2049, 11, 31, 23, 59, 59));
  assert.equal(t(0x18, '20500101000000Z'), Date.UTC(2050, 0, 1));
  assert.equal(t(0x18, '99991231235959Z'), Date.UTC(9999, 11, 31, 23, 59, 59));
  assert.equal(t(0x18, '00500101000000Z'), new Date(0).setUTCFullYear(50, 0, 1));
  assert.equal(new Date(t(0x18, '00000229000000Z')).getUTCFullYear(), 0); // year 0 is a leap year
  assert.equal(t(0x17, '240229120000Z'), Date.UTC(2024, 1, 29, 12));
  for (const s of [
    '2301011200Z',
    '230101120000',
    '230101120000+0100',
    '231301000000Z',
    '230230000000Z',
    '230101240000Z',
    '2301011260 0Z',
    '23010112000aZ',
    '230100000000Z',
  ]) {
    assert.throws(() => t(0x17, s), DerDecodeError, s);
  }
  assert.throws(() => t(0x18, '20500101000000.5Z'), DerDecodeError);
  assert.throws(() => t(0x04, '500101000000Z'), /UTCTime or GeneralizedTime/);
  assert.deepEqual(
    derTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    Buffer.from('\x17\x0d260102030405Z', 'latin1'),
  );
  assert.deepEqual(derTime(Date.UTC(1949, 11, 31)), Buffer.from('\x18\x0f19491231000000Z', 'latin1'));
  assert.throws(() => derTime(Number.NaN), RangeError);
});

test('strings: UTF8String, PrintableString, IA5String, BMPString, UniversalString', () => {
  assert.equal(decodeString(parseDer(derUtf8String('héllo ✓'))), 'héllo ✓');
  assert.equal(decodeString(parseDer(hex('13 02 4142'))), 'AB');
  assert.equal(decodeString(parseDer(hex('16 03 612e62'))), 'a.b');
  assert.equal(decodeString(parseDer(hex('1e 04 00410042'))), 'AB');
  assert.equal(decodeString(parseDer(hex('1c 08 0000004100010000'))), 'A\u{10000}');
  assert.throws(() => decodeString(parseDer(hex('1e 03 004100'))), /odd-length/);
  assert.throws(() => decodeString(parseDer(hex('1c 04 00110000'))), /code point/);
  assert.throws(() => decodeString(parseDer(hex('02 01 00'))), /unsupported string/);
  assert.throws(() => decodeString(parseDer(hex('30 00'))), /expected a string/);
});

test('readCertificateInfo agrees with X509Certificate on every Node root certificate', () => {
  let withBc = 0;
  for (const pem of rootCertificates) {
    const der = decodePem(pem)[0]!.der;
    const x = new X509Certificate(der);
    const info = readCertificateInfo(der);
    assert.equal(info.notBefore, Date.parse(x.validFrom), x.subject);
    assert.equal(info.notAfter, Date.parse(x.validTo), x.subject);
    assert.equal(
      BigInt(`0x${Buffer.from(info.serialNumber).toString('hex')}`),
      BigInt(`0x${x.serialNumber}`),
    );
    assert.equal(info.basicConstraints?.ca ?? false, x.ca, x.subject);
    if (info.basicConstraints !== undefined) withBc++;
    assert.deepEqual(
      Buffer.from(info.subjectPublicKeyInfo),
      x.publicKey.export({ type: 'spki', format: 'der' }),
    );
    const cn = /^CN=(.*)$/m.exec(x.subject)?.[1];
    if (cn !== undefined && !cn.includes('\\')) assert.equal(info.subjectCommonNames[0], cn);
  }
  assert.ok(withBc > rootCertificates.length / 2);
});

test('readCertificateInfo rejects duplicate extensions, mismatched algorithms and malformed extensions', () => {
  const now = Date.UTC(2026, 0, 1);
  const base = { commonName: 'x', notBefore: now, notAfter: now + 1000 };
  const dup = createCertificate({
    ...base,
    extraExtensions: [{ oid: OID.basicConstraints, critical: false, value: derSequence() }],
  });
  assert.throws(() => readCertificateInfo(dup.certDer), /duplicate extension 2\.5\.29\.19/);
  const badKu = createCertificate({
    ...base,
    extraExtensions: [{ oid: OID.extKeyUsage, critical: false, value: hex('0500') }],
  });
  assert.throws(
    () => readCertificateInfo(badKu.certDer),
    (e: unknown) => isDerError(e),
  );
  const badSan = createCertificate({
    ...base,
    commonName: 'y',
    extraExtensions: [
      { oid: OID.subjectAltName, critical: false, value: derSequence(derContext(7, hex('010203'), false)) },
    ],
  });
  assert.throws(() => readCertificateInfo(badSan.certDer), /iPAddress length/);
  // Change the outer signatureAlgorithm of an ECDSA P-256 certificate to ecdsa-with-SHA384.
  const good = createCertificate(base);
  const outer = Buffer.from(good.certDer);
  const algo = hex('06082a8648ce3d040302');
  const at = outer.lastIndexOf(algo);
  outer[at + algo.length - 1] = 0x03;
  assert.throws(() => readCertificateInfo(outer), /signatureAlgorithm differs/);
  assert.throws(() => readCertificateInfo(Buffer.concat([good.certDer, hex('00')])), /trailing/);
  assert.throws(() => readCertificateInfo(derSequence(derInteger(1))), /TBSCertificate/);
  const info = readCertificateInfo(good.certDer);
  assert.equal(info.version, 3);
  assert.deepEqual(info.subjectCommonNames, ['x']);
});
