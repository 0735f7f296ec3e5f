/** Loss of each frame type: what is still needed is sent again, with the latest value; nothing else. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamManager } from '../../../src/streams/stream-manager.js';
import { FrameType } from '../../../src/wire/frames.js';
import { drainEvents, limits, Pair, pattern, readAll } from './harness.js';

function readN(p: Pair, id: number, n: number): void {
  let got = 0;
  while (got < n) got += p.server.read(id, n - got)!.data.length;
}

function smallWindows(): Pair {
  return new Pair({
    serverLimits: { initialMaxData: 10_000, initialMaxStreamDataUni: 10_000 },
    server: { maxStreamReceiveWindow: 10_000, maxConnectionReceiveWindow: 10_000 },
  });
}

test('lost MAX_DATA / MAX_STREAM_DATA are sent again with the current value', () => {
  const p = smallWindows();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(10_000));
  p.flush('client');
  readN(p, id, 5000);
  const updates = p.take('server');
  assert.deepEqual(
    updates.map((f) => f.frame),
    [
      { type: FrameType.MaxData, maximumData: 15_000 },
      { type: FrameType.MaxStreamData, streamId: id, maximumStreamData: 15_000 },
    ],
  );
  p.lose('server', updates);
  assert.deepEqual(
    p.take('server').map((f) => f.frame),
    updates.map((f) => f.frame),
  );
});

test('a lost MAX_DATA is not resent when a newer one was sent since', () => {
  const p = smallWindows();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(10_000));
  p.flush('client');
  readN(p, id, 5000);
  const first = p.take('server');
  p.deliver('server', first);
  p.flush('client');
  readN(p, id, 5000);
  const second = p.take('server');
  assert.deepEqual(
    second.map((f) => f.frame.type),
    [FrameType.MaxData, FrameType.MaxStreamData],
  );
  p.lose('server', first);
  assert.deepEqual(p.take('server'), []);
  p.lose('server', second);
  assert.deepEqual(
    p.take('server').map((f) => f.frame),
    second.map((f) => f.frame),
  );
});

test('a lost MAX_STREAM_DATA is not resent once the final size is known', () => {
  const p = smallWindows();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(10_000));
  p.flush('client');
  readN(p, id, 5000);
  const updates = p.take('server');
  p.client.end(id);
  p.client.handleFrame({ type: FrameType.MaxStreamData, streamId: id, maximumStreamData: 10_000 }, 0);
  p.flush('client');
  p.lose('server', updates);
  assert.deepEqual(
    p.take('server').map((f) => f.frame.type),
    [FrameType.MaxData],
  );
});

test('a lost STOP_SENDING is resent until the peer resets', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(100));
  p.flush('client');
  p.server.stopSending(id, 6);
  const s1 = p.take('server');
  assert.deepEqual(
    s1.map((f) => f.frame),
    [{ type: FrameType.StopSending, streamId: id, errorCode: 6 }],
  );
  p.lose('server', s1);
  const s2 = p.take('server');
  assert.deepEqual(
    s2.map((f) => f.frame),
    s1.map((f) => f.frame),
  );
  p.deliver('server', s2);
  p.flush('client'); // RESET_STREAM arrives
  p.lose('server', s2);
  assert.deepEqual(
    p.take('server').filter((f) => f.frame.type === FrameType.StopSending),
    [],
  );
});

test('lost STREAM_DATA_BLOCKED / DATA_BLOCKED are resent only while still blocked at that limit', () => {
  const p = new Pair({ serverLimits: { initialMaxData: 1000, initialMaxStreamDataUni: 600 } });
  const a = p.client.openStream(false)!;
  const b = p.client.openStream(false)!;
  p.client.write(a, pattern(2000));
  p.client.write(b, pattern(2000));
  const blocked = p.take('client').filter((f) => f.frame.type !== FrameType.Stream);
  assert.deepEqual(
    blocked.map((f) => f.frame),
    [
      { type: FrameType.StreamDataBlocked, streamId: a, maximumStreamData: 600 },
      { type: FrameType.DataBlocked, maximumData: 1000 },
    ],
  );
  p.lose('client', blocked);
  // Connection-level control frames go first.
  assert.deepEqual(
    p.take('client').map((f) => f.frame),
    [blocked[1]!.frame, blocked[0]!.frame],
  );
  // New stream credit for a: its STREAM_DATA_BLOCKED is stale, DATA_BLOCKED is not.
  p.client.handleFrame({ type: FrameType.MaxStreamData, streamId: a, maximumStreamData: 700 }, 0);
  p.lose('client', blocked);
  assert.deepEqual(
    p.take('client').map((f) => f.frame),
    [blocked[1]!.frame],
  );
  // New connection credit: DATA_BLOCKED at 1000 is stale too.
  p.client.handleFrame({ type: FrameType.MaxData, maximumData: 1050 }, 0);
  p.lose('client', blocked);
  assert.deepEqual(
    p.take('client').filter((f) => f.frame.type === FrameType.DataBlocked && f.frame.maximumData === 1000),
    [],
  );
});

test('lost MAX_STREAMS and STREAMS_BLOCKED are resent while still accurate', () => {
  const p = new Pair({ serverLimits: { initialMaxStreamsUni: 1 } });
  const a = p.client.openStream(false)!;
  assert.equal(p.client.openStream(false), undefined);
  p.client.end(a);
  const c1 = p.take('client');
  assert.deepEqual(
    c1.map((f) => f.frame.type),
    [FrameType.StreamsBlockedUni, FrameType.Stream],
  );
  p.deliver('client', c1.slice(1));
  p.lose('client', c1.slice(0, 1));
  assert.deepEqual(
    p.take('client').map((f) => f.frame),
    [{ type: FrameType.StreamsBlockedUni, maximumStreams: 1 }],
  );
  readAll(p.server, a);
  const s1 = p.take('server');
  assert.deepEqual(
    s1.map((f) => f.frame),
    [{ type: FrameType.MaxStreamsUni, maximumStreams: 2 }],
  );
  p.lose('server', s1);
  const s2 = p.take('server');
  assert.deepEqual(
    s2.map((f) => f.frame),
    s1.map((f) => f.frame),
  );
  p.deliver('server', s2);
  // No longer blocked: a lost STREAMS_BLOCKED at 1 is not resent.
  p.lose('client', c1.slice(0, 1));
  assert.deepEqual(p.take('client'), []);
});

test('epoch isolation: records of another manager are ignored; same stream IDs are independent', () => {
  const peer = limits();
  const old = new StreamManager({ role: 'client', local: limits(), peer, rtt: () => 1 });
  const fresh = new StreamManager({ role: 'client', local: limits(), peer, rtt: () => 1 });
  const oldId = old.openStream(true)!;
  old.write(oldId, pattern(5000));
  const oldFrames = [];
  for (let f = old.popFrame(1200, 0); f !== undefined; f = old.popFrame(1200, 0)) oldFrames.push(f);
  old.resetStream(oldId, 42);
  old.stopSending(oldId, 42);
  const newId = fresh.openStream(true)!;
  assert.equal(newId, oldId);
  fresh.write(newId, pattern(10));
  const first = fresh.popFrame(1200, 0)!;
  // Acks and losses of the old epoch's frames do nothing to the new one.
  for (const f of oldFrames) {
    fresh.onFrameLost(f.record);
    fresh.onFrameAcked(f.record);
  }
  assert.deepEqual(fresh.streamState(newId), { send: 'Send', receive: 'Recv' });
  assert.equal(fresh.hasPendingFrames(), false);
  assert.deepEqual(drainEvents(fresh), []);
  assert.deepEqual(fresh.stats().bytesSent, 10);
  assert.equal(first.frame.type, FrameType.Stream);
  // And the old manager still has its own RESET_STREAM / STOP_SENDING queued, untouched.
  const types = [];
  for (let f = old.popFrame(1200, 0); f !== undefined; f = old.popFrame(1200, 0)) types.push(f.frame.type);
  assert.deepEqual(types, [FrameType.ResetStream, FrameType.StopSending]);
});
