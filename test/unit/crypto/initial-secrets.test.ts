import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { deriveInitialSecrets, initialSalt } from '../../../src/crypto/initial-secrets.js';
import { deriveInitialKeys, derivePacketKeys } from '../../../src/crypto/packet-keys.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/crypto/quic-version.js';

test('initial salts of v1 and v2', () => {
  assert.equal(Buffer.from(initialSalt(QUIC_V1)).toString('hex'), '38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
  assert.equal(
    Buffer.from(initialSalt(0x6b3343cf)).toString('hex'),
    '0dede3def700a6db819381be6e269dcbf9bd2ed9',
  );
});

test('the returned salt is a copy', () => {
  const s = initialSalt(QUIC_V1);
  s.fill(0);
  assert.equal(Buffer.from(initialSalt(QUIC_V1)).toString('hex'), '38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
});

test('other versions throw RangeError', () => {
  for (const v of [0, 0xff00001d, 0x1a2a3a4a, 2, -1]) {
    assert.throws(() => initialSalt(v), RangeError);
    assert.throws(() => deriveInitialSecrets(v, new Uint8Array(8)), RangeError);
    assert.throws(() => deriveInitialKeys(v, new Uint8Array(8)), RangeError);
    assert.throws(() => derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, new Uint8Array(32), v), RangeError);
  }
});

test('any DCID length (0 after a Retry with an empty SCID, up to 20) derives distinct 32-byte secrets', () => {
  const seen = new Set<string>();
  for (const len of [0, 1, 8, 20]) {
    for (const version of [QUIC_V1, QUIC_V2]) {
      const s = deriveInitialSecrets(version, new Uint8Array(len).fill(7));
      assert.equal(s.client.length, 32);
      assert.equal(s.server.length, 32);
      assert.notDeepEqual(s.client, s.server);
      seen.add(s.client.toString('hex'));
    }
  }
  assert.equal(seen.size, 8);
});
