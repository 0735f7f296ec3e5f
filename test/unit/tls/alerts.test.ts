/**
 * Failures end in the right typed error: QUIC-specific rules (RFC 9001 §8), certificate verification
 * failures end to end, malformed or unexpected messages, and sticky failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { AlertDescription, TlsAlertError } from '../../../src/tls/alert.js';
import { DOWNGRADE_TLS12, ExtensionType, HandshakeType } from '../../../src/tls/codepoints.js';
import { encodeCertificate } from '../../../src/tls/messages/certificate.js';
import { encodeCertificateRequest } from '../../../src/tls/messages/certificate-request.js';
import {
  decodeCertificateVerify,
  encodeCertificateVerify,
} from '../../../src/tls/messages/certificate-verify.js';
import { decodeEncryptedExtensions } from '../../../src/tls/messages/encrypted-extensions.js';
import { decodeServerHello, encodeServerHello } from '../../../src/tls/messages/server-hello.js';
import { TlsClient } from '../../../src/tls/tls-client.js';
import { TlsServer } from '../../../src/tls/tls-server.js';
import { EncryptionLevel } from '../../../src/tls/types.js';
import { createCertificate } from '../../../src/tls/x509-builder.js';
import {
  catchTyped,
  clientConfig,
  clientHelloBytes,
  type DriveOptions,
  editableClientHello,
  encodeRawClientHello,
  handshake,
  NOW,
  rewriteExtensions,
  serverConfig,
  testPki,
} from './helpers.js';

const pki = testPki();
const DAY = 86400 * 1000;

function expectAlert(
  alert: AlertDescription,
  clientOverrides: Parameters<typeof clientConfig>[1],
  serverOverrides: Parameters<typeof serverConfig>[1] = {},
  opts: DriveOptions = {},
  who?: RegExp,
): TlsAlertError {
  const err = catchTyped(() =>
    handshake(clientConfig(pki, clientOverrides), serverConfig(pki, serverOverrides), opts),
  );
  assert.ok(err instanceof TlsAlertError, `expected TlsAlertError, got ${err.name}: ${err.message}`);
  assert.equal(err.alert, alert, err.message);
  if (who) assert.match(err.message, who);
  return err;
}

const rewriteEE = (edit: Parameters<typeof rewriteExtensions>[1]): DriveOptions => ({
  transform: (m) =>
    m.type === HandshakeType.encrypted_extensions
      ? rewriteExtensions(decodeEncryptedExtensions(m.bytes.subarray(4)), edit)
      : m.bytes,
});

test('ALPN mismatch -> no_application_protocol (120)', () => {
  const err = expectAlert(
    AlertDescription.no_application_protocol,
    { alpn: ['h3'] },
    { alpn: ['hq-interop'] },
  );
  assert.equal(err.alert, 120);
  // A server that selects an unoffered protocol, or none, is rejected by the client with 120 too.
  expectAlert(
    AlertDescription.no_application_protocol,
    { insecureSkipVerify: true },
    {},
    rewriteEE((l) =>
      l.map((e) =>
        e.type === ExtensionType.application_layer_protocol_negotiation
          ? { type: e.type, data: Buffer.from('0003027878', 'hex') }
          : e,
      ),
    ),
  );
  expectAlert(
    AlertDescription.no_application_protocol,
    { insecureSkipVerify: true },
    {},
    rewriteEE((l) => l.filter((e) => e.type !== ExtensionType.application_layer_protocol_negotiation)),
  );
});

test('missing quic_transport_parameters -> missing_extension (109) on both sides', () => {
  const server = new TlsServer(serverConfig(pki));
  const ch = editableClientHello(clientHelloBytes());
  const stripped = encodeRawClientHello({
    ...ch,
    extensions: ch.extensions.filter((e) => e.type !== ExtensionType.quic_transport_parameters),
  });
  const err = catchTyped(() => server.receive(EncryptionLevel.Initial, stripped, NOW));
  assert.ok(err instanceof TlsAlertError);
  assert.equal(err.alert, 109);
  expectAlert(
    AlertDescription.missing_extension,
    { insecureSkipVerify: true },
    {},
    rewriteEE((l) => l.filter((e) => e.type !== ExtensionType.quic_transport_parameters)),
  );
});

test('ClientHello rules: empty legacy_session_id, null compression, TLS 1.3, pre_shared_key last', () => {
  const base = editableClientHello(clientHelloBytes());
  const cases: Array<[string, ReturnType<typeof editableClientHello>, AlertDescription]> = [
    ['session id', { ...base, legacySessionId: Buffer.alloc(32, 1) }, AlertDescription.illegal_parameter],
    ['compression', { ...base, compressionMethods: Uint8Array.of(1, 0) }, AlertDescription.illegal_parameter],
    [
      'TLS 1.2 only',
      {
        ...base,
        extensions: base.extensions.map((e) =>
          e.type === ExtensionType.supported_versions
            ? { type: e.type, data: Buffer.from('020303', 'hex') }
            : e,
        ),
      },
      AlertDescription.protocol_version,
    ],
    [
      'psk not last',
      {
        ...base,
        extensions: [{ type: ExtensionType.pre_shared_key, data: Buffer.alloc(8) }, ...base.extensions],
      },
      AlertDescription.illegal_parameter,
    ],
    ['no common suite', { ...base, cipherSuites: [0x1304, 0xc02f] }, AlertDescription.handshake_failure],
    [
      'duplicate extension',
      { ...base, extensions: [...base.extensions, base.extensions[1]!] },
      AlertDescription.illegal_parameter,
    ],
    [
      'no signature_algorithms',
      { ...base, extensions: base.extensions.filter((e) => e.type !== ExtensionType.signature_algorithms) },
      AlertDescription.missing_extension,
    ],
  ];
  for (const [name, ch, alert] of cases) {
    const server = new TlsServer(serverConfig(pki));
    const err = catchTyped(() => server.receive(EncryptionLevel.Initial, encodeRawClientHello(ch), NOW));
    assert.ok(err instanceof TlsAlertError, name);
    assert.equal(err.alert, alert, `${name}: ${err.message}`);
  }
});

test('verification failures end to end, each with its alert', () => {
  const other = testPki('ec-p256', ['example.com', 'other-ca']);
  const leaf = (notBefore: number, notAfter: number) =>
    createCertificate({
      commonName: 'example.com',
      dnsNames: ['example.com'],
      notBefore,
      notAfter,
      issuer: pki.ca,
    });
  const identity = (c: ReturnType<typeof leaf>) => ({
    identity: { certificateChain: c.certPem + pki.ca.certPem, privateKey: c.keyPem },
  });
  const expired = leaf(NOW - 30 * DAY, NOW - DAY);
  const future = leaf(NOW + DAY, NOW + 30 * DAY);
  const e1 = expectAlert(AlertDescription.certificate_expired, {}, identity(expired), {}, /expired/);
  assert.equal(e1.alert, 45);
  expectAlert(AlertDescription.bad_certificate, {}, identity(future), {}, /not yet valid/);
  expectAlert(AlertDescription.bad_certificate, { serverName: 'wrong.example' }, {}, {}, /name mismatch/);
  expectAlert(AlertDescription.unknown_ca, { ca: [other.ca.certPem] }, {}, {}, /unknown CA/);
  // A broken CertificateVerify signature.
  expectAlert(
    AlertDescription.decrypt_error,
    {},
    {},
    {
      transform: (m) => {
        if (m.type !== HandshakeType.certificate_verify) return m.bytes;
        const cv = decodeCertificateVerify(m.bytes.subarray(4));
        const sig = Buffer.from(cv.signature);
        sig[sig.length - 5]! ^= 0x40;
        return encodeCertificateVerify(cv.scheme, sig);
      },
    },
  );
  // insecureSkipVerify accepts the expired certificate (tests only).
  const r = handshake(clientConfig(pki, { insecureSkipVerify: true }), serverConfig(pki, identity(expired)));
  assert.equal(r.client.complete, true);
});

test('server Certificate rules: empty list -> decode_error, context -> illegal_parameter', () => {
  const swap = (replacement: Buffer): DriveOptions => ({
    transform: (m) => (m.type === HandshakeType.certificate ? replacement : m.bytes),
  });
  expectAlert(AlertDescription.decode_error, {}, {}, swap(encodeCertificate(new Uint8Array(0), [])));
  expectAlert(
    AlertDescription.illegal_parameter,
    {},
    {},
    swap(encodeCertificate(Uint8Array.of(1), [pki.leaf.certDer])),
  );
  expectAlert(
    AlertDescription.bad_certificate,
    { insecureSkipVerify: true },
    {},
    swap(encodeCertificate(new Uint8Array(0), [Buffer.from('garbage')])),
  );
});

test('EncryptedExtensions rules: unsolicited -> unsupported_extension, forbidden -> illegal_parameter', () => {
  expectAlert(
    AlertDescription.unsupported_extension,
    {},
    {},
    rewriteEE((l) => [...l, { type: ExtensionType.status_request, data: new Uint8Array(0) }]),
  );
  expectAlert(
    AlertDescription.illegal_parameter,
    {},
    {},
    rewriteEE((l) => [...l, { type: ExtensionType.key_share, data: Buffer.alloc(4) }]),
  );
  expectAlert(
    AlertDescription.unsupported_extension,
    {},
    {},
    rewriteEE((l) => [...l, { type: ExtensionType.early_data, data: new Uint8Array(0) }]),
  );
  expectAlert(
    AlertDescription.illegal_parameter,
    {},
    {},
    rewriteEE((l) => [...l, l[0]!]),
  );
});

test('ServerHello rules: TLS 1.2, downgrade sentinel, unoffered suite, wrong group', () => {
  const rewriteSH = (
    edit: (sh: ReturnType<typeof decodeServerHello>) => Parameters<typeof encodeServerHello>[0],
  ) => ({
    transform: (m: { type: number; from: string; bytes: Buffer }) =>
      m.type === HandshakeType.server_hello
        ? encodeServerHello(edit(decodeServerHello(m.bytes.subarray(4))))
        : m.bytes,
  });
  const fields = (sh: ReturnType<typeof decodeServerHello>) => ({
    random: sh.random,
    legacySessionIdEcho: sh.legacySessionIdEcho,
    cipherSuite: sh.cipherSuite,
    extensions: sh.extensions.order.map((type) => ({ type, data: sh.extensions.get(type)! })),
  });
  const noVersions = (sh: ReturnType<typeof decodeServerHello>) => ({
    ...fields(sh),
    extensions: fields(sh).extensions.filter((e) => e.type !== ExtensionType.supported_versions),
  });
  expectAlert(AlertDescription.protocol_version, {}, {}, rewriteSH(noVersions));
  expectAlert(
    AlertDescription.illegal_parameter,
    {},
    {},
    rewriteSH((sh) => ({
      ...noVersions(sh),
      random: Buffer.concat([Buffer.from(sh.random.subarray(0, 24)), DOWNGRADE_TLS12]),
    })),
  );
  expectAlert(
    AlertDescription.illegal_parameter,
    { cipherSuites: [CipherSuite.AES_128_GCM_SHA256] },
    {},
    rewriteSH((sh) => ({ ...fields(sh), cipherSuite: CipherSuite.AES_256_GCM_SHA384 })),
  );
  expectAlert(
    AlertDescription.illegal_parameter,
    {},
    {},
    rewriteSH((sh) => ({ ...fields(sh), legacySessionIdEcho: Uint8Array.of(1) })),
  );
  expectAlert(
    AlertDescription.missing_extension,
    {},
    {},
    rewriteSH((sh) => ({
      ...fields(sh),
      extensions: fields(sh).extensions.filter((e) => e.type !== ExtensionType.key_share),
    })),
  );
});

test('unexpected messages: EndOfEarlyData, KeyUpdate, ChangeCipherSpec, wrong level, renegotiation', () => {
  const connected = () => {
    const r = handshake(clientConfig(pki), serverConfig(pki));
    return r;
  };
  // KeyUpdate after the handshake (RFC 9001 §6).
  const a = connected();
  const e1 = catchTyped(() =>
    a.clientEngine.receive(EncryptionLevel.Application, Buffer.from('1800000100', 'hex'), NOW),
  );
  assert.ok(e1 instanceof TlsAlertError && e1.alert === AlertDescription.unexpected_message);
  // A new ClientHello to a connected server (any level).
  const e2 = catchTyped(() => a.serverEngine.receive(EncryptionLevel.Initial, clientHelloBytes(), NOW));
  assert.ok(e2 instanceof TlsAlertError && e2.alert === AlertDescription.unexpected_message);
  // EndOfEarlyData where the server waits for the client Finished (RFC 9001 §8.3).
  const server = new TlsServer(serverConfig(pki));
  const client = new TlsClient(clientConfig(pki));
  client.start(NOW);
  server.receive(EncryptionLevel.Initial, client.takeOutput()!.data, NOW);
  const e3 = catchTyped(() => server.receive(EncryptionLevel.Handshake, Buffer.from('05000000', 'hex'), NOW));
  assert.ok(e3 instanceof TlsAlertError && e3.alert === AlertDescription.unexpected_message);
  // A TLS ChangeCipherSpec record sent as handshake bytes (RFC 9001 §8.4).
  const c2 = new TlsClient(clientConfig(pki));
  c2.start(NOW);
  const e4 = catchTyped(() => c2.receive(EncryptionLevel.Initial, Buffer.from('140303000101', 'hex'), NOW));
  assert.ok(e4 instanceof TlsAlertError && e4.alert === AlertDescription.unexpected_message);
  // Handshake bytes at the wrong level, including 0-RTT (RFC 9001 §8.3).
  for (const level of [EncryptionLevel.EarlyData, EncryptionLevel.Handshake, EncryptionLevel.Application]) {
    const c = new TlsClient(clientConfig(pki));
    c.start(NOW);
    const e = catchTyped(() => c.receive(level, Buffer.from('02000000', 'hex'), NOW));
    assert.ok(
      e instanceof TlsAlertError && e.alert === AlertDescription.unexpected_message,
      EncryptionLevel[level],
    );
  }
  // Bytes left at Initial after the ServerHello.
  const e5 = catchTyped(() =>
    handshake(clientConfig(pki), serverConfig(pki), {
      transform: (m) =>
        m.type === HandshakeType.server_hello ? Buffer.concat([m.bytes, Buffer.from('0800')]) : m.bytes,
    }),
  );
  assert.ok(e5 instanceof TlsAlertError && e5.alert === AlertDescription.unexpected_message);
});

test('post-handshake CertificateRequest -> PROTOCOL_VIOLATION (RFC 9001 §4.4)', () => {
  const r = handshake(clientConfig(pki), serverConfig(pki));
  const cr = encodeCertificateRequest(Uint8Array.of(1, 2), [
    { type: ExtensionType.signature_algorithms, data: Buffer.from('00020403', 'hex') },
  ]);
  const err = catchTyped(() => r.clientEngine.receive(EncryptionLevel.Application, cr, NOW));
  assert.ok(err instanceof QuicTransportError);
  assert.equal(err.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
});

test('oversized and truncated messages -> decode_error; failure is sticky', () => {
  const server = new TlsServer(serverConfig(pki));
  // A header announcing 65537 bytes is rejected at once, before the body arrives.
  const err = catchTyped(() => server.receive(EncryptionLevel.Initial, Buffer.from('01010001', 'hex'), NOW));
  assert.ok(err instanceof TlsAlertError);
  assert.equal(err.alert, AlertDescription.decode_error);
  // Every later call throws the same error.
  assert.equal(
    catchTyped(() => server.receive(EncryptionLevel.Initial, clientHelloBytes(), NOW)),
    err,
  );
  // A ClientHello whose body is cut short but whose header says so.
  const ch = clientHelloBytes();
  const body = ch.subarray(4, ch.length - 10);
  const truncated = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  const e2 = catchTyped(() =>
    new TlsServer(serverConfig(pki)).receive(EncryptionLevel.Initial, truncated, NOW),
  );
  assert.ok(e2 instanceof TlsAlertError);
  assert.equal(e2.alert, AlertDescription.decode_error);
  // Trailing bytes inside a message.
  const longer = Buffer.concat([
    Buffer.from([1, 0, (ch.length - 4 + 1) >> 8, (ch.length - 4 + 1) & 0xff]),
    ch.subarray(4),
    Buffer.of(0),
  ]);
  const e3 = catchTyped(() => new TlsServer(serverConfig(pki)).receive(EncryptionLevel.Initial, longer, NOW));
  assert.ok(e3 instanceof TlsAlertError);
  assert.equal(e3.alert, AlertDescription.decode_error);
});

test('a Finished with a wrong verify_data -> decrypt_error on either side', () => {
  for (const from of ['server', 'client']) {
    const err = catchTyped(() =>
      handshake(clientConfig(pki), serverConfig(pki), {
        transform: (m) => {
          if (m.from !== from || m.type !== HandshakeType.finished) return m.bytes;
          const b = Buffer.from(m.bytes);
          b[b.length - 1]! ^= 1;
          return b;
        },
      }),
    );
    assert.ok(err instanceof TlsAlertError);
    assert.equal(err.alert, AlertDescription.decrypt_error, from);
  }
});
