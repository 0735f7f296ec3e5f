/**
 * A connection's stream machinery (StreamManager: flow control, scheduler, stream maps, event queue)
 * is built on first use (issue 13, src/connection/stream-epoch.ts): an idle connection holds none of
 * it. Built late, it must be the same as built at once: the limits both sides advertised in the
 * handshake (RFC 9000 §4.1, §4.6, §18.2) hold for streams opened long after it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QuicSim } from './quic-harness.js';

const KiB = 1024;

function idlePair(seed: number) {
  const sim = new QuicSim({
    seed,
    serverTransport: {
      initialMaxData: 16 * KiB,
      initialMaxStreamData: 4 * KiB,
      maxConnectionReceiveWindow: 16 * KiB,
      maxStreamReceiveWindow: 4 * KiB,
      maxStreamsBidi: 3,
    },
    clientTransport: { maxStreamsBidi: 2, initialMaxStreamData: 2 * KiB, initialMaxData: 8 * KiB },
  });
  const client = sim.dial();
  const server = sim.handshake(client);
  // Idle: handshake done, HANDSHAKE_DONE, NEW_CONNECTION_ID and the ACKs exchanged, then quiet.
  sim.net.runFor(5_000);
  for (let e = client.pollEvent(); e; e = client.pollEvent());
  for (let e = server.pollEvent(); e; e = server.pollEvent());
  return { sim, client, server };
}

describe('stream machinery built on first use', () => {
  test('an idle connection holds none; neither sending, ACKs nor events build it', () => {
    const { client, server } = idlePair(700);
    assert.ok(client.epoch && server.epoch);
    assert.equal(server.epoch.builtStreams, undefined, 'server built its StreamManager while idle');
    assert.equal(client.epoch.builtStreams, undefined, 'client built its StreamManager while idle');
    assert.equal(server.snapshotStats().sendBufferedBytes, 0);
  });

  test('a stream opened late works, within the limits the server advertised in the handshake', () => {
    const { sim, client, server } = idlePair(701);
    const streams = client.epoch!.streams;
    const id = streams.openStream(true)!;
    // More than the server's initial stream window (4 KiB); the server never reads, so it never
    // raises it: exactly 4 KiB may arrive (RFC 9000 §4.1).
    streams.write(id, new Uint8Array(10 * KiB).fill(7));
    sim.server.markActive(server);
    sim.client.markActive(client);
    sim.net.runFor(3_000);
    assert.equal(client.isClosed, false, client.closeInfo?.reason);
    assert.equal(server.isClosed, false, server.closeInfo?.reason);
    const got = server.epoch!.builtStreams;
    assert.ok(got, 'the STREAM frame built the server side');
    assert.equal(got.streamBuffers(id)?.receive, 4 * KiB, 'the client kept to the 4 KiB stream window');
    assert.equal(got.stats().localMaxData, 16 * KiB);
    assert.equal(
      streams.stats().peerMaxData,
      16 * KiB,
      "the client's limit is the server's initial_max_data",
    );
    // The server's bidirectional stream limit (3) holds on the client: the 4th open is refused.
    assert.notEqual(streams.openStream(true), undefined);
    assert.notEqual(streams.openStream(true), undefined);
    assert.equal(streams.openStream(true), undefined);
  });

  test("a stream the server opens late keeps to the client's limits", () => {
    const { sim, client, server } = idlePair(702);
    const streams = server.epoch!.streams;
    const a = streams.openStream(true)!;
    assert.notEqual(streams.openStream(true), undefined);
    // The client allows 2 bidirectional streams (initial_max_streams_bidi).
    assert.equal(streams.openStream(true), undefined);
    streams.write(a, new Uint8Array(5 * KiB).fill(1));
    sim.server.markActive(server);
    sim.net.runFor(3_000);
    assert.equal(server.isClosed, false, server.closeInfo?.reason);
    const got = client.epoch!.builtStreams;
    assert.ok(got, 'the STREAM frame built the client side');
    // initial_max_stream_data_bidi_remote of the client: 2 KiB.
    assert.equal(got.streamBuffers(a)?.receive, 2 * KiB);
    assert.equal(streams.stats().peerMaxData, 8 * KiB);
    const opened: number[] = [];
    for (let e = client.pollEvent(); e; e = client.pollEvent())
      if (e.type === 'stream' && e.event.type === 'opened') opened.push(e.event.id);
    assert.deepEqual(opened, [a]);
  });
});
