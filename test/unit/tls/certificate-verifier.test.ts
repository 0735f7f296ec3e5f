import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { AlertDescription } from '../../../src/tls/alert.js';
import {
  type CertificateVerifyOptions,
  type CertificateVerifyResult,
  cachedTrustStore,
  checkServerName,
  createTrustStore,
  defaultTrustStore,
  dnsNameMatches,
  ipAddressToBytes,
  ipBytesToString,
  verifyCertificateChain,
} from '../../../src/tls/certificate-verifier.js';
import { derContext, derSequence, OID, readCertificateInfo } from '../../../src/tls/der.js';
import { TlsConfigError } from '../../../src/tls/private-key.js';
import {
  type CertificateOptions,
  createCertificate,
  type GeneratedCertificate,
} from '../../../src/tls/x509-builder.js';

const NOW = Date.UTC(2026, 3, 10, 8, 0, 0);
const DAY = 86_400_000;
const valid = { notBefore: NOW - DAY, notAfter: NOW + 30 * DAY };

function ca(commonName: string, extra: Partial<CertificateOptions> = {}): GeneratedCertificate {
  return createCertificate({ commonName, ...valid, isCA: true, ...extra });
}

function leafFor(
  issuer: GeneratedCertificate,
  extra: Partial<CertificateOptions> = {},
): GeneratedCertificate {
  return createCertificate({
    commonName: 'www.example.com',
    dnsNames: ['www.example.com'],
    ...valid,
    issuer,
    ...extra,
  });
}

const root = ca('Root CA');
const inter = ca('Intermediate CA', { issuer: root });
const leaf = leafFor(inter);

function verify(
  chain: GeneratedCertificate[],
  opts: Partial<CertificateVerifyOptions> = {},
): CertificateVerifyResult {
  return verifyCertificateChain(
    chain.map((c) => c.certDer),
    { ca: [root.certPem], now: NOW, serverName: 'www.example.com', ...opts },
  );
}

function assertFails(result: CertificateVerifyResult, alert: AlertDescription, reason: RegExp): void {
  assert.equal(result.ok, false, 'expected a failure');
  if (result.ok) return;
  assert.equal(result.alert, alert, `alert ${AlertDescription[result.alert]}: ${result.reason}`);
  assert.match(result.reason, reason);
}

function assertOk(result: CertificateVerifyResult): void {
  assert.equal(result.ok, true, result.ok ? '' : `${AlertDescription[result.alert]}: ${result.reason}`);
}

test('leaf <- intermediate <- root verifies and returns the leaf', () => {
  const r = verify([leaf, inter]);
  assertOk(r);
  assert.ok(r.ok && r.leaf.raw.equals(leaf.certDer));
  // Trust anchors as DER, as a PEM bundle, with the root also presented, and without a name check.
  assertOk(verify([leaf, inter], { ca: [root.certDer] }));
  assertOk(verify([leaf, inter], { ca: [`${inter.certPem}\n${root.certPem}`] }));
  assertOk(verify([leaf, inter, root]));
  assertOk(verify([leaf, inter], { serverName: undefined }));
  // An intermediate that is itself a trust anchor ends the path there.
  assertOk(verify([leaf], { ca: [inter.certPem] }));
});

test('path building tolerates extra certificates and any order (RFC 8446 §4.4.2)', () => {
  const other = ca('Other CA');
  assertOk(verify([leaf, other, root, inter]));
  // Two intermediates with the same name: the first one tried has the wrong key.
  const impostor = ca('Intermediate CA', { issuer: root });
  assertOk(verify([leaf, impostor, inter]));
  assertOk(verify([leaf, inter, impostor]));
});

