/**
 * The key schedule, transcript hash, Finished, binder and resumption PSK checked against RFC 8448:
 * §3 "Simple 1-RTT Handshake", §4 "Resumed 0-RTT Handshake" and §5 "HelloRetryRequest".
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { hkdfExtract } from '../../../src/crypto/hkdf.js';
import { ExtensionType, HandshakeType, NamedGroup } from '../../../src/tls/codepoints.js';
import { decodeOfferedPsks, decodeServerName } from '../../../src/tls/extensions.js';
import { generateKeyShare } from '../../../src/tls/key-exchange.js';
import {
  finishedKey,
  finishedVerifyData,
  KeySchedule,
  resumptionPsk,
} from '../../../src/tls/key-schedule.js';
import { decodeCertificate } from '../../../src/tls/messages/certificate.js';
import { decodeCertificateVerify } from '../../../src/tls/messages/certificate-verify.js';
import { decodeClientHello } from '../../../src/tls/messages/client-hello.js';
import { decodeEncryptedExtensions } from '../../../src/tls/messages/encrypted-extensions.js';
import { decodeFinished } from '../../../src/tls/messages/finished.js';
import { decodeNewSessionTicket } from '../../../src/tls/messages/new-session-ticket.js';
import { decodeServerHello, encodeServerHello } from '../../../src/tls/messages/server-hello.js';
import { truncateClientHello } from '../../../src/tls/psk.js';
import {
  certificateVerifyContent,
  SignatureScheme,
  verifyWithScheme,
} from '../../../src/tls/signature-scheme.js';
import { TranscriptHash } from '../../../src/tls/transcript-hash.js';
import { RESUMED, RETRY, SIMPLE } from './rfc8448-vectors.js';

const h = (b: Uint8Array) => Buffer.from(b).toString('hex');

function transcriptOf(...messages: Uint8Array[]): TranscriptHash {
  const t = new TranscriptHash();
  t.init('sha256');
  for (const m of messages) t.add(m);
  return t;
}

test('RFC 8448 §3: x25519 key shares from the published private keys', () => {
  const client = generateKeyShare(NamedGroup.x25519, () => SIMPLE.clientPrivate);
  const server = generateKeyShare(NamedGroup.x25519, () => SIMPLE.serverPrivate);
  assert.equal(h(client.publicKey), h(SIMPLE.clientPublic));
  assert.equal(h(server.publicKey), h(SIMPLE.serverPublic));
  assert.equal(h(client.computeSecret(server.publicKey)), SIMPLE.sharedSecret);
  assert.equal(h(server.computeSecret(client.publicKey)), SIMPLE.sharedSecret);
});

test('RFC 8448 §3 Simple 1-RTT: handshake secrets', () => {
  const ks = new KeySchedule('sha256');
  assert.equal(h(ks.earlySecret), SIMPLE.earlySecret);
  assert.equal(h(ks.deriveHandshakeSecret(Buffer.from(SIMPLE.sharedSecret, 'hex'))), SIMPLE.handshakeSecret);
  const th = transcriptOf(SIMPLE.clientHello, SIMPLE.serverHello).digest();
  assert.equal(h(th), SIMPLE.helloHash);
  assert.equal(h(ks.clientHandshakeTrafficSecret(th)), SIMPLE.clientHandshakeTraffic);
  assert.equal(h(ks.serverHandshakeTrafficSecret(th)), SIMPLE.serverHandshakeTraffic);
  assert.equal(h(ks.deriveMasterSecret()), SIMPLE.masterSecret);
});

test('RFC 8448 §3 Simple 1-RTT: Finished verify_data, application and resumption secrets', () => {
  const ks = new KeySchedule('sha256');
  ks.deriveHandshakeSecret(Buffer.from(SIMPLE.sharedSecret, 'hex'));
  ks.deriveMasterSecret();
  const shts = Buffer.from(SIMPLE.serverHandshakeTraffic, 'hex');
  const chts = Buffer.from(SIMPLE.clientHandshakeTraffic, 'hex');
  const t = transcriptOf(
    SIMPLE.clientHello,
    SIMPLE.serverHello,
    SIMPLE.encryptedExtensions,
    SIMPLE.certificate,
    SIMPLE.certificateVerify,
  );
  assert.equal(h(finishedKey('sha256', shts)), SIMPLE.serverFinishedKey);
  const serverVd = finishedVerifyData('sha256', shts, t.digest());
  assert.equal(h(serverVd), SIMPLE.serverVerifyData);
  assert.equal(h(decodeFinished(SIMPLE.serverFinished.subarray(4), 32)), SIMPLE.serverVerifyData);
  t.add(SIMPLE.serverFinished);
  const appHash = t.digest();
  assert.equal(h(appHash), SIMPLE.applicationHash);
  assert.equal(h(ks.clientApplicationTrafficSecret(appHash)), SIMPLE.clientApplicationTraffic);
  assert.equal(h(ks.serverApplicationTrafficSecret(appHash)), SIMPLE.serverApplicationTraffic);
  assert.equal(h(ks.exporterMasterSecret(appHash)), SIMPLE.exporterMaster);
  assert.equal(h(finishedKey('sha256', chts)), SIMPLE.clientFinishedKey);
  assert.equal(h(finishedVerifyData('sha256', chts, appHash)), SIMPLE.clientVerifyData);
  t.add(SIMPLE.clientFinished);
  const rms = ks.resumptionMasterSecret(t.digest());
  assert.equal(h(rms), SIMPLE.resumptionMaster);
  const nst = decodeNewSessionTicket(SIMPLE.newSessionTicket.subarray(4));
  assert.equal(h(nst.nonce), '0000');
  assert.equal(h(resumptionPsk('sha256', rms, nst.nonce)), SIMPLE.resumptionPsk);
});

test('RFC 8448 §4 Resumed 0-RTT: binder, early secret and client early traffic secret', () => {
  const psk = Buffer.from(SIMPLE.resumptionPsk, 'hex');
  const ks = new KeySchedule('sha256', psk);
  assert.equal(h(ks.earlySecret), RESUMED.earlySecret);
  assert.equal(h(ks.resumptionBinderKey()), RESUMED.binderKey);
  const binderHash = transcriptOf().digestWith(RESUMED.clientHelloPrefix);
  assert.equal(h(binderHash), RESUMED.binderHash);
  assert.equal(h(ks.binder(binderHash)), RESUMED.binder);

  // The full ClientHello = prefix + binders; our decoder finds the binders list and truncates exactly.
  const ch = Buffer.concat([RESUMED.clientHelloPrefix, RESUMED.binders]);
  const decoded = decodeClientHello(ch.subarray(4));
  assert.equal(decoded.extensions.order.at(-1), ExtensionType.pre_shared_key);
  const offered = decodeOfferedPsks(decoded.extensions.get(ExtensionType.pre_shared_key)!);
  assert.equal(offered.identities.length, 1);
  assert.equal(offered.identities[0]!.obfuscatedTicketAge, 0xfad6aacb);
  assert.equal(h(offered.binders[0]!), RESUMED.binder);
  assert.equal(h(truncateClientHello(ch, offered.bindersLength)), h(RESUMED.clientHelloPrefix));
  assert.equal(h(ks.clientEarlyTrafficSecret(transcriptOf(ch).digest())), RESUMED.clientEarlyTraffic);
});

test('the Early Secret of a PSK is derived once per PSK buffer and per hash, and matches RFC 8448', () => {
  // One PSK buffer serves the binder, the 0-RTT keys and the handshake (tls-client.ts, tls-server.ts).
  const psk = Buffer.from(SIMPLE.resumptionPsk, 'hex');
  const first = new KeySchedule('sha256', psk);
  const again = new KeySchedule('sha256', psk);
  assert.equal(h(first.earlySecret), RESUMED.earlySecret);
  assert.equal(h(again.earlySecret), RESUMED.earlySecret);
  // Each schedule owns its bytes: a change to one does not reach the other or the next.
  assert.notEqual(first.earlySecret.buffer, again.earlySecret.buffer);
  again.earlySecret.fill(0);
  assert.equal(h(new KeySchedule('sha256', psk).earlySecret), RESUMED.earlySecret);
  // The same buffer under another hash: HKDF-Extract with SHA-384 (RFC 8446 §7.1), not the memo.
  const sha384 = new KeySchedule('sha384', psk).earlySecret;
  assert.equal(h(sha384), h(hkdfExtract('sha384', Buffer.alloc(48), psk)));
  assert.equal(h(new KeySchedule('sha256', psk).earlySecret), RESUMED.earlySecret);
  // An equal PSK in another buffer gives the same secret.
  assert.equal(h(new KeySchedule('sha256', Buffer.from(psk)).earlySecret), RESUMED.earlySecret);
});

test('RFC 8448 §4 Resumed 0-RTT: handshake, Finished and application secrets', () => {
  const client = generateKeyShare(NamedGroup.x25519, () => RESUMED.clientPrivate);
  const server = generateKeyShare(NamedGroup.x25519, () => RESUMED.serverPrivate);
  assert.equal(h(client.publicKey), h(RESUMED.clientPublic));
  assert.equal(h(server.publicKey), h(RESUMED.serverPublic));
  const shared = server.computeSecret(client.publicKey);
  assert.equal(h(shared), RESUMED.sharedSecret);

  const ks = new KeySchedule('sha256', Buffer.from(SIMPLE.resumptionPsk, 'hex'));
  assert.equal(h(ks.deriveHandshakeSecret(shared)), RESUMED.handshakeSecret);
  const ch = Buffer.concat([RESUMED.clientHelloPrefix, RESUMED.binders]);
  const t = transcriptOf(ch, RESUMED.serverHello);
  const th = t.digest();
  assert.equal(h(ks.clientHandshakeTrafficSecret(th)), RESUMED.clientHandshakeTraffic);
  assert.equal(h(ks.serverHandshakeTrafficSecret(th)), RESUMED.serverHandshakeTraffic);
  assert.equal(h(ks.deriveMasterSecret()), RESUMED.masterSecret);
  t.add(RESUMED.encryptedExtensions);
  const shts = Buffer.from(RESUMED.serverHandshakeTraffic, 'hex');
  assert.equal(h(finishedVerifyData('sha256', shts, t.digest())), RESUMED.serverVerifyData);
  assert.equal(h(RESUMED.serverFinished.subarray(4)), RESUMED.serverVerifyData);
  t.add(RESUMED.serverFinished);
  const appHash = t.digest();
  assert.equal(h(ks.clientApplicationTrafficSecret(appHash)), RESUMED.clientApplicationTraffic);
  assert.equal(h(ks.serverApplicationTrafficSecret(appHash)), RESUMED.serverApplicationTraffic);
  assert.equal(h(ks.exporterMasterSecret(appHash)), RESUMED.exporterMaster);
  // RFC 8448 is TLS over TCP: its client Finished covers EndOfEarlyData, which QUIC removes (RFC 9001 §8.3).
  t.add(RESUMED.endOfEarlyData);
  const chts = Buffer.from(RESUMED.clientHandshakeTraffic, 'hex');
  assert.equal(h(finishedVerifyData('sha256', chts, t.digest())), RESUMED.clientVerifyData);
  t.add(RESUMED.clientFinished);
  assert.equal(h(ks.resumptionMasterSecret(t.digest())), RESUMED.resumptionMaster);
});

test('RFC 8448 §5 HelloRetryRequest: message_hash transcript and handshake secrets', () => {
  const hrr = decodeServerHello(RETRY.helloRetryRequest.subarray(4));
  assert.equal(hrr.isHelloRetryRequest, true);
  assert.equal(decodeServerHello(RETRY.serverHello2.subarray(4)).isHelloRetryRequest, false);
  const t = transcriptOf(RETRY.clientHello1);
  t.replaceWithMessageHash();
  t.add(RETRY.helloRetryRequest);
  t.add(RETRY.clientHello2);
  t.add(RETRY.serverHello2);
  const th = t.digest();
  assert.equal(h(th), RETRY.transcriptHash);
  const ks = new KeySchedule('sha256');
  assert.equal(h(ks.deriveHandshakeSecret(Buffer.from(RETRY.sharedSecret, 'hex'))), RETRY.handshakeSecret);
  assert.equal(h(ks.clientHandshakeTrafficSecret(th)), RETRY.clientHandshakeTraffic);
  assert.equal(h(ks.serverHandshakeTrafficSecret(th)), RETRY.serverHandshakeTraffic);
});

test('RFC 8448 §3 messages decode with the engine decoders and ServerHello re-encodes identically', () => {
  const ch = decodeClientHello(SIMPLE.clientHello.subarray(4));
  assert.deepEqual(ch.cipherSuites, [0x1301, 0x1303, 0x1302]);
  assert.equal(ch.legacySessionId.length, 0);
  assert.equal(decodeServerName(ch.extensions.get(ExtensionType.server_name)!), 'server');
  const sh = decodeServerHello(SIMPLE.serverHello.subarray(4));
  assert.equal(sh.cipherSuite, CipherSuite.AES_128_GCM_SHA256);
  const reencoded = encodeServerHello({
    random: sh.random,
    legacySessionIdEcho: sh.legacySessionIdEcho,
    cipherSuite: sh.cipherSuite,
    extensions: sh.extensions.order.map((type) => ({ type, data: sh.extensions.get(type)! })),
  });
  assert.equal(h(reencoded), h(SIMPLE.serverHello));
  const ee = decodeEncryptedExtensions(SIMPLE.encryptedExtensions.subarray(4));
  assert.deepEqual(ee.order, [ExtensionType.supported_groups, 0x1c, ExtensionType.server_name]);
  const nst = decodeNewSessionTicket(SIMPLE.newSessionTicket.subarray(4));
  assert.equal(nst.lifetime, 30);
  assert.equal(nst.ageAdd, 0xfad6aac5);
  assert.equal(nst.ticket.length, 178);
  assert.equal(SIMPLE.newSessionTicket[0], HandshakeType.new_session_ticket);
});

test('RFC 8448 §3 CertificateVerify (rsa_pss_rsae_sha256) verifies against the certificate', () => {
  const cert = decodeCertificate(SIMPLE.certificate.subarray(4));
  assert.equal(cert.context.length, 0);
  assert.equal(cert.entries.length, 1);
  const key = new X509Certificate(Buffer.from(cert.entries[0]!.certData)).publicKey;
  const cv = decodeCertificateVerify(SIMPLE.certificateVerify.subarray(4));
  assert.equal(cv.scheme, SignatureScheme.rsa_pss_rsae_sha256);
  const th = transcriptOf(
    SIMPLE.clientHello,
    SIMPLE.serverHello,
    SIMPLE.encryptedExtensions,
    SIMPLE.certificate,
  ).digest();
  assert.equal(verifyWithScheme(cv.scheme, key, certificateVerifyContent('server', th), cv.signature), true);
  const flipped = Buffer.from(cv.signature);
  flipped[10]! ^= 1;
  assert.equal(verifyWithScheme(cv.scheme, key, certificateVerifyContent('server', th), flipped), false);
});
