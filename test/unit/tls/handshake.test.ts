/**
 * Client and server engines handshaking in memory: every cipher suite x group x signature scheme,
 * both sides deriving the same secrets per level, events in order, arbitrary splitting of the bytes,
 * key log lines, SNI-based identity selection and a server that requests a client certificate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { AlertDescription, TlsAlertError } from '../../../src/tls/alert.js';
import { ExtensionType, HandshakeType } from '../../../src/tls/codepoints.js';
import { decodeSignatureAlgorithms } from '../../../src/tls/extensions.js';
import { finishedVerifyData } from '../../../src/tls/key-schedule.js';
import { encodeCertificateRequest } from '../../../src/tls/messages/certificate-request.js';
import {
  decodeCertificateVerify,
  encodeCertificateVerify,
} from '../../../src/tls/messages/certificate-verify.js';
import { decodeClientHello } from '../../../src/tls/messages/client-hello.js';
import { encodeFinished } from '../../../src/tls/messages/finished.js';
import {
  certificateVerifyContent,
  SignatureScheme,
  signWithScheme,
} from '../../../src/tls/signature-scheme.js';
import { TlsWriter } from '../../../src/tls/tls-writer.js';
import { TranscriptHash } from '../../../src/tls/transcript-hash.js';
import { EncryptionLevel, type NamedGroupName } from '../../../src/tls/types.js';
import type { CertificateKeyType } from '../../../src/tls/x509-builder.js';
import {
  CLIENT_TP,
  catchTyped,
  clientConfig,
  type DriveResult,
  eventsOfType,
  handshake,
  type InFlightMessage,
  SERVER_TP,
  secretPairs,
  serverConfig,
  testPki,
} from './helpers.js';

const SUITES = [
  CipherSuite.AES_128_GCM_SHA256,
  CipherSuite.AES_256_GCM_SHA384,
  CipherSuite.CHACHA20_POLY1305_SHA256,
];
const GROUPS: NamedGroupName[] = ['x25519', 'secp256r1', 'secp384r1'];
const SCHEMES: Array<{ keyType: CertificateKeyType; scheme: SignatureScheme }> = [
  { keyType: 'ec-p256', scheme: SignatureScheme.ecdsa_secp256r1_sha256 },
  { keyType: 'ec-p384', scheme: SignatureScheme.ecdsa_secp384r1_sha384 },
  { keyType: 'rsa-2048', scheme: SignatureScheme.rsa_pss_rsae_sha256 },
  { keyType: 'ed25519', scheme: SignatureScheme.ed25519 },
];

for (const { keyType, scheme } of SCHEMES) {
  test(`handshake matrix: every suite x group with ${SignatureScheme[scheme]}`, () => {
    const pki = testPki(keyType);
    for (const suite of SUITES) {
      for (const group of GROUPS) {
        const label = `${CipherSuite[suite]} ${group} ${SignatureScheme[scheme]}`;
        const r = handshake(
          clientConfig(pki, { cipherSuites: [suite], groups: [group] }),
          serverConfig(pki, { cipherSuites: [suite], groups: [group] }),
        );
        assert.equal(r.client.complete, true, label);
        assert.equal(r.server.complete, true, label);
        for (const [name, a, b] of secretPairs(r)) {
          if (name.startsWith('EarlyData')) {
            assert.equal(a, undefined, `${label} ${name}`);
            assert.equal(b, undefined, `${label} ${name}`);
            continue;
          }
          assert.ok(
            a !== undefined && a.length === (suite === CipherSuite.AES_256_GCM_SHA384 ? 96 : 64),
            label,
          );
          assert.equal(a, b, `${label} ${name}`);
        }
        const cv = r.messages.find(
          (m) => m.from === 'server' && m.type === HandshakeType.certificate_verify,
        )!;
        assert.equal(decodeCertificateVerify(cv.bytes.subarray(4)).scheme, scheme, label);
        const [done] = eventsOfType(r.client, 'handshake-complete');
        assert.equal(done!.suite, suite);
        assert.equal(done!.alpn, 'h3');
        assert.equal(done!.resumed, false);
        assert.equal(done!.peerCertificates.length, 2);
        assert.deepEqual(Buffer.from(done!.peerCertificates[0]!), pki.leaf.certDer);
        for (const e of r.client.events) if (e.type === 'secret') assert.equal(e.suite, suite, label);
      }
    }
  });
}

test('events come in handshake order and carry the peer transport parameters', () => {
  const pki = testPki();
  const r = handshake(clientConfig(pki), serverConfig(pki));
  const describe = (side: typeof r.client) =>
    side.events.map((e) => (e.type === 'secret' ? `${EncryptionLevel[e.level]}/${e.direction}` : e.type));
  assert.deepEqual(describe(r.client), [
    'Handshake/read',
    'Handshake/write',
    'peer-transport-parameters',
    'Application/read',
    'Application/write',
    'handshake-complete',
  ]);
  assert.deepEqual(describe(r.server), [
    'negotiated',
    'peer-transport-parameters',
    'Handshake/read',
    'Handshake/write',
    'Application/write',
    'Application/read',
    'handshake-complete',
  ]);
  assert.deepEqual(Buffer.from(eventsOfType(r.client, 'peer-transport-parameters')[0]!.data), SERVER_TP);
  assert.deepEqual(Buffer.from(eventsOfType(r.server, 'peer-transport-parameters')[0]!.data), CLIENT_TP);
  // The server knows the ALPN and whether it resumed from the ClientHello alone.
  assert.deepEqual(eventsOfType(r.server, 'negotiated'), [
    { type: 'negotiated', alpn: 'h3', resumed: false },
  ]);
  // Message levels: ClientHello/ServerHello at Initial, the rest at Handshake.
  assert.deepEqual(
    r.messages.map((m) => `${m.from}:${HandshakeType[m.type]}@${EncryptionLevel[m.level]}`),
    [
      'client:client_hello@Initial',
      'server:server_hello@Initial',
      'server:encrypted_extensions@Handshake',
      'server:certificate@Handshake',
      'server:certificate_verify@Handshake',
      'server:finished@Handshake',
      'client:finished@Handshake',
    ],
  );
});

test('the ClientHello follows RFC 9001: empty session id, TLS 1.3 only, transport parameters, ALPN', () => {
  const pki = testPki();
  const r = handshake(clientConfig(pki, { alpn: ['h3', 'hq-interop'] }), serverConfig(pki));
  const ch = decodeClientHello(r.messages[0]!.bytes.subarray(4));
  assert.equal(ch.legacySessionId.length, 0);
  assert.deepEqual(Array.from(ch.compressionMethods), [0]);
  assert.deepEqual(Buffer.from(ch.extensions.get(ExtensionType.quic_transport_parameters)!), CLIENT_TP);
  assert.deepEqual(
    Buffer.from(ch.extensions.get(ExtensionType.supported_versions)!).toString('hex'),
    '020304',
  );
  assert.ok(
    !decodeSignatureAlgorithms(ch.extensions.get(ExtensionType.signature_algorithms)!).includes(0x0401),
  );
});

test('bytes delivered one at a time and in 7-byte chunks give the same handshake', () => {
  const pki = testPki();
  for (const chunkSize of [1, 7, 100]) {
    const r = handshake(clientConfig(pki), serverConfig(pki), { chunkSize });
    assert.equal(r.client.complete && r.server.complete, true, `chunk ${chunkSize}`);
    for (const [name, a, b] of secretPairs(r)) assert.equal(a, b, `${name} chunk ${chunkSize}`);
  }
});

test('key log: NSS lines for every secret, with the client random', () => {
  const pki = testPki();
  const clientLines: string[] = [];
  const serverLines: string[] = [];
  const r = handshake(
    clientConfig(pki, { keyLog: (l) => clientLines.push(l) }),
    serverConfig(pki, { keyLog: (l) => serverLines.push(l) }),
  );
  const random = decodeClientHello(r.messages[0]!.bytes.subarray(4)).random;
  const labels = (lines: string[]) => lines.map((l) => l.split(' ')[0]).sort();
  const expected = [
    'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
    'CLIENT_TRAFFIC_SECRET_0',
    'SERVER_HANDSHAKE_TRAFFIC_SECRET',
    'SERVER_TRAFFIC_SECRET_0',
  ];
  assert.deepEqual(labels(clientLines), expected);
  assert.deepEqual(labels(serverLines), expected);
  for (const line of [...clientLines, ...serverLines]) {
    const [, cr, secret] = line.split(' ');
    assert.equal(cr, Buffer.from(random).toString('hex'));
    assert.match(secret!, /^[0-9a-f]{64}$/);
  }
  assert.deepEqual([...clientLines].sort(), [...serverLines].sort());
  const chts = clientLines.find((l) => l.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET'))!.split(' ')[2];
  assert.equal(chts, r.client.secrets.get('Handshake/write'));
});

test('SNI selects the server identity (selectIdentity), falling back to the default identity', () => {
  const a = testPki('ec-p256', ['a.example']);
  const b = testPki('ed25519', ['b.example']);
  const seen: Array<string | undefined> = [];
  const server = (pki: typeof a) =>
    serverConfig(pki, {
      identity: { certificateChain: a.leaf.certPem, privateKey: a.leaf.keyPem },
      selectIdentity: (name) => {
        seen.push(name);
        return name === 'b.example'
          ? { certificateChain: b.leaf.certPem, privateKey: b.leaf.keyPem }
          : undefined;
      },
    });
  const rb = handshake(clientConfig(b, { serverName: 'b.example' }), server(b));
  assert.equal(rb.client.complete, true);
  assert.deepEqual(
    Buffer.from(eventsOfType(rb.client, 'handshake-complete')[0]!.peerCertificates[0]!),
    b.leaf.certDer,
  );
  const ra = handshake(clientConfig(a, { serverName: 'A.Example.' }), server(a));
  assert.equal(ra.client.complete, true);
  assert.deepEqual(
    Buffer.from(eventsOfType(ra.client, 'handshake-complete')[0]!.peerCertificates[0]!),
    a.leaf.certDer,
  );
  assert.deepEqual(seen, ['b.example', 'a.example']);
});

test('each identity sends its own Certificate message, encoded once per identity and reused', () => {
  const a = testPki('ec-p256', ['a.example']);
  const b = testPki('ed25519', ['b.example']);
  // The same identity objects on every handshake, as a server's options give them.
  const idA = { certificateChain: a.leaf.certPem, privateKey: a.leaf.keyPem };
  const idB = { certificateChain: b.leaf.certPem, privateKey: b.leaf.keyPem };
  const server = (pki: typeof a) =>
    serverConfig(pki, { identity: idA, selectIdentity: (name) => (name === 'b.example' ? idB : undefined) });
  for (const [pki, name, der] of [
    [b, 'b.example', b.leaf.certDer],
    [a, 'a.example', a.leaf.certDer],
    [b, 'b.example', b.leaf.certDer],
    [a, 'a.example', a.leaf.certDer],
  ] as const) {
    const r = handshake(clientConfig(pki, { serverName: name }), server(pki));
    assert.equal(r.client.complete, true, name);
    const peer = eventsOfType(r.client, 'handshake-complete')[0]!.peerCertificates;
    assert.equal(peer.length, 1);
    assert.deepEqual(Buffer.from(peer[0]!), der, name);
  }
});

test('an IP literal server name sends no SNI and is checked against the IP SAN', () => {
  const pki = testPki('ec-p256', ['192.0.2.7']);
  let sniSeen: string | undefined = 'unset';
  const r = handshake(
    clientConfig(pki, { serverName: '192.0.2.7' }),
    serverConfig(pki, {
      selectIdentity: (name) => {
        sniSeen = name;
        return undefined;
      },
    }),
  );
  assert.equal(r.client.complete, true);
  assert.equal(sniSeen, undefined);
  assert.equal(
    decodeClientHello(r.messages[0]!.bytes.subarray(4)).extensions.has(ExtensionType.server_name),
    false,
  );
});

test('server preference decides suite and ALPN; client groups decide the key share', () => {
  const pki = testPki();
  const r = handshake(
    clientConfig(pki, {
      alpn: ['hq-interop', 'h3'],
      cipherSuites: [CipherSuite.AES_128_GCM_SHA256, CipherSuite.CHACHA20_POLY1305_SHA256],
    }),
    serverConfig(pki, {
      alpn: ['h3', 'hq-interop'],
      cipherSuites: [CipherSuite.CHACHA20_POLY1305_SHA256, CipherSuite.AES_128_GCM_SHA256],
    }),
  );
  const [done] = eventsOfType(r.client, 'handshake-complete');
  assert.equal(done!.suite, CipherSuite.CHACHA20_POLY1305_SHA256);
  assert.equal(done!.alpn, 'h3');
  assert.equal(eventsOfType(r.server, 'handshake-complete')[0]!.alpn, 'h3');
});

test('a CertificateRequest does not break the client: empty Certificate, no CertificateVerify', () => {
  const pki = testPki();
  const w = new TlsWriter();
  w.vector(2, () => w.u16(SignatureScheme.ecdsa_secp256r1_sha256));
  const cr = encodeCertificateRequest(new Uint8Array(0), [
    { type: ExtensionType.signature_algorithms, data: w.finish() },
  ]);
  // Play a server that requests a client certificate: insert a CertificateRequest after
  // EncryptedExtensions, then re-sign CertificateVerify and recompute Finished over the new transcript.
  let shts: Buffer | undefined;
  const transcript = new TranscriptHash();
  transcript.init('sha256');
  const transform = (m: InFlightMessage): Buffer => {
    let out = m.bytes;
    if (m.from === 'server' && m.type === HandshakeType.certificate_verify) {
      const content = certificateVerifyContent('server', transcript.digest());
      const sig = signWithScheme(SignatureScheme.ecdsa_secp256r1_sha256, pki.leaf.privateKey, content);
      out = encodeCertificateVerify(SignatureScheme.ecdsa_secp256r1_sha256, sig);
    } else if (m.from === 'server' && m.type === HandshakeType.finished) {
      out = encodeFinished(finishedVerifyData('sha256', shts!, transcript.digest()));
    }
    if (m.from === 'server' || m.type === HandshakeType.client_hello) transcript.add(out);
    if (m.from === 'server' && m.type === HandshakeType.encrypted_extensions) {
      transcript.add(cr);
      out = Buffer.concat([out, cr]);
    }
    return out;
  };
  const err = catchTyped(() =>
    handshake(
      clientConfig(pki, { cipherSuites: [CipherSuite.AES_128_GCM_SHA256] }),
      serverConfig(pki, {
        keyLog: (line) => {
          const [label, , secret] = line.split(' ');
          if (label === 'SERVER_HANDSHAKE_TRAFFIC_SECRET') shts = Buffer.from(secret!, 'hex');
        },
      }),
      { transform },
    ),
  );
  // The real server never sent the CertificateRequest, so the client's Certificate is unexpected to it.
  assert.ok(err instanceof TlsAlertError);
  assert.equal(err.alert, AlertDescription.unexpected_message);
  assert.match(err.message, /certificate/);
  const drive = (err as unknown as { drive: DriveResult }).drive;
  assert.equal(drive.client.complete, true);
  const fromClient = drive.messages.filter((m) => m.from === 'client');
  assert.deepEqual(
    fromClient.map((m) => HandshakeType[m.type]),
    ['client_hello', 'certificate', 'finished'],
  );
  // certificate_request_context echoed (empty), certificate_list empty.
  assert.equal(fromClient[1]!.bytes.toString('hex'), '0b00000400000000');
});
