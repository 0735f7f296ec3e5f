/**
 * Hostile-peer tests (issue 10, RFC 9000 §21): after a real handshake, a peer built on the sans-IO
 * core sends the abuse the RFC names. Each test asserts the exact close code the server sends (read
 * off the wire), that the state it holds for the attacker stays bounded, and that a legitimate client
 * of the same server endpoint completes a checked transfer meanwhile.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { HostileSim } from './hostile-harness.js';

const E = TransportErrorCode;
const KiB = 1024;

/** The server closed the attacker's connection with `code`, said so on the wire, broke nothing. */
function assertClosed(h: HostileSim, code: TransportErrorCode, frameType?: FrameType): void {
  h.runFor(200);
  assert.equal(h.victim.closeInfo?.source, 'local', h.victim.closeInfo?.reason);
  assert.equal(h.victim.closeInfo?.errorCode, code, h.victim.closeInfo?.reason);
  const close = h.closeSent();
  assert.ok(close, 'a CONNECTION_CLOSE went on the wire');
  assert.equal(close.errorCode, code);
  if (frameType !== undefined) assert.equal(close.frameType, frameType);
  assert.deepEqual(h.victim.internalErrors, []);
}

function assertLegitUnaffected(h: HostileSim): void {
  h.finishLegit();
  assert.deepEqual(h.legit.failures, []);
  assert.equal(h.legit.done, true, 'the legitimate transfer completed');
  assert.equal(h.legitConn.isClosed, false);
}

const stream = (streamId: number, offset: number, length: number, fin = false): Frame => ({
  type: FrameType.Stream,
  streamId,
  offset,
  data: new Uint8Array(length).fill(0x61),
  fin,
});

