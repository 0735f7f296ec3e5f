/**
 * Issue 10: a stream whose received data has more holes than the reassembly bound (1024 + 1 per KiB
 * of stream receive window) closes the connection with PROTOCOL_VIOLATION (it used to be
 * INTERNAL_ERROR), the memory held for it stays bounded on the way there, and a legitimate client
 * of the same server is unaffected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { HostileSim } from './hostile-harness.js';

const KiB = 1024;

test('one-byte STREAM frames with a hole between each: PROTOCOL_VIOLATION at the documented bound', () => {
  const window = 64 * KiB;
  const h = new HostileSim({
    seed: 1301,
    serverTransport: { initialMaxStreamData: window, maxStreamReceiveWindow: window },
  });
  const bound = 1024 + window / KiB;
  let sentPieces = 0;
  let maxBuffered = 0;
  for (let packet = 0; packet < 20 && !h.victim.isClosed; packet++) {
    const frames: Frame[] = [];
    for (let i = 0; i < 120; i++, sentPieces++) {
      frames.push({
        type: FrameType.Stream,
        streamId: 0,
        offset: 1 + 2 * sentPieces,
        data: Uint8Array.of(7),
        fin: false,
      });
    }
    h.send(frames);
    h.runFor(5);
    const buffers = h.victim.epoch?.streams.streamBuffers(0);
    if (buffers) maxBuffered = Math.max(maxBuffered, buffers.receive);
  }
  h.runFor(100);
  assert.ok(sentPieces > bound, 'the attack went beyond the bound');
  assert.equal(h.victim.closeInfo?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  assert.equal(h.victim.closeInfo?.frameType, FrameType.Stream);
  assert.match(h.victim.closeInfo?.reason ?? '', /reassembly bound/);
  // On the wire.
  assert.equal(h.closeSent()?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  // Never more buffered than one byte per hole allowed.
  assert.ok(maxBuffered > 0 && maxBuffered <= bound, `${maxBuffered} bytes buffered`);
  assert.deepEqual(h.victim.internalErrors, []);
  h.finishLegit();
  assert.deepEqual(h.legit.failures, []);
  assert.equal(h.legit.done, true);
});