test('validity at `now` for every certificate: expired -> certificate_expired, not yet valid -> bad_certificate', () => {
  const expired = leafFor(inter, { notBefore: NOW - 10 * DAY, notAfter: Date.UTC(2026, 3, 1) });
  assertFails(
    verify([expired, inter]),
    AlertDescription.certificate_expired,
    /^certificate expired at 2026-04-01T00:00:00\.000Z/,
  );
  const future = leafFor(inter, { notBefore: NOW + DAY, notAfter: NOW + 2 * DAY });
  assertFails(
    verify([future, inter]),
    AlertDescription.bad_certificate,
    /not yet valid.*2026-04-11T08:00:00\.000Z/,
  );
  const oldInter = ca('Intermediate CA', { issuer: root, notBefore: NOW - 9 * DAY, notAfter: NOW - DAY });
  assertFails(
    verify([leafFor(oldInter), oldInter]),
    AlertDescription.certificate_expired,
    /expired.*Intermediate CA/,
  );
  const oldRoot = ca('Old Root', { notBefore: NOW - 9 * DAY, notAfter: NOW - DAY });
  const i2 = ca('I2', { issuer: oldRoot });
  assertFails(
    verify([leafFor(i2), i2], { ca: [oldRoot.certPem] }),
    AlertDescription.certificate_expired,
    /Old Root/,
  );
  const newRoot = ca('New Root', { notBefore: NOW + DAY, notAfter: NOW + 9 * DAY });
  assertFails(
    verify([leafFor(newRoot)], { ca: [newRoot.certPem] }),
    AlertDescription.bad_certificate,
    /not yet valid/,
  );
});

test('validity bounds are inclusive at one-second granularity (RFC 5280 §4.1.2.5)', () => {
  const edge = leafFor(inter, { notBefore: NOW, notAfter: NOW + DAY });
  assertOk(verify([edge, inter], { now: NOW }));
  assertFails(verify([edge, inter], { now: NOW - 1 }), AlertDescription.bad_certificate, /not yet valid/);
  assertOk(verify([edge, inter], { now: NOW + DAY + 999 }));
  assertFails(
    verify([edge, inter], { now: NOW + DAY + 1000 }),
    AlertDescription.certificate_expired,
    /expired/,
  );
});

test('unknown issuer -> unknown_ca', () => {
  assertFails(
    verify([leaf, inter], { ca: [ca('Unrelated').certPem] }),
    AlertDescription.unknown_ca,
    /^unknown CA/,
  );
  assertFails(
    verify([leaf]),
    AlertDescription.unknown_ca,
    /unknown CA: no trusted issuer "CN=Intermediate CA"/,
  );
  // Node's bundled roots do not know our test PKI.
  assertFails(verify([leaf, inter], { ca: undefined }), AlertDescription.unknown_ca, /unknown CA/);
  // A self-signed leaf nobody trusts.
  const self = createCertificate({ commonName: 'self', dnsNames: ['www.example.com'], ...valid });
  assertFails(verify([self]), AlertDescription.unknown_ca, /unknown CA/);
});

test('a self-signed certificate configured as trust anchor is trusted directly', () => {
  const self = createCertificate({ commonName: 'self', dnsNames: ['www.example.com'], ...valid });
  assertOk(verify([self], { ca: [self.certPem] }));
  assertFails(
    verify([self], { ca: [self.certPem], serverName: 'other.example.com' }),
    AlertDescription.bad_certificate,
    /name mismatch/,
  );
});

test('broken signatures -> bad_certificate "bad signature"', () => {
  const tampered = Buffer.from(leaf.certDer);
  tampered[tampered.length - 5]! ^= 0x01; // inside the signature value
  const r = verifyCertificateChain([tampered, inter.certDer], { ca: [root.certPem], now: NOW });
  assertFails(
    r,
    AlertDescription.bad_certificate,
    /^bad signature: "CN=www\.example\.com" is not signed by "CN=Intermediate CA"/,
  );
  // Same issuer name but another key: the authorityKeyIdentifier rules the presented one out.
  const fake = ca('Intermediate CA', { issuer: root });
  assertFails(verify([leafFor(fake), inter]), AlertDescription.unknown_ca, /unknown CA/);
  // A tampered intermediate: its own signature (by the root) breaks.
  const badInter = Buffer.from(inter.certDer);
  badInter[badInter.length - 3]! ^= 0x40;
  const r3 = verifyCertificateChain([leaf.certDer, badInter], { ca: [root.certPem], now: NOW });
  assertFails(
    r3,
    AlertDescription.bad_certificate,
    /bad signature: "CN=Intermediate CA" is not signed by "CN=Root CA"/,
  );
  // A modified TBS (the name changed) no longer matches the signature.
  const renamed = Buffer.from(
    leaf.certDer.toString('latin1').replace('www.example.com', 'www.exbmple.com'),
    'latin1',
  );
  const r2 = verifyCertificateChain([renamed, inter.certDer], { ca: [root.certPem], now: NOW });
  assertFails(r2, AlertDescription.bad_certificate, /bad signature/);
});

