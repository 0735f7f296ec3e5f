import assert from 'node:assert/strict';
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { test } from 'node:test';
import { AlertDescription, TlsAlertError } from '../../../src/tls/alert.js';
import {
  certificateVerifyContent,
  HANDSHAKE_SIGNATURE_SCHEMES,
  isHandshakeSignatureScheme,
  SignatureScheme,
  schemesForKey,
  selectSignatureScheme,
  signatureSchemeName,
  signWithScheme,
  verifyWithScheme,
} from '../../../src/tls/signature-scheme.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const b64url = (s: string) => hex(s).toString('base64url');

const keys = {
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ed25519: generateKeyPairSync('ed25519'),
};

/** A second key of each kind, for "right type, wrong key". */
const otherKeys: Record<keyof typeof keys, { publicKey: KeyObject }> = {
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ed25519: generateKeyPairSync('ed25519'),
};

const CASES: Array<[SignatureScheme, keyof typeof keys, keyof typeof keys]> = [
  [SignatureScheme.ecdsa_secp256r1_sha256, 'p256', 'p384'],
  [SignatureScheme.ecdsa_secp384r1_sha384, 'p384', 'p256'],
  [SignatureScheme.ecdsa_secp521r1_sha512, 'p521', 'p256'],
  [SignatureScheme.rsa_pss_rsae_sha256, 'rsa', 'p256'],
  [SignatureScheme.rsa_pss_rsae_sha384, 'rsa', 'ed25519'],
  [SignatureScheme.rsa_pss_rsae_sha512, 'rsa', 'p521'],
  [SignatureScheme.rsa_pkcs1_sha256, 'rsa', 'p256'],
  [SignatureScheme.rsa_pkcs1_sha384, 'rsa', 'p256'],
  [SignatureScheme.rsa_pkcs1_sha512, 'rsa', 'p256'],
  [SignatureScheme.ed25519, 'ed25519', 'p256'],
];

test('SignatureScheme code points are those of RFC 8446 §4.2.3', () => {
  assert.equal(SignatureScheme.rsa_pkcs1_sha256, 0x0401);
  assert.equal(SignatureScheme.rsa_pkcs1_sha384, 0x0501);
  assert.equal(SignatureScheme.rsa_pkcs1_sha512, 0x0601);
  assert.equal(SignatureScheme.ecdsa_secp256r1_sha256, 0x0403);
  assert.equal(SignatureScheme.ecdsa_secp384r1_sha384, 0x0503);
  assert.equal(SignatureScheme.ecdsa_secp521r1_sha512, 0x0603);
  assert.equal(SignatureScheme.rsa_pss_rsae_sha256, 0x0804);
  assert.equal(SignatureScheme.rsa_pss_rsae_sha384, 0x0805);
  assert.equal(SignatureScheme.rsa_pss_rsae_sha512, 0x0806);
  assert.equal(SignatureScheme.ed25519, 0x0807);
  assert.equal(signatureSchemeName(0x0804), 'rsa_pss_rsae_sha256');
  assert.equal(signatureSchemeName(0x0809), '0x0809');
});

test('HANDSHAKE_SIGNATURE_SCHEMES excludes rsa_pkcs1 and prefers P-256', () => {
  assert.equal(HANDSHAKE_SIGNATURE_SCHEMES[0], SignatureScheme.ecdsa_secp256r1_sha256);
  assert.equal(HANDSHAKE_SIGNATURE_SCHEMES.length, 7);
  for (const s of [0x0401, 0x0501, 0x0601]) {
    assert.equal(HANDSHAKE_SIGNATURE_SCHEMES.includes(s), false);
    assert.equal(isHandshakeSignatureScheme(s), false);
  }
  assert.equal(isHandshakeSignatureScheme(0x0807), true);
  assert.ok(Object.isFrozen(HANDSHAKE_SIGNATURE_SCHEMES));
});

test('certificateVerifyContent is 64 spaces, the context string, 0x00 and the hash (RFC 8446 §4.4.3)', () => {
  const hash = Buffer.alloc(32, 0xab);
  const server = certificateVerifyContent('server', hash);
  assert.equal(
    server.toString('hex'),
    '20'.repeat(64) +
      Buffer.from('TLS 1.3, server CertificateVerify').toString('hex') +
      '00' +
      'ab'.repeat(32),
  );
  assert.equal(server.length, 64 + 33 + 1 + 32);
  const client = certificateVerifyContent('client', Buffer.alloc(48, 1));
  assert.equal(client.subarray(64, 97).toString('latin1'), 'TLS 1.3, client CertificateVerify');
  assert.equal(client[97], 0);
  assert.deepEqual(client.subarray(98), Buffer.alloc(48, 1));
  assert.equal(client.length, 146);
});

