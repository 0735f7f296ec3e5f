/**
 * A closing connection processes no incoming frame (RFC 9000 §10.2.1, issue 10): once the server has
 * closed, a peer's STREAM data, new streams, flow-control credit and resets change nothing and raise
 * no event; the peer is answered with CONNECTION_CLOSE at a decreasing rate (progressively more
 * received packets per answer); its own CONNECTION_CLOSE moves the connection to draining, which ends
 * when closing would have ended (§10.2.2). The peer is a real client cut off after a real handshake
 * (hostile-harness.ts), forging 1-RTT packets with its keys.
 *
 * Once its CONNECTION_CLOSE is sent, the connection hands the rest of the period to a remnant in the
 * endpoint (closing-remnant.ts) and ends (issue 13); what the peer sees on the wire is the same.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionEvent } from '../../src/connection/connection-events.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { CLIENT_ADDRESS, SERVER_ADDRESS } from '../sim/quic-harness.js';
import { forge1Rtt, frameBytes } from './forge.js';
import { HostileSim } from './hostile-harness.js';

const stream = (streamId: number, offset: number, length: number, fin = false): Frame => ({
  type: FrameType.Stream,
  streamId,
  offset,
  data: new Uint8Array(length).fill(0x61),
  fin,
});

/** Every event the victim hands out from now on (the harness's server app drains them). */
function recordEvents(h: HostileSim): ConnectionEvent[] {
  const seen: ConnectionEvent[] = [];
  const poll = h.victim.pollEvent.bind(h.victim);
  h.victim.pollEvent = () => {
    const e = poll();
    if (e) seen.push(e);
    return e;
  };
  return seen;
}

/** The server application closes the attacker's connection; its CONNECTION_CLOSE goes out. */
function closeVictim(h: HostileSim): void {
  // Let what the attacker's client sent before it was cut off arrive first.
  h.runFor(300);
  h.victim.close(0x42, 'closing test', h.sim.now);
  h.sim.server.markActive(h.victim);
  h.runFor(5);
  // The close is sent: the endpoint serves the closing period in the connection's place.
  assert.equal(h.victim.state, 'closed');
  assert.equal(h.sim.server.remnantCount, 1);
  assert.equal(h.sim.server.connections.has(h.victim), false);
}

const closes = (h: HostileSim, from: number): number =>
  h.framesSince(from).filter((f) => f.type === FrameType.ConnectionCloseApplication).length;

/** What the victim's streams and flow control look like (any change shows a frame was processed). */
function snapshot(h: HostileSim): unknown {
  const streams = h.victim.epoch!.streams;
  return {
    stats: streams.stats(),
    receiveWindow: streams.connectionReceiveWindow,
    stream0: streams.streamState(0),
    buffers0: streams.streamBuffers(0),
    stream4: streams.streamState(4),
    stream2: streams.streamState(2),
    openStreams: streams.openStreamCount,
    peerCids: h.victim.peerCids.current,
    largestAcked: h.victim.spaces[2].acks.largestReceived,
  };
}

