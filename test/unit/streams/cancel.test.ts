/**
 * "Cancel write" (resetStream, RFC 9000 §3.1/§19.4) and "cancel read" (stopSending, §3.5/§19.5) in every
 * state of the stream, for streams opened by either side, checked on both sides: the peer sees the
 * error code, no further data is delivered, buffers are freed and both sides emit 'closed'.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiveState } from '../../../src/streams/receive-stream.js';
import { SendState } from '../../../src/streams/send-stream.js';
import type { Role } from '../../../src/streams/stream-id.js';
import type { StreamEvent } from '../../../src/streams/stream-manager.js';
import { FrameType } from '../../../src/wire/frames.js';
import { drainEvents, Pair, pattern, readAll, type SentFrame } from './harness.js';

const other = (r: Role): Role => (r === 'client' ? 'server' : 'client');

/** Opens a unidirectional stream from `sender` and writes `n` bytes. */
function openWith(p: Pair, sender: Role, n: number): number {
  const m = p.side(sender);
  const id = m.openStream(false)!;
  m.write(id, pattern(n, id + 1));
  return id;
}

function streamFramesAfter(p: Pair, from: Role, index: number, id: number): number {
  return p.log
    .slice(index)
    .filter((e) => e.from === from && e.frame.type === FrameType.Stream && e.frame.streamId === id).length;
}

function only(events: StreamEvent[], id: number): StreamEvent[] {
  return events.filter((e) => 'id' in e && e.id === id);
}