test('an issuer without the CA flag -> bad_certificate', () => {
  const notCa = createCertificate({ commonName: 'Not A CA', ...valid, issuer: root });
  assert.equal(notCa.x509.ca, false);
  assertFails(
    verify([leafFor(notCa), notCa]),
    AlertDescription.bad_certificate,
    /issuer "CN=Not A CA" is not a CA/,
  );
  // Also when the non-CA is the trust anchor itself.
  assertFails(
    verify([leafFor(notCa)], { ca: [notCa.certPem] }),
    AlertDescription.bad_certificate,
    /is not a CA/,
  );
});

test('an issuer whose keyUsage lacks keyCertSign -> bad_certificate', () => {
  const noSign = ca('No Cert Sign', { issuer: root, keyUsage: ['digitalSignature', 'cRLSign'] });
  assertFails(
    verify([leafFor(noSign), noSign]),
    AlertDescription.bad_certificate,
    /"CN=No Cert Sign" keyUsage does not allow keyCertSign/,
  );
  // Without a keyUsage extension the CA flag is enough.
  const noKu = ca('No KU', { issuer: root, keyUsage: [] });
  assertOk(verify([leafFor(noKu), noKu]));
});

test('pathLenConstraint is honoured (RFC 5280 §4.2.1.9)', () => {
  const r0 = ca('Root pathLen 0', { pathLength: 0 });
  const i0 = ca('Inter under pathLen 0', { issuer: r0 });
  assertFails(
    verify([leafFor(i0), i0], { ca: [r0.certPem] }),
    AlertDescription.bad_certificate,
    /path length constraint exceeded: "CN=Root pathLen 0" allows 0 intermediate\(s\) below it, found 1/,
  );
  assertOk(verify([leafFor(r0)], { ca: [r0.certPem] }));
  const r1 = ca('Root pathLen 1', { pathLength: 1 });
  const a = ca('A', { issuer: r1 });
  const b = ca('B', { issuer: a });
  assertOk(verify([leafFor(a), a], { ca: [r1.certPem] }));
  assertFails(verify([leafFor(b), b, a], { ca: [r1.certPem] }), AlertDescription.bad_certificate, /found 2/);
  const aZero = ca('A0', { issuer: r1, pathLength: 0 });
  const bUnder = ca('B0', { issuer: aZero });
  assertFails(
    verify([leafFor(bUnder), bUnder, aZero], { ca: [r1.certPem] }),
    AlertDescription.bad_certificate,
    /"CN=A0" allows 0/,
  );
});

test('name mismatch -> bad_certificate naming the expected and presented names', () => {
  const multi = leafFor(inter, { dnsNames: ['a.example.com', 'b.example.com'], ipAddresses: ['192.0.2.1'] });
  assertFails(
    verify([multi, inter], { serverName: 'c.example.com' }),
    AlertDescription.bad_certificate,
    /^name mismatch: expected "c\.example\.com", certificate is for DNS:a\.example\.com, DNS:b\.example\.com, IP:192\.0\.2\.1$/,
  );
  assertOk(verify([multi, inter], { serverName: 'B.Example.COM.' }));
  // Internationalized names are compared as A-labels; control characters never reach the reason.
  const idn = leafFor(inter, { dnsNames: ['xn--bcher-kva.example'] });
  assertOk(verify([idn, inter], { serverName: 'bücher.example' }));
  const weirdSan = derSequence(derContext(2, Buffer.from('a\u0007b.example', 'latin1'), false));
  const weird = leafFor(inter, {
    commonName: 'evil\nname',
    dnsNames: [],
    extraExtensions: [{ oid: OID.subjectAltName, critical: false, value: weirdSan }],
  });
  const r = verify([weird, inter], { serverName: 'x\ny.example' });
  assertFails(
    r,
    AlertDescription.bad_certificate,
    /^name mismatch: expected "x\?y\.example", certificate is for DNS:a\?b\.example$/,
  );
});

