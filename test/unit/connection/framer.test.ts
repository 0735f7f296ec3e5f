/**
 * Framer: the one owner of the control frames waiting to be sent, driven with fake sources and a
 * fake packet (FrameSink) of a chosen size. Checks bounded slots, order, retransmission after loss
 * (RFC 9000 §13.3) and the CONNECTION_CLOSE rules (RFC 9000 §10.2.3).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AnnouncementSource,
  Framer,
  type FrameSink,
  MAX_REASON_BYTES,
  type RetirementSource,
} from '../../../src/connection/framer.js';
import type { SentFrame } from '../../../src/connection/sent-frames.js';
import { StreamEpoch } from '../../../src/connection/stream-epoch.js';
import { TransportErrorCode } from '../../../src/errors/transport-error.js';
import { EncryptionLevel } from '../../../src/tls/types.js';
import { frameLength } from '../../../src/wire/frame-codec.js';
import { isAckEliciting } from '../../../src/wire/frame-rules.js';
import { type Frame, FrameType, type NewConnectionIdFrame } from '../../../src/wire/frames.js';
import { defaultTransportParameters } from '../../../src/wire/transport-parameters.js';
import { limits } from '../streams/harness.js';

/** A packet with `room` bytes for frames. */
class FakePacket implements FrameSink {
  readonly frames: Frame[] = [];
  readonly records: (SentFrame | undefined)[] = [];
  constructor(public room = 1200) {}
  get remaining(): number {
    return this.room;
  }
  fits(frame: Frame): boolean {
    return frameLength(frame) <= this.room;
  }
  write(frame: Frame, record?: SentFrame): void {
    assert.ok(this.fits(frame), `${FrameType[frame.type]} written without room`);
    this.room -= frameLength(frame);
    this.frames.push(frame);
    this.records.push(record);
    if (isAckEliciting(frame.type)) this.packetAckEliciting = true;
  }
  packetAckEliciting = false;
  get types(): FrameType[] {
    return this.frames.map((f) => f.type);
  }
}

class FakeLocalCids implements AnnouncementSource {
  pending: number[] = [];
  lost: number[] = [];
  hasPendingFrames(): boolean {
    return this.pending.length > 0;
  }
  nextAnnouncement(): NewConnectionIdFrame | undefined {
    const seq = this.pending.shift();
    if (seq === undefined) return undefined;
    return {
      type: FrameType.NewConnectionId,
      sequenceNumber: seq,
      retirePriorTo: 0,
      connectionId: new Uint8Array(8).fill(seq),
      statelessResetToken: new Uint8Array(16).fill(seq),
    };
  }
  onAnnouncementLost(seq: number): void {
    this.lost.push(seq);
    this.pending.push(seq);
  }
}

class FakePeerCids implements RetirementSource {
  pending: number[] = [];
  lost: number[] = [];
  hasPendingFrames(): boolean {
    return this.pending.length > 0;
  }
  nextRetirement() {
    const seq = this.pending.shift();
    return seq === undefined
      ? undefined
      : { type: FrameType.RetireConnectionId as const, sequenceNumber: seq };
  }
  onRetirementLost(seq: number): void {
    this.lost.push(seq);
    this.pending.push(seq);
  }
}

function setup() {
  const localCids = new FakeLocalCids();
  const peerCids = new FakePeerCids();
  return { framer: new Framer({ localCids, peerCids }), localCids, peerCids };
}

test('bounded slots: repeated requests give one HANDSHAKE_DONE, one NEW_TOKEN (the newest), one PING', () => {
  const { framer } = setup();
  for (let i = 0; i < 1000; i++) {
    framer.queueHandshakeDone();
    framer.queueNewToken(Uint8Array.of(i & 0xff));
    framer.queuePing();
  }
  const p = new FakePacket();
  framer.appendControlFrames(p);
  // HANDSHAKE_DONE already elicits an ACK: no PING needed in this packet.
  framer.appendPing(p, false, true);
  assert.deepEqual(p.types, [FrameType.HandshakeDone, FrameType.NewToken]);
  assert.deepEqual(p.frames[1], { type: FrameType.NewToken, token: Uint8Array.of(999 & 0xff) });
  assert.equal(framer.hasControlFrames(), true, 'the ping is owed until an ack-eliciting packet is sent');
  framer.onAckElicitingPacket(true);
  assert.equal(framer.hasControlFrames(), false);
  const next = new FakePacket();
  framer.appendControlFrames(next);
  assert.deepEqual(next.types, []);
});

test('control frames go out in a fixed order and each leaves a record for ack and loss handling', () => {
  const { framer, localCids, peerCids } = setup();
  localCids.pending = [1, 2];
  peerCids.pending = [0];
  framer.queueNewToken(Uint8Array.of(1, 2, 3));
  framer.queueHandshakeDone();
  const p = new FakePacket();
  framer.appendControlFrames(p);
  assert.deepEqual(p.types, [
    FrameType.HandshakeDone,
    FrameType.NewConnectionId,
    FrameType.NewConnectionId,
    FrameType.RetireConnectionId,
    FrameType.NewToken,
  ]);
  assert.deepEqual(p.records, [
    { kind: 'handshake-done' },
    { kind: 'new-connection-id', sequenceNumber: 1 },
    { kind: 'new-connection-id', sequenceNumber: 2 },
    { kind: 'retire-connection-id', sequenceNumber: 0 },
    { kind: 'new-token', token: Uint8Array.of(1, 2, 3) },
  ]);
});

