/** popFrame order: control frames, then retransmissions, then new data; round-robin between streams. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Frame, FrameType } from '../../../src/wire/frames.js';
import { Pair, pattern } from './harness.js';

const ids = (frames: Array<{ frame: Frame }>) =>
  frames.map(({ frame }) => (frame.type === FrameType.Stream ? frame.streamId : -frame.type));

test('fair scheduling: three streams with data get one frame each per turn', () => {
  const p = new Pair();
  const [a, b, c] = [0, 1, 2].map(() => p.client.openStream(false)!) as [number, number, number];
  for (const id of [a, b, c]) p.client.write(id, pattern(20_000, id));
  const frames = p.take('client', 15, 1000);
  assert.deepEqual(ids(frames), [a, b, c, a, b, c, a, b, c, a, b, c, a, b, c]);
  // Bytes are shared evenly.
  const per = new Map<number, number>();
  for (const { frame } of frames) {
    if (frame.type === FrameType.Stream)
      per.set(frame.streamId, (per.get(frame.streamId) ?? 0) + frame.data.length);
  }
  const counts = [...per.values()];
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 10, `${counts}`);
});

test('a stream that gets data later joins the round at the back; a finished stream leaves it', () => {
  const p = new Pair();
  const [a, b, c] = [0, 1, 2].map(() => p.client.openStream(false)!) as [number, number, number];
  p.client.write(a, pattern(5000));
  p.client.write(b, pattern(1500));
  assert.deepEqual(ids(p.take('client', 3, 1000)), [a, b, a]);
  p.client.write(c, pattern(5000));
  assert.deepEqual(ids(p.take('client', 5, 1000)), [b, a, c, a, c]);
});

test('retransmissions go before new data, round-robin among the streams that lost data', () => {
  const p = new Pair();
  const [a, b, c] = [0, 1, 2].map(() => p.client.openStream(false)!) as [number, number, number];
  for (const id of [a, b, c]) p.client.write(id, pattern(20_000, id));
  const first = p.take('client', 6, 1000);
  assert.deepEqual(ids(first), [a, b, c, a, b, c]);
  // Lose b's first frame and both of a's.
  p.lose('client', [first[1]!, first[0]!, first[3]!]);
  const next = p.take('client', 6, 1000);
  assert.deepEqual(ids(next), [b, a, a, a, b, c]);
  // The retransmitted bytes are exactly the lost ones.
  const lostOffsets = [first[1]!, first[0]!, first[3]!].map((f) => (f.frame as { offset: number }).offset);
  assert.deepEqual(
    next.slice(0, 3).map((f) => (f.frame as { offset: number }).offset),
    lostOffsets,
  );
});

test('control frames go first: RESET_STREAM and window updates before stream data', () => {
  const p = new Pair({
    serverLimits: { initialMaxStreamDataBidiRemote: 2000 },
    server: { maxStreamReceiveWindow: 2000 },
  });
  const a = p.client.openStream(true)!;
  const b = p.client.openStream(true)!;
  p.client.write(a, pattern(2000));
  p.client.write(b, pattern(2000));
  p.run();
  // Server side: data to send on a, a reset on b, and a window update for a (half consumed).
  p.server.write(a, pattern(5000));
  p.server.resetStream(b, 4);
  let n = 0;
  while (n < 1000) n += p.server.read(a, 1000 - n)!.data.length;
  const frames = p.take('server', 3, 1200).map((f) => f.frame.type);
  assert.deepEqual(frames, [FrameType.ResetStream, FrameType.MaxStreamData, FrameType.Stream]);
});

test('a stream whose frame does not fit keeps its turn while a smaller one is served', () => {
  const p = new Pair();
  const a = p.client.openStream(false)!;
  const b = p.client.openStream(false)!;
  p.client.write(a, pattern(20_000));
  // Move a far enough that its offset needs a 2-byte varint.
  p.take('client', 1, 100);
  p.client.write(b, pattern(10));
  // 4 bytes: a needs 1 + 1 + 2 + 1 + 1 = 6, b needs 1 + 1 + 1 + 1 = 4 (offset 0 omitted).
  assert.deepEqual(ids(p.take('client', 1, 4)), [b]);
  assert.deepEqual(ids(p.take('client', 1, 1200)), [a]);
  assert.equal(p.client.popFrame(2, p.now), undefined);
});

test('hasPendingFrames agrees with popFrame, including when only connection-blocked data waits', () => {
  const p = new Pair({ serverLimits: { initialMaxData: 100 } });
  assert.equal(p.client.hasPendingFrames(), false);
  assert.equal(p.client.popFrame(1200, p.now), undefined);
  const a = p.client.openStream(false)!;
  p.client.write(a, pattern(500));
  assert.equal(p.client.hasPendingFrames(), true);
  p.take('client');
  // Blocked at 100: DATA_BLOCKED was sent, nothing else can go.
  assert.equal(p.client.hasPendingFrames(), false);
  assert.equal(p.client.popFrame(1200, p.now), undefined);
  // A FIN-only frame needs no credit and still goes out while the connection is blocked.
  const b = p.client.openStream(false)!;
  p.client.end(b);
  assert.equal(p.client.hasPendingFrames(), true);
  const frames = p.take('client').map((f) => f.frame);
  assert.deepEqual(frames, [
    { type: FrameType.Stream, streamId: b, offset: 0, data: new Uint8Array(0), fin: true },
  ]);
  assert.equal(p.client.hasPendingFrames(), false);
});
