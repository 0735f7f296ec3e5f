/**
 * A connection reports events in the order they happened (docs/architecture.md, "Events"): what a
 * packet did to streams comes before the connection's close carried by the same packet, so an
 * application sees a stream's data and FIN before it learns the connection is gone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent } from '../../src/connection/connection-events.js';
import { FrameType } from '../../src/wire/frames.js';
import { forgeClient1Rtt } from './forge-1rtt.js';
import { QuicSim } from './quic-harness.js';

/** Every pending event, as short labels ("stream opened 0", "closed remote"). */
function labels(conn: Connection): string[] {
  const out: string[] = [];
  for (let e: ConnectionEvent | undefined = conn.pollEvent(); e; e = conn.pollEvent()) {
    if (e.type === 'stream') out.push(`stream ${e.event.type}${'id' in e.event ? ` ${e.event.id}` : ''}`);
    else if (e.type === 'closed') out.push(`closed ${e.info.source} ${e.info.errorCode}`);
    else out.push(e.type);
  }
  return out;
}

test('data + FIN and CONNECTION_CLOSE in one packet: the stream events come first, then closed', () => {
  const sim = new QuicSim({ seed: 71 });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  labels(server);
  forgeClient1Rtt(sim, conn, [
    {
      type: FrameType.Stream,
      streamId: 0,
      offset: 0,
      data: new TextEncoder().encode('last words'),
      fin: true,
    },
    { type: FrameType.ConnectionCloseApplication, errorCode: 9, reason: 'bye' },
  ]);
  sim.run(() => server.isClosed, 5_000);
  // Draining, the connection ends at once (the endpoint serves the draining period in its place,
  // closing-remnant.ts): 'terminated' comes last.
  assert.deepEqual(labels(server), ['stream opened 0', 'stream readable 0', 'closed remote 9', 'terminated']);
  // The data is still there to read after the close was reported.
  const r = server.epoch?.streams.read(0);
  assert.equal(Buffer.from(r?.data ?? []).toString(), 'last words');
  assert.equal(r?.fin, true);
});

test('events of earlier packets keep their place before a later connection event', () => {
  // Stream data in one packet, the close in the next; the application polls only afterwards.
  const sim = new QuicSim({ seed: 72 });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  labels(server);
  forgeClient1Rtt(sim, conn, [
    { type: FrameType.Stream, streamId: 4, offset: 0, data: new Uint8Array(3), fin: false },
  ]);
  forgeClient1Rtt(sim, conn, [{ type: FrameType.ConnectionCloseApplication, errorCode: 0, reason: '' }]);
  sim.run(() => server.isClosed, 5_000);
  assert.deepEqual(labels(server), [
    'stream opened 0',
    'stream opened 4',
    'stream readable 4',
    'closed remote 0',
    'terminated',
  ]);
});