describe('closing state (RFC 9000 §10.2.1)', () => {
  test('frames from the peer after our close act on nothing and raise no event', () => {
    const h = new HostileSim({ seed: 1501 });
    // Before the close: stream 0 opens with 10 bytes (the frames are processed normally).
    h.send([stream(0, 0, 10)]);
    h.runFor(50);
    assert.deepEqual(h.victim.epoch!.streams.streamState(0), { send: 'Ready', receive: 'Recv' });
    closeVictim(h);
    h.server.pump(); // the application takes the 'closed' event of its own close
    const events = recordEvents(h);
    const before = snapshot(h);

    h.send([stream(0, 10, 500, true)]); // more data and the FIN on the open stream
    h.send([stream(4, 0, 100)]); // a new bidirectional stream
    h.send([stream(2, 0, 100, true)]); // a new unidirectional stream
    h.send([{ type: FrameType.MaxData, maximumData: 1 << 30 }]);
    h.send([{ type: FrameType.MaxStreamData, streamId: 0, maximumStreamData: 1 << 30 }]);
    h.send([{ type: FrameType.MaxStreamsBidi, maximumStreams: 1000 }]);
    h.send([{ type: FrameType.ResetStream, streamId: 0, errorCode: 7, finalSize: 510 }]);
    h.send([{ type: FrameType.StopSending, streamId: 0, errorCode: 8 }]);
    h.send([{ type: FrameType.Ping }]);
    // A frame that would be a protocol violation in an open connection changes nothing either.
    h.send([stream(400, 0, 1)]);
    h.runFor(20);

    assert.equal(h.sim.server.remnantCount, 1, 'still in the closing period');
    assert.deepEqual(events, [], 'no event after the close');
    assert.deepEqual(snapshot(h), before);
    assert.equal(h.victim.closeInfo?.source, 'local');
    assert.equal(h.victim.closeInfo?.errorCode, 0x42);
    assert.deepEqual(h.victim.internalErrors, []);
  });

  test('CONNECTION_CLOSE answers come for the 1st, 2nd, 4th, ... packet only', () => {
    const h = new HostileSim({ seed: 1502 });
    const start = h.serverFrames.length;
    closeVictim(h);
    assert.equal(closes(h, start), 1, 'the close itself');
    const afterClose = h.serverFrames.length;
    const N = 100;
    for (let i = 0; i < N; i++) {
      h.send([{ type: FrameType.Ping }]);
      h.runFor(1);
    }
    assert.equal(h.sim.server.remnantCount, 1, 'still in the closing period');
    // Answers to packets 1, 2, 4, 8, 16, 32, 64: floor(log2(100)) + 1 = 7 for 100 packets.
    assert.equal(closes(h, afterClose), 7);
    assert.equal(h.framesSince(afterClose).length, 7, 'nothing but CONNECTION_CLOSE is sent');
    assert.equal(h.victim.receiver.closingAnswers.datagramsReceived, N);
    assert.deepEqual(h.victim.internalErrors, []);
  });

  test('packets that do not authenticate, or come from another address, draw no answer', () => {
    const h = new HostileSim({ seed: 1503 });
    closeVictim(h);
    const afterClose = h.serverFrames.length;
    const forged = forge1Rtt(h.attacker, frameBytes({ type: FrameType.Ping }));
    forged[forged.length - 1]! ^= 1; // breaks the AEAD tag
    for (let i = 0; i < 10; i++) h.sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, forged);
    const copy = forge1Rtt(h.attacker, frameBytes({ type: FrameType.Ping }));
    for (let i = 0; i < 10; i++) h.sim.net.inject('10.0.0.99:4433', SERVER_ADDRESS, copy);
    h.runFor(20);
    assert.equal(closes(h, afterClose), 0);
    assert.equal(h.victim.receiver.closingAnswers.datagramsReceived, 0);
    assert.equal(h.sim.server.remnantCount, 1, 'still in the closing period');
  });

  test("the peer's CONNECTION_CLOSE moves us to draining, which keeps closing's end time (§10.2.2)", () => {
    const h = new HostileSim({ seed: 1504 });
    closeVictim(h);
    const deadline = h.sim.server.earliestRemnantDeadline;
    assert.ok(deadline !== undefined);
    // RFC 9000 §10.2: three PTO from the close.
    assert.ok(deadline - h.sim.now >= 3 * h.victim.ptoPeriod() - 5);
    h.runFor(10);
    const beforePeerClose = h.serverDatagrams.length;
    // The first packet after our close would draw an answer in the closing state; with the peer's
    // CONNECTION_CLOSE in it, it draws none: draining.
    h.send([
      { type: FrameType.Ping },
      { type: FrameType.ConnectionCloseApplication, errorCode: 9, reason: 'me too' },
    ]);
    h.runFor(1);
    assert.equal(h.serverDatagrams.length, beforePeerClose);
    assert.equal(h.sim.server.earliestRemnantDeadline, deadline);
    // Our own close stays what the application learned.
    assert.equal(h.victim.closeInfo?.source, 'local');
    assert.equal(h.victim.closeInfo?.errorCode, 0x42);
    // Draining sends nothing (RFC 9000 §10.2.2), whatever arrives.
    for (let i = 0; i < 5; i++) h.send([{ type: FrameType.Ping }]);
    h.runFor(5);
    assert.equal(h.serverDatagrams.length, beforePeerClose);
    h.runFor(deadline - h.sim.now - 1);
    assert.equal(h.sim.server.remnantCount, 1, 'until the end of the period');
    h.runFor(2);
    assert.equal(h.sim.server.remnantCount, 0);
    assert.deepEqual(h.victim.internalErrors, []);
  });
});