for (const [scheme, keyName, wrongKeyName] of CASES) {
  test(`${SignatureScheme[scheme]}: signs and verifies; flipped bytes and wrong keys fail`, () => {
    const { privateKey, publicKey } = keys[keyName];
    const content = certificateVerifyContent('server', createHash('sha256').update('transcript').digest());
    const sig = signWithScheme(scheme, privateKey, content);
    assert.equal(verifyWithScheme(scheme, publicKey, content, sig), true);
    // A flipped bit anywhere in the signature or the content breaks it.
    for (const at of [0, sig.length >> 1, sig.length - 1]) {
      const bad = Buffer.from(sig);
      bad[at]! ^= 0x01;
      assert.equal(verifyWithScheme(scheme, publicKey, content, bad), false, `signature byte ${at}`);
    }
    const badContent = Buffer.from(content);
    badContent[100]! ^= 0x80;
    assert.equal(verifyWithScheme(scheme, publicKey, badContent, sig), false);
    // Another key of the same type, and a key of the wrong type.
    const other = otherKeys[keyName].publicKey;
    assert.equal(verifyWithScheme(scheme, other, content, sig), false);
    assert.equal(verifyWithScheme(scheme, keys[wrongKeyName].publicKey, content, sig), false);
    // Garbage never throws.
    assert.equal(verifyWithScheme(scheme, publicKey, content, new Uint8Array(0)), false);
    assert.equal(verifyWithScheme(scheme, publicKey, content, Buffer.alloc(600, 0xff)), false);
    // Signing with a key that does not fit the scheme is a local error.
    assert.throws(
      () => signWithScheme(scheme, keys[wrongKeyName].privateKey, content),
      (e: unknown) => e instanceof TlsAlertError && e.alert === AlertDescription.internal_error,
    );
    assert.throws(() => signWithScheme(scheme, publicKey, content), TlsAlertError);
  });
}

test('unknown scheme numbers never verify', () => {
  const content = Buffer.from('x');
  const sig = signWithScheme(SignatureScheme.ed25519, keys.ed25519.privateKey, content);
  assert.equal(verifyWithScheme(SignatureScheme.ed25519, keys.ed25519.publicKey, content, sig), true);
  assert.equal(verifyWithScheme(0x0808, keys.ed25519.publicKey, content, sig), false);
  assert.equal(verifyWithScheme(-1, keys.ed25519.publicKey, content, sig), false);
  assert.throws(
    () => signWithScheme(0x0808 as SignatureScheme, keys.ed25519.privateKey, content),
    TlsAlertError,
  );
});