test('HANDSHAKE_DONE is sent again after loss, and only then', () => {
  const { framer } = setup();
  framer.queueHandshakeDone();
  const first = new FakePacket();
  framer.appendControlFrames(first);
  assert.deepEqual(first.types, [FrameType.HandshakeDone]);
  const idle = new FakePacket();
  framer.appendControlFrames(idle);
  assert.deepEqual(idle.types, [], 'not repeated while in flight');
  assert.equal(framer.onFrameLost(first.records[0]!), true);
  const again = new FakePacket();
  framer.appendControlFrames(again);
  assert.deepEqual(again.types, [FrameType.HandshakeDone]);
});

test('a lost NEW_TOKEN goes again unless a newer token is queued', () => {
  const { framer } = setup();
  framer.queueNewToken(Uint8Array.of(1));
  const p = new FakePacket();
  framer.appendControlFrames(p);
  const lost = p.records[0]!;
  framer.onFrameLost(lost);
  const resent = new FakePacket();
  framer.appendControlFrames(resent);
  assert.deepEqual(resent.frames, [{ type: FrameType.NewToken, token: Uint8Array.of(1) }]);

  framer.queueNewToken(Uint8Array.of(2));
  framer.onFrameLost(lost);
  const newer = new FakePacket();
  framer.appendControlFrames(newer);
  assert.deepEqual(newer.frames, [{ type: FrameType.NewToken, token: Uint8Array.of(2) }]);
});

test('lost CID frames go back to the modules that own them; other frames are not the framer’s', () => {
  const { framer, localCids, peerCids } = setup();
  assert.equal(framer.onFrameLost({ kind: 'new-connection-id', sequenceNumber: 4 }), true);
  assert.equal(framer.onFrameLost({ kind: 'retire-connection-id', sequenceNumber: 2 }), true);
  assert.deepEqual(localCids.lost, [4]);
  assert.deepEqual(peerCids.lost, [2]);
  assert.equal(framer.onFrameLost({ kind: 'ack', largestAcked: 1 }), false);
  assert.equal(
    framer.onFrameLost({ kind: 'crypto', level: EncryptionLevel.Handshake, offset: 0, length: 1 }),
    false,
  );
});

test('a frame that does not fit waits for the next packet, nothing is lost or written past the end', () => {
  const { framer, localCids } = setup();
  localCids.pending = [1, 2, 3];
  framer.queueNewToken(new Uint8Array(100));
  // Room for HANDSHAKE_DONE and one NEW_CONNECTION_ID (1 + 1 + 1 + 1 + 8 + 16 = 28 bytes) only.
  framer.queueHandshakeDone();
  const small = new FakePacket(1 + 28 + 10);
  framer.appendControlFrames(small);
  assert.deepEqual(small.types, [FrameType.HandshakeDone, FrameType.NewConnectionId]);
  assert.deepEqual(localCids.lost, [2], 'the announcement that did not fit is queued again');
  const next = new FakePacket();
  framer.appendControlFrames(next);
  assert.deepEqual(next.types, [FrameType.NewConnectionId, FrameType.NewConnectionId, FrameType.NewToken]);
});

test('PING only when the packet must elicit an ACK and nothing in it does yet', () => {
  const { framer } = setup();
  const write = (probe: boolean, oneRtt: boolean, eliciting: boolean) => {
    const p = new FakePacket();
    p.packetAckEliciting = eliciting;
    framer.appendPing(p, probe, oneRtt);
    return p.types;
  };
  assert.deepEqual(write(false, true, false), [], 'nothing asked for one');
  assert.deepEqual(
    write(true, false, false),
    [FrameType.Ping],
    'a probe must be ack-eliciting (RFC 9002 §6.2.4)',
  );
  assert.deepEqual(write(true, false, true), [], 'already ack-eliciting');
  framer.queuePing();
  assert.deepEqual(write(false, false, false), [], 'a queued ping waits for a 1-RTT packet');
  assert.deepEqual(write(false, true, false), [FrameType.Ping]);
  framer.onAckElicitingPacket(false);
  assert.equal(framer.pingPending, true, 'a Handshake packet does not satisfy it');
  framer.onAckElicitingPacket(true);
  assert.equal(framer.pingPending, false);
});

test('CRYPTO: as many frames as fit, each recorded with its level and range', () => {
  const { framer } = setup();
  let offset = 0;
  const data = 3000;
  const crypto = {
    hasDataToSend: () => offset < data,
    nextChunk: (max: number) => {
      const n = Math.min(max, data - offset);
      const chunk = { offset, data: new Uint8Array(n) };
      offset += n;
      return chunk;
    },
  };
  const p = new FakePacket(1200);
  framer.appendCrypto(p, crypto, EncryptionLevel.Initial);
  assert.deepEqual(p.types, [FrameType.Crypto]);
  assert.ok(p.room < 16 + 11);
  const r = p.records[0];
  assert.ok(r?.kind === 'crypto' && r.level === EncryptionLevel.Initial && r.offset === 0 && r.length > 1150);
});

