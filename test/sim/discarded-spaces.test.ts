/**
 * A discarded packet number space (RFC 9001 §4.9: Initial keys after the first Handshake packet,
 * Handshake keys once the handshake is confirmed) keeps no memory of its own (issue 13: idle
 * connections): no keys, no ACK state, no CRYPTO stream, no sent packets. Late packets for it are
 * still dropped unprocessed (key_unavailable), and the connection goes on with its 1-RTT keys.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection, PacketDropTraceEvent } from '../../src/connection/connection.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { withSimSeed } from './network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';

test('discarded Initial and Handshake spaces hold nothing, and their late packets are dropped', () => {
  withSimSeed(2113, (seed) => {
    const drops: PacketDropTraceEvent[] = [];
    const sim = new QuicSim({ seed, serverEndpoint: { dropTrace: (_conn, e) => drops.push(e) } });
    // The client's datagrams that carry Initial or Handshake packets, to replay them late.
    const longHeader: Uint8Array[] = [];
    sim.net.onSend((e) => {
      if (e.from !== CLIENT_ADDRESS || e.to !== SERVER_ADDRESS) return;
      const types = splitDatagram(e.datagram, 8).map((p) => p.type);
      if (types.includes(PacketType.Initial) || types.includes(PacketType.Handshake))
        longHeader.push(new Uint8Array(e.datagram));
    });
    const client = sim.dial();
    sim.handshake(client);
    sim.run(() => client.handshakeConfirmed, 5_000);
    // A little more traffic after confirmation, so that every call that discarded a space returned.
    sim.net.runFor(200);
    const server = sim.serverConnections[0]!;
    assert.equal(server.state, 'established');
    assert.ok(longHeader.some((d) => splitDatagram(d, 8).some((p) => p.type === PacketType.Handshake)));

    const checkDiscarded = (conn: Connection) => {
      for (const index of [PacketNumberSpace.Initial, PacketNumberSpace.Handshake] as const) {
        const space = conn.spaces[index];
        assert.equal(space.discarded, true, `space ${index}`);
        assert.equal(space.readKeys, undefined);
        assert.equal(space.writeKeys, undefined);
        // The shared inert state: nothing received is remembered, nothing can be written into it.
        assert.equal(space.acks.largestReceived, -1, `space ${index} keeps its received packet numbers`);
        assert.ok(Object.isFrozen(space), `space ${index} keeps its own space record`);
        assert.ok(Object.isFrozen(space.acks), `space ${index} keeps its own ACK state`);
        assert.ok(Object.isFrozen(space.crypto), `space ${index} keeps its own CRYPTO stream`);
        assert.equal(conn.lossDetector.sentPacketCount(index), 0);
        // The loss detector's state of the space is the shared inert one too.
        const detectorSpaces = (conn.lossDetector as unknown as { spaces: object[] }).spaces;
        assert.ok(Object.isFrozen(detectorSpaces[index]), `space ${index} keeps its own loss state`);
      }
    };
    checkDiscarded(server);
    checkDiscarded(client);

    // Late Initial and Handshake packets: dropped for want of keys, nothing answered in those spaces.
    const serverLongHeaderSent: number[] = [];
    sim.net.onSend((e) => {
      if (e.from !== SERVER_ADDRESS) return;
      for (const p of splitDatagram(e.datagram, 8))
        if (p.type === PacketType.Initial || p.type === PacketType.Handshake)
          serverLongHeaderSent.push(p.type);
    });
    const before = drops.length;
    for (const d of longHeader) sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, d);
    sim.net.runFor(500);
    const late = drops.slice(before);
    const lateLong = late.filter(
      (d) => d.packetType === PacketType.Initial || d.packetType === PacketType.Handshake,
    );
    assert.ok(lateLong.length >= longHeader.length, `${lateLong.length} late packets dropped`);
    assert.ok(
      lateLong.every((d) => d.reason === 'key_unavailable'),
      JSON.stringify(lateLong.map((d) => d.reason)),
    );
    assert.deepEqual(serverLongHeaderSent, []);
    assert.deepEqual(server.internalErrors, []);
    assert.deepEqual(client.internalErrors, []);
    assert.equal(server.state, 'established');
    checkDiscarded(server);

    // The connection still works with its 1-RTT keys: data goes through both ways.
    const app = new TransferClient(client, { streams: 1, upload: 3000, download: 3000 });
    const serverApp = new TransferServer();
    serverApp.add(server);
    sim.appHooks.push(() => {
      app.pump();
      serverApp.pump();
    });
    app.pump();
    sim.client.markActive(client);
    sim.run(() => app.done || app.closed, 10_000);
    assert.ok(app.done, [...app.failures, ...serverApp.failures].join('; '));
    assert.deepEqual(server.internalErrors, []);
  });
});
