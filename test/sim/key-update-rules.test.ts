/**
 * The three 1-RTT key update rules that a transfer with loss can hide (RFC 9001 §6), each checked on
 * one connection with packets whose numbers and key phases the test chooses:
 * - no update is initiated before the handshake is confirmed (§6.1);
 * - a reordered packet of the new phase lowers the boundary below which the previous keys are tried,
 *   so an old-phase packet numbered above a new-phase one is never opened with the old keys (§6.4);
 * - a late packet of the old phase is still opened with the previous keys (§6.5).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { DatagramBuilder } from '../../src/connection/datagram-builder.js';
import { updatePacketKeys } from '../../src/crypto/key-update.js';
import type { PacketKeys } from '../../src/crypto/packet-keys.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { FrameType } from '../../src/wire/frames.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import { QuicSim, SERVER_ADDRESS } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';

describe('key update rules on one connection (RFC 9001 §6)', () => {
  test('no update is initiated before the handshake is confirmed, even with a packet of the phase acknowledged', () => {
    // Every datagram the server sends at the instant it completes the handshake is lost: one carries
    // HANDSHAKE_DONE. A later ACK-only datagram acknowledges the client's 1-RTT packets before the
    // retransmitted HANDSHAKE_DONE arrives, so the client holds an acknowledged packet of its phase while
    // unconfirmed. With an update allowed after every packet, only the confirmation rule holds it back.
    let sim: QuicSim | undefined;
    let dropAt: number | undefined;
    sim = new QuicSim({
      seed: 41,
      clientTransport: { keyUpdateInterval: 1 },
      down: {
        lossIf: ({ now }) => {
          if (!sim?.serverConnections[0]?.handshakeComplete) return false;
          dropAt ??= now;
          return now === dropAt;
        },
      },
    });
    const conn = sim.dial();
    const client = new TransferClient(conn, { streams: 1, upload: 200_000, download: 0 });
    const server = new TransferServer();
    sim.onServerConnection = (c) => server.add(c);
    sim.appHooks.push(() => {
      client.pump();
      server.pump();
    });
    let couldUpdateUnconfirmed = false;
    let updatedUnconfirmed = false;
    sim.net.onSend(({ from }) => {
      if (from === SERVER_ADDRESS || !conn.oneRtt) return;
      if (!conn.handshakeConfirmed && conn.oneRtt.canInitiateUpdate()) couldUpdateUnconfirmed = true;
      if (!conn.handshakeConfirmed && conn.oneRtt.writePhase !== 0) updatedUnconfirmed = true;
    });
    sim.run(() => client.done || client.closed, 60_000);
    assert.equal(client.done, true);
    assert.deepEqual(client.failures, []);
    assert.equal(
      couldUpdateUnconfirmed,
      true,
      'the scenario acknowledged a 1-RTT packet before confirmation',
    );
    assert.equal(updatedUnconfirmed, false, 'the client updated its keys before the handshake was confirmed');
    assert.ok(conn.oneRtt && conn.oneRtt.updates > 0, 'updates do happen once confirmed');
  });

  /** A handshaken pair, quiet, and a way to send the client 1-RTT packets as the server would. */
  function quietPair(seed: number) {
    const sim = new QuicSim({ seed });
    const conn = sim.dial();
    const srv = sim.handshake(conn);
    sim.net.runFor(2_000);
    // The test speaks for the server from now on; the real one would reject ACKs of packets it never sent.
    sim.net.removeNode(SERVER_ADDRESS);
    const keys = srv.oneRtt;
    assert.ok(keys && conn.oneRtt);
    const oldKeys: PacketKeys = keys.write;
    const newKeys: PacketKeys = updatePacketKeys(oldKeys, QUIC_V1);
    const base = srv.spaces[PacketNumberSpace.ApplicationData].nextPacketNumber + 100;
    const send = (pn: number, phase: 0 | 1) => {
      const b = new DatagramBuilder(new Uint8Array(1500));
      b.reset(1200);
      const dcid = srv.peerCids.current;
      assert.ok(
        b.openShort(
          { dcid, keyPhase: phase === 1, spin: false },
          PacketNumberSpace.ApplicationData,
          phase === 1 ? newKeys : oldKeys,
          pn,
          4,
        ),
      );
      b.writeFrame({ type: FrameType.Ping });
      b.closePacket();
      const size = b.seal();
      sim.net.inject(SERVER_ADDRESS, sim.clientAddress, b.buffer.subarray(0, size));
      sim.net.runFor(50);
    };
    const received = (c: Connection, pn: number) =>
      c.spaces[PacketNumberSpace.ApplicationData].acks.isDuplicate(pn);
    return { sim, conn, base, send, received };
  }

  test('an old-phase packet numbered above a reordered new-phase packet is not opened with the old keys', () => {
    const { conn, base, send, received } = quietPair(42);
    send(base + 2, 1); // the peer's update, first seen at base+2
    assert.equal(conn.oneRtt?.readPhase, 1);
    send(base, 1); // a reordered packet of the new phase: the new phase starts at base at the latest
    send(base + 1, 0); // claims the old phase above the start of the new one (RFC 9001 §6.4)
    assert.equal(received(conn, base + 2), true);
    assert.equal(received(conn, base), true);
    assert.equal(
      received(conn, base + 1),
      false,
      'an old-phase packet above the new phase was opened with the old keys',
    );
    assert.equal(conn.isClosed, false);
  });

  test('a late packet of the old phase is opened with the previous keys', () => {
    const { conn, base, send, received } = quietPair(43);
    send(base + 2, 1);
    assert.equal(conn.oneRtt?.readPhase, 1);
    send(base + 1, 0); // sent before the update, delivered after it (RFC 9001 §6.5)
    assert.equal(received(conn, base + 1), true, 'the late old-phase packet was not read');
    assert.equal(conn.oneRtt?.readPhase, 1, 'an old-phase packet does not flip the phase back');
    assert.equal(conn.isClosed, false);
  });
});