test('wildcard rules (RFC 6125 §6.4.3): leftmost label only, one label, no partial, no single-label suffix', () => {
  const wild = leafFor(inter, { dnsNames: ['*.example.com'] });
  assertOk(verify([wild, inter], { serverName: 'www.example.com' }));
  assertOk(verify([wild, inter], { serverName: 'api.example.com' }));
  for (const name of ['example.com', 'a.b.example.com', '.example.com', 'www.example.org']) {
    assertFails(
      verify([wild, inter], { serverName: name }),
      AlertDescription.bad_certificate,
      /name mismatch.*\*\.example\.com/,
    );
  }
  const tld = leafFor(inter, { dnsNames: ['*.com'] });
  assertFails(
    verify([tld, inter], { serverName: 'example.com' }),
    AlertDescription.bad_certificate,
    /name mismatch/,
  );
  const partial = leafFor(inter, { dnsNames: ['w*.example.com'] });
  assertFails(
    verify([partial, inter], { serverName: 'www.example.com' }),
    AlertDescription.bad_certificate,
    /name mismatch/,
  );

  assert.equal(dnsNameMatches('*.example.com', 'foo.example.com'), true);
  assert.equal(dnsNameMatches('*.EXAMPLE.com.', 'Foo.example.COM'), true);
  assert.equal(dnsNameMatches('*.example.com', 'example.com'), false);
  assert.equal(dnsNameMatches('*.example.com', 'a.foo.example.com'), false);
  assert.equal(dnsNameMatches('*.com', 'example.com'), false);
  assert.equal(dnsNameMatches('*', 'localhost'), false);
  assert.equal(dnsNameMatches('f*.example.com', 'foo.example.com'), false);
  assert.equal(dnsNameMatches('*oo.example.com', 'foo.example.com'), false);
  assert.equal(dnsNameMatches('*.*.example.com', 'a.b.example.com'), false);
  assert.equal(dnsNameMatches('a.*.example.com', 'a.b.example.com'), false);
  assert.equal(dnsNameMatches('*..com', 'a..com'), false);
  assert.equal(dnsNameMatches('*.example.com', '*.example.com'), false);
  assert.equal(dnsNameMatches('example.com', 'example.com'), true);
  assert.equal(dnsNameMatches('', ''), false);
});

test('IPv4 and IPv6 literals match iPAddress SANs only', () => {
  const ipLeaf = leafFor(inter, {
    commonName: '192.0.2.1',
    dnsNames: ['198.51.100.1'],
    ipAddresses: ['192.0.2.1', '2001:db8::1'],
  });
  assertOk(verify([ipLeaf, inter], { serverName: '192.0.2.1' }));
  assertOk(verify([ipLeaf, inter], { serverName: '2001:db8::1' }));
  assertOk(verify([ipLeaf, inter], { serverName: '2001:0DB8:0:0:0:0:0:1' }));
  assertOk(verify([ipLeaf, inter], { serverName: '[2001:db8::1]' }));
  assertFails(
    verify([ipLeaf, inter], { serverName: '192.0.2.2' }),
    AlertDescription.bad_certificate,
    /^name mismatch: expected IP address 192\.0\.2\.2, certificate is for DNS:198\.51\.100\.1, IP:192\.0\.2\.1, IP:2001:db8::1$/,
  );
  // A DNS SAN spelling an address is not an IP identity.
  assertFails(
    verify([ipLeaf, inter], { serverName: '198.51.100.1' }),
    AlertDescription.bad_certificate,
    /expected IP address/,
  );
  assertFails(
    verify([ipLeaf, inter], { serverName: '2001:db8::2' }),
    AlertDescription.bad_certificate,
    /2001:db8::2/,
  );
  // IPv4-mapped IPv6 is a different 16-octet identity.
  assertFails(
    verify([ipLeaf, inter], { serverName: '::ffff:192.0.2.1' }),
    AlertDescription.bad_certificate,
    /name mismatch/,
  );
  // An IP literal never falls back to the CN.
  const cnOnly = createCertificate({ commonName: '192.0.2.9', ...valid, issuer: inter });
  assertFails(
    verify([cnOnly, inter], { serverName: '192.0.2.9' }),
    AlertDescription.bad_certificate,
    /certificate is for CN=192\.0\.2\.9/,
  );
});

