/**
 * The event order seen through the public API (src/node): the acknowledgment that completes a
 * stream's delivery and the peer's CONNECTION_CLOSE arrive in one packet. The stream learns of its
 * delivery first, so end()'s callback and 'finish' report success, and only then does the close
 * reach the connection. The Node shell relies on the core's order for this (no draining by hand).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { ReceiveState } from '../../src/streams/stream-manager.js';
import { FrameType } from '../../src/wire/frames.js';
import { forgeServer1Rtt } from './forge-1rtt.js';
import { PublicClient, simWait } from './public-api-sim.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';

test('ACK completing a delivery + CONNECTION_CLOSE in one packet: finish first, then the close', async () => {
  // The peer closes with an error code: a stream still writing when the close is seen would fail.
  const sim = new QuicSim({ seed: 73 });
  const core = sim.dial();
  const client = new PublicClient(sim, core, false);
  const conn = await simWait(sim, client.client.next, 'handshake');
  const server = sim.serverConnections[0];
  assert.ok(server);
  // From now on nothing the server sends arrives: its acknowledgments are lost.
  sim.net.setLink(SERVER_ADDRESS, CLIENT_ADDRESS, { loss: 1 });
  const stream = await conn.openUniStream();
  const order: string[] = [];
  stream.on('finish', () => order.push('finish'));
  stream.on('error', (err) => order.push(`error ${(err as Error & { code?: string }).code}`));
  conn.on('close', () => order.push('close'));
  const ended = new Promise<string>((resolve) => stream.end('bye', () => resolve('end callback')));
  const receivedAll = new Promise<void>((resolve) => {
    sim.appHooks.push(() => {
      if (server.epoch?.streams.streamState(2)?.receive === ReceiveState.DataRecvd) resolve();
    });
  });
  await simWait(sim, receivedAll, 'the server has the data and the FIN');
  const largest = core.spaces[PacketNumberSpace.ApplicationData].nextPacketNumber - 1;
  forgeServer1Rtt(sim, server, [
    { type: FrameType.Ack, ackDelay: 0, ranges: [{ largest, smallest: 0 }] },
    { type: FrameType.ConnectionCloseApplication, errorCode: 9, reason: 'done' },
  ]);
  assert.equal(await simWait(sim, ended, 'end() callback'), 'end callback');
  await simWait(sim, conn.closed, 'the close');
  // A send-only stream: its one direction was delivered, so the close fails nothing.
  assert.deepEqual(order, ['finish', 'close']);
});
