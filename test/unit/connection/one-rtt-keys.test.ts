/**
 * OneRttKeys (RFC 9001 §6): key phases, responding to and initiating updates, the previous read keys
 * for reordered packets and when they are dropped, and the rules on initiating an update.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OneRttKeys } from '../../../src/connection/one-rtt-keys.js';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { updatePacketKeys } from '../../../src/crypto/key-update.js';
import { derivePacketKeys, type PacketKeys } from '../../../src/crypto/packet-keys.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';

const C = new Uint8Array(32).fill(0xc1);
const S = new Uint8Array(32).fill(0x5e);
const SUITE = CipherSuite.AES_128_GCM_SHA256;
const AAD = Buffer.from('header');

/** Client and server views of the same 1-RTT secrets. */
function pair(version = QUIC_V1) {
  return { client: new OneRttKeys(SUITE, version, S, C), server: new OneRttKeys(SUITE, version, C, S) };
}

function seal(keys: PacketKeys, pn: number, text: string): Uint8Array {
  const plain = Buffer.from(text);
  const out = new Uint8Array(plain.length + 16);
  keys.aead.seal(pn, AAD, plain, out, 0);
  return out;
}

function opens(keys: PacketKeys, pn: number, sealed: Uint8Array, text: string): boolean {
  const plain = keys.aead.open(pn, AAD, sealed);
  return plain !== null && Buffer.from(plain).toString() === text;
}

test('phase 0 keys are derived from the secrets; both sides agree', () => {
  const { client, server } = pair();
  assert.deepEqual([client.readPhase, client.writePhase, client.updates], [0, 0, 0]);
  assert.equal(client.cipherSuite, SUITE);
  const sealed = seal(client.write, 1, 'hello');
  assert.ok(opens(server.read, 1, sealed, 'hello'));
  assert.ok(opens(server.readKeysFor(0, 1).keys, 1, sealed, 'hello'));
  assert.equal(server.readKeysFor(0, 1).which, 'current');
  // A packet of the other phase before any update: try the next keys (the peer is updating).
  assert.equal(server.readKeysFor(1, 1).which, 'next');
});

for (const version of [QUIC_V1, QUIC_V2]) {
  test(`a client-initiated update: the server follows, the client does not rotate twice (v${version === QUIC_V1 ? 1 : 2})`, () => {
    const { client, server } = pair(version);
    const hpBefore = client.readHeaderProtection;
    client.onPacketSent(0);
    client.onPacketAcked(0, 0);
    assert.equal(client.canInitiateUpdate(), true);
    client.initiateUpdate();
    assert.equal(client.writePhase, 1);
    assert.equal(client.readPhase, 0);
    assert.equal(client.packetsSentInPhase, 0);
    // RFC 9001 §6.1: the new keys come from the next secret.
    assert.deepEqual(
      client.write.secret,
      updatePacketKeys(derivePacketKeys(SUITE, C, version), version).secret,
    );
    const sealed = seal(client.write, 10, 'phase 1');
    const choice = server.readKeysFor(1, 10);
    assert.equal(choice.which, 'next');
    assert.ok(opens(choice.keys, 10, sealed, 'phase 1'));
    // Old keys do not open it.
    assert.equal(opens(server.read, 10, sealed, 'phase 1'), false);
    // RFC 9001 §6.2: the server answers by updating its own write keys.
    assert.equal(server.onNextPhaseReceived(10, 1000, 100), true);
    assert.deepEqual([server.readPhase, server.writePhase, server.updates], [1, 1, 1]);
    const reply = seal(server.write, 3, 'reply');
    const c = client.readKeysFor(1, 3);
    assert.equal(c.which, 'next');
    assert.ok(opens(c.keys, 3, reply, 'reply'));
    // The client initiated: receiving the answer does not rotate its write keys again.
    const writeBefore = client.write;
    assert.equal(client.onNextPhaseReceived(3, 1000, 100), false);
    assert.equal(client.write, writeBefore);
    assert.deepEqual([client.readPhase, client.writePhase, client.updates], [1, 1, 1]);
    // The header protection key never changes (RFC 9001 §6).
    assert.equal(client.readHeaderProtection, hpBefore);
  });
}

