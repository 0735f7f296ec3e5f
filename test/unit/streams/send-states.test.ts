/** RFC 9000 §3.1: every transition of the sending part, observed through two managers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SendState } from '../../../src/streams/send-stream.js';
import { FrameType } from '../../../src/wire/frames.js';
import { drainEvents, Pair, pattern, readAll } from './harness.js';

test('locally opened stream starts in Ready; first STREAM frame -> Send', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  assert.deepEqual(p.client.streamState(id), { send: SendState.Ready });
  p.client.write(id, pattern(10));
  assert.deepEqual(
    p.client.streamState(id),
    { send: SendState.Ready },
    'buffered data alone does not leave Ready',
  );
  const sent = p.take('client');
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.frame.type, FrameType.Stream);
  assert.deepEqual(p.client.streamState(id), { send: SendState.Send });
});

test('sending part of a peer-initiated bidirectional stream starts in Ready', () => {
  const p = new Pair();
  const id = p.client.openStream(true)!;
  p.client.write(id, pattern(5));
  p.flush('client');
  assert.deepEqual(p.server.streamState(id), { send: SendState.Ready, receive: 'Recv' });
});

test('Ready -> Send on STREAM_DATA_BLOCKED (peer stream window 0)', () => {
  const p = new Pair({ serverLimits: { initialMaxStreamDataUni: 0 } });
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(10));
  const sent = p.take('client');
  assert.deepEqual(
    sent.map((s) => s.frame),
    [{ type: FrameType.StreamDataBlocked, streamId: id, maximumStreamData: 0 }],
  );
  assert.deepEqual(p.client.streamState(id), { send: SendState.Send });
});

test('Send -> Data Sent with the FIN; Data Sent -> Data Recvd when all acks arrive (any order)', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(3000));
  const first = p.take('client', 1);
  assert.deepEqual(p.client.streamState(id), { send: SendState.Send });
  p.client.end(id);
  const rest = p.take('client');
  assert.equal(rest.length, 2);
  assert.equal((rest[1]!.frame as { fin: boolean }).fin, true);
  assert.deepEqual(p.client.streamState(id), { send: SendState.DataSent });
  p.deliver('client', [...first, ...rest]);
  // Acks for the FIN frame and a later frame first: still Data Sent.
  p.ack('client', [rest[1]!, rest[0]!]);
  assert.deepEqual(p.client.streamState(id), { send: SendState.DataSent });
  assert.deepEqual(drainEvents(p.client), []);
  p.ack('client', first);
  assert.deepEqual(drainEvents(p.client), [
    { type: 'send-done', id },
    { type: 'closed', id },
  ]);
  assert.equal(p.client.streamState(id), undefined);
  assert.equal(p.client.has(id), false);
});

test('Ready -> Send -> Data Sent in one frame (data + FIN); lost FIN frame is retransmitted', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(100));
  p.client.end(id);
  const sent = p.take('client');
  assert.equal(sent.length, 1);
  assert.deepEqual(
    { ...sent[0]!.frame, data: undefined },
    { type: FrameType.Stream, streamId: id, offset: 0, fin: true, data: undefined },
  );
  assert.deepEqual(p.client.streamState(id), { send: SendState.DataSent });
  p.lose('client', sent);
  assert.deepEqual(p.client.streamState(id), { send: SendState.DataSent });
  const again = p.take('client');
  assert.equal(again.length, 1);
  assert.deepEqual(Buffer.from((again[0]!.frame as { data: Uint8Array }).data), Buffer.from(pattern(100)));
  assert.equal((again[0]!.frame as { fin: boolean }).fin, true);
  p.deliver('client', again);
  p.ack('client', again);
  assert.equal(p.client.has(id), false);
  assert.deepEqual(readAll(p.server, id), { data: Buffer.from(pattern(100)), fin: true });
});

test('end() with nothing written sends an empty FIN frame at the final offset', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(10));
  p.flush('client');
  p.client.end(id);
  const sent = p.take('client');
  assert.deepEqual(
    sent.map((s) => s.frame),
    [{ type: FrameType.Stream, streamId: id, offset: 10, data: new Uint8Array(0), fin: true }],
  );
});

test('Ready -> Reset Sent (reset before any data); Reset Sent -> Reset Recvd on ack', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(10));
  p.client.resetStream(id, 7);
  assert.deepEqual(p.client.streamState(id), { send: SendState.ResetSent });
  const sent = p.take('client');
  assert.deepEqual(
    sent.map((s) => s.frame),
    [{ type: FrameType.ResetStream, streamId: id, errorCode: 7, finalSize: 0 }],
  );
  p.deliver('client', sent);
  assert.deepEqual(p.client.streamState(id), { send: SendState.ResetSent });
  p.ack('client', sent);
  assert.equal(p.client.streamState(id), undefined);
  assert.deepEqual(drainEvents(p.client), [{ type: 'closed', id }]);
});

test('Send -> Reset Sent: final size is the highest offset sent; pending and lost data is dropped', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(5000));
  const sent = p.take('client', 2);
  const sentBytes = sent.reduce((n, s) => n + (s.frame as { data: Uint8Array }).data.length, 0);
  p.lose('client', sent.slice(0, 1));
  p.client.resetStream(id, 9);
  assert.deepEqual(p.client.streamState(id), { send: SendState.ResetSent });
  const after = p.take('client');
  assert.deepEqual(
    after.map((s) => s.frame),
    [{ type: FrameType.ResetStream, streamId: id, errorCode: 9, finalSize: sentBytes }],
  );
  // A late loss report of a STREAM frame does not bring the data back.
  p.lose('client', sent.slice(1));
  assert.deepEqual(p.take('client'), []);
  assert.equal(p.client.hasPendingFrames(), false);
});

test('Data Sent -> Reset Sent -> Reset Recvd; a lost RESET_STREAM is sent again unchanged', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(100));
  p.client.end(id);
  p.take('client');
  assert.deepEqual(p.client.streamState(id), { send: SendState.DataSent });
  p.client.resetStream(id, 3);
  const r1 = p.take('client');
  assert.deepEqual(
    r1.map((s) => s.frame),
    [{ type: FrameType.ResetStream, streamId: id, errorCode: 3, finalSize: 100 }],
  );
  p.lose('client', r1);
  const r2 = p.take('client');
  assert.deepEqual(
    r2.map((s) => s.frame),
    r1.map((s) => s.frame),
  );
  p.ack('client', r2);
  assert.equal(p.client.has(id), false);
});

test('reset is a no-op in Reset Sent and after Data Recvd', () => {
  const p = new Pair();
  const a = p.client.openStream(false)!;
  p.client.resetStream(a, 1);
  p.client.resetStream(a, 2);
  const frames = p.take('client');
  assert.equal(frames.length, 1);
  assert.equal((frames[0]!.frame as { errorCode: number }).errorCode, 1);
  const b = p.client.openStream(true)!;
  p.client.write(b, pattern(10));
  p.client.end(b);
  p.run();
  // Data Recvd on the send side; the receive side of b is still open.
  assert.deepEqual(p.client.streamState(b), { send: SendState.DataRecvd, receive: 'Recv' });
  p.client.resetStream(b, 5);
  assert.deepEqual(p.client.streamState(b), { send: SendState.DataRecvd, receive: 'Recv' });
  assert.equal(p.client.hasPendingFrames(), false);
});

test('write returns false above sendBufferSize and "writable" follows when acks drain the buffer', () => {
  const p = new Pair({ client: { sendBufferSize: 4000 } });
  const id = p.client.openStream(false)!;
  assert.equal(p.client.write(id, pattern(3000)), true);
  assert.equal(p.client.write(id, pattern(1000)), true);
  assert.equal(p.client.write(id, pattern(1)), false);
  const sent = p.take('client');
  p.deliver('client', sent);
  assert.deepEqual(drainEvents(p.client), []);
  p.ack('client', sent);
  assert.deepEqual(drainEvents(p.client), [{ type: 'writable', id }]);
});