test('the CN is used only when the certificate has no subjectAltName (RFC 6125 §6.4.4)', () => {
  const cnOnly = createCertificate({ commonName: 'legacy.example.com', ...valid, issuer: inter });
  assertOk(verify([cnOnly, inter], { serverName: 'legacy.example.com' }));
  const withSan = leafFor(inter, { commonName: 'legacy.example.com', dnsNames: ['other.example.com'] });
  assertFails(
    verify([withSan, inter], { serverName: 'legacy.example.com' }),
    AlertDescription.bad_certificate,
    /name mismatch/,
  );
  const ipSanOnly = leafFor(inter, {
    commonName: 'legacy.example.com',
    dnsNames: [],
    ipAddresses: ['192.0.2.1'],
  });
  assertFails(
    verify([ipSanOnly, inter], { serverName: 'legacy.example.com' }),
    AlertDescription.bad_certificate,
    /name mismatch/,
  );
  const info = readCertificateInfo(cnOnly.certDer);
  assert.equal(checkServerName(info, 'LEGACY.example.com'), undefined);
  assert.match(
    checkServerName(info, 'x.example.com')?.reason ?? '',
    /certificate is for CN=legacy\.example\.com/,
  );
});

test('leaf usage: extendedKeyUsage must allow the peer role, keyUsage must allow digitalSignature', () => {
  const clientOnly = leafFor(inter, { extendedKeyUsage: ['clientAuth'] });
  assertFails(
    verify([clientOnly, inter]),
    AlertDescription.unsupported_certificate,
    /extendedKeyUsage .* does not include serverAuth/,
  );
  assertOk(verify([clientOnly, inter], { peer: 'client', serverName: undefined }));
  const serverOnly = leafFor(inter, { extendedKeyUsage: ['serverAuth'] });
  assertOk(verify([serverOnly, inter]));
  assertFails(
    verify([serverOnly, inter], { peer: 'client' }),
    AlertDescription.unsupported_certificate,
    /clientAuth/,
  );
  assertOk(verify([leafFor(inter, { extendedKeyUsage: [] }), inter]));
  const encOnly = leafFor(inter, { keyUsage: ['keyEncipherment'] });
  assertFails(
    verify([encOnly, inter]),
    AlertDescription.unsupported_certificate,
    /does not allow digitalSignature/,
  );
});

test('unknown critical extensions are rejected (RFC 5280 §4.2); non-critical ones ignored', () => {
  const ext = { oid: '1.3.6.1.4.1.99999.1', value: Buffer.of(0x05, 0x00) };
  assertFails(
    verify([leafFor(inter, { extraExtensions: [{ ...ext, critical: true }] }), inter]),
    AlertDescription.unsupported_certificate,
    /unsupported critical extension 1\.3\.6\.1\.4\.1\.99999\.1/,
  );
  assertOk(verify([leafFor(inter, { extraExtensions: [{ ...ext, critical: false }] }), inter]));
  const badInter = ca('Crit Inter', { issuer: root, extraExtensions: [{ ...ext, critical: true }] });
  assertFails(verify([leafFor(badInter), badInter]), AlertDescription.unsupported_certificate, /Crit Inter/);
});

