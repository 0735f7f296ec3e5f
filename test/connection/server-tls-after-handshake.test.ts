/**
 * A server connection lets go of its TLS engine once the handshake is complete and its tickets are
 * sent (issue 13: memory per idle connection), and still refuses handshake data after that exactly
 * as the engine did: unexpected_message (RFC 9001 §4.1.3, §6: no post-handshake messages from a
 * QUIC client), as CRYPTO_ERROR 0x10a (RFC 9001 §4.8).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMPLETED_SERVER_ENGINE } from '../../src/tls/completed-server-engine.js';
import { FrameType } from '../../src/wire/frames.js';
import { forgeClient1Rtt } from '../sim/forge-1rtt.js';
import { QuicSim } from '../sim/quic-harness.js';

test('after its handshake a server keeps no TLS engine state; 1-RTT CRYPTO data is unexpected_message', () => {
  const sim = new QuicSim({ seed: 17, link: { delay: 10 } });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  sim.net.runFor(200);
  assert.equal(server.state, 'established');
  assert.equal(server.tls, COMPLETED_SERVER_ENGINE, 'the handshake state was released');
  // The client still has its own engine: it reads the server's NewSessionTicket messages.
  assert.notEqual(conn.tls, COMPLETED_SERVER_ENGINE);
  // A KeyUpdate-shaped handshake message at the 1-RTT level.
  forgeClient1Rtt(sim, conn, [{ type: FrameType.Crypto, offset: 0, data: Uint8Array.of(24, 0, 0, 1, 0) }]);
  sim.run(() => server.isClosed, 5000);
  assert.equal(server.closeInfo?.errorCode, 0x100 + 10);
  assert.equal(server.closeInfo?.tlsAlert, 10);
  assert.match(server.closeInfo?.reason ?? '', /handshake data at Application level while expecting none/);
  assert.deepEqual(server.internalErrors, []);
});

test('the released engine refuses data at every level and accepts nothing else', () => {
  const e = COMPLETED_SERVER_ENGINE;
  assert.equal(e.role, 'server');
  assert.equal(e.handshakeComplete, true);
  e.receive(0, new Uint8Array(0), 0);
  for (const level of [0, 1, 2, 3]) {
    assert.throws(() => e.receive(level, Uint8Array.of(1), 0), /expecting none/);
  }
  assert.equal(e.takeOutput(), undefined);
  assert.equal(e.pollEvent(), undefined);
});
