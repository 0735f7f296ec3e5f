/** Stream count limits (RFC 9000 §4.6): exhaustion, STREAMS_BLOCKED, MAX_STREAMS refill as streams close. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameType } from '../../../src/wire/frames.js';
import { drainEvents, LIMITS, Pair, pattern, readAll } from './harness.js';

test('openStream stops at the peer limit and queues STREAMS_BLOCKED once with that limit', () => {
  const p = new Pair({ serverLimits: { initialMaxStreamsBidi: 3, initialMaxStreamsUni: 1 } });
  assert.deepEqual(
    [0, 1, 2].map(() => p.client.openStream(true)),
    [0, 4, 8],
  );
  assert.equal(p.client.openStream(true), undefined);
  assert.equal(p.client.openStream(true), undefined);
  assert.equal(p.client.openStream(false), 2);
  assert.equal(p.client.openStream(false), undefined);
  assert.deepEqual(
    p.take('client').map((f) => f.frame),
    [
      { type: FrameType.StreamsBlockedBidi, maximumStreams: 3 },
      { type: FrameType.StreamsBlockedUni, maximumStreams: 1 },
    ],
  );
  assert.equal(p.client.openStreamCount, 4);
  assert.equal(p.client.stats().streamsOpened, 4);
});

test('MAX_STREAMS refills as peer streams close; the opener gets "streams-available" and can open again', () => {
  const p = new Pair({ serverLimits: { initialMaxStreamsUni: 2 } });
  const a = p.client.openStream(false)!;
  const b = p.client.openStream(false)!;
  assert.equal(p.client.openStream(false), undefined);
  for (const id of [a, b]) {
    p.client.write(id, pattern(100));
    p.client.end(id);
  }
  p.run();
  drainEvents(p.client);
  assert.deepEqual(p.sent('client', FrameType.StreamsBlockedUni), [
    { type: FrameType.StreamsBlockedUni, maximumStreams: 2 },
  ]);
  // Nothing is returned until the server has read the streams to the end (they close).
  assert.deepEqual(p.sent('server', FrameType.MaxStreamsUni), []);
  readAll(p.server, a);
  p.run();
  assert.deepEqual(p.sent('server', FrameType.MaxStreamsUni), [
    { type: FrameType.MaxStreamsUni, maximumStreams: 3 },
  ]);
  assert.deepEqual(drainEvents(p.client), [{ type: 'streams-available', bidirectional: false }]);
  const c = p.client.openStream(false);
  assert.equal(c, 10);
  assert.equal(p.client.openStream(false), undefined);
  readAll(p.server, b);
  p.run();
  assert.deepEqual(
    p.sent('server', FrameType.MaxStreamsUni).map((f) => f.maximumStreams),
    [3, 4],
  );
  assert.equal(p.client.openStream(false), 14);
  // STREAMS_BLOCKED was sent again at the new limit 3 only (once per limit).
  assert.deepEqual(
    p.sent('client', FrameType.StreamsBlockedUni).map((f) => f.maximumStreams),
    [2, 3],
  );
});

test('exhaustion and refill over many generations: never more than the limit open at the receiver', () => {
  const limit = 4;
  const p = new Pair({ serverLimits: { initialMaxStreamsBidi: limit } });
  let opened = 0;
  for (let round = 0; round < 200 && opened < 40; round++) {
    for (let id = p.client.openStream(true); id !== undefined; id = p.client.openStream(true)) {
      opened++;
      p.client.write(id, pattern(10, id));
      p.client.end(id);
    }
    p.flush('client');
    assert.ok(p.server.openStreamCount <= limit, `server holds ${p.server.openStreamCount}`);
    for (const e of drainEvents(p.server)) {
      if (e.type === 'readable' && readAll(p.server, e.id).fin) {
        p.server.end(e.id);
      }
    }
    p.flush('server');
    for (const e of drainEvents(p.client)) if (e.type === 'readable') readAll(p.client, e.id);
  }
  assert.ok(opened >= 40, `only ${opened} streams opened`);
});

test('a frame on a higher peer stream opens all lower ones, reported in order', () => {
  const p = new Pair();
  p.server.handleFrame({ type: FrameType.Stream, streamId: 12, offset: 0, data: pattern(3), fin: false }, 0);
  assert.deepEqual(drainEvents(p.server), [
    { type: 'opened', id: 0 },
    { type: 'opened', id: 4 },
    { type: 'opened', id: 8 },
    { type: 'opened', id: 12 },
    { type: 'readable', id: 12 },
  ]);
  assert.equal(p.server.openStreamCount, 4);
  assert.deepEqual(p.server.streamState(4), { send: 'Ready', receive: 'Recv' });
});

test('MAX_STREAMS that does not increase the limit is ignored', () => {
  const p = new Pair({ serverLimits: { initialMaxStreamsBidi: 2 } });
  p.client.handleFrame({ type: FrameType.MaxStreamsBidi, maximumStreams: 1 }, 0);
  p.client.handleFrame({ type: FrameType.MaxStreamsBidi, maximumStreams: 2 }, 0);
  assert.deepEqual(drainEvents(p.client), []);
  assert.notEqual(p.client.openStream(true), undefined);
  assert.notEqual(p.client.openStream(true), undefined);
  assert.equal(p.client.openStream(true), undefined);
});

test('updatePeerLimits (0-RTT accepted) raises stream and flow limits of existing streams', () => {
  const p = new Pair({
    serverLimits: { initialMaxStreamsUni: 1, initialMaxData: 100, initialMaxStreamDataUni: 50 },
  });
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(500));
  assert.equal(p.client.openStream(false), undefined);
  const first = p.take('client').filter((f) => f.frame.type === FrameType.Stream);
  assert.equal(
    first.reduce((n, f) => n + (f.frame as { data: Uint8Array }).data.length, 0),
    50,
  );
  p.client.updatePeerLimits({
    ...LIMITS,
    initialMaxStreamsUni: 3,
    initialMaxData: 1000,
    initialMaxStreamDataUni: 400,
  });
  assert.deepEqual(drainEvents(p.client), [{ type: 'streams-available', bidirectional: false }]);
  const more = p.take('client').filter((f) => f.frame.type === FrameType.Stream);
  assert.equal(
    more.reduce((n, f) => n + (f.frame as { data: Uint8Array }).data.length, 0),
    350,
  );
  assert.equal(p.client.stats().peerMaxData, 1000);
  assert.equal(p.client.openStream(false), 6);
});
