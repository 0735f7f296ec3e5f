/**
 * A peer that breaks the protocol gets the CONNECTION_CLOSE the RFC prescribes. The misbehaving side
 * is a real connection whose keys are used to forge packets carrying the offending frames.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { DatagramBuilder } from '../../src/connection/datagram-builder.js';
import { deriveInitialKeys } from '../../src/crypto/packet-keys.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import { forgeClient1Rtt } from './forge-1rtt.js';
import { realHello } from './forged-initials.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';

/** Handshake, forge, and return the server's close code as seen by both sides. */
function violate(frames: (conn: Connection, server: Connection) => Frame[], seed: number) {
  const sim = new QuicSim({ seed, serverTransport: { maxStreamsBidi: 4, initialMaxStreamData: 10_000 } });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  forgeClient1Rtt(sim, conn, frames(conn, server));
  sim.run(() => server.isClosed && conn.isClosed, 10_000);
  assert.equal(server.closeInfo?.source, 'local');
  // The client learns the same code from the server's CONNECTION_CLOSE.
  assert.equal(conn.closeInfo?.source, 'remote');
  assert.equal(conn.closeInfo?.errorCode, server.closeInfo?.errorCode);
  assert.deepEqual(server.internalErrors, []);
  return server.closeInfo!;
}

