import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePacketNumber, packetNumberLength } from '../../../src/wire/packet-number.js';

test('RFC 9000 A.2: 0xac5c02 with largest acked 0xabe8b3 needs 2 bytes; 0xace8fe needs 3', () => {
  assert.equal(packetNumberLength(0xac5c02, 0xabe8b3), 2);
  assert.equal(packetNumberLength(0xace8fe, 0xabe8b3), 3);
});

test('RFC 9000 A.3: largest 0xa82f30ea, truncated 0x9b32 (16 bits) decodes to 0xa82f9b32', () => {
  assert.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32);
});

test('packet number decoding: no packet yet, wrap-around in both directions', () => {
  assert.equal(decodePacketNumber(-1, 0, 8), 0);
  assert.equal(decodePacketNumber(-1, 5, 8), 5);
  assert.equal(decodePacketNumber(254, 0x01, 8), 257);
  assert.equal(decodePacketNumber(257, 0xff, 8), 255);
  assert.equal(decodePacketNumber(2 ** 40, (2 ** 40 + 3) % 2 ** 32, 32), 2 ** 40 + 3);
});

test('encode then decode round-trips when the length is chosen by packetNumberLength', () => {
  for (const [largestAcked, pn] of [
    [undefined, 0],
    [0, 1],
    [100, 228],
    [1000, 40000],
    [2 ** 33, 2 ** 33 + 70000],
  ] as const) {
    const len = packetNumberLength(pn, largestAcked);
    const truncated = pn % 2 ** (8 * len);
    const largestReceived = largestAcked ?? -1;
    assert.equal(decodePacketNumber(largestReceived, truncated, 8 * len), pn, `pn ${pn}`);
  }
});
