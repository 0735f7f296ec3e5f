/** RFC 9000 §3.2: every transition of the receiving part. Frames are injected directly into the server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiveState } from '../../../src/streams/receive-stream.js';
import { SendState } from '../../../src/streams/send-stream.js';
import { StreamManager } from '../../../src/streams/stream-manager.js';
import { FrameType, type StreamFrame } from '../../../src/wire/frames.js';
import { drainEvents, LIMITS, Pair, pattern, readAll } from './harness.js';

function server(): StreamManager {
  return new StreamManager({ role: 'server', local: LIMITS, peer: LIMITS, rtt: () => 100 });
}

const data = pattern(300, 11);
function streamFrame(id: number, start: number, end: number, fin = false): StreamFrame {
  return { type: FrameType.Stream, streamId: id, offset: start, data: data.subarray(start, end), fin };
}

test('Recv is entered by STREAM, STREAM_DATA_BLOCKED or RESET_STREAM for a peer stream', () => {
  const s = server();
  s.handleFrame(streamFrame(2, 0, 10), 0);
  assert.deepEqual(s.streamState(2), { receive: ReceiveState.Recv });
  s.handleFrame({ type: FrameType.StreamDataBlocked, streamId: 6, maximumStreamData: 0 }, 0);
  assert.deepEqual(s.streamState(6), { receive: ReceiveState.Recv });
  s.handleFrame({ type: FrameType.ResetStream, streamId: 10, errorCode: 4, finalSize: 0 }, 0);
  assert.deepEqual(s.streamState(10), { receive: ReceiveState.ResetRecvd });
  assert.deepEqual(drainEvents(s), [
    { type: 'opened', id: 2 },
    { type: 'readable', id: 2 },
    { type: 'opened', id: 6 },
    { type: 'opened', id: 10 },
    { type: 'reset', id: 10, errorCode: 4 },
    { type: 'closed', id: 10 },
  ]);
});

test('MAX_STREAM_DATA or STOP_SENDING for a peer bidirectional stream creates it (Recv + Ready)', () => {
  const s = server();
  s.handleFrame({ type: FrameType.MaxStreamData, streamId: 0, maximumStreamData: 5000 }, 0);
  assert.deepEqual(s.streamState(0), { send: SendState.Ready, receive: ReceiveState.Recv });
  s.handleFrame({ type: FrameType.StopSending, streamId: 4, errorCode: 1 }, 0);
  assert.deepEqual(s.streamState(4), { send: SendState.ResetSent, receive: ReceiveState.Recv });
  assert.deepEqual(drainEvents(s), [
    { type: 'opened', id: 0 },
    { type: 'opened', id: 4 },
    { type: 'stop-sending', id: 4, errorCode: 1 },
  ]);
});

test('a locally opened bidirectional stream has its receiving part in Recv', () => {
  const s = server();
  const id = s.openStream(true)!;
  assert.equal(id, 1);
  assert.deepEqual(s.streamState(id), { send: SendState.Ready, receive: ReceiveState.Recv });
});

test('Recv -> Size Known (FIN with a gap) -> Data Recvd (gap filled) -> Data Read (FIN read)', () => {
  const s = server();
  s.handleFrame(streamFrame(2, 100, 300, true), 0);
  assert.deepEqual(s.streamState(2), { receive: ReceiveState.SizeKnown });
  assert.equal(s.read(2), undefined);
  s.handleFrame(streamFrame(2, 0, 50), 0);
  assert.deepEqual(s.streamState(2), { receive: ReceiveState.SizeKnown });
  const first = readAll(s, 2);
  assert.deepEqual(first, { data: Buffer.from(data.subarray(0, 50)), fin: false });
  s.handleFrame(streamFrame(2, 40, 100), 0);
  assert.deepEqual(s.streamState(2), { receive: ReceiveState.DataRecvd });
  const rest = s.read(2, 30)!;
  assert.deepEqual(
    { ...rest, data: Buffer.from(rest.data) },
    { data: Buffer.from(data.subarray(50, 80)), fin: false },
  );
  assert.deepEqual(s.streamState(2), { receive: ReceiveState.DataRecvd });
  assert.deepEqual(readAll(s, 2), { data: Buffer.from(data.subarray(80, 300)), fin: true });
  assert.equal(s.streamState(2), undefined);
  assert.deepEqual(drainEvents(s), [
    { type: 'opened', id: 2 },
    { type: 'readable', id: 2 },
    { type: 'readable', id: 2 },
    { type: 'closed', id: 2 },
  ]);
});

test('Recv -> Data Recvd in one frame; an empty FIN-only stream reads as {empty, fin}', () => {
  const s = server();
  s.handleFrame(streamFrame(2, 0, 300, true), 0);
  assert.deepEqual(s.streamState(2), { receive: ReceiveState.DataRecvd });
  s.handleFrame({ type: FrameType.Stream, streamId: 6, offset: 0, data: new Uint8Array(0), fin: true }, 0);
  assert.deepEqual(s.streamState(6), { receive: ReceiveState.DataRecvd });
  const r = s.read(6)!;
  assert.equal(r.data.length, 0);
  assert.equal(r.fin, true);
  assert.equal(s.has(6), false);
});

for (const [name, setup] of [
  ['Recv', (s: StreamManager) => s.handleFrame(streamFrame(2, 0, 100), 0)],
  ['Size Known', (s: StreamManager) => s.handleFrame(streamFrame(2, 100, 300, true), 0)],
  ['Data Recvd', (s: StreamManager) => s.handleFrame(streamFrame(2, 0, 300, true), 0)],
] as const) {
  test(`${name} -> Reset Recvd on RESET_STREAM; Reset Recvd -> Reset Read when the app gets the signal`, () => {
    const s = server();
    setup(s);
    assert.equal(s.streamState(2)!.receive, name);
    drainEvents(s);
    s.handleFrame({ type: FrameType.ResetStream, streamId: 2, errorCode: 77, finalSize: 300 }, 0);
    assert.deepEqual(s.streamState(2), { receive: ReceiveState.ResetRecvd });
    assert.equal(s.read(2), undefined, 'no data is delivered after the reset');
    assert.deepEqual(s.streamBuffers(2), {
      send: 0,
      receive: 0,
      receiveWindow: LIMITS.initialMaxStreamDataUni,
    });
    assert.deepEqual(s.pollEvent(), { type: 'reset', id: 2, errorCode: 77 });
    // The application has seen the reset: Reset Read, terminal, freed.
    assert.equal(s.streamState(2), undefined);
    assert.deepEqual(drainEvents(s), [{ type: 'closed', id: 2 }]);
    // The final size counts toward connection flow control (RFC 9000 §4.5).
    assert.equal(s.stats().bytesReceived, 300);
  });
}

test('late frames for a closed stream are ignored and do not resurrect it', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(50));
  p.client.end(id);
  const frames = p.take('client');
  p.deliver('client', frames);
  p.ack('client', frames);
  readAll(p.server, id);
  assert.equal(p.server.has(id), false);
  drainEvents(p.server);
  p.deliver('client', frames);
  p.server.handleFrame({ type: FrameType.ResetStream, streamId: id, errorCode: 1, finalSize: 50 }, 0);
  p.server.handleFrame({ type: FrameType.StreamDataBlocked, streamId: id, maximumStreamData: 50 }, 0);
  assert.equal(p.server.has(id), false);
  assert.deepEqual(drainEvents(p.server), []);
  assert.equal(p.server.openStreamCount, 0);
  // Same on the sending side: late MAX_STREAM_DATA / STOP_SENDING for the closed stream.
  p.client.handleFrame({ type: FrameType.MaxStreamData, streamId: id, maximumStreamData: 1e6 }, 0);
  p.client.handleFrame({ type: FrameType.StopSending, streamId: id, errorCode: 1 }, 0);
  assert.equal(p.client.has(id), false);
  assert.equal(p.client.hasPendingFrames(), false);
});

test('peer stream IDs below the highest seen that are closed are not reopened; lower open ones still work', () => {
  const s = server();
  s.handleFrame(streamFrame(10, 0, 5, true), 0); // opens 2, 6, 10
  assert.deepEqual(
    drainEvents(s).filter((e) => e.type === 'opened'),
    [2, 6, 10].map((id) => ({ type: 'opened', id })),
  );
  readAll(s, 10);
  assert.equal(s.has(10), false);
  s.handleFrame(streamFrame(10, 0, 5, true), 0);
  assert.equal(s.has(10), false);
  s.handleFrame(streamFrame(6, 0, 5), 0);
  assert.deepEqual(s.streamState(6), { receive: ReceiveState.Recv });
  assert.deepEqual(drainEvents(s), [
    { type: 'closed', id: 10 },
    { type: 'readable', id: 6 },
  ]);
});