describe('peer misbehaviour closes the connection with the RFC error code', () => {
  test('HANDSHAKE_DONE from a client: PROTOCOL_VIOLATION (RFC 9000 §19.20)', () => {
    const info = violate(() => [{ type: FrameType.HandshakeDone }], 500);
    assert.equal(info.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
    assert.equal(info.frameType, FrameType.HandshakeDone);
  });

  test('stream data beyond the flow-control limit: FLOW_CONTROL_ERROR (§4.1)', () => {
    const info = violate(
      () => [{ type: FrameType.Stream, streamId: 0, offset: 10_000, data: new Uint8Array(10), fin: false }],
      501,
    );
    assert.equal(info.errorCode, TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  test('STREAM on a stream that is send-only for the receiver: STREAM_STATE_ERROR (§19.8)', () => {
    // Stream 3 is a server-initiated unidirectional stream: the server only sends on it.
    const info = violate(
      () => [{ type: FrameType.Stream, streamId: 3, offset: 0, data: new Uint8Array(10), fin: false }],
      502,
    );
    assert.equal(info.errorCode, TransportErrorCode.STREAM_STATE_ERROR);
  });

  test('opening more streams than allowed: STREAM_LIMIT_ERROR (§4.6)', () => {
    // The server allows 4 bidirectional streams: ids 0, 4, 8, 12. Stream 16 is the fifth.
    const info = violate(
      () => [{ type: FrameType.Stream, streamId: 16, offset: 0, data: new Uint8Array(1), fin: false }],
      503,
    );
    assert.equal(info.errorCode, TransportErrorCode.STREAM_LIMIT_ERROR);
  });

  test('a NEW_CONNECTION_ID flood: CONNECTION_ID_LIMIT_ERROR (§5.1.1)', () => {
    const info = violate(
      () =>
        Array.from({ length: 12 }, (_, i) => ({
          type: FrameType.NewConnectionId as const,
          // Sequence 1 is the client's own spare CID, issued with its Finished.
          sequenceNumber: i + 2,
          retirePriorTo: 0,
          connectionId: new Uint8Array(8).fill(i + 2),
          statelessResetToken: new Uint8Array(16).fill(i + 1),
        })),
      504,
    );
    assert.equal(info.errorCode, TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
  });

  test('RESET_STREAM with a final size below data already received: FINAL_SIZE_ERROR (§4.5)', () => {
    const info = violate(
      () => [
        { type: FrameType.Stream, streamId: 0, offset: 0, data: new Uint8Array(100), fin: false },
        { type: FrameType.ResetStream, streamId: 0, errorCode: 1, finalSize: 50 },
      ],
      505,
    );
    assert.equal(info.errorCode, TransportErrorCode.FINAL_SIZE_ERROR);
  });

  test('RETIRE_CONNECTION_ID for a sequence number never issued: PROTOCOL_VIOLATION (§19.16)', () => {
    const info = violate(() => [{ type: FrameType.RetireConnectionId, sequenceNumber: 99 }], 506);
    assert.equal(info.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  });

  test('a frame not allowed in an Initial packet: PROTOCOL_VIOLATION (§12.4)', () => {
    const sim = new QuicSim({ seed: 507 });
    // A hand-made client Initial carrying a ClientHello (without one the server keeps no state and
    // drops the packet: issue 10) and then a STREAM frame, with valid Initial protection.
    const dcid = new Uint8Array(8).fill(0xab);
    const { hello, scid } = realHello();
    const keys = deriveInitialKeys(QUIC_V1, dcid);
    const b = new DatagramBuilder(new Uint8Array(4096));
    b.reset(1252);
    b.openLong(
      { type: PacketType.Initial, version: QUIC_V1, dcid, scid, token: new Uint8Array(0) },
      PacketNumberSpace.Initial,
      keys.client,
      0,
      4,
    );
    b.writeFrame({ type: FrameType.Crypto, offset: 0, data: hello });
    b.writeFrame({ type: FrameType.Stream, streamId: 0, offset: 0, data: new Uint8Array(5), fin: false });
    b.closePacket();
    b.padDatagramTo(1200);
    const length = b.seal();
    sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, b.buffer.slice(0, length));
    sim.run(() => sim.serverConnections[0]?.isClosed === true, 5_000);
    const server = sim.serverConnections[0]!;
    assert.equal(server.closeInfo?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
    assert.equal(server.closeInfo?.frameType, FrameType.Stream);
  });

  test('invalid transport parameters: TRANSPORT_PARAMETER_ERROR (§18.2, §7.4)', () => {
    const sim = new QuicSim({ seed: 508 });
    // ack_delay_exponent (0x0a) = 21 appended: a value above 20 is invalid.
    const conn = sim.dial(undefined, undefined, {
      testRewriteTransportParameters: (tp) => Buffer.concat([tp, Buffer.from([0x0a, 0x01, 21])]),
    });
    sim.run(() => conn.isClosed, 10_000);
    const server = sim.serverConnections[0]!;
    assert.equal(server.closeInfo?.errorCode, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
    assert.equal(conn.closeInfo?.source, 'remote');
    assert.equal(conn.closeInfo?.errorCode, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  });

  test('a client without initial_source_connection_id: TRANSPORT_PARAMETER_ERROR (§7.3)', () => {
    const sim = new QuicSim({ seed: 509 });
    // Without it the server cannot authenticate the client's connection ID and must reject the handshake.
    const conn = sim.dial(undefined, undefined, {
      testRewriteTransportParameters: (tp) => stripParameter(tp, 0x0f),
    });
    sim.run(() => conn.isClosed, 10_000);
    const server = sim.serverConnections[0]!;
    assert.equal(server.closeInfo?.errorCode, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  });
});

/** Remove one parameter (by id, single-byte varint ids only) from encoded transport parameters. */
function stripParameter(tp: Uint8Array, id: number): Uint8Array {
  const out: number[] = [];
  let i = 0;
  const varint = (at: number): [number, number] => {
    const len = 1 << (tp[at]! >> 6);
    let v = tp[at]! & 0x3f;
    for (let k = 1; k < len; k++) v = v * 256 + tp[at + k]!;
    return [v, len];
  };
  while (i < tp.length) {
    const [pid, l1] = varint(i);
    const [plen, l2] = varint(i + l1);
    const end = i + l1 + l2 + plen;
    if (pid !== id) out.push(...tp.subarray(i, end));
    i = end;
  }
  return Uint8Array.from(out);
}
