import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { DerDecodeError } from '../../../src/tls/der.js';
import {
  assertKeyMatchesCertificate,
  decodePem,
  encodePem,
  loadPrivateKey,
  looksLikePem,
  parseCertificateChain,
  TlsConfigError,
} from '../../../src/tls/private-key.js';
import { createTestPki } from '../../../src/tls/x509-builder.js';

const NOW = Date.UTC(2026, 5, 1);
const isConfigError = (pattern: RegExp) => (e: unknown) =>
  e instanceof TlsConfigError && e.code === 'ERR_QUIC_TLS_CONFIG' && pattern.test(e.message);

const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'der' });

const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;

function assertSameKey(loaded: KeyObject, original: KeyObject): void {
  assert.equal(loaded.type, 'private');
  assert.equal(loaded.asymmetricKeyType, original.asymmetricKeyType);
  assert.deepEqual(pkcs8(loaded), pkcs8(original));
}

test('loadPrivateKey: EC P-256 and P-384 as PKCS#8 PEM, SEC1 PEM (with EC PARAMETERS), PKCS#8 and SEC1 DER', () => {
  for (const key of [ec256, ec384]) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const pkcs8Pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const sec1Pem = key.export({ type: 'sec1', format: 'pem' }).toString();
    assert.match(pkcs8Pem, /BEGIN PRIVATE KEY/);
    assert.match(sec1Pem, /BEGIN EC PRIVATE KEY/);
    assertSameKey(loadPrivateKey(pkcs8Pem), key);
    assertSameKey(loadPrivateKey(sec1Pem), key);
    assertSameKey(loadPrivateKey(Buffer.from(sec1Pem)), key);
    // `openssl ecparam -genkey` output: an EC PARAMETERS block before the key.
    const params = encodePem(
      'EC PARAMETERS',
      Buffer.from(curve === 'prime256v1' ? '06082a8648ce3d030107' : '06052b81040022', 'hex'),
    );
    assertSameKey(loadPrivateKey(`${params}${sec1Pem}`), key);
    assertSameKey(loadPrivateKey(pkcs8(key)), key);
    assertSameKey(loadPrivateKey(key.export({ type: 'sec1', format: 'der' })), key);
  }
});

test('loadPrivateKey: RSA as PKCS#8 and PKCS#1, PEM and DER; CRLF line endings', () => {
  const pkcs1Pem = rsa.export({ type: 'pkcs1', format: 'pem' }).toString();
  assert.match(pkcs1Pem, /BEGIN RSA PRIVATE KEY/);
  assertSameKey(loadPrivateKey(rsa.export({ type: 'pkcs8', format: 'pem' }).toString()), rsa);
  assertSameKey(loadPrivateKey(pkcs1Pem), rsa);
  assertSameKey(loadPrivateKey(pkcs1Pem.replace(/\n/g, '\r\n')), rsa);
  assertSameKey(loadPrivateKey(pkcs8(rsa)), rsa);
  assertSameKey(loadPrivateKey(rsa.export({ type: 'pkcs1', format: 'der' })), rsa);
});

test('loadPrivateKey: Ed25519 as PKCS#8 PEM and DER, with explanatory text around the block', () => {
  const pem = ed.export({ type: 'pkcs8', format: 'pem' }).toString();
  assertSameKey(loadPrivateKey(pem), ed);
  assertSameKey(loadPrivateKey(`Subject: test key\n\n${pem}\ntrailing words\n`), ed);
  assertSameKey(loadPrivateKey(new Uint8Array(pkcs8(ed))), ed);
});

test('loadPrivateKey rejects unsupported key types and sizes with TlsConfigError', () => {
  const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
  assert.throws(
    () => loadPrivateKey(p521.export({ type: 'pkcs8', format: 'pem' })),
    isConfigError(/curve secp521r1/),
  );
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
  assert.throws(
    () => loadPrivateKey(k1.export({ type: 'sec1', format: 'pem' })),
    isConfigError(/curve secp256k1/),
  );
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  assert.throws(
    () => loadPrivateKey(small.export({ type: 'pkcs1', format: 'pem' })),
    isConfigError(/1024 bits/),
  );
  const x = generateKeyPairSync('x25519').privateKey;
  assert.throws(
    () => loadPrivateKey(x.export({ type: 'pkcs8', format: 'der' })),
    isConfigError(/type x25519/),
  );
});

