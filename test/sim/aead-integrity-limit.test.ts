/**
 * RFC 9001 §6.6: packets that fail authentication are counted over the connection's lifetime, and at
 * the AEAD's integrity limit the connection closes with AEAD_LIMIT_REACHED (0x0f). The real limits
 * (2^52 for AES-GCM, 2^36 for ChaCha20) cannot be reached in a test, so the count is started just
 * below the limit; everything else (forged packets from the network, the close on the wire) is real.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { integrityLimit } from '../../src/crypto/aead-limits.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { QuicSim, SERVER_ADDRESS } from './quic-harness.js';

/** A short-header packet to `dcid` whose payload is noise: it fails authentication. */
function forgedShortPacket(dcid: Uint8Array): Uint8Array {
  const d = new Uint8Array(60);
  d[0] = 0x40 | 0x03; // short header, fixed bit, 4-byte packet number
  d.set(dcid, 1);
  for (let i = 1 + dcid.length; i < d.length; i++) d[i] = (i * 37 + 11) & 0xff;
  return d;
}

function setFailures(conn: Connection, n: number): void {
  (conn.receiver as unknown as { authenticationFailures: number }).authenticationFailures = n;
}

test('a forged packet at the integrity limit closes the connection with AEAD_LIMIT_REACHED on the wire', () => {
  const sim = new QuicSim({ seed: 61 });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  sim.net.runFor(500);
  const suite = conn.oneRtt?.cipherSuite;
  assert.ok(suite !== undefined);
  const dcid = server.peerCids.current;
  // Below the limit a forged packet is only dropped.
  setFailures(conn, integrityLimit(suite) - 2);
  sim.net.inject(SERVER_ADDRESS, sim.clientAddress, forgedShortPacket(dcid));
  sim.net.runFor(50);
  assert.equal(conn.isClosed, false, 'one failure below the limit closes nothing');
  // The next one reaches the limit.
  sim.net.inject(SERVER_ADDRESS, sim.clientAddress, forgedShortPacket(dcid));
  sim.run(() => server.isClosed, 5_000);
  assert.equal(conn.closeInfo?.source, 'local');
  assert.equal(conn.closeInfo?.errorCode, TransportErrorCode.AEAD_LIMIT_REACHED);
  assert.equal(server.closeInfo?.source, 'remote', 'the peer got our CONNECTION_CLOSE');
  assert.equal(server.closeInfo?.errorCode, TransportErrorCode.AEAD_LIMIT_REACHED);
  assert.deepEqual(conn.internalErrors, []);
});
