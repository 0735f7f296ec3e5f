/**
 * The client's handling of Version Negotiation on a real connection (RFC 9000 §6.2): one Version
 * Negotiation that names a version we support starts the attempt again with it, from a new first
 * DCID; after that, or after any server packet, Version Negotiation is discarded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Endpoint } from '../../../src/endpoint/endpoint.js';
import { encodeVersionNegotiation, PacketType, parsePacket } from '../../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from '../../sim/quic-harness.js';

const NOW = DEFAULT_START_TIME;

function dial() {
  const client = new Endpoint({ random: seededRandomBytes(new Prng(23)) });
  const conn = client.connect(
    {
      remoteAddress: SERVER_ADDRESS,
      tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] },
      version: QUIC_V1,
    },
    NOW,
  );
  assert.ok(client.transmit(NOW));
  return { client, conn };
}

/** The first packet of the next datagram the client sends: its version and DCID. */
function nextInitial(client: Endpoint, now: number) {
  const out = client.transmit(now);
  assert.ok(out, 'the client sends again at once');
  const p = parsePacket(out.datagram, 0, 8);
  assert.ok(p.type === PacketType.Initial);
  return { version: p.version, dcid: Uint8Array.from(p.dcid) };
}

test('one Version Negotiation restarts with the version offered; a second one is discarded', () => {
  const { client, conn } = dial();
  const first = Uint8Array.from(conn.originalDcid);
  client.receive(encodeVersionNegotiation(conn.localCid, first, [QUIC_V2], 0x40), SERVER_ADDRESS, NOW + 10);
  assert.equal(conn.version, QUIC_V2);
  assert.notDeepEqual(conn.originalDcid, first, 'a new first DCID (RFC 9000 §7.2)');
  const next = nextInitial(client, NOW + 10);
  assert.equal(next.version, QUIC_V2);
  assert.deepEqual(next.dcid, conn.originalDcid);

  // A second Version Negotiation, even one that echoes the new DCID and offers only another
  // supported version, is discarded (RFC 9000 §6.2).
  const second = Uint8Array.from(conn.originalDcid);
  client.receive(encodeVersionNegotiation(conn.localCid, second, [QUIC_V1], 0x40), SERVER_ADDRESS, NOW + 20);
  assert.equal(conn.version, QUIC_V2);
  assert.deepEqual(conn.originalDcid, second);
  assert.equal(conn.isClosed, false);
});

test('Version Negotiation after a server packet is discarded', () => {
  const sim = new QuicSim({ seed: 43 });
  const conn = sim.dial();
  sim.handshake(conn);
  const version = conn.version;
  const other = version === QUIC_V1 ? QUIC_V2 : QUIC_V1;
  sim.client.receive(
    encodeVersionNegotiation(conn.localCid, conn.originalDcid, [other], 0x40),
    SERVER_ADDRESS,
    sim.now,
  );
  assert.equal(conn.version, version);
  assert.equal(conn.isClosed, false);
  assert.equal(conn.handshakeConfirmed, true);
});
