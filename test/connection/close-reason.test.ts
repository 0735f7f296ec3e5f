/**
 * The reason phrase of CONNECTION_CLOSE (RFC 9000 §19.19) is cut so that the frame stays bounded
 * (MAX_REASON_BYTES) and fits the packet it goes in, and the cut falls on a UTF-8 character
 * boundary: what reaches the peer is a valid UTF-8 prefix of the application's reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection, FrameTraceEvent } from '../../src/connection/connection.js';
import { Framer, MAX_REASON_BYTES } from '../../src/connection/framer.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { frameLength } from '../../src/wire/frame-codec.js';
import { FrameType } from '../../src/wire/frames.js';
import { QuicSim } from '../sim/quic-harness.js';

/** 2 ASCII bytes, then 3-byte characters: byte 256 falls inside a character (2 + 3 * 84 = 254). */
const REASON = `ab${'€'.repeat(400)}`;
/** The longest prefix of REASON within MAX_REASON_BYTES that ends on a character boundary. */
const CUT = `ab${'€'.repeat(84)}`;

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const fatal = new TextDecoder('utf-8', { fatal: true });

test('an application close reaches the peer with its reason cut to a whole-character prefix', () => {
  assert.equal(MAX_REASON_BYTES, 256);
  assert.equal(utf8(CUT).length, 254);
  const received: FrameTraceEvent[] = [];
  let server: Connection | undefined;
  const sim = new QuicSim({
    seed: 19,
    trace: (conn, e) => {
      if (conn === server && e.direction === 'received') received.push(e);
    },
  });
  const client = sim.dial();
  const peer = sim.handshake(client);
  server = peer;
  client.close(0x42, REASON, sim.now);
  sim.run(() => peer.isClosed, 5_000);

  const closes = received.filter((e) => e.frame.type === FrameType.ConnectionCloseApplication);
  assert.equal(closes.length, 1);
  const frame = closes[0]!.frame;
  assert.ok(frame.type === FrameType.ConnectionCloseApplication);
  assert.equal(frame.errorCode, 0x42);
  // The peer's decoder replaces invalid UTF-8 with U+FFFD: a cut inside a character would show.
  assert.equal(frame.reason, CUT);
  // Exactly the bytes of the cut on the wire: the Reason Phrase Length says 254, and they decode
  // strictly (a decoder that rejects invalid UTF-8 accepts them).
  assert.equal(utf8(frame.reason).length, 254);
  assert.equal(fatal.decode(utf8(frame.reason)), CUT);
  assert.deepEqual(peer.closeInfo, {
    source: 'remote',
    application: true,
    errorCode: 0x42,
    reason: CUT,
  });
  // Our own side keeps the whole reason: only the frame is cut.
  assert.equal(client.closeInfo?.reason, REASON);
});

test('the reason phrase is cut to fit the room left in the packet, and no shorter', () => {
  const framer = new Framer({
    localCids: { hasPendingFrames: () => false, nextAnnouncement: () => undefined, onAnnouncementLost() {} },
    peerCids: { hasPendingFrames: () => false, nextRetirement: () => undefined, onRetirementLost() {} },
  });
  const infos = [
    { source: 'local' as const, application: true, errorCode: 0x1234, reason: REASON },
    {
      source: 'local' as const,
      application: false,
      errorCode: TransportErrorCode.PROTOCOL_VIOLATION,
      frameType: 0x08,
      // 4-byte characters (surrogate pairs in JavaScript) after one ASCII byte.
      reason: `x${'😀'.repeat(200)}`,
    },
  ];
  for (const info of infos) {
    const empty = frameLength(framer.closeFrame({ ...info, reason: '' }, true));
    for (let room = empty; room <= 400; room++) {
      const f = framer.closeFrame(info, true, room);
      assert.ok(
        f.type === FrameType.ConnectionCloseApplication || f.type === FrameType.ConnectionCloseTransport,
      );
      const bytes = utf8(f.reason);
      assert.ok(frameLength(f) <= room, `room ${room}: frame of ${frameLength(f)} bytes`);
      assert.ok(bytes.length <= MAX_REASON_BYTES);
      assert.ok(info.reason.startsWith(f.reason), `room ${room}: a prefix`);
      assert.equal(fatal.decode(bytes), f.reason, `room ${room}: valid UTF-8`);
      // No shorter than needed: one more character would not fit the room or the bound.
      const next = info.reason.slice(
        0,
        f.reason.length + (info.reason.codePointAt(f.reason.length)! > 0xffff ? 2 : 1),
      );
      const longer = { ...f, reason: next };
      assert.ok(
        frameLength(longer) > room || utf8(next).length > MAX_REASON_BYTES,
        `room ${room}: ${bytes.length} bytes, but ${utf8(next).length} would fit`,
      );
    }
  }
  // Without a room limit, the bound alone: 254 bytes of REASON (256 would split a character).
  const unbounded = framer.closeFrame(infos[0]!, true);
  assert.ok(unbounded.type === FrameType.ConnectionCloseApplication);
  assert.equal(unbounded.reason, CUT);
});
