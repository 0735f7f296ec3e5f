/** Peer misbehaviour -> QuicTransportError with the RFC 9000 code; application misuse -> StreamStateError. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { StreamManager, type StreamManagerFrame } from '../../../src/streams/stream-manager.js';
import { StreamStateError } from '../../../src/streams/stream-state-error.js';
import { FrameType } from '../../../src/wire/frames.js';
import { limits } from './harness.js';

const KiB = 1024;

/** A server with a small receive window: stream 1000 bytes, connection 1500, 2 peer streams of each type. */
function server(): StreamManager {
  const local = limits({
    initialMaxData: 1500,
    initialMaxStreamDataBidiLocal: 1000,
    initialMaxStreamDataBidiRemote: 1000,
    initialMaxStreamDataUni: 1000,
    initialMaxStreamsBidi: 2,
    initialMaxStreamsUni: 2,
  });
  return new StreamManager({ role: 'server', local, peer: limits(), rtt: () => 100 });
}

const bytes = (n: number) => new Uint8Array(n);
const stream = (streamId: number, offset: number, length: number, fin = false): StreamManagerFrame => ({
  type: FrameType.Stream,
  streamId,
  offset,
  data: bytes(length),
  fin,
});

function expectCode(
  m: StreamManager,
  frames: StreamManagerFrame[],
  code: TransportErrorCode,
  frameType?: number,
) {
  const last = frames.length - 1;
  frames.forEach((f, i) => {
    if (i < last) {
      m.handleFrame(f, 0);
      return;
    }
    assert.throws(
      () => m.handleFrame(f, 0),
      (e: unknown) => {
        assert.ok(e instanceof QuicTransportError, `not a QuicTransportError: ${String(e)}`);
        assert.equal(e.errorCode, code, e.message);
        if (frameType !== undefined) assert.equal(e.frameType, frameType);
        return true;
      },
    );
  });
}

const E = TransportErrorCode;

test('STREAM_STATE_ERROR: STREAM / RESET_STREAM / STREAM_DATA_BLOCKED on our send-only stream (§19.8, §19.4, §19.13)', () => {
  for (const frame of [
    stream(3, 0, 1),
    { type: FrameType.ResetStream, streamId: 3, errorCode: 0, finalSize: 0 },
    { type: FrameType.StreamDataBlocked, streamId: 3, maximumStreamData: 0 },
  ] as StreamManagerFrame[]) {
    const m = server();
    assert.equal(m.openStream(false), 3);
    expectCode(m, [frame], E.STREAM_STATE_ERROR, frame.type);
  }
});

test('STREAM_STATE_ERROR: STOP_SENDING / MAX_STREAM_DATA on a receive-only stream (§19.5, §19.10)', () => {
  for (const frame of [
    { type: FrameType.StopSending, streamId: 2, errorCode: 0 },
    { type: FrameType.MaxStreamData, streamId: 2, maximumStreamData: 10 },
  ] as StreamManagerFrame[]) {
    expectCode(server(), [frame], E.STREAM_STATE_ERROR, frame.type);
    // Also when the stream is already open.
    expectCode(server(), [stream(2, 0, 1), frame], E.STREAM_STATE_ERROR, frame.type);
  }
});

test('STREAM_STATE_ERROR: frames for a locally initiated stream we never opened (§19.5, §19.8, §19.10)', () => {
  for (const frame of [
    stream(1, 0, 1),
    { type: FrameType.StopSending, streamId: 1, errorCode: 0 },
    { type: FrameType.MaxStreamData, streamId: 5, maximumStreamData: 10 },
    { type: FrameType.ResetStream, streamId: 1, errorCode: 0, finalSize: 0 },
    { type: FrameType.StopSending, streamId: 3, errorCode: 0 },
  ] as StreamManagerFrame[]) {
    expectCode(server(), [frame], E.STREAM_STATE_ERROR);
  }
  const m = server();
  assert.equal(m.openStream(true), 1);
  m.handleFrame(stream(1, 0, 1), 0); // opened: fine
  expectCode(m, [stream(5, 0, 1)], E.STREAM_STATE_ERROR);
});

