/**
 * The server's anti-amplification limit (RFC 9000 §8.1, RFC 9002 §7.5 / §6.2.2.1): before the client's
 * address is validated (here: by the first client Handshake packet reaching the server), the server
 * never sends more than three times the bytes it received. The accounting is independent of the
 * server's own counters: the network is tapped per direction. A certificate chain too large for 3x
 * must still complete the handshake, also with 30% loss during it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { createCertificate, type GeneratedCertificate } from '../../src/tls/x509-builder.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { DEFAULT_START_TIME, type LinkConditions, withSimSeed } from './network.js';
import { CLIENT_ADDRESS, fixedEd25519KeyPair, QuicSim, SERVER_ADDRESS, SERVER_NAME } from './quic-harness.js';

const DAY = 24 * 3600_000;

/** A DER OCTET STRING of `n` filler bytes: the value of a large, unknown, non-critical extension. */
function bigExtension(n: number, seed: number): { oid: string; critical: boolean; value: Uint8Array } {
  const body = Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
  const value = new Uint8Array(4 + n);
  value.set([0x04, 0x82, n >> 8, n & 0xff]);
  value.set(body, 4);
  return { oid: `1.3.6.1.4.1.99999.${seed}`, critical: false, value };
}

interface BigPki {
  root: GeneratedCertificate;
  chainPem: string;
  keyPem: string;
  chainBytes: number;
}

let bigPki: BigPki | undefined;

/**
 * A root, three intermediates and a leaf, each below the root with a 1.5 KB extension. Fixed Ed25519
 * keys: the certificates and the handshake signature are the same bytes in every process
 * (quic-harness.ts), so every run of a seed is byte-identical and the figures below are exact.
 */
function largeChain(): BigPki {
  if (bigPki) return bigPki;
  const notBefore = DEFAULT_START_TIME - 3600_000;
  const notAfter = DEFAULT_START_TIME + 30 * DAY;
  const root = createCertificate({
    commonName: 'tsquic big root',
    notBefore,
    notAfter,
    keyPair: fixedEd25519KeyPair('big root'),
    isCA: true,
  });
  let issuer = root;
  const intermediates: GeneratedCertificate[] = [];
  for (let i = 0; i < 3; i++) {
    issuer = createCertificate({
      commonName: `tsquic intermediate ${i}`,
      notBefore,
      notAfter,
      keyPair: fixedEd25519KeyPair(`big intermediate ${i}`),
      isCA: true,
      issuer,
      extraExtensions: [bigExtension(1500, i)],
    });
    intermediates.unshift(issuer);
  }
  const leaf = createCertificate({
    commonName: SERVER_NAME,
    dnsNames: [SERVER_NAME],
    notBefore,
    notAfter,
    keyPair: fixedEd25519KeyPair('big leaf'),
    issuer,
    extraExtensions: [bigExtension(1500, 9)],
  });
  const chain = [leaf, ...intermediates];
  bigPki = {
    root,
    chainPem: chain.map((c) => c.certPem).join(''),
    keyPem: leaf.keyPem,
    chainBytes: chain.reduce((n, c) => n + c.certDer.length, 0),
  };
  return bigPki;
}

interface Accounting {
  /** The seed the simulation ran with (SIM_SEED may replace the test's). */
  seed: number;
  conn: Connection;
  server: Connection;
  /** Bytes the server received from the client / sent to it before the address was validated. */
  received: number;
  sent: number;
  /** Largest sent/received ratio seen at any send before validation. */
  maxRatio: number;
  violations: string[];
  validated: boolean;
}

