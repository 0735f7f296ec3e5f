/**
 * Initial floods (issue 10): junk and real ClientHellos from spoofed addresses that never answer,
 * 200 per simulated second for 3 s, with a legitimate client dialling in the middle of it. Without
 * Retry the half-open table would fill; with the automatic switch to Retry (retryThreshold) and with
 * `retry: true`, state stays bounded and the legitimate client connects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServerEndpointOptions } from '../../src/endpoint/endpoint.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { junkInitial } from './forged-initials.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from './network.js';
import { QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from './quic-harness.js';

const FLOOD = 600;

/** First Initials of `n` real clients that will never answer (their endpoint is thrown away). */
function hellos(n: number): Uint8Array[] {
  const client = new Endpoint({ random: seededRandomBytes(new Prng(42)) });
  for (let i = 0; i < n; i++) {
    client.connect(
      {
        remoteAddress: SERVER_ADDRESS,
        tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] },
      },
      DEFAULT_START_TIME,
    );
  }
  const out: Uint8Array[] = [];
  for (let d = client.transmit(DEFAULT_START_TIME); d; d = client.transmit(DEFAULT_START_TIME))
    out.push(Uint8Array.from(d.datagram));
  return out;
}

function flood(server: Partial<Omit<ServerEndpointOptions, 'tls'>>, seed: number) {
  // Half-open connections outlive the legitimate client's own 10 s handshake timeout, so in the
  // control case no slot frees up while it still tries (it probes often: 100 ms initial RTT).
  const sim = new QuicSim({ seed, server, serverTransport: { handshakeTimeout: 15_000 } });
  const real = hellos(FLOOD / 2);
  const prng = new Prng(seed);
  const start = sim.now;
  let maxHalfOpen = 0;
  for (let i = 0; i < FLOOD; i++) {
    const d = i % 2 === 0 ? real[i / 2]! : junkInitial(prng, i);
    // 200 datagrams per second from ever-changing (spoofed) addresses.
    sim.net.inject(`10.9.${(i >> 8) & 255}.${i & 255}:${1000 + i}`, SERVER_ADDRESS, d, start + i * 5);
  }
  sim.appHooks.push(() => {
    maxHalfOpen = Math.max(maxHalfOpen, sim.server.halfOpenCount);
  });
  // The legitimate client dials in the middle of the flood.
  let conn: ReturnType<QuicSim['dial']> | undefined;
  sim.net.at(start + 1_500, () => {
    conn = sim.dial();
  });
  sim.run(() => conn?.handshakeComplete === true, 20_000);
  sim.net.runFor(Math.max(0, start + FLOOD * 5 - sim.now));
  return { sim, conn: conn!, maxHalfOpen };
}

describe('Initial flood with a legitimate client in the middle', () => {
  test('automatic Retry (retryThreshold 50): half-open stays <= 51, the client connects', () => {
    const r = flood({ retryThreshold: 50 }, 620);
    assert.equal(r.conn.handshakeComplete, true);
    assert.ok(r.maxHalfOpen <= 51, `half-open ${r.maxHalfOpen}`);
    assert.ok(r.sim.server.acceptStats.retried >= FLOOD / 2 - 50);
    assert.equal(r.sim.server.acceptStats.notClientHello, FLOOD / 2);
  });

  test('retry: true: no half-open state from the flood at all, the client connects', () => {
    const r = flood({ retry: true }, 621);
    assert.equal(r.conn.handshakeComplete, true);
    assert.ok(r.maxHalfOpen <= 1, `half-open ${r.maxHalfOpen}`);
  });

  test('without Retry (threshold above the table): the flood fills maxHalfOpen and the client is shut out', () => {
    const r = flood({ retryThreshold: 1_000_000, maxHalfOpen: 100 }, 622);
    assert.equal(r.maxHalfOpen, 100);
    assert.equal(r.conn.handshakeComplete, false);
  });
});
