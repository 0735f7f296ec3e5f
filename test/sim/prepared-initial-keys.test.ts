/**
 * A client connection started from Initial keys derived ahead of time (EndpointConfig.initialKeys,
 * filled by the Node shell's node/spare-initial-keys.ts, issue 13): its first Initial goes to the
 * prepared DCID under the prepared keys (RFC 9001 §5.2), the server opens it and the handshake
 * completes; without a prepared one the connection draws its DCID itself, as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  deriveInitialKeys,
  type InitialKeySource,
  type PreparedInitialKeys,
} from '../../src/crypto/packet-keys.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import { QuicSim } from './quic-harness.js';

const DCID = Uint8Array.from([0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18]);

function source(make: () => PreparedInitialKeys | undefined): InitialKeySource & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    take(version) {
      asked.push(version);
      return make();
    },
  };
}

test('prepared Initial keys: the first Initial goes to their DCID, and the handshake completes', () => {
  const keys = deriveInitialKeys(QUIC_V1, DCID);
  const initialKeys = source(() => ({ dcid: DCID, client: keys.client, server: keys.server }));
  const sim = new QuicSim({ seed: 390, clientEndpoint: { initialKeys } });
  const conn = sim.dial();
  assert.deepEqual(initialKeys.asked, [QUIC_V1]);
  assert.deepEqual(Buffer.from(conn.originalDcid), Buffer.from(DCID));
  const server = sim.handshake(conn);
  // The server answered the Initial it opened with the keys of that DCID (RFC 9001 §5.2).
  assert.deepEqual(Buffer.from(server.originalDcid), Buffer.from(DCID));
  assert.equal(conn.handshakeConfirmed, true);
});

test("prepared Initial keys that are not the DCID's: the server cannot open the Initial, no handshake", () => {
  const other = deriveInitialKeys(QUIC_V1, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  const initialKeys = source(() => ({ dcid: DCID, client: other.client, server: other.server }));
  const sim = new QuicSim({ seed: 391, clientEndpoint: { initialKeys } });
  const conn = sim.dial();
  assert.throws(() => sim.handshake(conn, 3_000), /timed out/);
  assert.equal(conn.handshakeConfirmed, false);
  assert.equal(sim.serverConnections.length, 0);
});

test('no prepared Initial keys: the connection draws an 8-byte DCID of its own', () => {
  const initialKeys = source(() => undefined);
  const sim = new QuicSim({ seed: 392, clientEndpoint: { initialKeys } });
  const conn = sim.dial();
  assert.equal(conn.originalDcid.length, 8);
  assert.notDeepEqual(Buffer.from(conn.originalDcid), Buffer.from(DCID));
  sim.handshake(conn);
  assert.equal(initialKeys.asked.length, 1);
});
