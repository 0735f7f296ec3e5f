/**
 * Byte-exact checks against RFC 9001 Appendix A (QUIC v1) and RFC 9369 Appendix A (QUIC v2): keys,
 * client Initial, server Initial, Retry and the ChaCha20-Poly1305 short header packet.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Aead } from '../../../src/crypto/aead.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { HeaderProtection } from '../../../src/crypto/header-protection.js';
import { hkdfExtract, hkdfLabel } from '../../../src/crypto/hkdf.js';
import { deriveInitialSecrets, initialSalt } from '../../../src/crypto/initial-secrets.js';
import { nextTrafficSecret } from '../../../src/crypto/key-update.js';
import {
  deriveInitialKeys,
  derivePacketKeyMaterial,
  derivePacketKeys,
} from '../../../src/crypto/packet-keys.js';
import { openPacket, removeHeaderProtection, sealPacket } from '../../../src/crypto/packet-protection.js';
import { quicKeyLabels } from '../../../src/crypto/quic-version.js';
import { retryIntegrityTag, verifyRetryIntegrity } from '../../../src/crypto/retry.js';
import {
  CHACHA_PN,
  CHACHA_SECRET,
  CHACHA_UNPROTECTED_HEADER,
  clientInitialPayload,
  DCID,
  hex,
  SERVER_INITIAL_PAYLOAD,
  V1,
  V2,
  type VersionVectors,
} from './rfc-vectors.js';

/** Unprotected header || payload || 16 bytes of room for the tag. */
function plaintextPacket(header: Buffer, payload: Buffer): Buffer {
  return Buffer.concat([header, payload, Buffer.alloc(16)]);
}

