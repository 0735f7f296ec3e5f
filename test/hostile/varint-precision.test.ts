/**
 * Issue 10, defect 1 audit: varints beyond 2^53 (RFC 9000 §16) that a peer sends in fields we act
 * on. A JS number rounds them (2^62 - 1 becomes 2^62, not a varint): nothing may then throw while
 * encoding an answer, and a stream ID's two type bits (RFC 9000 §2.1) must survive.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection, FrameTraceEvent } from '../../src/connection/connection.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { FrameType } from '../../src/wire/frames.js';
import { MAX_VARINT } from '../../src/wire/varint.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from '../sim/quic-harness.js';
import { forge1Rtt, hex } from './forge.js';

const MAX = 'ffffffffffffffff';

function setup(seed: number) {
  const sent: Array<{ conn: Connection; e: FrameTraceEvent }> = [];
  const sim = new QuicSim({ seed, trace: (conn, e) => sent.push({ conn, e }) });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  return { sim, conn, server, sent };
}

describe('varints beyond 2^53 from a peer (issue 10, defect 1 audit)', () => {
  test('STOP_SENDING with error code 2^62-1: the RESET_STREAM echoing it is sent (RFC 9000 §3.5)', () => {
    const { sim, conn, server, sent } = setup(1101);
    const streams = conn.epoch!.streams;
    const id = streams.openStream(true)!;
    streams.write(id, new Uint8Array(10));
    sim.client.markActive(conn);
    sim.run(() => server.epoch!.streams.has(id), 10_000);
    // The server has a send side on the stream; the client asks it to stop with the largest code.
    sim.net.inject(
      CLIENT_ADDRESS,
      SERVER_ADDRESS,
      forge1Rtt(conn, hex(`05 ${id.toString(16).padStart(2, '0')} ${MAX}`)),
    );
    sim.run(
      () =>
        sent.some(
          ({ conn: c, e }) =>
            c === server && e.direction === 'sent' && e.frame.type === FrameType.ResetStream,
        ),
      10_000,
    );
    const reset = sent.find(
      ({ conn: c, e }) => c === server && e.direction === 'sent' && e.frame.type === FrameType.ResetStream,
    )!.e.frame;
    assert.ok(reset.type === FrameType.ResetStream);
    assert.equal(reset.errorCode, MAX_VARINT);
    assert.equal(server.isClosed, false);
    assert.deepEqual(server.internalErrors, []);
    assert.deepEqual(conn.internalErrors, []);
  });

  test('a STREAM frame on stream 2^62-1 (server-initiated, unidirectional) is a STREAM_STATE_ERROR', () => {
    // Rounded to 2^62 it would look client-initiated bidirectional: STREAM_LIMIT_ERROR instead.
    const { sim, conn, server } = setup(1102);
    sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, forge1Rtt(conn, hex(`08 ${MAX} 00`)));
    sim.run(() => server.isClosed && conn.isClosed, 10_000);
    assert.equal(server.closeInfo?.errorCode, TransportErrorCode.STREAM_STATE_ERROR);
    assert.equal(conn.closeInfo?.errorCode, TransportErrorCode.STREAM_STATE_ERROR);
    assert.deepEqual(server.internalErrors, []);
  });

  test('a STREAM frame on stream 2^62-4 (client-initiated, bidirectional) is a STREAM_LIMIT_ERROR', () => {
    const { sim, conn, server } = setup(1103);
    sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, forge1Rtt(conn, hex('08 fffffffffffffffc 00')));
    sim.run(() => server.isClosed && conn.isClosed, 10_000);
    assert.equal(server.closeInfo?.errorCode, TransportErrorCode.STREAM_LIMIT_ERROR);
    assert.deepEqual(server.internalErrors, []);
  });
});
