/**
 * PacketSpace owns its packet numbers, keys and probe count (issue 15): other modules change them
 * only through these methods. RFC 9000 §12.3 (packet numbers never reused), RFC 9002 §6.2.4 (probes),
 * RFC 9001 §4.9 (discarded keys).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketSpace } from '../../../src/connection/packet-space.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { derivePacketKeys } from '../../../src/crypto/packet-keys.js';
import { PacketNumberSpace } from '../../../src/recovery/types.js';
import { QUIC_V1 } from '../../../src/wire/version.js';

test('packet numbers are taken once each, and a skipped one is never used (RFC 9000 §12.3, §21.4)', () => {
  const s = new PacketSpace(PacketNumberSpace.ApplicationData, 25);
  assert.equal(s.nextPacketNumber, 0);
  assert.equal(s.takePacketNumber(), 0);
  assert.equal(s.takePacketNumber(), 1);
  s.skipPacketNumber();
  assert.equal(s.nextPacketNumber, 3);
  assert.equal(s.takePacketNumber(), 3);
  // A new connection attempt (Version Negotiation) restarts the handshake, not the numbering.
  s.restartHandshake();
  assert.equal(s.nextPacketNumber, 4);
});

test('probes owed after a PTO are paid by ack-eliciting packets, never below zero (RFC 9002 §6.2.4)', () => {
  const s = new PacketSpace(PacketNumberSpace.Handshake, 25);
  s.onAckElicitingSent();
  assert.equal(s.probesPending, 0);
  s.requestProbes(2);
  s.requestProbes(1);
  assert.equal(s.probesPending, 2, 'a smaller request does not lower what is owed');
  s.onAckElicitingSent();
  assert.equal(s.probesPending, 1);
  s.onAckElicitingSent();
  s.onAckElicitingSent();
  assert.equal(s.probesPending, 0);
  s.requestProbes(2);
  s.restartHandshake();
  assert.equal(s.probesPending, 0);
});

test('a deferred probe: owed from its time on, once; cancelled by an ACK; gone with the space', () => {
  const s = new PacketSpace(PacketNumberSpace.ApplicationData, 25);
  s.requestProbes(2, 105);
  assert.equal(s.probesPending, 1, 'the first now');
  assert.equal(s.deferredProbeAt, 105);
  s.releaseDeferredProbe(104);
  assert.equal(s.probesPending, 1);
  s.releaseDeferredProbe(105);
  assert.equal(s.probesPending, 2);
  assert.equal(s.deferredProbeAt, undefined);
  s.releaseDeferredProbe(200);
  assert.equal(s.probesPending, 2, 'released once');
  s.requestProbes(1, 300);
  assert.equal(s.deferredProbeAt, undefined, 'a single probe is never deferred');
  s.requestProbes(2, 300);
  s.cancelDeferredProbe();
  s.releaseDeferredProbe(300);
  assert.equal(s.probesPending, 2);
  s.requestProbes(2, 400);
  s.discard();
  assert.equal(s.deferredProbeAt, undefined);
  s.releaseDeferredProbe(400);
  assert.equal(s.probesPending, 0);
});

test('discarding a space drops its keys and probes for good (RFC 9001 §4.9)', () => {
  const s = new PacketSpace(PacketNumberSpace.Initial, 25);
  const keys = derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, new Uint8Array(32).fill(1), QUIC_V1);
  s.installKeys('read', keys);
  s.installKeys('write', keys);
  assert.equal(s.readKeys, keys);
  assert.equal(s.writeKeys, keys);
  s.requestProbes(1);
  s.discard();
  assert.equal(s.discarded, true);
  assert.equal(s.readKeys, undefined);
  assert.equal(s.writeKeys, undefined);
  assert.equal(s.probesPending, 0);
});
