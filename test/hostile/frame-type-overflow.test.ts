/**
 * Issue 10, defect 1: a frame type varint of 2^62 - 1 (`ff ff ff ff ff ff ff ff`) must close the
 * connection with FRAME_ENCODING_ERROR (RFC 9000 §12.4), not INTERNAL_ERROR, in Initial, 0-RTT and
 * 1-RTT packets, on the server and on the client. Read as a JS number the type rounded up to 2^62,
 * which is not a varint, and the frame decoder threw a RangeError. Every case asserts the close code
 * as it appears on the wire (decoded by the other side or by hand) and that nothing internal broke.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { deriveInitialKeys } from '../../src/crypto/packet-keys.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../sim/network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from '../sim/quic-harness.js';
import { ZeroRttSim } from '../sim/zero-rtt-harness.js';
import { forge0Rtt, forge1Rtt, frameBytes, hex, openDatagram, sealLong } from './forge.js';

const HUGE_TYPE = hex('ff ff ff ff ff ff ff ff');
const FEE = TransportErrorCode.FRAME_ENCODING_ERROR;

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function closeFrames(frames: Frame[]) {
  return frames.filter((f) => f.type === FrameType.ConnectionCloseTransport);
}

function endpoints(seed: number) {
  const pki = simPki();
  const random = seededRandomBytes(new Prng(seed));
  const server = new Endpoint({
    random,
    server: {
      tls: { alpn: ['test'], identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem } },
    },
  });
  const client = new Endpoint({ random });
  const conn = client.connect(
    { remoteAddress: SERVER_ADDRESS, tls: { alpn: ['test'], serverName: SERVER_NAME, ca: [pki.ca.certPem] } },
    DEFAULT_START_TIME,
  );
  return { server, client, conn };
}

function drain(ep: Endpoint, now: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let d = ep.transmit(now); d; d = ep.transmit(now)) out.push(d.datagram);
  return out;
}

function assertNoInternalErrors(conns: Iterable<Connection>): void {
  for (const c of conns) assert.deepEqual(c.internalErrors, []);
}

describe('frame type 2^62-1 closes with FRAME_ENCODING_ERROR (issue 10, defect 1)', () => {
  test('server, Initial packet: the CONNECTION_CLOSE on the wire carries 0x07', () => {
    const now = DEFAULT_START_TIME;
    const { server, client, conn } = endpoints(1001);
    // The client's real first Initial: its ClientHello, re-sealed with the bad frame after it.
    const first = client.transmit(now)!.datagram;
    const keys = deriveInitialKeys(QUIC_V1, conn.originalDcid);
    const [initial] = openDatagram(first, (t) => (t === PacketType.Initial ? keys.client : undefined));
    const crypto = initial!.frames.find((f) => f.type === FrameType.Crypto)!;
    const forged = sealLong({
      type: PacketType.Initial,
      dcid: conn.originalDcid,
      scid: conn.localParams.initialSourceConnectionId!,
      keys: keys.client,
      packetNumber: 0,
      payload: concat(frameBytes(crypto), HUGE_TYPE),
      datagramSize: 1200,
    });
    server.receive(forged, CLIENT_ADDRESS, now);
    const replies = drain(server, now);
    const closes = replies.flatMap((d) =>
      openDatagram(d, (t) => (t === PacketType.Initial ? keys.server : undefined)).flatMap((p) =>
        closeFrames(p.frames),
      ),
    );
    assert.equal(closes.length, 1, 'one Initial CONNECTION_CLOSE');
    const close = closes[0]!;
    assert.ok(close.type === FrameType.ConnectionCloseTransport);
    assert.equal(close.errorCode, FEE);
    // RFC 9000 §19.19: a type that cannot be named is reported as 0.
    assert.equal(close.frameType, 0);
    assertNoInternalErrors(server.connections);
    // The real client decodes the same code.
    for (const d of replies) client.receive(d, SERVER_ADDRESS, now);
    assert.equal(conn.closeInfo?.source, 'remote');
    assert.equal(conn.closeInfo?.errorCode, FEE);
  });

  test('client, Initial packet from the "server": the client closes with 0x07', () => {
    const now = DEFAULT_START_TIME;
    const { client, conn } = endpoints(1002);
    client.transmit(now);
    const keys = deriveInitialKeys(QUIC_V1, conn.originalDcid);
    const forged = sealLong({
      type: PacketType.Initial,
      dcid: conn.localParams.initialSourceConnectionId!,
      scid: hex('5e5e5e5e5e5e5e5e'),
      keys: keys.server,
      packetNumber: 0,
      payload: HUGE_TYPE,
    });
    client.receive(forged, SERVER_ADDRESS, now + 10);
    assert.equal(conn.closeInfo?.source, 'local');
    assert.equal(conn.closeInfo?.errorCode, FEE);
    const closes = drain(client, now + 10).flatMap((d) =>
      openDatagram(d, (t) => (t === PacketType.Initial ? keys.client : undefined)).flatMap((p) =>
        closeFrames(p.frames),
      ),
    );
    assert.equal(closes.length, 1);
    assert.equal(closes[0]!.errorCode, FEE);
    assertNoInternalErrors([conn]);
  });

  test('server and client, 1-RTT packets: the peer receives 0x07', () => {
    for (const side of ['server', 'client'] as const) {
      const sim = new QuicSim({ seed: side === 'server' ? 1003 : 1004 });
      const conn = sim.dial();
      const server = sim.handshake(conn);
      const [from, to, fromAddr, toAddr] =
        side === 'server'
          ? [conn, server, CLIENT_ADDRESS, SERVER_ADDRESS]
          : [server, conn, SERVER_ADDRESS, CLIENT_ADDRESS];
      sim.net.inject(fromAddr, toAddr, forge1Rtt(from, concat(hex('01'), HUGE_TYPE)));
      sim.run(() => conn.isClosed && server.isClosed, 10_000);
      assert.equal(to.closeInfo?.source, 'local', side);
      assert.equal(to.closeInfo?.errorCode, FEE, side);
      assert.equal(from.closeInfo?.source, 'remote', side);
      assert.equal(from.closeInfo?.errorCode, FEE, side);
      assertNoInternalErrors([conn, server]);
    }
  });

  test('server, 0-RTT packet: the client receives 0x07', () => {
    const z = new ZeroRttSim({ seed: 1005 });
    const conn = z.dialEarly();
    // Let the ClientHello reach the server (it then has the 0-RTT keys), then the forged 0-RTT packet.
    z.sim.run(() => z.serverOf(conn) !== undefined, 10_000);
    z.sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, forge0Rtt(conn, concat(hex('01'), HUGE_TYPE)));
    z.sim.run(() => conn.isClosed, 10_000);
    const server = z.serverOf(conn)!;
    assert.equal(server.closeInfo?.source, 'local');
    assert.equal(server.closeInfo?.errorCode, FEE);
    assert.equal(conn.closeInfo?.source, 'remote');
    assert.equal(conn.closeInfo?.errorCode, FEE);
    assertNoInternalErrors([conn, server]);
  });
});