test('name constraints of a CA apply to the certificates below it (RFC 5280 §4.2.1.10)', () => {
  const nc = ca('Constrained', {
    issuer: root,
    nameConstraints: {
      permitted: ['example.com', '192.0.2.0/24'],
      excluded: ['secret.example.com', '2001:db8::/32'],
    },
  });
  assertOk(verify([leafFor(nc), nc]));
  assertOk(
    verify([leafFor(nc, { dnsNames: ['example.com'], ipAddresses: ['192.0.2.200'] }), nc], {
      serverName: undefined,
    }),
  );
  assertFails(
    verify([leafFor(nc, { dnsNames: ['www.example.org'] }), nc], { serverName: undefined }),
    AlertDescription.bad_certificate,
    /name constraints of "CN=Constrained" forbid DNS:www\.example\.org/,
  );
  assertFails(
    verify([leafFor(nc, { dnsNames: ['badexample.com'] }), nc], { serverName: undefined }),
    AlertDescription.bad_certificate,
    /forbid DNS:badexample\.com/,
  );
  assertFails(
    verify([leafFor(nc, { dnsNames: ['a.secret.example.com'] }), nc], { serverName: undefined }),
    AlertDescription.bad_certificate,
    /forbid/,
  );
  // A wildcard that could stand for an excluded name is refused.
  assertFails(
    verify([leafFor(nc, { dnsNames: ['*.example.com'] }), nc], { serverName: undefined }),
    AlertDescription.bad_certificate,
    /forbid DNS:\*\.example\.com/,
  );
  assertFails(
    verify([leafFor(nc, { ipAddresses: ['198.51.100.1'] }), nc], { serverName: undefined }),
    AlertDescription.bad_certificate,
    /forbid IP:198\.51\.100\.1/,
  );
  assertFails(
    verify([leafFor(nc, { ipAddresses: ['2001:db8::5'] }), nc], { serverName: undefined }),
    AlertDescription.bad_certificate,
    /forbid IP:2001:db8::5/,
  );
  // No SAN: the CN is what a client would match, so it is constrained too.
  const cnOnly = createCertificate({ commonName: 'evil.test', ...valid, issuer: nc });
  assertFails(
    verify([cnOnly, nc], { serverName: undefined }),
    AlertDescription.bad_certificate,
    /forbid DNS:evil\.test/,
  );
});

test('empty chains: decode_error from a server, certificate_required from a client (RFC 8446 §4.4.2.4)', () => {
  assertFails(
    verifyCertificateChain([], { now: NOW }),
    AlertDescription.decode_error,
    /empty certificate chain/,
  );
  assertFails(
    verifyCertificateChain([], { now: NOW, peer: 'client' }),
    AlertDescription.certificate_required,
    /no certificate/,
  );
});

test('garbage DER -> bad_certificate; bad trust anchors -> internal_error', () => {
  assertFails(
    verifyCertificateChain([Buffer.from('garbage')], { now: NOW }),
    AlertDescription.bad_certificate,
    /malformed certificate #0/,
  );
  assertFails(
    verifyCertificateChain([leaf.certDer, Buffer.of(0x30, 0x03, 0x02, 0x01)], { now: NOW }),
    AlertDescription.bad_certificate,
    /malformed certificate #1/,
  );
  assertFails(
    verifyCertificateChain([leaf.certDer.subarray(1)], { now: NOW }),
    AlertDescription.bad_certificate,
    /malformed/,
  );
  assertFails(
    verify([leaf, inter], { ca: ['not a certificate'] }),
    AlertDescription.internal_error,
    /invalid CA certificate #0/,
  );
  assertFails(
    verify([leaf, inter], { ca: [Buffer.of(1, 2, 3)] }),
    AlertDescription.internal_error,
    /invalid CA certificate/,
  );
  assert.throws(
    () => createTrustStore([root.certPem, 'x']),
    (e: unknown) => e instanceof TlsConfigError && /#1/.test(e.message),
  );
  assert.equal(createTrustStore([root.certPem, root.certDer, inter.certPem]).size, 2);
  const many = Array.from({ length: 17 }, () => leaf);
  assertFails(verify(many), AlertDescription.bad_certificate, /too many certificates/);
});

