import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import {
  DerTag,
  derChildren,
  KeyUsageBit,
  OID,
  parseDer,
  readCertificateInfo,
} from '../../../src/tls/der.js';
import { decodePem, loadPrivateKey, TlsConfigError } from '../../../src/tls/private-key.js';
import { type CertificateKeyType, createCertificate, createTestPki } from '../../../src/tls/x509-builder.js';

const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const DAY = 86_400_000;

const SIG_OIDS: Record<CertificateKeyType, string> = {
  'ec-p256': '1.2.840.10045.4.3.2',
  'ec-p384': '1.2.840.10045.4.3.3',
  'rsa-2048': '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
};

const KEY_TYPES = Object.keys(SIG_OIDS) as CertificateKeyType[];

const bit = (b: KeyUsageBit) => 1 << b;

for (const keyType of KEY_TYPES) {
  test(`createCertificate (${keyType}): CA and leaf parse with X509Certificate and carry the requested fields`, () => {
    const ca = createCertificate({
      commonName: 'Test Root',
      notBefore: NOW - DAY,
      notAfter: NOW + 10 * DAY,
      keyType,
      isCA: true,
    });
    const leaf = createCertificate({
      commonName: 'leaf.example',
      dnsNames: ['leaf.example', '*.leaf.example'],
      ipAddresses: ['192.0.2.7', '2001:db8::1'],
      notBefore: NOW,
      notAfter: NOW + 5 * DAY,
      keyType,
      issuer: ca,
    });
    // CA: self-signed, cA true.
    assert.equal(ca.x509.ca, true);
    assert.equal(ca.x509.subject, 'CN=Test Root');
    assert.equal(ca.x509.issuer, 'CN=Test Root');
    assert.equal(ca.x509.checkIssued(ca.x509), true);
    assert.equal(ca.x509.verify(ca.publicKey), true);
    // Leaf: issued by the CA, SANs and dates as asked.
    assert.equal(leaf.x509.ca, false);
    assert.equal(leaf.x509.subject, 'CN=leaf.example');
    assert.equal(leaf.x509.issuer, 'CN=Test Root');
    assert.equal(leaf.x509.checkIssued(ca.x509), true);
    assert.equal(leaf.x509.verify(ca.publicKey), true);
    assert.equal(leaf.x509.verify(leaf.publicKey), false);
    assert.match(
      leaf.x509.subjectAltName ?? '',
      /^DNS:leaf\.example, DNS:\*\.leaf\.example, IP Address:192\.0\.2\.7, IP Address:2001:DB8:0:0:0:0:0:1$/i,
    );
    assert.equal(leaf.x509.checkHost('leaf.example'), 'leaf.example');
    assert.equal(leaf.x509.checkIP('192.0.2.7'), '192.0.2.7');
    assert.equal(leaf.x509.checkIP('2001:db8::1'), '2001:db8::1');
    assert.equal(new Date(leaf.x509.validFrom).getTime(), NOW);
    assert.equal(new Date(leaf.x509.validTo).getTime(), NOW + 5 * DAY);
    assert.equal(
      leaf.x509.publicKey
        .export({ type: 'spki', format: 'der' })
        .equals(leaf.publicKey.export({ type: 'spki', format: 'der' })),
      true,
    );

    const caInfo = readCertificateInfo(ca.certDer);
    const info = readCertificateInfo(leaf.certDer);
    assert.equal(info.version, 3);
    assert.equal(info.signatureAlgorithm, SIG_OIDS[keyType]);
    assert.deepEqual(Buffer.from(info.issuer), Buffer.from(caInfo.subject));
    assert.equal(info.notBefore, NOW);
    assert.equal(info.notAfter, NOW + 5 * DAY);
    assert.deepEqual(info.basicConstraints, { ca: false });
    assert.deepEqual(caInfo.basicConstraints, { ca: true });
    assert.equal(caInfo.keyUsage, bit(KeyUsageBit.keyCertSign) | bit(KeyUsageBit.cRLSign));
    const expectedLeafUsage =
      bit(KeyUsageBit.digitalSignature) | (keyType === 'rsa-2048' ? bit(KeyUsageBit.keyEncipherment) : 0);
    assert.equal(info.keyUsage, expectedLeafUsage);
    assert.deepEqual(info.extendedKeyUsage, [OID.serverAuth, OID.clientAuth]);
    assert.equal(caInfo.extendedKeyUsage, undefined);
    assert.deepEqual(info.subjectAltNames?.dnsNames, ['leaf.example', '*.leaf.example']);
    assert.deepEqual(
      info.subjectAltNames?.ipAddresses.map((a) => Buffer.from(a).toString('hex')),
      ['c0000207', '20010db8000000000000000000000001'],
    );
    assert.deepEqual(Buffer.from(info.authorityKeyIdentifier!), Buffer.from(caInfo.subjectKeyIdentifier!));
    const critical = Object.fromEntries(info.extensions.map((e) => [e.oid, e.critical]));
    assert.equal(critical[OID.basicConstraints], true);
    assert.equal(critical[OID.keyUsage], true);
    assert.equal(critical[OID.subjectAltName], false);
    // PEM forms round-trip.
    assert.deepEqual(decodePem(leaf.certPem)[0]!.der, leaf.certDer);
    assert.deepEqual(new X509Certificate(leaf.certPem).raw, leaf.certDer);
    assert.deepEqual(
      loadPrivateKey(leaf.keyPem).export({ type: 'pkcs8', format: 'der' }),
      leaf.privateKey.export({ type: 'pkcs8', format: 'der' }),
    );
  });
}

