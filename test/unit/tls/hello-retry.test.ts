/**
 * HelloRetryRequest on both sides (RFC 8446 §4.1.4, §4.2.8): the server asks for the key share it
 * prefers, the client retries correctly (cookie echo included), and every malformed retry is rejected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { AlertDescription, TlsAlertError } from '../../../src/tls/alert.js';
import {
  ExtensionType,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
  NamedGroup,
} from '../../../src/tls/codepoints.js';
import {
  decodeCookie,
  decodeKeyShareClient,
  decodeKeyShareHrr,
  type Extension,
} from '../../../src/tls/extensions.js';
import { decodeClientHello } from '../../../src/tls/messages/client-hello.js';
import { decodeServerHello, encodeServerHello } from '../../../src/tls/messages/server-hello.js';
import { TlsClient } from '../../../src/tls/tls-client.js';
import { TlsServer } from '../../../src/tls/tls-server.js';
import { EncryptionLevel } from '../../../src/tls/types.js';
import {
  catchTyped,
  clientConfig,
  clientHelloBytes,
  editableClientHello,
  encodeRawClientHello,
  handshake,
  NOW,
  secretPairs,
  serverConfig,
  testPki,
} from './helpers.js';

const pki = testPki();

function hrrBytes(extensions: Extension[], suite = CipherSuite.AES_128_GCM_SHA256): Buffer {
  return encodeServerHello({
    random: HELLO_RETRY_REQUEST_RANDOM,
    legacySessionIdEcho: new Uint8Array(0),
    cipherSuite: suite,
    extensions: [{ type: ExtensionType.supported_versions, data: Buffer.from('0304', 'hex') }, ...extensions],
  });
}

const keyShareHrr = (group: number): Extension => ({
  type: ExtensionType.key_share,
  data: Buffer.from([group >> 8, group & 0xff]),
});

test('HRR: the server asks for its preferred group; both sides agree afterwards', () => {
  for (const [serverGroup, code] of [
    ['secp256r1', NamedGroup.secp256r1],
    ['secp384r1', NamedGroup.secp384r1],
  ] as const) {
    const r = handshake(
      clientConfig(pki, { groups: ['x25519', 'secp256r1', 'secp384r1'] }),
      serverConfig(pki, { groups: [serverGroup] }),
    );
    assert.equal(r.client.complete && r.server.complete, true);
    for (const [name, a, b] of secretPairs(r)) assert.equal(a, b, name);
    assert.deepEqual(
      r.messages.slice(0, 3).map((m) => `${m.from}:${HandshakeType[m.type]}@${EncryptionLevel[m.level]}`),
      ['client:client_hello@Initial', 'server:server_hello@Initial', 'client:client_hello@Initial'],
    );
    const hrr = decodeServerHello(r.messages[1]!.bytes.subarray(4));
    assert.equal(hrr.isHelloRetryRequest, true);
    assert.equal(decodeKeyShareHrr(hrr.extensions.get(ExtensionType.key_share)!), code);
    const ch1 = decodeClientHello(r.messages[0]!.bytes.subarray(4));
    const ch2 = decodeClientHello(r.messages[2]!.bytes.subarray(4));
    assert.deepEqual(Buffer.from(ch2.random), Buffer.from(ch1.random));
    const shares = decodeKeyShareClient(ch2.extensions.get(ExtensionType.key_share)!);
    assert.deepEqual(
      shares.map((s) => s.group),
      [code],
    );
  }
});

test('HRR: no common group -> handshake_failure', () => {
  const err = catchTyped(() =>
    handshake(clientConfig(pki, { groups: ['x25519'] }), serverConfig(pki, { groups: ['secp256r1'] })),
  );
  assert.ok(err instanceof TlsAlertError);
  assert.equal(err.alert, AlertDescription.handshake_failure);
});

test('HRR client side: the cookie is echoed, early_data removed, random kept', () => {
  const client = new TlsClient(clientConfig(pki, { groups: ['x25519', 'secp256r1'] }));
  client.start(NOW);
  const ch1 = decodeClientHello(client.takeOutput()!.data.subarray(4));
  const cookie = Buffer.from('opaque server state');
  const cookieExt = {
    type: ExtensionType.cookie,
    data: Buffer.concat([Buffer.from([0, cookie.length]), cookie]),
  };
  client.receive(EncryptionLevel.Initial, hrrBytes([keyShareHrr(NamedGroup.secp256r1), cookieExt]), NOW);
  const out = client.takeOutput()!;
  assert.equal(out.level, EncryptionLevel.Initial);
  const ch2 = decodeClientHello(out.data.subarray(4));
  assert.deepEqual(Buffer.from(decodeCookie(ch2.extensions.get(ExtensionType.cookie)!)), cookie);
  assert.deepEqual(Buffer.from(ch2.random), Buffer.from(ch1.random));
  assert.equal(
    decodeKeyShareClient(ch2.extensions.get(ExtensionType.key_share)!)[0]!.group,
    NamedGroup.secp256r1,
  );
  assert.deepEqual(
    Buffer.from(ch2.extensions.get(ExtensionType.application_layer_protocol_negotiation)!),
    Buffer.from(ch1.extensions.get(ExtensionType.application_layer_protocol_negotiation)!),
  );
});

test('HRR client side: malformed retries are rejected', () => {
  const cases: Array<[string, Buffer, AlertDescription]> = [
    ['group already offered', hrrBytes([keyShareHrr(NamedGroup.x25519)]), AlertDescription.illegal_parameter],
    [
      'group not supported',
      hrrBytes([keyShareHrr(NamedGroup.secp384r1)]),
      AlertDescription.illegal_parameter,
    ],
    ['no change requested', hrrBytes([]), AlertDescription.illegal_parameter],
    [
      'suite not offered',
      hrrBytes([keyShareHrr(NamedGroup.secp256r1)], CipherSuite.AES_256_GCM_SHA384),
      AlertDescription.illegal_parameter,
    ],
    [
      'unsolicited extension',
      hrrBytes([
        keyShareHrr(NamedGroup.secp256r1),
        { type: ExtensionType.status_request, data: new Uint8Array(0) },
      ]),
      AlertDescription.unsupported_extension,
    ],
  ];
  for (const [name, hrr, alert] of cases) {
    const client = new TlsClient(
      clientConfig(pki, { groups: ['x25519', 'secp256r1'], cipherSuites: [CipherSuite.AES_128_GCM_SHA256] }),
    );
    client.start(NOW);
    client.takeOutput();
    const err = catchTyped(() => client.receive(EncryptionLevel.Initial, hrr, NOW));
    assert.ok(err instanceof TlsAlertError, name);
    assert.equal(err.alert, alert, name);
  }
});

test('HRR client side: a second HelloRetryRequest -> unexpected_message', () => {
  const client = new TlsClient(clientConfig(pki, { groups: ['x25519', 'secp256r1'] }));
  client.start(NOW);
  client.takeOutput();
  client.receive(EncryptionLevel.Initial, hrrBytes([keyShareHrr(NamedGroup.secp256r1)]), NOW);
  client.takeOutput();
  const err = catchTyped(() =>
    client.receive(EncryptionLevel.Initial, hrrBytes([keyShareHrr(NamedGroup.secp256r1)]), NOW),
  );
  assert.ok(err instanceof TlsAlertError);
  assert.equal(err.alert, AlertDescription.unexpected_message);
});

test('HRR client side: a ServerHello with another suite than the HRR -> illegal_parameter', () => {
  const suites = [CipherSuite.AES_128_GCM_SHA256, CipherSuite.CHACHA20_POLY1305_SHA256];
  const err = catchTyped(() =>
    handshake(
      clientConfig(pki, { groups: ['x25519', 'secp256r1'], cipherSuites: suites }),
      serverConfig(pki, { groups: ['secp256r1'], cipherSuites: suites }),
      {
        transform: (m) => {
          if (m.from !== 'server' || m.type !== HandshakeType.server_hello || m.index === 0) return m.bytes;
          const sh = decodeServerHello(m.bytes.subarray(4));
          return encodeServerHello({
            random: sh.random,
            legacySessionIdEcho: sh.legacySessionIdEcho,
            cipherSuite: CipherSuite.CHACHA20_POLY1305_SHA256,
            extensions: sh.extensions.order.map((type) => ({ type, data: sh.extensions.get(type)! })),
          });
        },
      },
    ),
  );
  assert.ok(err instanceof TlsAlertError);
  assert.equal(err.alert, AlertDescription.illegal_parameter);
});

test('HRR server side: the second ClientHello must follow the rules of RFC 8446 §4.1.2', () => {
  const start = () => {
    const server = new TlsServer(serverConfig(pki, { groups: ['secp256r1'] }));
    const ch1 = clientHelloBytes({ groups: ['x25519', 'secp256r1'] });
    server.receive(EncryptionLevel.Initial, ch1, NOW);
    assert.equal(decodeServerHello(server.takeOutput()!.data.subarray(4)).isHelloRetryRequest, true);
    return { server, ch1: editableClientHello(ch1) };
  };
  const p256Share = decodeKeyShareClient(
    decodeClientHello(clientHelloBytes({ groups: ['secp256r1'] }).subarray(4)).extensions.get(
      ExtensionType.key_share,
    )!,
  );
  const withShare = (exts: Extension[]) =>
    exts.map((e) =>
      e.type === ExtensionType.key_share
        ? {
            type: e.type,
            data: Buffer.concat([
              Buffer.from([
                0,
                p256Share[0]!.keyExchange.length + 4,
                0,
                0x17,
                0,
                p256Share[0]!.keyExchange.length,
              ]),
              p256Share[0]!.keyExchange,
            ]),
          }
        : e,
    );
  const cases: Array<
    [string, (ch: ReturnType<typeof editableClientHello>) => ReturnType<typeof editableClientHello>]
  > = [
    ['same key share again', (ch) => ch],
    ['new random', (ch) => ({ ...ch, random: Buffer.alloc(32, 9), extensions: withShare(ch.extensions) })],
    [
      'changed ALPN',
      (ch) => ({
        ...ch,
        extensions: withShare(ch.extensions).map((e) =>
          e.type === ExtensionType.application_layer_protocol_negotiation
            ? { type: e.type, data: Buffer.from('0003026869', 'hex') }
            : e,
        ),
      }),
    ],
    [
      'early_data kept',
      (ch) => {
        const exts = withShare(ch.extensions);
        return { ...ch, extensions: [...exts, { type: ExtensionType.early_data, data: new Uint8Array(0) }] };
      },
    ],
  ];
  for (const [name, edit] of cases) {
    const { server, ch1 } = start();
    const err = catchTyped(() =>
      server.receive(EncryptionLevel.Initial, encodeRawClientHello(edit(ch1)), NOW),
    );
    assert.ok(err instanceof TlsAlertError, name);
    assert.equal(err.alert, AlertDescription.illegal_parameter, name);
  }
  // And the well-formed second ClientHello is accepted.
  const { server, ch1 } = start();
  server.receive(
    EncryptionLevel.Initial,
    encodeRawClientHello({ ...ch1, extensions: withShare(ch1.extensions) }),
    NOW,
  );
  const sh = decodeServerHello(server.takeOutput()!.data.subarray(4));
  assert.equal(sh.isHelloRetryRequest, false);
  const kinds: string[] = [];
  for (let e = server.pollEvent(); e; e = server.pollEvent()) kinds.push(e.type);
  assert.deepEqual(kinds, [
    'negotiated',
    'peer-transport-parameters',
    'secret',
    'secret',
    'secret',
    'secret',
  ]);
});