test('STREAM_LIMIT_ERROR: a peer stream beyond the advertised limit (§4.6)', () => {
  expectCode(server(), [stream(8, 0, 1)], E.STREAM_LIMIT_ERROR);
  expectCode(server(), [stream(10, 0, 1)], E.STREAM_LIMIT_ERROR);
  expectCode(
    server(),
    [stream(4, 0, 1), { type: FrameType.MaxStreamData, streamId: 8, maximumStreamData: 1 }],
    E.STREAM_LIMIT_ERROR,
  );
  expectCode(
    server(),
    [{ type: FrameType.ResetStream, streamId: 2 ** 40, errorCode: 0, finalSize: 0 }],
    E.STREAM_LIMIT_ERROR,
  );
  // Closed streams do not make room unless MAX_STREAMS was sent: index 2 still exceeds the limit of 2.
  const m = server();
  m.handleFrame(stream(0, 0, 0, true), 0);
  m.read(0);
  m.end(0);
  expectCode(m, [stream(8, 0, 1)], E.STREAM_LIMIT_ERROR);
});

test('FLOW_CONTROL_ERROR: beyond the stream window, the connection window, or a reset beyond the window (§4.1)', () => {
  expectCode(server(), [stream(2, 0, 1001)], E.FLOW_CONTROL_ERROR, FrameType.Stream);
  expectCode(server(), [stream(2, 999, 1), stream(2, 1000, 1)], E.FLOW_CONTROL_ERROR);
  // 800 + 701 > 1500 over two streams.
  expectCode(server(), [stream(2, 0, 800), stream(6, 700, 1)], E.FLOW_CONTROL_ERROR);
  // The highest offset counts, not the bytes received.
  expectCode(server(), [stream(2, 999, 1), stream(6, 501, 1)], E.FLOW_CONTROL_ERROR);
  expectCode(
    server(),
    [{ type: FrameType.ResetStream, streamId: 2, errorCode: 0, finalSize: 1001 }],
    E.FLOW_CONTROL_ERROR,
  );
  expectCode(
    server(),
    [stream(2, 0, 1000), { type: FrameType.ResetStream, streamId: 6, errorCode: 0, finalSize: 501 }],
    E.FLOW_CONTROL_ERROR,
  );
  // A cancelled read still counts incoming data (RFC 9000 §3.5).
  const m = server();
  m.handleFrame(stream(2, 0, 10), 0);
  m.stopSending(2, 1);
  expectCode(m, [stream(2, 10, 991)], E.FLOW_CONTROL_ERROR);
});

test('FINAL_SIZE_ERROR: data beyond the final size, a changed final size, a final size below received data (§4.5)', () => {
  expectCode(server(), [stream(2, 0, 10, true), stream(2, 10, 1)], E.FINAL_SIZE_ERROR);
  expectCode(server(), [stream(2, 0, 10, true), stream(2, 0, 5, true)], E.FINAL_SIZE_ERROR);
  expectCode(server(), [stream(2, 0, 10, true), stream(2, 5, 10, true)], E.FINAL_SIZE_ERROR);
  expectCode(server(), [stream(2, 100, 10), stream(2, 0, 50, true)], E.FINAL_SIZE_ERROR);
  expectCode(
    server(),
    [stream(2, 0, 10, true), { type: FrameType.ResetStream, streamId: 2, errorCode: 0, finalSize: 11 }],
    E.FINAL_SIZE_ERROR,
    FrameType.ResetStream,
  );
  expectCode(
    server(),
    [stream(2, 0, 100), { type: FrameType.ResetStream, streamId: 2, errorCode: 0, finalSize: 99 }],
    E.FINAL_SIZE_ERROR,
  );
  // After a reset, data beyond the final size or a different final size are errors too.
  expectCode(
    server(),
    [{ type: FrameType.ResetStream, streamId: 6, errorCode: 0, finalSize: 20 }, stream(6, 20, 1)],
    E.FINAL_SIZE_ERROR,
  );
  // ...but consistent duplicates are not.
  const m = server();
  m.handleFrame(stream(2, 0, 10, true), 0);
  m.handleFrame(stream(2, 0, 10, true), 0);
  m.handleFrame({ type: FrameType.ResetStream, streamId: 2, errorCode: 0, finalSize: 10 }, 0);
  m.handleFrame({ type: FrameType.ResetStream, streamId: 2, errorCode: 0, finalSize: 10 }, 0);
});

