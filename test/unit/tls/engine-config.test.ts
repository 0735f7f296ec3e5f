/**
 * Engine construction and tolerance: configuration mistakes throw TlsConfigError up front; GREASE and
 * unknown values from the peer are ignored (RFC 8701, RFC 8446 §4.1.2, §4.2, §4.6.1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CipherSuite, DEFAULT_CIPHER_SUITES } from '../../../src/crypto/cipher-suite.js';
import { AlertDescription, TlsAlertError } from '../../../src/tls/alert.js';
import { ExtensionType, HandshakeType } from '../../../src/tls/codepoints.js';
import {
  decodeNewSessionTicket,
  encodeNewSessionTicket,
} from '../../../src/tls/messages/new-session-ticket.js';
import { decodeServerHello } from '../../../src/tls/messages/server-hello.js';
import { TlsConfigError } from '../../../src/tls/private-key.js';
import { TlsClient } from '../../../src/tls/tls-client.js';
import { TlsServer } from '../../../src/tls/tls-server.js';
import { EncryptionLevel, type NamedGroupName } from '../../../src/tls/types.js';
import {
  catchTyped,
  clientConfig,
  clientHelloBytes,
  editableClientHello,
  encodeRawClientHello,
  handshake,
  NOW,
  serverConfig,
  sessions,
  testPki,
  ticketKeys,
} from './helpers.js';

const pki = testPki();

test('configuration mistakes throw TlsConfigError from the constructors', () => {
  const bad: Array<[string, () => unknown]> = [
    ['empty alpn', () => new TlsClient(clientConfig(pki, { alpn: [] }))],
    ['long alpn', () => new TlsClient(clientConfig(pki, { alpn: ['x'.repeat(256)] }))],
    ['empty suites', () => new TlsClient(clientConfig(pki, { cipherSuites: [] }))],
    ['unknown suite', () => new TlsClient(clientConfig(pki, { cipherSuites: [0x1304 as CipherSuite] }))],
    ['empty groups', () => new TlsClient(clientConfig(pki, { groups: [] }))],
    ['unknown group', () => new TlsClient(clientConfig(pki, { groups: ['x448' as NamedGroupName] }))],
    ['non-ASCII server name', () => new TlsClient(clientConfig(pki, { serverName: 'bücher.example' }))],
    [
      'bad identity',
      () =>
        new TlsServer(
          serverConfig(pki, { identity: { certificateChain: 'nope', privateKey: pki.leaf.keyPem } }),
        ),
    ],
    [
      'key of another certificate',
      () =>
        new TlsServer(
          serverConfig(pki, { identity: { certificateChain: pki.leaf.certPem, privateKey: pki.ca.keyPem } }),
        ),
    ],
    ['ticket lifetime', () => new TlsServer(serverConfig(pki, { ticketLifetime: -1 }))],
    ['tickets per connection', () => new TlsServer(serverConfig(pki, { ticketsPerConnection: 100 }))],
  ];
  for (const [name, make] of bad) {
    assert.throws(
      make,
      (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_QUIC_TLS_CONFIG',
      name,
    );
  }
  // A ticket lifetime above 7 days is capped (RFC 8446 §4.6.1).
  const r = handshake(
    clientConfig(pki),
    serverConfig(pki, { ticketKeys: ticketKeys(), ticketLifetime: 10_000_000 }),
  );
  assert.equal(sessions(r.client)[0]!.lifetime, 604800);
});

test('engine lifecycle: client start is idempotent, no input before start, server start is a no-op', () => {
  const client = new TlsClient(clientConfig(pki));
  const early = catchTyped(() =>
    client.receive(EncryptionLevel.Initial, Buffer.from('02000000', 'hex'), NOW),
  );
  assert.ok(early instanceof TlsAlertError && early.alert === AlertDescription.unexpected_message);
  const fresh = new TlsClient(clientConfig(pki));
  fresh.start(NOW);
  fresh.start(NOW);
  assert.ok(fresh.takeOutput());
  assert.equal(fresh.takeOutput(), undefined);
  assert.equal(fresh.handshakeComplete, false);
  assert.equal(fresh.role, 'client');
  const server = new TlsServer(serverConfig(pki));
  server.start(NOW);
  assert.equal(server.takeOutput(), undefined);
  assert.equal(server.pollEvent(), undefined);
  assert.equal(server.role, 'server');
  // Empty input is ignored at any level.
  server.receive(EncryptionLevel.Handshake, new Uint8Array(0), NOW);
});

test('GREASE and unknown values in the ClientHello are ignored', () => {
  const ch = editableClientHello(clientHelloBytes());
  const grease = (v: number) => Buffer.from([v >> 8, v & 0xff]);
  const greased = encodeRawClientHello({
    ...ch,
    cipherSuites: [0x0a0a, ...ch.cipherSuites, 0x1304],
    extensions: [
      { type: 0x1a1a, data: new Uint8Array(0) },
      ...ch.extensions.map((e) => {
        switch (e.type) {
          case ExtensionType.supported_groups:
            return {
              type: e.type,
              data: Buffer.concat([Buffer.from([0, e.data.length]), grease(0x2a2a), e.data.subarray(2)]),
            };
          case ExtensionType.key_share:
            return {
              type: e.type,
              data: Buffer.concat([
                Buffer.from([0, e.data.length + 3]),
                grease(0x2a2a),
                Buffer.from([0, 1, 0]),
                e.data.subarray(2),
              ]),
            };
          case ExtensionType.supported_versions:
            return { type: e.type, data: Buffer.from('043a3a0304', 'hex') };
          case ExtensionType.signature_algorithms:
            return {
              type: e.type,
              data: Buffer.concat([Buffer.from([0, e.data.length]), grease(0x3a3a), e.data.subarray(2)]),
            };
          default:
            return e;
        }
      }),
      { type: 0xfafa, data: Buffer.from('00', 'hex') },
    ],
  });
  const server = new TlsServer(serverConfig(pki));
  server.receive(EncryptionLevel.Initial, greased, NOW);
  const sh = decodeServerHello(server.takeOutput()!.data.subarray(4));
  assert.equal(sh.isHelloRetryRequest, false);
  // The server's first preference (cipher-suite.ts), GREASE values aside.
  assert.equal(sh.cipherSuite, DEFAULT_CIPHER_SUITES[0]);
  assert.equal(server.takeOutput()!.level, EncryptionLevel.Handshake);
});

test('unknown NewSessionTicket extensions are ignored by the client', () => {
  const r = handshake(clientConfig(pki), serverConfig(pki, { ticketKeys: ticketKeys() }), {
    transform: (m) => {
      if (m.type !== HandshakeType.new_session_ticket) return m.bytes;
      const nst = decodeNewSessionTicket(m.bytes.subarray(4));
      return encodeNewSessionTicket({ ...nst, extensions: [{ type: 0x4a4a, data: Buffer.from('grease') }] });
    },
  });
  assert.equal(sessions(r.client).length, 1);
});