test('createCertificate: serial numbers, default derived from the key and explicit ones encoded as positive', () => {
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const base = { commonName: 's', notBefore: NOW, notAfter: NOW + DAY, keyPair };
  const a = createCertificate(base);
  const b = createCertificate(base);
  assert.equal(a.x509.serialNumber, b.x509.serialNumber);
  assert.equal(a.x509.serialNumber.length, 32);
  assert.notEqual(createCertificate({ ...base, keyPair: undefined }).x509.serialNumber, a.x509.serialNumber);
  assert.deepEqual(a.publicKey, keyPair.publicKey);
  const c = createCertificate({ ...base, serialNumber: Uint8Array.of(0x00, 0x00, 0x85, 0x01) });
  assert.equal(c.x509.serialNumber, '8501');
  assert.deepEqual(Buffer.from(readCertificateInfo(c.certDer).serialNumber), Buffer.from('008501', 'hex'));
  assert.throws(
    () => createCertificate({ ...base, serialNumber: new Uint8Array(21).fill(1) }),
    TlsConfigError,
  );
  assert.throws(() => createCertificate({ ...base, serialNumber: new Uint8Array(3) }), TlsConfigError);
});

test('createCertificate: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
  const notBefore = Date.UTC(2049, 11, 31, 23, 59, 59) + 999; // milliseconds are dropped
  const notAfter = Date.UTC(2050, 0, 1);
  const cert = createCertificate({ commonName: 't', notBefore, notAfter });
  const [tbs] = derChildren(parseDer(cert.certDer));
  const [nb, na] = derChildren(derChildren(tbs!)[4]!); // version, serial, signature, issuer, validity
  assert.equal(nb!.tag, DerTag.UtcTime);
  assert.equal(Buffer.from(nb!.value).toString('latin1'), '491231235959Z');
  assert.equal(na!.tag, DerTag.GeneralizedTime);
  assert.equal(Buffer.from(na!.value).toString('latin1'), '20500101000000Z');
  const info = readCertificateInfo(cert.certDer);
  assert.equal(info.notBefore, notBefore - 999);
  assert.equal(info.notAfter, notAfter);
});