test('FRAME_ENCODING_ERROR: offset + length beyond 2^62-1, stream counts beyond 2^60 (§19.8, §19.11, §19.14)', () => {
  expectCode(server(), [stream(2, 2 ** 62 - 1, 1)], E.FRAME_ENCODING_ERROR, FrameType.Stream);
  expectCode(server(), [stream(2, 2 ** 62 - 2048, 4096)], E.FRAME_ENCODING_ERROR, FrameType.Stream);
  const client = new StreamManager({ role: 'client', local: limits(), peer: limits(), rtt: () => 1 });
  for (const type of [FrameType.MaxStreamsBidi, FrameType.MaxStreamsUni] as const) {
    expectCode(client, [{ type, maximumStreams: 2 ** 60 + 1024 }], E.FRAME_ENCODING_ERROR, type);
  }
  for (const type of [FrameType.StreamsBlockedBidi, FrameType.StreamsBlockedUni] as const) {
    expectCode(server(), [{ type, maximumStreams: 2 ** 61 }], E.FRAME_ENCODING_ERROR, type);
  }
  // Exactly 2^60 is allowed.
  client.handleFrame({ type: FrameType.MaxStreamsBidi, maximumStreams: 2 ** 60 }, 0);
});

test('reassembly fragmentation beyond the gap bound closes with PROTOCOL_VIOLATION, not unbounded memory', () => {
  const local = limits({ initialMaxData: 10 * KiB * KiB, initialMaxStreamDataUni: 64 * KiB });
  const m = new StreamManager({
    role: 'server',
    local,
    peer: limits(),
    rtt: () => 1,
    maxStreamReceiveWindow: 64 * KiB,
  });
  // Bound for a 64 KiB window: 1024 + 64 gaps. One-byte pieces with gaps exceed it.
  let accepted = 0;
  assert.throws(
    () => {
      for (let off = 1; off < 64 * KiB; off += 2) {
        m.handleFrame(stream(2, off, 1), 0);
        accepted++;
      }
    },
    (e: unknown) =>
      e instanceof QuicTransportError &&
      e.errorCode === E.PROTOCOL_VIOLATION &&
      e.frameType === FrameType.Stream &&
      /reassembly bound/.test(e.reason),
  );
  assert.equal(accepted, 1024 + 64);
});

test('application misuse throws StreamStateError (ERR_QUIC_STREAM_STATE)', () => {
  const m = new StreamManager({ role: 'client', local: limits(), peer: limits(), rtt: () => 1 });
  const isState = (e: unknown) => e instanceof StreamStateError && e.code === 'ERR_QUIC_STREAM_STATE';
  const bidi = m.openStream(true)!;
  const uni = m.openStream(false)!;
  m.end(bidi);
  assert.throws(() => m.write(bidi, bytes(1)), isState, 'write after end');
  m.resetStream(uni, 1);
  assert.throws(() => m.write(uni, bytes(1)), isState, 'write after reset');
  assert.throws(() => m.read(uni), isState, 'read on send-only');
  assert.throws(() => m.stopSending(uni, 0), isState, 'stopSending on send-only');
  assert.throws(() => m.write(3, bytes(1)), isState, 'write on receive-only');
  assert.throws(() => m.resetStream(3, 0), isState, 'reset on receive-only');
  assert.throws(() => m.write(8, bytes(1)), isState, 'unknown stream');
  assert.throws(() => m.read(1), isState, 'never opened peer stream');
  assert.throws(() => m.end(12), isState);
  assert.throws(() => m.write(-4, bytes(1)), isState);
  assert.throws(() => m.write(0.5, bytes(1)), isState);
  assert.throws(() => m.resetStream(bidi, -1), isState, 'negative error code');
  assert.throws(() => m.stopSending(bidi, 2 ** 62), isState, 'error code beyond a varint');
  // No-ops rather than errors once a stream has existed.
  m.end(bidi);
  m.resetStream(uni, 2);
});