test('cross-signed loops and long chains end without hanging', () => {
  // X and Y issue each other; neither is trusted.
  const x1 = ca('X');
  const y = ca('Y', { issuer: x1 });
  const x2 = ca('X', { issuer: y, keyPair: { privateKey: x1.privateKey, publicKey: x1.publicKey } });
  assertFails(
    verify([leafFor(y), x2, y, x1], { ca: [root.certPem] }),
    AlertDescription.unknown_ca,
    /unknown CA/,
  );
  // A chain longer than the path limit.
  const chain: GeneratedCertificate[] = [];
  let issuer = root;
  for (let i = 0; i < 9; i++) {
    issuer = ca(`Level ${i}`, { issuer });
    chain.unshift(issuer);
  }
  assertFails(verify([leafFor(issuer), ...chain]), AlertDescription.bad_certificate, /longer than 8/);
  assertOk(verify([leafFor(chain[3]!), ...chain.slice(3)]));
});

test('every Node root certificate parses into the default trust store', () => {
  const store = defaultTrustStore();
  assert.equal(store.size, new Set(rootCertificates).size);
  assert.equal(defaultTrustStore(), store);
});

test('IP literal helpers: parsing and RFC 5952 text', () => {
  assert.equal(ipAddressToBytes('10.1.2.3')?.toString('hex'), '0a010203');
  assert.equal(ipAddressToBytes('::')?.toString('hex'), '00'.repeat(16));
  assert.equal(ipAddressToBytes('::ffff:1.2.3.4')?.toString('hex'), `${'00'.repeat(10)}ffff01020304`);
  assert.equal(ipAddressToBytes('1:2:3:4:5:6:7:8')?.toString('hex'), '00010002000300040005000600070008');
  for (const bad of [
    '1.2.3',
    '1.2.3.256',
    '01.2.3.4',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7::8',
    'fe80::1%1',
    'g::1',
    '1.2.3.4::',
    'example.com',
    '',
  ]) {
    assert.equal(ipAddressToBytes(bad), undefined, bad);
  }
  assert.equal(ipBytesToString(ipAddressToBytes('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(ipBytesToString(ipAddressToBytes('2001:0db8::0001')!), '2001:db8::1');
  assert.equal(ipBytesToString(ipAddressToBytes('1:0:2:0:3:0:4:0')!), '1:0:2:0:3:0:4:0');
  assert.equal(ipBytesToString(Uint8Array.of(127, 0, 0, 1)), '127.0.0.1');
  assert.equal(ipBytesToString(Uint8Array.of(1, 2)), '0x0102');
});

// ---- The parse and signature caches (a chain a client sees again is not parsed or checked again) ----

test('cached parses and signature checks never carry over to other bytes, anchors, times or names', () => {
  assertOk(verify([leaf, inter]));
  assertOk(verify([leaf, inter])); // from the caches
  // One flipped bit in the leaf's signature: new bytes, checked anew.
  const tampered = Buffer.from(leaf.certDer);
  tampered[tampered.length - 5]! ^= 0x01;
  assertFails(
    verifyCertificateChain([tampered, inter.certDer], { ca: [root.certPem], now: NOW }),
    AlertDescription.bad_certificate,
    /bad signature/,
  );
  assertOk(verify([leaf, inter]));
  // A trust anchor with the root's name and key identifier but another key: the intermediate's
  // signature was found good under the real root, which says nothing about this one.
  const rootInfo = readCertificateInfo(root.certDer);
  const other = ca('Root CA');
  const otherInfo = readCertificateInfo(other.certDer);
  const impostor = Buffer.from(
    other.certDer
      .toString('latin1')
      .replace(
        Buffer.from(otherInfo.subjectKeyIdentifier!).toString('latin1'),
        Buffer.from(rootInfo.subjectKeyIdentifier!).toString('latin1'),
      ),
    'latin1',
  );
  assert.notDeepEqual(impostor, other.certDer);
  assertFails(
    verify([leaf, inter], { ca: [impostor] }),
    AlertDescription.bad_certificate,
    /bad signature: "CN=Intermediate CA" is not signed by "CN=Root CA"/,
  );
  assertOk(verify([leaf, inter]));
  // Time, name and role are checked on every verification.
  assertFails(
    verify([leaf, inter], { now: NOW + 31 * DAY }),
    AlertDescription.certificate_expired,
    /expired/,
  );
  assertFails(
    verify([leaf, inter], { serverName: 'other.example.com' }),
    AlertDescription.bad_certificate,
    /name mismatch/,
  );
  const serverOnly = leafFor(inter, { extendedKeyUsage: ['serverAuth'] });
  assertOk(verify([serverOnly, inter]));
  assertFails(
    verify([serverOnly, inter], { peer: 'client' }),
    AlertDescription.unsupported_certificate,
    /clientAuth/,
  );
  // Anchors are per store: the same chain without its root in the store is unknown.
  assertFails(verify([leaf, inter], { ca: [other.certPem] }), AlertDescription.unknown_ca, /unknown CA/);
});

test('the certificate cache is bounded and verification stays right after evictions', () => {
  const first = leafFor(inter, { commonName: 'first.example.com', dnsNames: ['first.example.com'] });
  assertOk(verify([first, inter], { serverName: 'first.example.com' }));
  // More distinct leaves than the cache holds (256): the first one and the intermediate are evicted.
  for (let i = 0; i < 300; i++) {
    const name = `n${i}.example.com`;
    assertOk(verify([leafFor(inter, { commonName: name, dnsNames: [name] }), inter], { serverName: name }));
  }
  assertOk(verify([first, inter], { serverName: 'first.example.com' }));
  const tampered = Buffer.from(first.certDer);
  tampered[tampered.length - 5]! ^= 0x01;
  assertFails(
    verifyCertificateChain([tampered, inter.certDer], { ca: [root.certPem], now: NOW }),
    AlertDescription.bad_certificate,
    /bad signature/,
  );
  // The leaf's key, for CertificateVerify, is the leaf's own.
  const r = verify([first, inter], { serverName: 'first.example.com' });
  assert.ok(r.ok && r.leafKey.equals(first.publicKey));
});

test('cachedTrustStore: the same CA list gives the same store; a changed one (even the same Buffer changed) does not', () => {
  const a = ca('Cache Root A');
  const b = ca('Cache Root B');
  const s1 = cachedTrustStore([a.certPem]);
  assert.equal(cachedTrustStore([a.certPem]), s1);
  assert.equal(cachedTrustStore([`${a.certPem}`]), s1, 'equal strings, not only the same one');
  const sb = cachedTrustStore([b.certPem]);
  assert.notEqual(sb, s1);
  assert.equal(sb.byDer.has(b.certDer.toString('latin1')), true);
  // Byte arrays: compared by content, so a Buffer the caller changes after a dial is not stale.
  const derOf = (c: GeneratedCertificate) => c.certDer.toString('latin1');
  const room = Math.max(a.certPem.length, b.certPem.length) + 8;
  const bytes = Buffer.alloc(room, '\n');
  bytes.write(a.certPem);
  const sa = cachedTrustStore([bytes]);
  assert.equal(sa.byDer.has(derOf(a)), true);
  assert.equal(cachedTrustStore([Buffer.from(bytes)]), sa);
  assert.equal(cachedTrustStore([bytes]), sa);
  bytes.fill('\n');
  bytes.write(b.certPem);
  const changed = cachedTrustStore([bytes]);
  assert.notEqual(changed, sa);
  assert.equal(changed.byDer.has(derOf(b)), true);
  assert.equal(changed.byDer.has(derOf(a)), false);
  assert.equal(cachedTrustStore([a.certPem, b.certPem]).size, 2);
});
