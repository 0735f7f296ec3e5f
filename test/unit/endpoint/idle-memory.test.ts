/**
 * What an idle server connection costs (issue 13: "memory per idle connection <= 20 KiB"), in the
 * sans-IO core: N clients complete their handshakes with one server endpoint and go quiet; the client
 * endpoint is then dropped, so only the server's state is measured. The bound (BOUND_KIB, about 1.15-1.2x
 * what the layout of session 25 needs, run through tsx as the tests are) fails on a return to an
 * earlier layout (session 24's needed 15.4-16.1 KiB, session 23's 19.7-20.2 KiB); it guards
 * structure, not speed. docs/performance.md has the breakdown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { ecbPoolStats, setEcbPoolCapacity } from '../../../src/crypto/header-protection.js';
import { Endpoint } from '../../../src/endpoint/endpoint.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { CLIENT_ADDRESS, SERVER_ADDRESS, SERVER_NAME, simPki } from '../../sim/quic-harness.js';
import { memoryAfterGc } from '../../support/memory.js';

const NOW = DEFAULT_START_TIME;
const ALPN = ['hq-interop'];

const heapAfterGc = memoryAfterGc;

/**
 * KiB of heap per idle server connection this test allows. Session 25 measured 11.4-12.2 KiB here
 * (through tsx; 12.3-12.8 before the server handshake cuts of the same session); the tree before its
 * cuts 15.4 KiB, which fails. Since session 30 the client's spare connection ID comes with its
 * Finished, so the server holds it here too (before, these clients went quiet before sending it;
 * a real client always did): 12.4-12.8 KiB alone, 14.1-14.2 in a full test run (13.6 at most before).
 */
const BOUND_KIB = 15.0;

function newServer(): Endpoint {
  const pki = simPki();
  return new Endpoint({
    random: seededRandomBytes(new Prng(1)),
    server: {
      tls: { alpn: ALPN, identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem } },
      maxConnections: 100_000,
      maxHalfOpen: 100_000,
      retryThreshold: 100_000,
    },
    transport: { maxIdleTimeout: 600_000 },
    // Per-peer options as the Node shell's server gives them (its PMTU ceiling per address).
    transportFor: () => ({ mtuDiscoveryMax: 1452 }),
  });
}

/**
 * `n` clients (one client endpoint, one address, like quic-go's idle client) handshake with `server`
 * until every datagram has been answered; then the client endpoint is dropped. Returns the time.
 */
function openIdle(
  server: Endpoint,
  n: number,
  seed: number,
  now: number,
  cipherSuites?: CipherSuite[],
): number {
  const client = new Endpoint({
    random: seededRandomBytes(new Prng(seed)),
    transport: { maxIdleTimeout: 600_000 },
  });
  const conns = [];
  for (let i = 0; i < n; i++) {
    conns.push(
      client.connect(
        {
          remoteAddress: SERVER_ADDRESS,
          tls: {
            alpn: ALPN,
            serverName: SERVER_NAME,
            ca: [simPki().ca.certPem],
            ...(cipherSuites ? { cipherSuites } : {}),
          },
        },
        now,
      ),
    );
  }
  for (let turn = 0; turn < 50; turn++) {
    let moved = 0;
    for (let d = client.transmit(now); d; d = client.transmit(now), moved++)
      server.receive(Uint8Array.from(d.datagram), CLIENT_ADDRESS, now);
    for (let d = server.transmit(now); d; d = server.transmit(now), moved++)
      client.receive(Uint8Array.from(d.datagram), SERVER_ADDRESS, now);
    while (server.pollEvent());
    for (const c of conns) while (c.pollEvent());
    if (moved === 0) {
      // Let delayed ACKs go out, then stop once nothing moves.
      const t = client.nextTimeout();
      if (t === undefined || t > now + 1000) break;
      now = Math.max(now, t);
      client.handleTimeout(now);
      server.handleTimeout(now);
    }
  }
  for (const c of conns) assert.equal(c.handshakeConfirmed, true);
  return now;
}

describe('memory of an idle server connection (sans-IO core)', () => {
  let previousCapacity = 0;
  before(() => {
    previousCapacity = setEcbPoolCapacity(16);
  });
  after(() => {
    setEcbPoolCapacity(previousCapacity);
  });

  test('heap per idle connection stays within its budget; header protection ciphers stay bounded', () => {
    const server = newServer();
    // Warm-up: code, caches and shared inert parts are not per connection.
    let now = openIdle(server, 20, 2, NOW);
    const base = heapAfterGc();
    const N = 300;
    // In groups of 10 that go quiet one after another, as on a real server: each group's last
    // datagrams are built in a later slab (connection/datagram-slab.ts). A connection that kept the
    // slab of its last datagram would hold ~6 KiB more here (30 slabs of 64 KiB for 300).
    for (let group = 0; group < N / 10; group++) now = openIdle(server, 10, 3 + group, now + 10);
    const perConnection = (heapAfterGc() - base) / N;
    assert.equal(server.connections.size, N + 20);
    console.log(`# heap per idle server connection (sans-IO core): ${(perConnection / 1024).toFixed(1)} KiB`);
    assert.ok(
      perConnection < BOUND_KIB * 1024,
      `${(perConnection / 1024).toFixed(1)} KiB per idle connection (bound ${BOUND_KIB} KiB)`,
    );
    // What the cuts of session 25 rely on, each a part built once or on first use:
    const conns = [...server.connections];
    // one options object for every server connection, transportFor's answer included
    // (connection-options.ts, Endpoint.serverTransportFor);
    assert.ok(conns.every((c) => c.options === conns[0]!.options));
    // no stream machinery on a connection that never had a stream (stream-epoch.ts);
    assert.ok(conns.every((c) => c.epoch !== undefined && c.epoch.builtStreams === undefined));
    // 1-RTT header protection ciphers (OpenSSL contexts, outside the heap): at most the pool's bound,
    // not two per connection.
    assert.ok(ecbPoolStats().live <= 16, `${ecbPoolStats().live} live ECB ciphers`);
  });

  test('closed connections give their header protection ciphers back at once', () => {
    // Room for everyone's: the earlier test's (never closed), these clients' and servers'.
    setEcbPoolCapacity(64);
    const server = newServer();
    // AES-GCM connections: ChaCha20's header protection is plain JS and holds no cipher object.
    const now = openIdle(server, 5, 4, NOW, [CipherSuite.AES_128_GCM_SHA256]);
    const live = ecbPoolStats().live;
    for (const c of [...server.connections]) c.close(0, 'done', now);
    for (let d = server.transmit(now); d; d = server.transmit(now));
    // Closing lasts 3 PTO (RFC 9000 §10.2); after it the connections are gone.
    let t = now;
    for (let i = 0; i < 100 && server.connections.size > 0; i++) {
      const next = server.nextTimeout();
      if (next === undefined) break;
      t = Math.max(t, next);
      server.handleTimeout(t);
      for (let d = server.transmit(t); d; d = server.transmit(t));
    }
    assert.equal(server.connections.size, 0);
    // Each server connection gave back its two (read and write).
    assert.equal(live - ecbPoolStats().live, 10);
  });
});
