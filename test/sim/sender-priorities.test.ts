/**
 * What the sender puts first, seen on the wire of a running connection: a CONNECTION_CLOSE goes out
 * alone (RFC 9000 §10.2.1: nothing else is sent while closing), and a PATH_RESPONSE is not delayed
 * (RFC 9000 §8.2.2), not even by a full congestion window while the endpoint uploads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { FrameType } from '../../src/wire/frames.js';
import { simSeed, withSimSeed } from './network.js';
import { QuicSim, SERVER_ADDRESS } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';

interface Logged {
  t: number;
  role: Connection['role'];
  dir: 'sent' | 'received';
  type: FrameType;
  /** The sender's free congestion window when the frame was logged. */
  window: number;
}

function uploadingClient(seed: number) {
  const log: Logged[] = [];
  const sim: QuicSim = new QuicSim({
    seed,
    link: { delay: 20 },
    trace: (conn, e) =>
      log.push({
        t: sim.now,
        role: conn.role,
        dir: e.direction,
        type: e.frame.type,
        window: conn.congestion.availableWindow(),
      }),
  });
  const conn = sim.dial();
  const client = new TransferClient(conn, { streams: 2, upload: 2 * 1024 * 1024, download: 0 });
  const server = new TransferServer();
  sim.onServerConnection = (c) => server.add(c);
  sim.appHooks.push(() => {
    client.pump();
    server.pump();
  });
  let uploaded = 0;
  sim.net.onSend((e) => {
    if (e.from !== SERVER_ADDRESS && e.datagram.length > 1000) uploaded += e.datagram.length;
  });
  return { sim, conn, client, log, uploaded: () => uploaded };
}

test('closing: every frame sent after close() is a CONNECTION_CLOSE, with stream data still queued', () => {
  withSimSeed(simSeed(1501), (seed) => {
    const { sim, conn, log, uploaded } = uploadingClient(seed);
    sim.run(() => uploaded() > 200_000 || conn.isClosed, 30_000);
    assert.ok(!conn.isClosed && conn.epoch?.streams.hasPendingFrames(), 'still uploading');
    conn.framer.queuePing();
    const from = log.length;
    conn.close(0x42, 'bye', sim.now);
    sim.client.markActive(conn);
    sim.run(() => conn.isTerminated, 30_000);
    const sent = log.slice(from).filter((e) => e.role === 'client' && e.dir === 'sent');
    assert.ok(sent.length > 0, 'a CONNECTION_CLOSE was sent');
    assert.deepEqual(
      [...new Set(sent.map((e) => FrameType[e.type]))],
      [FrameType[FrameType.ConnectionCloseApplication]],
    );
  });
});

test('a PATH_RESPONSE goes out at once, before data, even with the congestion window full', () => {
  withSimSeed(simSeed(1502), (seed) => {
    const { sim, conn, client, log, uploaded } = uploadingClient(seed);
    sim.run(() => uploaded() > 300_000 || conn.isClosed, 30_000);
    // NAT rebinding: the server validates the client's new address with PATH_CHALLENGE (§9.3).
    sim.rebindClient('10.0.0.2:50001');
    sim.run(() => client.done || client.closed, 120_000);
    assert.ok(client.done, client.failures.join('; '));

    const challenges = log
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.role === 'client' && e.dir === 'received' && e.type === FrameType.PathChallenge);
    assert.ok(challenges.length > 0, 'the server sent PATH_CHALLENGE');
    let whileBlocked = 0;
    for (const { e, i } of challenges) {
      if (e.window < 1500) whileBlocked++;
      const next = log.slice(i + 1).find((x) => x.role === 'client' && x.dir === 'sent');
      assert.ok(next, 'the client sent something after the challenge');
      assert.equal(FrameType[next.type], FrameType[FrameType.PathResponse], 'the next frame sent answers it');
      assert.equal(next.t, e.t, 'in the same instant');
    }
    assert.ok(whileBlocked > 0, 'a challenge arrived while the congestion window was full');
  });
});