for (const sender of ['client', 'server'] as const) {
  const receiver = other(sender);

  for (const state of [SendState.Ready, SendState.Send, SendState.DataSent] as const) {
    test(`cancel write in ${state} (stream opened by the ${sender})`, () => {
      const p = new Pair();
      const s = p.side(sender);
      const r = p.side(receiver);
      const id = openWith(p, sender, 6000);
      let delivered: SentFrame[] = [];
      if (state === SendState.Send) {
        delivered = p.take(sender, 2);
        p.deliver(sender, delivered);
        p.ack(sender, delivered);
      } else if (state === SendState.DataSent) {
        s.end(id);
        const all = p.take(sender);
        // Deliver everything but the first frame: the receiver has the final size but not all data.
        delivered = all.slice(1);
        p.deliver(sender, delivered);
        p.ack(sender, delivered);
        p.lose(sender, all.slice(0, 1));
      }
      assert.equal(s.streamState(id)!.send, state);
      const before = drainEvents(r);
      s.resetStream(id, 0x42);
      assert.deepEqual(s.streamState(id), { send: SendState.ResetSent });
      assert.deepEqual(s.streamBuffers(id)!.send, 0, 'send buffer freed at once');
      const mark = p.log.length;
      p.run();
      // The receiver saw the code, no data after the reset, and freed the stream.
      const events = only([...before, ...drainEvents(r)], id);
      assert.deepEqual(
        events.filter((e) => e.type === 'reset'),
        [{ type: 'reset', id, errorCode: 0x42 }],
      );
      assert.equal(events.at(-1)!.type, 'closed');
      assert.equal(r.read(id), undefined);
      assert.equal(r.has(id), false);
      assert.equal(streamFramesAfter(p, sender, mark, id), 0, 'no STREAM frame after the reset');
      const resets = p.sent(sender, FrameType.ResetStream);
      assert.equal(resets.length, 1);
      const sentBytes = delivered.reduce((n, f) => n + (f.frame as { data: Uint8Array }).data.length, 0);
      assert.equal(resets[0]!.finalSize, state === SendState.DataSent ? 6000 : sentBytes);
      // The sender's part is Reset Recvd once acknowledged: stream freed, 'closed' emitted.
      assert.equal(s.has(id), false);
      assert.deepEqual(only(drainEvents(s), id), [{ type: 'closed', id }]);
      // Connection flow control agrees on the final size on both sides (RFC 9000 §4.5).
      assert.equal(r.stats().bytesReceived, s.stats().bytesSent);
    });
  }

  test(`cancel write after Data Recvd / Reset Sent is a no-op (stream opened by the ${sender})`, () => {
    const p = new Pair();
    const s = p.side(sender);
    const r = p.side(receiver);
    const id = s.openStream(true)!;
    s.write(id, pattern(10));
    s.end(id);
    p.run();
    assert.equal(s.streamState(id)!.send, SendState.DataRecvd);
    s.resetStream(id, 1);
    assert.equal(s.hasPendingFrames(), false);
    assert.deepEqual(readAll(r, id), { data: Buffer.from(pattern(10)), fin: true });
    // Now the other direction: reset twice, only one RESET_STREAM.
    r.resetStream(id, 2);
    r.resetStream(id, 3);
    p.run();
    assert.deepEqual(
      p.sent(receiver, FrameType.ResetStream).map((f) => f.errorCode),
      [2],
    );
    assert.equal(r.has(id), false);
    assert.deepEqual(
      only(drainEvents(s), id).filter((e) => e.type === 'reset'),
      [{ type: 'reset', id, errorCode: 2 }],
    );
    assert.equal(s.has(id), false);
  });

  for (const state of [ReceiveState.Recv, ReceiveState.SizeKnown] as const) {
    test(`cancel read in ${state} (stream opened by the ${sender}): STOP_SENDING, peer resets with the code`, () => {
      const p = new Pair();
      const s = p.side(sender);
      const r = p.side(receiver);
      const id = openWith(p, sender, 6000);
      if (state === ReceiveState.SizeKnown) s.end(id);
      const all = p.take(sender);
      // Deliver all but the first frame: data is buffered out of order, nothing readable.
      p.deliver(sender, all.slice(1));
      p.ack(sender, all.slice(1));
      p.lose(sender, all.slice(0, 1));
      assert.equal(r.streamState(id)!.receive, state);
      assert.ok(r.streamBuffers(id)!.receive > 0);
      drainEvents(r);
      r.stopSending(id, 0x99);
      assert.equal(r.streamBuffers(id)!.receive, 0, 'buffered data freed at once');
      assert.equal(r.read(id), undefined);
      const mark = p.log.length;
      p.flush(receiver);
      assert.deepEqual(p.sent(receiver, FrameType.StopSending), [
        { type: FrameType.StopSending, streamId: id, errorCode: 0x99 },
      ]);
      // The sender sees the code and answers with RESET_STREAM carrying the same code (RFC 9000 §3.5).
      assert.deepEqual(only(drainEvents(s), id), [{ type: 'stop-sending', id, errorCode: 0x99 }]);
      assert.equal(s.streamState(id)!.send, SendState.ResetSent);
      p.run();
      assert.deepEqual(
        p.sent(sender, FrameType.ResetStream).map((f) => f.errorCode),
        [0x99],
      );
      assert.equal(streamFramesAfter(p, sender, mark, id), 0, 'no data retransmitted after STOP_SENDING');
      // The receiver delivered nothing more, emitted no 'reset' (it asked for it) and freed the stream.
      assert.deepEqual(only(drainEvents(r), id), [{ type: 'closed', id }]);
      assert.equal(r.has(id), false);
      assert.equal(s.has(id), false);
      assert.deepEqual(only(drainEvents(s), id), [{ type: 'closed', id }]);
      assert.equal(r.stats().bytesReceived, s.stats().bytesSent);
    });
  }

  test(`cancel read, then the rest arrives before any reset (stream opened by the ${sender}): Data Read`, () => {
    const p = new Pair();
    const s = p.side(sender);
    const r = p.side(receiver);
    const id = openWith(p, sender, 5000);
    s.end(id);
    const all = p.take(sender);
    p.deliver(sender, all.slice(1));
    r.stopSending(id, 3);
    assert.equal(r.streamState(id)!.receive, ReceiveState.SizeKnown);
    const stop = p.take(receiver);
    // The missing frame arrives (retransmission) before STOP_SENDING reaches the sender.
    p.deliver(sender, all.slice(0, 1));
    p.ack(sender, all);
    assert.equal(r.has(id), false, 'all data received and discarded: Data Read, freed');
    assert.deepEqual(only(drainEvents(r), id), [
      { type: 'opened', id },
      { type: 'closed', id },
    ]);
    assert.equal(s.has(id), false, 'sender reached Data Recvd');
    // A lost STOP_SENDING is not sent again for a stream that is gone; a late one changes nothing.
    p.lose(receiver, stop);
    assert.deepEqual(
      p.take(receiver).filter((f) => f.frame.type === FrameType.StopSending),
      [],
    );
    p.deliver(receiver, stop);
    assert.deepEqual(p.take(sender), []);
    assert.equal(r.stats().bytesReceived, 5000);
  });

  test(`cancel read in Data Recvd (stream opened by the ${sender}): data discarded, no STOP_SENDING needed`, () => {
    const p = new Pair();
    const s = p.side(sender);
    const r = p.side(receiver);
    const id = openWith(p, sender, 3000);
    s.end(id);
    p.run();
    assert.equal(r.streamState(id)!.receive, ReceiveState.DataRecvd);
    assert.equal(r.streamBuffers(id)!.receive, 3000);
    drainEvents(r);
    r.stopSending(id, 5);
    assert.equal(r.has(id), false, 'Data Recvd -> Data Read: freed');
    assert.deepEqual(drainEvents(r), [{ type: 'closed', id }]);
    assert.equal(r.read(id), undefined);
    // Only the MAX_STREAMS that returns the closed stream's credit is left to send.
    assert.deepEqual(
      p.take(receiver).map((f) => f.frame.type),
      [FrameType.MaxStreamsUni],
    );
    assert.deepEqual(p.sent(receiver, FrameType.StopSending), []);
    assert.equal(s.has(id), false);
  });

  test(`cancel read in Reset Recvd (stream opened by the ${sender}): Reset Read without a frame`, () => {
    const p = new Pair();
    const s = p.side(sender);
    const r = p.side(receiver);
    const id = openWith(p, sender, 3000);
    p.run();
    s.resetStream(id, 8);
    p.run();
    assert.equal(r.streamState(id)!.receive, ReceiveState.ResetRecvd);
    r.stopSending(id, 5);
    assert.equal(r.has(id), false);
    assert.deepEqual(
      p.take(receiver).map((f) => f.frame.type),
      [FrameType.MaxStreamsUni],
    );
    const events = drainEvents(r);
    // The 'reset' event is still delivered in order, then 'closed'.
    assert.deepEqual(
      events.filter((e) => e.type === 'reset' || e.type === 'closed'),
      [
        { type: 'reset', id, errorCode: 8 },
        { type: 'closed', id },
      ],
    );
    assert.deepEqual(p.sent(receiver, FrameType.StopSending), []);
  });

  test(`cancel read after Data Read / Reset Read is a no-op (stream opened by the ${sender})`, () => {
    const p = new Pair();
    const s = p.side(sender);
    const r = p.side(receiver);
    const a = openWith(p, sender, 100);
    s.end(a);
    const b = openWith(p, sender, 100);
    p.run();
    s.resetStream(b, 1);
    p.run();
    assert.deepEqual(readAll(r, a), { data: Buffer.from(pattern(100, a + 1)), fin: true });
    drainEvents(r);
    assert.equal(r.has(a), false);
    assert.equal(r.has(b), false);
    p.run();
    r.stopSending(a, 1);
    r.stopSending(b, 1);
    assert.equal(r.hasPendingFrames(), false);
    assert.deepEqual(drainEvents(r), []);
  });

  for (const state of [SendState.Ready, SendState.Send, SendState.DataSent, SendState.DataRecvd] as const) {
    test(`STOP_SENDING received in ${state} (stream opened by the ${sender})`, () => {
      const p = new Pair();
      const s = p.side(sender);
      const r = p.side(receiver);
      const id = s.openStream(true)!;
      s.write(id, pattern(4000));
      if (state !== SendState.Ready) {
        if (state !== SendState.Send) s.end(id);
        const frames = p.take(sender, state === SendState.Send ? 1 : Number.POSITIVE_INFINITY);
        p.deliver(sender, frames);
        if (state === SendState.DataRecvd) p.ack(sender, frames);
      } else {
        // The receiver must know the stream to send STOP_SENDING: the sender opened it with a MAX_STREAM_DATA-free
        // path, so inject the frame directly.
      }
      assert.equal(s.streamState(id)!.send, state);
      drainEvents(s);
      s.handleFrame({ type: FrameType.StopSending, streamId: id, errorCode: 0x33 }, p.now);
      if (state === SendState.DataRecvd) {
        assert.equal(s.streamState(id)!.send, SendState.DataRecvd);
        assert.deepEqual(drainEvents(s), []);
        assert.equal(s.hasPendingFrames(), false);
        return;
      }
      assert.equal(s.streamState(id)!.send, SendState.ResetSent);
      assert.deepEqual(drainEvents(s), [{ type: 'stop-sending', id, errorCode: 0x33 }]);
      assert.throws(() => s.write(id, pattern(1)), { code: 'ERR_QUIC_STREAM_STATE' });
      const frames = p.take(sender);
      assert.deepEqual(
        frames.map((f) => f.frame.type),
        [FrameType.ResetStream],
      );
      assert.equal((frames[0]!.frame as { errorCode: number }).errorCode, 0x33);
      void r;
    });
  }
}

test('both directions of a bidirectional stream cancelled at once: both sides free it', () => {
  const p = new Pair();
  const id = p.client.openStream(true)!;
  p.client.write(id, pattern(5000));
  p.run();
  p.server.write(id, pattern(5000));
  p.client.resetStream(id, 1);
  p.client.stopSending(id, 2);
  p.run();
  const serverEvents = drainEvents(p.server);
  assert.deepEqual(
    serverEvents.filter((e) => e.type === 'reset' || e.type === 'stop-sending' || e.type === 'closed'),
    [
      { type: 'reset', id, errorCode: 1 },
      { type: 'stop-sending', id, errorCode: 2 },
      { type: 'closed', id },
    ].filter((e) => serverEvents.some((x) => x.type === e.type)),
  );
  assert.ok(serverEvents.some((e) => e.type === 'reset'));
  assert.ok(serverEvents.some((e) => e.type === 'stop-sending'));
  p.run();
  assert.equal(p.server.has(id), false);
  assert.equal(p.client.has(id), false);
  assert.deepEqual(
    drainEvents(p.client).filter((e) => e.type === 'closed'),
    [{ type: 'closed', id }],
  );
  assert.equal(p.client.openStreamCount + p.server.openStreamCount, 0);
});
