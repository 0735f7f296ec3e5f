import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { hkdfExpandLabel } from '../../../src/crypto/hkdf.js';
import { nextTrafficSecret, updatePacketKeys } from '../../../src/crypto/key-update.js';
import { derivePacketKeyMaterial, derivePacketKeys } from '../../../src/crypto/packet-keys.js';
import { openPacket, sealPacket } from '../../../src/crypto/packet-protection.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/crypto/quic-version.js';
import { CHACHA_SECRET, hex, V1, V2 } from './rfc-vectors.js';

test('"quic ku" and "quicv2 ku" give the RFC 9001 A.5 / RFC 9369 A.5 values', () => {
  const secret = hex(CHACHA_SECRET);
  assert.equal(
    nextTrafficSecret(CipherSuite.CHACHA20_POLY1305_SHA256, secret, QUIC_V1).toString('hex'),
    V1.chacha.ku,
  );
  assert.equal(
    nextTrafficSecret(CipherSuite.CHACHA20_POLY1305_SHA256, secret, QUIC_V2).toString('hex'),
    V2.chacha.ku,
  );
});

test('SHA-384 suites produce a 48-byte next secret with the suite hash', () => {
  const secret = Buffer.alloc(48, 3);
  const next = nextTrafficSecret(CipherSuite.AES_256_GCM_SHA384, secret, QUIC_V1);
  assert.equal(next.length, 48);
  assert.deepEqual(next, hkdfExpandLabel('sha384', secret, 'quic ku', new Uint8Array(0), 48));
});

test('updatePacketKeys: new secret and AEAD, same header protection object', () => {
  const keys = derivePacketKeys(CipherSuite.CHACHA20_POLY1305_SHA256, hex(CHACHA_SECRET), QUIC_V1);
  const next = updatePacketKeys(keys, QUIC_V1);
  assert.equal(next.suite, keys.suite);
  assert.equal(next.hp, keys.hp);
  assert.notEqual(next.aead, keys.aead);
  assert.equal(Buffer.from(next.secret).toString('hex'), V1.chacha.ku);
  // The next AEAD is the one derived from the ku secret.
  const m = derivePacketKeyMaterial(CipherSuite.CHACHA20_POLY1305_SHA256, hex(V1.chacha.ku), QUIC_V1);
  const fresh = derivePacketKeys(CipherSuite.CHACHA20_POLY1305_SHA256, hex(V1.chacha.ku), QUIC_V1);
  const a = Buffer.alloc(17);
  const b = Buffer.alloc(17);
  next.aead.seal(5, hex('4200'), hex('01'), a, 0);
  fresh.aead.seal(5, hex('4200'), hex('01'), b, 0);
  assert.deepEqual(a, b);
  assert.equal(m.key.length, 32);
  // Chained updates are deterministic.
  const twice = updatePacketKeys(next, QUIC_V1);
  assert.deepEqual(
    Buffer.from(twice.secret),
    nextTrafficSecret(CipherSuite.CHACHA20_POLY1305_SHA256, hex(V1.chacha.ku), QUIC_V1),
  );
});

test('after a key update, packets open only with keys of the same phase', () => {
  for (const suite of [
    CipherSuite.AES_128_GCM_SHA256,
    CipherSuite.AES_256_GCM_SHA384,
    CipherSuite.CHACHA20_POLY1305_SHA256,
  ]) {
    const secret = Buffer.alloc(suite === CipherSuite.AES_256_GCM_SHA384 ? 48 : 32, 0x42);
    const sender = updatePacketKeys(derivePacketKeys(suite, secret, QUIC_V2), QUIC_V2);
    const receiverOld = derivePacketKeys(suite, secret, QUIC_V2);
    const receiverNew = updatePacketKeys(receiverOld, QUIC_V2);
    const build = () => {
      const buf = Buffer.concat([
        hex('44' + '0a0b0c0d'),
        hex('0009'),
        Buffer.alloc(24, 0x1f),
        Buffer.alloc(16),
      ]);
      buf[0] = 0x40 | 0x04 | 0x01; // key phase 1, 2-byte pn
      sealPacket(sender, buf, 0, 5, 2, 9, 7 + 24);
      return buf;
    };
    assert.equal(openPacket(receiverOld, build(), 0, 5, 47, 8), null, `suite ${suite}: old phase`);
    const opened = openPacket(receiverNew, build(), 0, 5, 47, 8);
    assert.ok(opened, `suite ${suite}: new phase`);
    assert.equal(opened.firstByte & 0x04, 0x04);
    assert.deepEqual(Buffer.from(opened.payload ?? []), Buffer.alloc(24, 0x1f));
  }
});

test('unknown versions are rejected', () => {
  assert.throws(
    () => nextTrafficSecret(CipherSuite.AES_128_GCM_SHA256, Buffer.alloc(32), 0xff00001d),
    RangeError,
  );
});