describe('hostile peer after a real handshake (RFC 9000 §21)', () => {
  test('stream limit violation: STREAM_LIMIT_ERROR (§4.6)', () => {
    const h = new HostileSim({ seed: 1401, serverTransport: { maxStreamsBidi: 10 } });
    // Streams 0..36 are the first 10; 40 is the eleventh.
    h.send([stream(40, 0, 1)]);
    assertClosed(h, E.STREAM_LIMIT_ERROR, FrameType.Stream);
    assertLegitUnaffected(h);
  });

  test('stream flow-control violation: FLOW_CONTROL_ERROR (§4.1)', () => {
    const h = new HostileSim({ seed: 1402, serverTransport: { initialMaxStreamData: 8 * KiB } });
    h.send([stream(0, 8 * KiB - 10, 11)]);
    assertClosed(h, E.FLOW_CONTROL_ERROR);
    assertLegitUnaffected(h);
  });

  test('connection flow-control violation over many streams: FLOW_CONTROL_ERROR (§4.1)', () => {
    const h = new HostileSim({
      seed: 1403,
      serverTransport: {
        initialMaxData: 4 * KiB,
        maxConnectionReceiveWindow: 4 * KiB,
        initialMaxStreamData: 4 * KiB,
        maxStreamsBidi: 10,
      },
    });
    // 3 streams x 1.5 KiB in one datagram: each within its stream window, together beyond the connection's.
    h.send([0, 4, 8].map((id) => stream(id, 0, 1536)));
    assertClosed(h, E.FLOW_CONTROL_ERROR);
    assertLegitUnaffected(h);
  });

  test('final size changed by RESET_STREAM: FINAL_SIZE_ERROR (§4.5)', () => {
    const h = new HostileSim({ seed: 1404 });
    h.send([
      stream(0, 0, 100, true),
      { type: FrameType.ResetStream, streamId: 0, errorCode: 0, finalSize: 200 },
    ]);
    assertClosed(h, E.FINAL_SIZE_ERROR);
    assertLegitUnaffected(h);
  });

  test('ACK of packets never sent: PROTOCOL_VIOLATION (§13.1)', () => {
    const h = new HostileSim({ seed: 1405 });
    h.send([{ type: FrameType.Ack, ackDelay: 0, ranges: [{ smallest: 1_000_000, largest: 1_000_010 }] }]);
    assertClosed(h, E.PROTOCOL_VIOLATION, FrameType.Ack);
    assertLegitUnaffected(h);
  });

  test('NEW_CONNECTION_ID beyond active_connection_id_limit: CONNECTION_ID_LIMIT_ERROR (§5.1.1)', () => {
    const h = new HostileSim({ seed: 1406 });
    const frames: Frame[] = Array.from({ length: 30 }, (_, i) => ({
      type: FrameType.NewConnectionId,
      sequenceNumber: 20 + i,
      retirePriorTo: 0,
      connectionId: Uint8Array.of(0xaa, i, 1, 2, 3, 4, 5, 6),
      statelessResetToken: new Uint8Array(16).fill(i),
    }));
    h.send(frames);
    h.runFor(1);
    // The attacker's CIDs held are bounded by the limit we advertised (default 4), plus the one refused.
    assert.ok(h.victim.peerCids.activeCount <= 5, `${h.victim.peerCids.activeCount} CIDs held`);
    assertClosed(h, E.CONNECTION_ID_LIMIT_ERROR, FrameType.NewConnectionId);
    assertLegitUnaffected(h);
  });

  test('RETIRE_CONNECTION_ID abuse: churn stays bounded; retiring a CID never issued is PROTOCOL_VIOLATION (§19.16)', () => {
    const h = new HostileSim({ seed: 1407 });
    h.runFor(100);
    // Retire every CID the server issued, again and again: it issues new ones, never more than 8 at once.
    let maxActive = 0;
    let retired = 0;
    const seen = new Set<number>();
    // The CIDs issued during the handshake, then those the server announces as it replaces them.
    const initial: number[] = [];
    for (let seq = 1; seq < 10; seq++) if (h.attacker.peerCids.cidFor(seq)) initial.push(seq);
    for (let round = 0; round < 30; round++) {
      const announced = h.serverFrames.flatMap((f) =>
        f.type === FrameType.NewConnectionId ? [f.sequenceNumber] : [],
      );
      const issued = [...(round === 0 ? initial : []), ...announced].filter((seq) => !seen.has(seq));
      for (const seq of issued) seen.add(seq);
      const ack = h.ackFrame();
      h.send([
        ...(ack ? [ack] : []),
        ...issued.map((seq): Frame => ({ type: FrameType.RetireConnectionId, sequenceNumber: seq })),
      ]);
      retired += issued.length;
      h.runFor(50);
      maxActive = Math.max(maxActive, h.victim.localCids.count);
    }
    assert.ok(retired >= 30, `${retired} CIDs retired`);
    assert.equal(h.victim.isClosed, false);
    assert.ok(maxActive <= 8, `${maxActive} CIDs active at most`);
    h.send([{ type: FrameType.RetireConnectionId, sequenceNumber: 1_000_000 }]);
    assertClosed(h, E.PROTOCOL_VIOLATION, FrameType.RetireConnectionId);
    assertLegitUnaffected(h);
  });

  test('CRYPTO at a huge offset: CRYPTO_BUFFER_EXCEEDED (§7.5)', () => {
    const h = new HostileSim({ seed: 1408 });
    h.send([{ type: FrameType.Crypto, offset: 2 ** 40, data: new Uint8Array(10) }]);
    assertClosed(h, E.CRYPTO_BUFFER_EXCEEDED, FrameType.Crypto);
    assertLegitUnaffected(h);
  });

  test('PING flood: the connection lives, ACK state stays bounded', () => {
    const h = new HostileSim({ seed: 1409 });
    // 2000 packets of PING, with gaps in the packet numbers so that every one is a new ACK range.
    for (let i = 0; i < 2000; i++) {
      h.attacker.spaces[2].skipPacketNumber();
      h.send([{ type: FrameType.Ping }]);
      if (i % 100 === 99) h.runFor(5);
    }
    h.runFor(100);
    assert.equal(h.victim.isClosed, false);
    assert.deepEqual(h.victim.internalErrors, []);
    const ranges = h.victim.spaces[2].acks.rangeCount;
    assert.ok(ranges <= 64, `${ranges} ACK ranges tracked`);
    // Every ACK the server sent fits its packet.
    for (const f of h.serverFrames) if (f.type === FrameType.Ack) assert.ok(f.ranges.length <= 64);
    assertLegitUnaffected(h);
  });

  test('thousands of tiny streams: served in turn, never more open than the limit', () => {
    const h = new HostileSim({ seed: 1410, serverTransport: { maxStreamsBidi: 50 } });
    let next = 0;
    let maxOpen = 0;
    let limit = 50;
    for (let round = 0; round < 60 && next < 2000; round++) {
      // Open every stream the server allows, each with a 1-byte request and FIN (size 0 asked).
      const frames: Frame[] = [];
      while (next < limit && frames.length < 60) {
        frames.push({
          type: FrameType.Stream,
          streamId: next * 4,
          offset: 0,
          data: new Uint8Array(8),
          fin: true,
        });
        next++;
      }
      const ack = h.ackFrame();
      h.send([...(ack ? [ack] : []), ...frames]);
      h.runFor(30);
      maxOpen = Math.max(maxOpen, h.victim.epoch!.streams.openStreamCount);
      for (const f of h.serverFrames)
        if (f.type === FrameType.MaxStreamsBidi) limit = Math.max(limit, f.maximumStreams);
    }
    assert.equal(h.victim.isClosed, false, h.victim.closeInfo?.reason);
    assert.ok(next >= 1000, `${next} streams opened`);
    assert.ok(maxOpen <= 50, `${maxOpen} streams open at most`);
    assert.deepEqual(h.victim.internalErrors, []);
    assertLegitUnaffected(h);
  });

  test('slowloris: streams trickled a byte at a time hold at most window-bounded memory', () => {
    const window = 16 * KiB;
    const h = new HostileSim({
      seed: 1411,
      serverTransport: { maxStreamsBidi: 20, initialMaxStreamData: window, maxStreamReceiveWindow: window },
    });
    // 20 streams, each sent one byte at a time out of order (the server cannot deliver any of it).
    for (let t = 1; t < 200; t++) {
      const frames: Frame[] = [];
      for (let s = 0; s < 20; s++) frames.push(stream(s * 4, t * 3, 1));
      const ack = h.ackFrame();
      h.send([...(ack ? [ack] : []), ...frames]);
      if (t % 20 === 0) h.runFor(50);
    }
    h.runFor(100);
    assert.equal(h.victim.isClosed, false);
    let buffered = 0;
    for (let s = 0; s < 20; s++) buffered += h.victim.epoch!.streams.streamBuffers(s * 4)?.receive ?? 0;
    assert.ok(buffered <= 20 * 200, `${buffered} bytes buffered`);
    // A 21st stream is refused.
    h.send([stream(80, 0, 1)]);
    assertClosed(h, E.STREAM_LIMIT_ERROR);
    assertLegitUnaffected(h);
  });

  test("never reading: the server sends no more than the attacker's flow-control windows allow", () => {
    const h = new HostileSim({ seed: 1412, serverTransport: { maxStreamsBidi: 20 } });
    // 10 requests for 10 MB each; the attacker acknowledges packets but never raises its windows.
    const frames: Frame[] = [];
    for (let s = 0; s < 10; s++) {
      const header = new Uint8Array(8);
      new DataView(header.buffer).setBigUint64(0, 10_000_000n);
      frames.push({ type: FrameType.Stream, streamId: s * 4, offset: 0, data: header, fin: true });
    }
    h.send(frames);
    for (let i = 0; i < 40; i++) {
      h.runFor(50);
      const ack = h.ackFrame();
      if (ack) h.send([ack]);
    }
    const stats = h.victim.epoch!.streams.stats();
    // The attacker's windows: initial_max_data and initial_max_stream_data of its transport parameters.
    const peer = h.victim.peerParams!;
    assert.ok(stats.bytesSent <= peer.initialMaxData, `${stats.bytesSent} bytes sent`);
    let streamData = 0;
    for (const f of h.serverFrames)
      if (f.type === FrameType.Stream) streamData = Math.max(streamData, f.offset + f.data.length);
    assert.ok(streamData <= peer.initialMaxStreamDataBidiLocal);
    assert.equal(h.victim.isClosed, false);
    assertLegitUnaffected(h);
  });
});
