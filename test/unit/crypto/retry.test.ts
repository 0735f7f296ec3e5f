import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hkdfExpandLabel } from '../../../src/crypto/hkdf.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/crypto/quic-version.js';
import { retryIntegrityTag, verifyRetryIntegrity } from '../../../src/crypto/retry.js';
import { DCID, hex, V1 } from './rfc-vectors.js';

const EMPTY = new Uint8Array(0);

test('the fixed Retry keys are the ones derived from the RFC secrets', () => {
  // RFC 9001 §5.8 and RFC 9369 §3.3.3 give both the secret and the derived key and nonce; derive
  // them here and check that tags made with the derived values match.
  const v1Secret = hex('d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e');
  assert.equal(
    hkdfExpandLabel('sha256', v1Secret, 'quic key', EMPTY, 16).toString('hex'),
    'be0c690b9f66575a1d766b54e368c84e',
  );
  assert.equal(
    hkdfExpandLabel('sha256', v1Secret, 'quic iv', EMPTY, 12).toString('hex'),
    '461599d35d632bf2239825bb',
  );
  const v2Secret = hex('c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f');
  assert.equal(
    hkdfExpandLabel('sha256', v2Secret, 'quicv2 key', EMPTY, 16).toString('hex'),
    '8fb4b01b56ac48e260fbcbcead7ccc92',
  );
  assert.equal(
    hkdfExpandLabel('sha256', v2Secret, 'quicv2 iv', EMPTY, 12).toString('hex'),
    'd86969bc2d7c6d9990efb04a',
  );
});

test('verifyRetryIntegrity never throws on bad input', () => {
  const retry = hex(V1.retry);
  assert.equal(verifyRetryIntegrity(QUIC_V1, DCID, retry.subarray(0, 15)), false);
  assert.equal(verifyRetryIntegrity(QUIC_V1, DCID, new Uint8Array(0)), false);
  assert.equal(verifyRetryIntegrity(QUIC_V1, new Uint8Array(256), retry), false);
  assert.equal(verifyRetryIntegrity(0xbabababa, DCID, retry), false);
  // Exactly a tag and nothing else: computed over an empty packet, does not match.
  assert.equal(verifyRetryIntegrity(QUIC_V2, DCID, retry.subarray(retry.length - 16)), false);
});

test('retryIntegrityTag accepts an empty ODCID and rejects impossible inputs', () => {
  const pkt = hex('ff000000010008f067a5502a4262b5746f6b656e');
  const tag = retryIntegrityTag(QUIC_V1, EMPTY, pkt);
  assert.equal(tag.length, 16);
  assert.equal(verifyRetryIntegrity(QUIC_V1, EMPTY, Buffer.concat([pkt, tag])), true);
  assert.equal(verifyRetryIntegrity(QUIC_V1, DCID, Buffer.concat([pkt, tag])), false);
  assert.throws(() => retryIntegrityTag(QUIC_V1, new Uint8Array(256), pkt), RangeError);
  assert.throws(() => retryIntegrityTag(7, DCID, pkt), RangeError);
});