for (const v of [V1, V2] as VersionVectors[]) {
  describe(v.name, () => {
    test('HKDF labels are encoded as listed in the appendix', () => {
      const labels = quicKeyLabels(v.version);
      const empty = new Uint8Array(0);
      const prefix = v.version === V1.version ? '' : 'v2';
      const expected: Record<string, string> =
        prefix === ''
          ? {
              key: '00100e746c7331332071756963206b657900',
              iv: '000c0d746c733133207175696320697600',
              hp: '00100d746c733133207175696320687000',
            }
          : {
              key: '001010746c73313320717569637632206b657900',
              iv: '000c0f746c7331332071756963763220697600',
              hp: '00100f746c7331332071756963763220687000',
            };
      assert.equal(hkdfLabel(labels.key, empty, 16).toString('hex'), expected.key);
      assert.equal(hkdfLabel(labels.iv, empty, 12).toString('hex'), expected.iv);
      assert.equal(hkdfLabel(labels.hp, empty, 16).toString('hex'), expected.hp);
    });

    test('initial secret, client and server initial secrets', () => {
      assert.equal(hkdfExtract('sha256', initialSalt(v.version), DCID).toString('hex'), v.initialSecret);
      const secrets = deriveInitialSecrets(v.version, DCID);
      assert.equal(secrets.client.toString('hex'), v.client.secret);
      assert.equal(secrets.server.toString('hex'), v.server.secret);
    });

    test('client and server Initial key, iv and hp', () => {
      for (const side of [v.client, v.server]) {
        const m = derivePacketKeyMaterial(CipherSuite.AES_128_GCM_SHA256, hex(side.secret), v.version);
        assert.equal(m.key.toString('hex'), side.key);
        assert.equal(m.iv.toString('hex'), side.iv);
        assert.equal(m.hp.toString('hex'), side.hp);
      }
      const keys = deriveInitialKeys(v.version, DCID);
      assert.equal(keys.client.suite, CipherSuite.AES_128_GCM_SHA256);
      assert.equal(Buffer.from(keys.client.secret).toString('hex'), v.client.secret);
      assert.equal(Buffer.from(keys.server.secret).toString('hex'), v.server.secret);
      // The derived header protection produces the appendix masks.
      assert.equal(Buffer.from(keys.client.hp.mask(hex(v.clientSample))).toString('hex'), v.clientMask);
      assert.equal(Buffer.from(keys.server.hp.mask(hex(v.serverSample))).toString('hex'), v.serverMask);
    });

    test('client Initial: protect the 1200-byte packet', () => {
      const keys = deriveInitialKeys(v.version, DCID);
      const header = hex(v.clientHeader);
      const buf = plaintextPacket(header, clientInitialPayload());
      const end = sealPacket(keys.client, buf, 0, 18, 4, 2, header.length + 1162);
      assert.equal(end, 1200);
      assert.equal(buf.length, 1200);
      assert.equal(buf.subarray(22, 38).toString('hex'), v.clientSample);
      assert.equal(buf.subarray(0, 22).toString('hex'), v.clientProtectedHeader);
      assert.equal(buf.toString('hex'), hex(v.clientPacket).toString('hex'));
    });

    test('client Initial: unprotect the 1200-byte packet', () => {
      const keys = deriveInitialKeys(v.version, DCID);
      const buf = hex(v.clientPacket);
      assert.equal(buf.length, 1200);
      const opened = openPacket(keys.client, buf, 0, 18, buf.length, -1);
      assert.ok(opened);
      assert.equal(opened.packetNumber, 2);
      assert.equal(opened.pnLength, 4);
      assert.equal(opened.firstByte, hex(v.clientHeader)[0]);
      assert.equal(opened.headerEnd, 22);
      assert.deepEqual(Buffer.from(opened.payload ?? []), clientInitialPayload());
      // The header is left unprotected in place.
      assert.equal(buf.subarray(0, 22).toString('hex'), v.clientHeader);
    });

    test('client Initial: the server side cannot open it with its own keys', () => {
      const keys = deriveInitialKeys(v.version, DCID);
      assert.equal(openPacket(keys.server, hex(v.clientPacket), 0, 18, 1200, -1), null);
      assert.equal(keys.server.aead.openFailures, 1);
    });

    test('server Initial: protect', () => {
      const keys = deriveInitialKeys(v.version, DCID);
      const header = hex(v.serverHeader);
      const buf = plaintextPacket(header, SERVER_INITIAL_PAYLOAD);
      const end = sealPacket(keys.server, buf, 0, 18, 2, 1, header.length + SERVER_INITIAL_PAYLOAD.length);
      assert.equal(end, buf.length);
      // RFC: the sample starts at the third protected payload byte (2-byte packet number).
      assert.equal(buf.subarray(22, 38).toString('hex'), v.serverSample);
      assert.equal(buf.toString('hex'), hex(v.serverPacket).toString('hex'));
    });

    test('server Initial: unprotect', () => {
      const keys = deriveInitialKeys(v.version, DCID);
      const buf = hex(v.serverPacket);
      const header = removeHeaderProtection(keys.server.hp, buf, 0, 18, buf.length);
      assert.deepEqual(header, { firstByte: hex(v.serverHeader)[0], truncatedPn: 1, pnLength: 2 });
      assert.equal(buf.subarray(0, 20).toString('hex'), v.serverHeader);

      const again = hex(v.serverPacket);
      const opened = openPacket(keys.server, again, 0, 18, again.length, 0);
      assert.ok(opened);
      assert.equal(opened.packetNumber, 1);
      assert.equal(opened.headerEnd, 20);
      assert.deepEqual(Buffer.from(opened.payload ?? []), SERVER_INITIAL_PAYLOAD);
      assert.equal(keys.server.aead.openFailures, 0);
    });

    test('Retry integrity tag', () => {
      const retry = hex(v.retry);
      const tag = retryIntegrityTag(v.version, DCID, retry.subarray(0, retry.length - 16));
      assert.equal(tag.toString('hex'), retry.subarray(retry.length - 16).toString('hex'));
      assert.equal(verifyRetryIntegrity(v.version, DCID, retry), true);
      // A different original DCID, a changed byte or the other version's tag must not verify.
      assert.equal(verifyRetryIntegrity(v.version, hex('8394c8f03e515709'), retry), false);
      const corrupted = Buffer.from(retry);
      corrupted[10] ^= 0x01;
      assert.equal(verifyRetryIntegrity(v.version, DCID, corrupted), false);
      const other = v.version === V1.version ? V2.version : V1.version;
      assert.equal(verifyRetryIntegrity(other, DCID, retry), false);
    });

    test('ChaCha20-Poly1305 short header: key, iv, hp and ku', () => {
      const secret = hex(CHACHA_SECRET);
      const m = derivePacketKeyMaterial(CipherSuite.CHACHA20_POLY1305_SHA256, secret, v.version);
      assert.equal(m.key.toString('hex'), v.chacha.key);
      assert.equal(m.iv.toString('hex'), v.chacha.iv);
      assert.equal(m.hp.toString('hex'), v.chacha.hp);
      const ku = nextTrafficSecret(CipherSuite.CHACHA20_POLY1305_SHA256, secret, v.version);
      assert.equal(ku.toString('hex'), v.chacha.ku);
      const hp = new HeaderProtection(CipherSuite.CHACHA20_POLY1305_SHA256, m.hp);
      assert.equal(Buffer.from(hp.mask(hex(v.chacha.sample))).toString('hex'), v.chacha.mask);
    });

    test('ChaCha20-Poly1305 short header: payload ciphertext with the appendix nonce', () => {
      const aead = new Aead(CipherSuite.CHACHA20_POLY1305_SHA256, hex(v.chacha.key), hex(v.chacha.iv));
      const out = Buffer.alloc(17);
      const n = aead.seal(CHACHA_PN, hex(CHACHA_UNPROTECTED_HEADER), hex('01'), out, 0);
      assert.equal(n, 17);
      assert.equal(out.toString('hex'), v.chacha.ciphertext);
      // The nonce is iv XOR pn: an Aead whose iv is the appendix nonce seals pn 0 identically.
      const viaNonce = new Aead(CipherSuite.CHACHA20_POLY1305_SHA256, hex(v.chacha.key), hex(v.chacha.nonce));
      const out2 = Buffer.alloc(17);
      viaNonce.seal(0, hex(CHACHA_UNPROTECTED_HEADER), hex('01'), out2, 0);
      assert.equal(out2.toString('hex'), v.chacha.ciphertext);
    });

    test('ChaCha20-Poly1305 short header: protect the 21-byte packet', () => {
      const keys = derivePacketKeys(CipherSuite.CHACHA20_POLY1305_SHA256, hex(CHACHA_SECRET), v.version);
      const buf = Buffer.concat([hex(CHACHA_UNPROTECTED_HEADER), hex('01'), Buffer.alloc(16)]);
      const end = sealPacket(keys, buf, 0, 1, 3, CHACHA_PN, 5);
      assert.equal(end, 21);
      assert.equal(buf.toString('hex'), v.chacha.packet);
      assert.equal(buf.subarray(0, 4).toString('hex'), v.chacha.header);
    });

    test('ChaCha20-Poly1305 short header: unprotect the 21-byte packet', () => {
      const keys = derivePacketKeys(CipherSuite.CHACHA20_POLY1305_SHA256, hex(CHACHA_SECRET), v.version);
      const buf = hex(v.chacha.packet);
      const opened = openPacket(keys, buf, 0, 1, buf.length, CHACHA_PN - 1);
      assert.ok(opened);
      assert.equal(opened.packetNumber, CHACHA_PN);
      assert.equal(opened.firstByte, 0x42);
      assert.equal(opened.pnLength, 3);
      assert.equal(opened.headerEnd, 4);
      assert.equal(Buffer.from(opened.payload).toString('hex'), '01');
      assert.equal(buf.subarray(0, 4).toString('hex'), CHACHA_UNPROTECTED_HEADER);
    });
  });
}