test('RFC 9001 §6.1: an update may be initiated only after a packet of the current phase is acknowledged', () => {
  const { client } = pair();
  assert.equal(client.canInitiateUpdate(), false, 'nothing acknowledged yet');
  client.onPacketSent(5);
  assert.equal(client.canInitiateUpdate(), false);
  client.onPacketAcked(5, 1);
  assert.equal(client.canInitiateUpdate(), false, 'an ack for the other phase does not count');
  client.onPacketAcked(5, 0);
  assert.equal(client.canInitiateUpdate(), true);
  client.initiateUpdate();
  // Not again until the peer answers (read phase catches up) and a new-phase packet is acknowledged.
  assert.equal(client.canInitiateUpdate(), false);
  client.onPacketSent(6);
  client.onPacketAcked(6, 1);
  assert.equal(client.canInitiateUpdate(), false, 'the peer has not answered the update yet');
  client.onNextPhaseReceived(20, 0, 100);
  assert.equal(client.canInitiateUpdate(), true);
  client.initiateUpdate();
  assert.equal(client.writePhase, 0);
  client.onNextPhaseReceived(40, 0, 100);
  // Phase 0 again: an ack for a phase-0 packet sent before this phase (pn 5) does not count.
  client.onPacketAcked(5, 0);
  assert.equal(client.canInitiateUpdate(), false);
  client.onPacketSent(7);
  client.onPacketAcked(7, 0);
  assert.equal(client.canInitiateUpdate(), true);
  assert.equal(client.updates, 2);
});

test('a peer-initiated update resets the write phase bookkeeping', () => {
  const { server } = pair();
  server.onPacketSent(0);
  server.onPacketSent(1);
  assert.equal(server.packetsSentInPhase, 2);
  server.onPacketAcked(1, 0);
  assert.equal(server.canInitiateUpdate(), true);
  server.onNextPhaseReceived(50, 0, 100);
  assert.equal(server.packetsSentInPhase, 0);
  assert.equal(server.canInitiateUpdate(), false, 'no packet of the new phase acknowledged');
  server.onPacketSent(2);
  server.onPacketAcked(2, 1);
  assert.equal(server.canInitiateUpdate(), true);
});

test('RFC 9001 §6.5: previous keys open reordered packets of the old phase until 3 PTO after the update', () => {
  const { client, server } = pair();
  const old = seal(client.write, 99, 'late');
  client.onPacketSent(0);
  client.onPacketAcked(0, 0);
  client.initiateUpdate();
  const now = 5000;
  const pto = 200;
  server.onNextPhaseReceived(100, now, pto);
  assert.equal(server.previousReadDiscardAt, now + 3 * pto);
  // Packet 99 of phase 0 arrives late: the previous keys.
  const prev = server.readKeysFor(0, 99);
  assert.equal(prev.which, 'previous');
  assert.ok(opens(prev.keys, 99, old, 'late'));
  // Phase 0 with a number above the first phase-1 packet: the peer is updating again (next keys).
  assert.equal(server.readKeysFor(0, 101).which, 'next');
  assert.equal(server.readKeysFor(1, 101).which, 'current');
  // A reordered phase-1 packet with a lower number moves the boundary down.
  server.onCurrentPhaseReceived(95);
  assert.equal(server.readKeysFor(0, 97).which, 'next');
  assert.equal(server.readKeysFor(0, 94).which, 'previous');
  server.onCurrentPhaseReceived(98);
  assert.equal(server.readKeysFor(0, 94).which, 'previous', 'a higher number does not raise it');
  // Kept until the deadline, dropped at it.
  server.discardPreviousIfDue(now + 3 * pto - 1);
  assert.equal(server.readKeysFor(0, 94).which, 'previous');
  server.discardPreviousIfDue(now + 3 * pto);
  assert.equal(server.previousReadDiscardAt, undefined);
  const after = server.readKeysFor(0, 94);
  assert.equal(after.which, 'next');
  assert.equal(opens(after.keys, 99, old, 'late'), false);
});

test('several updates in a row: each side reads the other across phases 0 -> 1 -> 0 -> 1', () => {
  const { client, server } = pair();
  let pn = 0;
  for (let round = 0; round < 3; round++) {
    const initiator = round % 2 === 0 ? client : server;
    const responder = initiator === client ? server : client;
    initiator.onPacketSent(pn);
    initiator.onPacketAcked(pn, initiator.writePhase);
    assert.equal(initiator.canInitiateUpdate(), true);
    initiator.initiateUpdate();
    pn++;
    const m = seal(initiator.write, pn, `m${round}`);
    const choice = responder.readKeysFor(initiator.writePhase, pn);
    assert.equal(choice.which, 'next');
    assert.ok(opens(choice.keys, pn, m, `m${round}`));
    assert.equal(responder.onNextPhaseReceived(pn, 0, 100), true);
    const r = seal(responder.write, pn, `r${round}`);
    const back = initiator.readKeysFor(responder.writePhase, pn);
    assert.equal(back.which, 'next');
    assert.ok(opens(back.keys, pn, r, `r${round}`));
    assert.equal(initiator.onNextPhaseReceived(pn, 0, 100), false);
    assert.equal(initiator.writePhase, responder.writePhase);
    pn++;
  }
  assert.deepEqual([client.updates, server.updates, client.writePhase], [3, 3, 1]);
});