test('createCertificate: pathLength, keyUsage and extendedKeyUsage overrides', () => {
  const ca = createCertificate({
    commonName: 'ca',
    notBefore: NOW,
    notAfter: NOW + DAY,
    isCA: true,
    pathLength: 0,
  });
  assert.deepEqual(readCertificateInfo(ca.certDer).basicConstraints, { ca: true, pathLength: 0 });
  const noKu = createCertificate({
    commonName: 'ca2',
    notBefore: NOW,
    notAfter: NOW + DAY,
    isCA: true,
    keyUsage: [],
  });
  assert.equal(readCertificateInfo(noKu.certDer).keyUsage, undefined);
  assert.equal(noKu.x509.ca, true);
  const sigOnly = createCertificate({
    commonName: 'ca3',
    notBefore: NOW,
    notAfter: NOW + DAY,
    isCA: true,
    keyUsage: ['digitalSignature'],
  });
  assert.equal(readCertificateInfo(sigOnly.certDer).keyUsage, bit(KeyUsageBit.digitalSignature));
  const all = createCertificate({
    commonName: 'x',
    notBefore: NOW,
    notAfter: NOW + DAY,
    keyUsage: ['digitalSignature', 'keyEncipherment', 'keyCertSign', 'cRLSign'],
    extendedKeyUsage: ['clientAuth'],
  });
  const allInfo = readCertificateInfo(all.certDer);
  assert.equal(allInfo.keyUsage, 0b1100101);
  assert.deepEqual(allInfo.extendedKeyUsage, [OID.clientAuth]);
  const noEku = createCertificate({
    commonName: 'x',
    notBefore: NOW,
    notAfter: NOW + DAY,
    extendedKeyUsage: [],
  });
  assert.equal(readCertificateInfo(noEku.certDer).extendedKeyUsage, undefined);
});

test('createCertificate: an empty subject makes subjectAltName critical', () => {
  const cert = createCertificate({
    commonName: '',
    dnsNames: ['only.san'],
    notBefore: NOW,
    notAfter: NOW + DAY,
  });
  const info = readCertificateInfo(cert.certDer);
  assert.deepEqual(info.subjectCommonNames, []);
  assert.equal(info.extensions.find((e) => e.oid === OID.subjectAltName)?.critical, true);
  assert.ok(!cert.x509.subject);
  assert.equal(cert.x509.checkHost('only.san'), 'only.san');
});

test('createCertificate rejects unusable options with TlsConfigError', () => {
  const base = { commonName: 'x', notBefore: NOW, notAfter: NOW + DAY };
  assert.throws(() => createCertificate({ ...base, notAfter: NOW - 1 }), TlsConfigError);
  assert.throws(() => createCertificate({ ...base, ipAddresses: ['256.1.1.1'] }), /invalid IP address/);
  assert.throws(() => createCertificate({ ...base, ipAddresses: ['fe80::1%eth0'] }), /invalid IP address/);
  assert.throws(() => createCertificate({ ...base, dnsNames: ['bad name'] }), /invalid DNS name/);
  assert.throws(() => createCertificate({ ...base, pathLength: 1 }), /pathLength requires isCA/);
  assert.throws(() => createCertificate({ ...base, commonName: '' }), TlsConfigError);
  const x25519 = generateKeyPairSync('x25519');
  assert.throws(() => createCertificate({ ...base, keyPair: x25519 }), /cannot sign certificates/);
});

test('createTestPki: a CA and a leaf for DNS names and IP literals', () => {
  const { ca, leaf } = createTestPki({
    names: ['localhost', '127.0.0.1', '::1'],
    now: NOW,
    keyType: 'ed25519',
  });
  assert.equal(ca.x509.ca, true);
  assert.equal(leaf.x509.ca, false);
  assert.equal(leaf.x509.subject, 'CN=localhost');
  assert.equal(leaf.x509.checkIssued(ca.x509), true);
  assert.equal(leaf.x509.verify(ca.publicKey), true);
  assert.equal(leaf.publicKey.asymmetricKeyType, 'ed25519');
  const info = readCertificateInfo(leaf.certDer);
  assert.deepEqual(info.subjectAltNames?.dnsNames, ['localhost']);
  assert.equal(info.subjectAltNames?.ipAddresses.length, 2);
  assert.ok(info.notBefore < NOW && info.notAfter > NOW + 30 * DAY);
  const caInfo = readCertificateInfo(ca.certDer);
  assert.ok(caInfo.notBefore < NOW && caInfo.notAfter > info.notAfter);
  assert.equal(
    createTestPki({ names: ['a.b'], now: NOW }).leaf.publicKey.asymmetricKeyDetails?.namedCurve,
    'prime256v1',
  );
});