test('loadPrivateKey rejects encrypted, missing and malformed keys with TlsConfigError', () => {
  const encrypted = ec256
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
    .toString();
  assert.match(encrypted, /ENCRYPTED PRIVATE KEY/);
  assert.throws(() => loadPrivateKey(encrypted), isConfigError(/encrypted/));
  const legacy = rsa
    .export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' })
    .toString();
  assert.match(legacy, /Proc-Type: 4,ENCRYPTED/);
  assert.throws(() => loadPrivateKey(legacy), isConfigError(/encrypted/));

  const { leaf } = createTestPki({ names: ['a.test'], now: NOW });
  assert.throws(() => loadPrivateKey(leaf.certPem), isConfigError(/no private key/));
  assert.throws(() => loadPrivateKey(''), isConfigError(/not PEM/));
  assert.throws(() => loadPrivateKey('just some text'), isConfigError(/not PEM/));
  assert.throws(() => loadPrivateKey(new Uint8Array(0)), isConfigError(/empty/));
  assert.throws(() => loadPrivateKey(Buffer.from('3003020100', 'hex')), isConfigError(/invalid DER/));
  assert.throws(
    () => loadPrivateKey(encodePem('PRIVATE KEY', Buffer.from('garbage'))),
    isConfigError(/invalid PRIVATE KEY/),
  );
  assert.throws(
    () => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAA*\n-----END PRIVATE KEY-----\n'),
    isConfigError(/base64/),
  );
  assert.throws(() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n'), isConfigError(/no END line/));
});

test('parseCertificateChain: PEM bundle leaf first, other blocks ignored, DER single certificate', () => {
  const { ca, leaf } = createTestPki({ names: ['a.test'], now: NOW });
  const bundle = `${leaf.certPem}${leaf.keyPem}${ca.certPem}`;
  const chain = parseCertificateChain(bundle);
  assert.equal(chain.length, 2);
  assert.deepEqual(chain[0], leaf.certDer);
  assert.deepEqual(chain[1], ca.certDer);
  assert.deepEqual(parseCertificateChain(Buffer.from(bundle)), chain);
  const single = parseCertificateChain(leaf.certDer);
  assert.equal(single.length, 1);
  assert.deepEqual(single[0], leaf.certDer);
});

test('parseCertificateChain rejects empty and invalid input with TlsConfigError', () => {
  const { leaf } = createTestPki({ names: ['a.test'], now: NOW });
  assert.throws(() => parseCertificateChain(''), isConfigError(/not PEM/));
  assert.throws(() => parseCertificateChain(new Uint8Array(0)), isConfigError(/empty/));
  assert.throws(() => parseCertificateChain(leaf.keyPem), isConfigError(/no CERTIFICATE/));
  assert.throws(
    () => parseCertificateChain(Buffer.concat([leaf.certDer, Buffer.of(0)])),
    isConfigError(/trailing/),
  );
  assert.throws(
    () => parseCertificateChain(leaf.certDer.subarray(0, 100)),
    isConfigError(/invalid certificate/),
  );
  const corrupt = Buffer.from(leaf.certDer);
  corrupt[4] = 0xff; // breaks the TBSCertificate length
  assert.throws(() => parseCertificateChain(encodePem('CERTIFICATE', corrupt)), isConfigError(/#0/));
  assert.throws(
    () => parseCertificateChain(`${leaf.certPem}${encodePem('CERTIFICATE', Buffer.of(0x30, 0))}`),
    isConfigError(/#1/),
  );
});

test('assertKeyMatchesCertificate accepts the pair and rejects another key or a bad certificate', () => {
  for (const keyType of ['ec-p256', 'ed25519'] as const) {
    const { ca, leaf } = createTestPki({ names: ['a.test'], now: NOW, keyType });
    assertKeyMatchesCertificate(leaf.privateKey, leaf.certDer);
    assertKeyMatchesCertificate(loadPrivateKey(leaf.keyPem), leaf.certDer);
    assert.throws(
      () => assertKeyMatchesCertificate(ca.privateKey, leaf.certDer),
      isConfigError(/does not match/),
    );
    assert.throws(
      () => assertKeyMatchesCertificate(leaf.privateKey, Buffer.from('nope')),
      isConfigError(/invalid certificate/),
    );
  }
});

test('PEM: encode/decode round trip, 64-column lines, label checks', () => {
  const der = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const pem = encodePem('CERTIFICATE', der);
  const lines = pem.trimEnd().split('\n');
  assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  assert.equal(lines[1]!.length, 64);
  assert.equal(lines.at(-1), '-----END CERTIFICATE-----');
  assert.deepEqual(decodePem(pem), [{ label: 'CERTIFICATE', der, hasHeaders: false }]);
  assert.equal(looksLikePem(pem), true);
  assert.equal(looksLikePem(der), false);
  assert.throws(() => decodePem('-----BEGIN A-----\nAAAA\n-----END B-----\n'), DerDecodeError);
  assert.throws(() => decodePem('-----BEGIN A-----\nAAA\n-----END A-----\n'), DerDecodeError);
  const withHeaders = decodePem(
    '-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: x\n\nAAAA\n-----END X-----',
  );
  assert.equal(withHeaders[0]!.hasHeaders, true);
  assert.deepEqual(withHeaders[0]!.der, Buffer.of(0, 0, 0));
  assert.deepEqual(decodePem('no pem here'), []);
});
