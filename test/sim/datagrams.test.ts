/**
 * DATAGRAM frames (RFC 9221) at connection level on the simulator: the receiver's limit counts the
 * whole frame and 0 means "off" (§3), the sender never splits a datagram and drops one that no packet
 * can carry instead of stalling the queue (§5), and Connection.sendDatagram's results.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import { MAX_QUEUED_DATAGRAMS } from '../../src/connection/stream-epoch.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { FrameType } from '../../src/wire/frames.js';
import { withSimSeed } from './network.js';
import { QuicSim } from './quic-harness.js';

interface Pair {
  sim: QuicSim;
  client: Connection;
  server: Connection;
  /** DATAGRAM payloads the server connection delivered. */
  received: Uint8Array[];
}

function connect(
  seed: number,
  server: Partial<TransportOptions>,
  client: Partial<TransportOptions> = {},
): Pair {
  const sim = new QuicSim({ seed, serverTransport: server, clientTransport: client });
  const received: Uint8Array[] = [];
  sim.appHooks.push(() => {
    for (const s of sim.serverConnections) {
      for (let e = s.pollEvent(); e; e = s.pollEvent()) if (e.type === 'datagram') received.push(e.data);
    }
  });
  const conn = sim.dial();
  const srv = sim.handshake(conn);
  return { sim, client: conn, server: srv, received };
}

/** Puts a payload straight into the client's queue, past sendDatagram's checks (a misbehaving peer). */
function forceQueue(p: Pair, data: Uint8Array): void {
  assert.ok(p.client.epoch!.queueDatagram(data));
  p.sim.client.markActive(p.client);
}

describe('receiving DATAGRAM frames', () => {
  test('the limit counts the whole frame: 1 + payload may equal max_datagram_frame_size, not exceed it', () => {
    withSimSeed(9100, (seed) => {
      const p = connect(seed, { maxDatagramFrameSize: 100 });
      // Alone in its packet, the frame goes without a Length field: 1 + 99 = 100 bytes.
      forceQueue(p, new Uint8Array(99).fill(1));
      p.sim.run(() => p.received.length === 1, 5_000);
      assert.equal(p.received[0]!.length, 99);
      assert.equal(p.server.isClosed, false);
      forceQueue(p, new Uint8Array(100).fill(2));
      p.sim.run(() => p.server.isClosed, 5_000);
      assert.equal(p.server.closeInfo?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
      assert.equal(p.received.length, 1);
    });
  });

  test('a receiver that did not enable datagrams, or advertised 0, closes with PROTOCOL_VIOLATION', () => {
    for (const [i, server] of [{}, { maxDatagramFrameSize: 0 }].entries()) {
      withSimSeed(9110 + i, (seed) => {
        const p = connect(seed, server);
        assert.equal(p.client.datagramPayloadLimit(p.client.epoch!), undefined, 'the client may not send');
        assert.equal(p.client.sendDatagram(p.client.epoch!, new Uint8Array(0)), 'unsupported');
        forceQueue(p, new Uint8Array(0));
        p.sim.run(() => p.server.isClosed, 5_000);
        assert.equal(p.server.closeInfo?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
        assert.ok(
          p.server.closeInfo?.frameType === FrameType.Datagram ||
            p.server.closeInfo?.frameType === FrameType.DatagramWithLength,
        );
        assert.equal(p.received.length, 0);
      });
    }
  });
});

describe('sending DATAGRAM frames', () => {
  test('sendDatagram: queued, too-large beyond the limit, queue-full at the bound, closed after close', () => {
    withSimSeed(9120, (seed) => {
      const p = connect(seed, { maxDatagramFrameSize: 65535 });
      const epoch = p.client.epoch!;
      const limit = p.client.datagramPayloadLimit(epoch)!;
      // One packet: the path's datagram size minus the largest 1-RTT header and tag, minus the frame's own 3 bytes.
      assert.equal(limit, p.client.maxDatagramSize - (1 + 20 + 4 + 16) - 3);
      assert.equal(p.client.sendDatagram(epoch, new Uint8Array(limit + 1)), 'too-large');
      assert.equal(p.client.sendDatagram(epoch, new Uint8Array(limit)), 'queued');
      let results = new Set<string>();
      for (let i = 0; i < MAX_QUEUED_DATAGRAMS; i++)
        results.add(p.client.sendDatagram(epoch, new Uint8Array(10)));
      assert.deepEqual([...results], ['queued', 'queue-full']);
      p.sim.run(() => p.received.length === MAX_QUEUED_DATAGRAMS, 10_000);
      assert.equal(p.received.length, MAX_QUEUED_DATAGRAMS, 'every queued datagram went out on a clean link');
      p.client.close(0, '', p.sim.now);
      results = new Set([p.client.sendDatagram(epoch, new Uint8Array(1))]);
      assert.deepEqual([...results], ['closed']);
    });
  });

  test('a datagram no packet can carry is dropped, not sent in pieces, and does not block the next ones', () => {
    withSimSeed(9130, (seed) => {
      const p = connect(seed, { maxDatagramFrameSize: 65535 });
      forceQueue(p, new Uint8Array(5000).fill(9));
      for (let i = 1; i <= 3; i++)
        assert.equal(p.client.sendDatagram(p.client.epoch!, new Uint8Array(100).fill(i)), 'queued');
      p.sim.run(() => p.received.length === 3, 5_000);
      assert.deepEqual(
        p.received.map((d) => d[0]),
        [1, 2, 3],
      );
      assert.equal(p.client.epoch!.datagrams.length, 0);
      assert.equal(p.server.isClosed, false);
    });
  });
});