test('path frames: one PATH_CHALLENGE per packet and every PATH_RESPONSE owed, none recorded for resend', () => {
  const { framer } = setup();
  const responses = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)].map((b) =>
    new Uint8Array(8).fill(b[0]!),
  );
  const path = {
    validator: { challengeDue: true },
    get hasResponses() {
      return responses.length > 0;
    },
    takeResponse: () => responses.shift(),
  };
  let challenges = 0;
  const p = new FakePacket();
  const sent = framer.appendPathFrames(p, path, () => {
    challenges++;
    return new Uint8Array(8).fill(9);
  });
  assert.equal(challenges, 1);
  assert.deepEqual(sent, new Uint8Array(8).fill(9));
  assert.deepEqual(p.types, [
    FrameType.PathChallenge,
    FrameType.PathResponse,
    FrameType.PathResponse,
    FrameType.PathResponse,
  ]);
  assert.deepEqual(
    p.records,
    [undefined, undefined, undefined, undefined],
    'RFC 9000 §13.3: never retransmitted',
  );
});

test('CONNECTION_CLOSE: application codes only in 1-RTT, APPLICATION_ERROR elsewhere (RFC 9000 §10.2.3)', () => {
  const { framer } = setup();
  const app = { source: 'local' as const, application: true, errorCode: 7, reason: 'bye' };
  assert.deepEqual(framer.closeFrame(app, true), {
    type: FrameType.ConnectionCloseApplication,
    errorCode: 7,
    reason: 'bye',
  });
  assert.deepEqual(framer.closeFrame(app, false), {
    type: FrameType.ConnectionCloseTransport,
    errorCode: TransportErrorCode.APPLICATION_ERROR,
    frameType: 0,
    reason: '',
  });
  const transport = {
    source: 'local' as const,
    application: false,
    errorCode: TransportErrorCode.PROTOCOL_VIOLATION,
    frameType: 0x1c,
    reason: 'é'.repeat(MAX_REASON_BYTES),
  };
  const f = framer.closeFrame(transport, false);
  assert.ok(f.type === FrameType.ConnectionCloseTransport);
  assert.equal(f.frameType, 0x1c);
  const bytes = Buffer.byteLength(f.reason);
  assert.ok(bytes <= MAX_REASON_BYTES && bytes >= MAX_REASON_BYTES - 1, `${bytes} bytes`);
  assert.equal(f.reason, 'é'.repeat(MAX_REASON_BYTES / 2), 'cut on a character boundary');
});

test('the close slot: queued, cleared once sent or when draining', () => {
  const { framer } = setup();
  assert.equal(framer.closePending, false);
  framer.queueClose();
  framer.queueClose();
  assert.equal(framer.closePending, true);
  framer.clearClose();
  assert.equal(framer.closePending, false);
});

test('epoch frames: DATAGRAM never split; one too large for any packet now is dropped, not stuck', () => {
  const { framer } = setup();
  const epoch = new StreamEpoch(
    1,
    { streamConfig: () => ({ role: 'client', local: limits(), peer: limits(), rtt: () => 100 }) },
    defaultTransportParameters(),
    false,
    65535,
  );
  const id = epoch.streams.openStream(true)!;
  epoch.streams.write(id, new Uint8Array(500).fill(1));
  epoch.queueDatagram(new Uint8Array(2000)); // queued before the path's packet size shrank
  epoch.queueDatagram(new Uint8Array(300));
  epoch.queueDatagram(new Uint8Array(400));
  const emptyPacketRoom = 1000;
  const p = new FakePacket(700);
  framer.appendEpochFrames(p, epoch, 0, emptyPacketRoom);
  // The 2000-byte one is dropped, the 300-byte one fits, the 400-byte one waits for a packet with
  // room (it would fit an empty one), and stream data fills what is left.
  assert.deepEqual(p.types, [FrameType.Datagram, FrameType.Stream]);
  assert.equal((p.frames[0] as { data: Uint8Array }).data.length, 300);
  assert.equal(epoch.datagrams.length, 1);
  assert.equal(epoch.datagramBytes, 400);
  const r = p.records[1];
  assert.ok(r?.kind === 'stream' && r.epoch === epoch, 'stream frames record their epoch');
  const next = new FakePacket(emptyPacketRoom);
  framer.appendEpochFrames(next, epoch, 0, emptyPacketRoom);
  assert.equal(next.types[0], FrameType.Datagram);
  assert.equal(epoch.datagramBytes, 0);

  epoch.reject();
  epoch.queueDatagram(new Uint8Array(10));
  const dead = new FakePacket();
  framer.appendEpochFrames(dead, epoch, 0, emptyPacketRoom);
  assert.deepEqual(dead.types, [], 'nothing from a rejected epoch (RFC 9001 §4.6.2)');
});
