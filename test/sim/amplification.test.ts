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
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS, SERVER_NAME } from './quic-harness.js';

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

/** RSA-2048 root, three RSA-2048 intermediates and an RSA-2048 leaf, each with a 1.5 KB extension. */
function largeChain(): BigPki {
  if (bigPki) return bigPki;
  const notBefore = DEFAULT_START_TIME - 3600_000;
  const notAfter = DEFAULT_START_TIME + 30 * DAY;
  const root = createCertificate({
    commonName: 'tsquic big root',
    notBefore,
    notAfter,
    keyType: 'rsa-2048',
    isCA: true,
  });
  let issuer = root;
  const intermediates: GeneratedCertificate[] = [];
  for (let i = 0; i < 3; i++) {
    issuer = createCertificate({
      commonName: `tsquic intermediate ${i}`,
      notBefore,
      notAfter,
      keyType: 'rsa-2048',
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
    keyType: 'rsa-2048',
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
  return { conn, server, ...acc };
}

describe('anti-amplification limit before address validation (RFC 9000 §8.1)', () => {
  test('a small certificate: the first flight fits in 3x and the limit holds', () => {
    withSimSeed(1100, (seed) => {
      const r = runHandshake(seed, { big: false });
      assert.deepEqual(r.violations, []);
      assert.equal(r.validated, true);
      assert.ok(r.sent > 0 && r.received >= 1200);
      assert.equal(r.server.addressValidated, true);
    });
  });

  test('a large RSA chain that does not fit in 3x: the server stops at the limit, the handshake completes', () => {
    withSimSeed(1101, (seed) => {
      const pki = largeChain();
      const r = runHandshake(seed, { big: true });
      assert.deepEqual(r.violations, []);
      // The chain alone is larger than what one client Initial allows the server to send.
      assert.ok(pki.chainBytes > 3 * 1252, `chain of ${pki.chainBytes} bytes`);
      // The limit was binding: the server went right up to it.
      assert.ok(r.maxRatio > 2.5, `max ratio ${r.maxRatio.toFixed(2)}`);
      // The client verified the whole chain (leaf + 3 intermediates).
      assert.equal(r.conn.peerCertificates.length, 4);
      assert.equal(r.server.addressValidated, true);
    });
  });

  for (const seed of [1102, 1103, 1104]) {
    test(`a large chain with 30% loss in both directions during the handshake (seed ${seed})`, () => {
      withSimSeed(seed, (sd) => {
        const r = runHandshake(sd, { big: true, handshakeLoss: 0.3 });
        assert.deepEqual(r.violations, []);
        assert.equal(r.conn.peerCertificates.length, 4);
      });
    });
  }

  test('a small certificate with 30% handshake loss', () => {
    withSimSeed(1105, (seed) => {
      const r = runHandshake(seed, { big: false, handshakeLoss: 0.3 });
      assert.deepEqual(r.violations, []);
    });
  });
});