function runHandshake(seed: number, opts: { big: boolean; handshakeLoss?: number }): Accounting {
  let done = false;
  const link = (name: string): LinkConditions => {
    if (!opts.handshakeLoss) return { delay: 20 };
    const rnd = sim.net.prng.fork(`handshake loss ${name}`);
    const p = opts.handshakeLoss;
    return { delay: 20, lossIf: () => !done && rnd.next() < p };
  };
  const pki = opts.big ? largeChain() : undefined;
  const sim: QuicSim = new QuicSim({
    seed,
    ...(pki
      ? { server: { tls: { identity: { certificateChain: pki.chainPem, privateKey: pki.keyPem } } } }
      : {}),
  });
  sim.net.setLink(CLIENT_ADDRESS, SERVER_ADDRESS, link('up'));
  sim.net.setLink(SERVER_ADDRESS, CLIENT_ADDRESS, link('down'));
  const acc = { received: 0, sent: 0, maxRatio: 0, violations: [] as string[], validated: false };

  // Client -> server: count what reaches the server, until a client Handshake packet arrives.
  const endpoint = sim.server;
  const receive = endpoint.receive.bind(endpoint);
  endpoint.receive = (datagram, from, now) => {
    if (!acc.validated && from === CLIENT_ADDRESS) {
      acc.received += datagram.length;
      if (splitDatagram(datagram, 8).some((p) => p.type === PacketType.Handshake)) acc.validated = true;
    }
    receive(datagram, from, now);
  };
  // Server -> client: every datagram sent before validation, checked at once.
  sim.net.onSend((e) => {
    if (e.from !== SERVER_ADDRESS || acc.validated) return;
    acc.sent += e.datagram.length;
    const ratio = acc.sent / acc.received;
    acc.maxRatio = Math.max(acc.maxRatio, ratio);
    if (acc.sent > 3 * acc.received) {
      acc.violations.push(`t=${sim.now - sim.net.startTime}: sent ${acc.sent} > 3 x ${acc.received}`);
    }
  });

  const conn = sim.dial(pki ? { ca: [pki.root.certPem] } : undefined);
  sim.run(() => {
    if (conn.handshakeConfirmed) done = true;
    return conn.handshakeConfirmed || conn.isClosed;
  }, 60_000);
  assert.equal(conn.handshakeConfirmed, true, `handshake failed: ${conn.closeInfo?.reason}`);
  const server = sim.serverConnections[0]!;
  assert.deepEqual(conn.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
  return { conn, server, seed: sim.net.seed, ...acc };
}

/**
 * The exact bytes each run exchanged before validation: the simulator is byte-deterministic (fixed
 * Ed25519 keys, seeded randomness), so these are the same in every process. Checked for the test's
 * own seed only: SIM_SEED=n replaces it with another run.
 */
function assertFigures(r: Accounting, seed: number, expected: { received: number; sent: number }): void {
  if (r.seed !== seed) return;
  assert.deepEqual({ received: r.received, sent: r.sent }, expected);
  assert.ok(r.sent <= 3 * r.received);
}

describe('anti-amplification limit before address validation (RFC 9000 §8.1)', () => {
  test('a small certificate: the first flight fits in 3x and the limit holds', () => {
    withSimSeed(1100, (seed) => {
      const r = runHandshake(seed, { big: false });
      assert.deepEqual(r.violations, []);
      assert.equal(r.validated, true);
      assert.ok(r.sent > 0 && r.received >= 1200);
      assert.equal(r.server.addressValidated, true);
      // The client's Initial (1252 bytes) and its Handshake datagram; the server's whole first
      // flight is one 1200-byte datagram.
      assertFigures(r, 1100, { received: 2 * 1252, sent: 1200 });
    });
  });

  test('a large chain that does not fit in 3x: the server stops at the limit, the handshake completes', () => {
    withSimSeed(1101, (seed) => {
      const pki = largeChain();
      const r = runHandshake(seed, { big: true });
      assert.deepEqual(r.violations, []);
      // The chain alone is larger than what one client Initial allows the server to send.
      assert.ok(pki.chainBytes > 3 * 1252, `chain of ${pki.chainBytes} bytes`);
      // The limit was binding: the server went right up to it, 3737 of the 3 x 1252 bytes the
      // client's Initial allowed, then waited for the client's Handshake datagram.
      assert.ok(r.maxRatio > 2.5, `max ratio ${r.maxRatio.toFixed(2)}`);
      assertFigures(r, 1101, { received: 2 * 1252, sent: 3737 });
      if (r.seed === 1101) assert.equal(r.maxRatio, 3737 / 1252);
      // The client verified the whole chain (leaf + 3 intermediates).
      assert.equal(r.conn.peerCertificates.length, 4);
      assert.equal(r.server.addressValidated, true);
    });
  });

  const lossy: Array<[number, { received: number; sent: number }]> = [
    [1102, { received: 2504, sent: 3737 }],
    [1103, { received: 5008, sent: 10782 }],
    [1104, { received: 5008, sent: 11075 }],
  ];
  for (const [seed, figures] of lossy) {
    test(`a large chain with 30% loss in both directions during the handshake (seed ${seed})`, () => {
      withSimSeed(seed, (sd) => {
        const r = runHandshake(sd, { big: true, handshakeLoss: 0.3 });
        assert.deepEqual(r.violations, []);
        assert.equal(r.conn.peerCertificates.length, 4);
        assertFigures(r, seed, figures);
      });
    });
  }

  test('a small certificate with 30% handshake loss', () => {
    withSimSeed(1105, (seed) => {
      const r = runHandshake(seed, { big: false, handshakeLoss: 0.3 });
      assert.deepEqual(r.violations, []);
      assertFigures(r, 1105, { received: 3896, sent: 5028 });
    });
  });
});