test('rsa_pss_rsae requires salt length = hash length and rejects PKCS#1 v1.5 signatures', () => {
  const content = Buffer.from('content');
  const { privateKey, publicKey } = keys.rsa;
  const salt0 = sign('sha256', content, {
    key: privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 0,
  });
  assert.equal(verifyWithScheme(SignatureScheme.rsa_pss_rsae_sha256, publicKey, content, salt0), false);
  const salt32 = sign('sha256', content, {
    key: privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  assert.equal(verifyWithScheme(SignatureScheme.rsa_pss_rsae_sha256, publicKey, content, salt32), true);
  const pkcs1 = signWithScheme(SignatureScheme.rsa_pkcs1_sha256, privateKey, content);
  assert.equal(verifyWithScheme(SignatureScheme.rsa_pss_rsae_sha256, publicKey, content, pkcs1), false);
  assert.equal(verifyWithScheme(SignatureScheme.rsa_pkcs1_sha256, publicKey, content, pkcs1), true);
  // RSA-PSS signatures are randomized: two signatures differ, both verify.
  const a = signWithScheme(SignatureScheme.rsa_pss_rsae_sha256, privateKey, content);
  const b = signWithScheme(SignatureScheme.rsa_pss_rsae_sha256, privateKey, content);
  assert.notDeepEqual(a, b);
  assert.equal(a.length, 256);
});

test('id-RSASSA-PSS keys are not rsae keys (RFC 8446 §4.2.3)', () => {
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
  assert.deepEqual(schemesForKey(pss.privateKey), []);
  const content = Buffer.from('c');
  const sig = sign('sha256', content, {
    key: pss.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  assert.equal(verifyWithScheme(SignatureScheme.rsa_pss_rsae_sha256, pss.publicKey, content, sig), false);
});

test('Ed25519 signs the RFC 8032 §7.1 TEST 1 and TEST 2 vectors byte for byte', () => {
  const vectors = [
    {
      sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      msg: '',
      sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      msg: '72',
      sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
  ];
  for (const v of vectors) {
    const jwk = { kty: 'OKP', crv: 'Ed25519', d: b64url(v.sk), x: b64url(v.pk) };
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: b64url(v.pk) },
      format: 'jwk',
    });
    const sig = signWithScheme(SignatureScheme.ed25519, privateKey, hex(v.msg));
    assert.equal(sig.toString('hex'), v.sig);
    assert.equal(verifyWithScheme(SignatureScheme.ed25519, publicKey, hex(v.msg), hex(v.sig)), true);
  }
});

/** DER ECDSA-Sig-Value from r and s (RFC 8446 §4.2.3 carries ECDSA signatures in this form). */
function ecdsaDer(r: string, s: string): Buffer {
  const int = (h: string) => {
    let b = hex(h);
    while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
    if ((b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.of(0), b]);
    return Buffer.concat([Buffer.of(0x02, b.length), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([
    body.length < 128 ? Buffer.of(0x30, body.length) : Buffer.of(0x30, 0x81, body.length),
    body,
  ]);
}

test('ECDSA verifies the RFC 6979 A.2.5 (P-256) and A.2.6 (P-384) "sample" signatures', () => {
  const p256 = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: b64url('60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6'),
      y: b64url('7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299'),
    },
    format: 'jwk',
  });
  const sig256 = ecdsaDer(
    'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716',
    'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8',
  );
  const sample = Buffer.from('sample');
  assert.equal(verifyWithScheme(SignatureScheme.ecdsa_secp256r1_sha256, p256, sample, sig256), true);
  assert.equal(
    verifyWithScheme(SignatureScheme.ecdsa_secp256r1_sha256, p256, Buffer.from('test'), sig256),
    false,
  );
  // The same key under a scheme bound to another curve is refused.
  assert.equal(verifyWithScheme(SignatureScheme.ecdsa_secp384r1_sha384, p256, sample, sig256), false);

  const p384 = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-384',
      x: b64url(
        'EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64DEF8F0EA9055866064A254515480BC13',
      ),
      y: b64url(
        '8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1288B231C3AE0D4FE7344FD2533264720',
      ),
    },
    format: 'jwk',
  });
  const sig384 = ecdsaDer(
    '94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46',
    '99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8',
  );
  assert.equal(verifyWithScheme(SignatureScheme.ecdsa_secp384r1_sha384, p384, sample, sig384), true);
});

test('schemesForKey and selectSignatureScheme follow the key and our preference', () => {
  assert.deepEqual(schemesForKey(keys.p256.privateKey), [SignatureScheme.ecdsa_secp256r1_sha256]);
  assert.deepEqual(schemesForKey(keys.p384.publicKey), [SignatureScheme.ecdsa_secp384r1_sha384]);
  assert.deepEqual(schemesForKey(keys.p521.privateKey), [SignatureScheme.ecdsa_secp521r1_sha512]);
  assert.deepEqual(schemesForKey(keys.ed25519.privateKey), [SignatureScheme.ed25519]);
  assert.deepEqual(schemesForKey(keys.rsa.privateKey), [
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
  ]);
  // A 1024-bit modulus is too short for PSS with SHA-512 (emLen 128 < 2 * 64 + 2).
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  assert.deepEqual(schemesForKey(small.privateKey), [
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
  ]);
  assert.deepEqual(schemesForKey(generateKeyPairSync('x25519').privateKey), []);
  assert.deepEqual(schemesForKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey), []);

  const rsaPeer = [0x0401, 0x0806, 0x0805];
  assert.equal(selectSignatureScheme(keys.rsa.privateKey, rsaPeer), SignatureScheme.rsa_pss_rsae_sha384);
  assert.equal(selectSignatureScheme(keys.rsa.privateKey, [0x0401, 0x0501]), undefined);
  assert.equal(selectSignatureScheme(keys.p256.privateKey, HANDSHAKE_SIGNATURE_SCHEMES), 0x0403);
  assert.equal(selectSignatureScheme(keys.p256.privateKey, [0x0503, 0x0807]), undefined);
  assert.equal(selectSignatureScheme(keys.ed25519.privateKey, [0x0403, 0x0807]), SignatureScheme.ed25519);
});
