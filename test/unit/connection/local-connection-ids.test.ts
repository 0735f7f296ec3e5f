/**
 * LocalConnectionIds (RFC 9000 §5.1.1, §19.15, §19.16): the CIDs we issue, their stateless reset
 * tokens, NEW_CONNECTION_ID announcements (and re-announcement after loss), RETIRE_CONNECTION_ID
 * handling and the routing changes the endpoint applies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatagramBuilder } from '../../../src/connection/datagram-builder.js';
import { LocalConnectionIds, MAX_ACTIVE_ISSUED } from '../../../src/connection/local-connection-ids.js';
import { StatelessResetTokens } from '../../../src/crypto/stateless-reset.js';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { PacketNumberSpace } from '../../../src/recovery/types.js';
import { FrameType, type NewConnectionIdFrame } from '../../../src/wire/frames.js';
import { Prng, seededRandomBytes } from '../../sim/prng.js';
import { CLIENT_ADDRESS, QuicSim } from '../../sim/quic-harness.js';

const INITIAL = Uint8Array.from([0xa0, 1, 2, 3, 4, 5, 6, 7]);
/** A recognisable token per CID: its bytes reversed, then 0xee. */
const tokenOf = (cid: Uint8Array) =>
  Uint8Array.from([...cid].reverse().concat(new Array(16 - cid.length).fill(0xee)));

function make(cidLength = 8) {
  const random = seededRandomBytes(new Prng(5));
  const drawn: number[] = [];
  const tokensFor: Uint8Array[] = [];
  const ids = new LocalConnectionIds({
    initial: INITIAL,
    cidLength,
    random: (n) => {
      drawn.push(n);
      return random(n);
    },
    resetToken: (cid) => {
      tokensFor.push(Uint8Array.from(cid));
      return tokenOf(cid);
    },
  });
  return { ids, drawn, tokensFor };
}

function announcements(ids: LocalConnectionIds): NewConnectionIdFrame[] {
  const out: NewConnectionIdFrame[] = [];
  for (let f = ids.nextAnnouncement(); f; f = ids.nextAnnouncement()) out.push(f);
  assert.equal(ids.hasPendingFrames(), false);
  return out;
}

function isProtocolViolation(err: unknown): boolean {
  assert.ok(err instanceof QuicTransportError, String(err));
  assert.equal(err.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  assert.equal(err.frameType, FrameType.RetireConnectionId);
  return true;
}

test('the handshake CID is sequence 0 with its reset token; nothing is announced for it', () => {
  const { ids } = make();
  assert.equal(ids.count, 1);
  assert.deepEqual(ids.all(), [{ sequenceNumber: 0, cid: INITIAL }]);
  assert.deepEqual(ids.initialResetToken, tokenOf(INITIAL));
  assert.equal(ids.hasPendingFrames(), false);
  assert.equal(ids.nextAnnouncement(), undefined);
  assert.deepEqual(ids.takeRoutingChanges(), []);
});

test("the first CID's reset token is derived when first asked for, once", () => {
  const { ids, tokensFor } = make();
  assert.deepEqual(ids.firstCid, INITIAL);
  ids.replenish(2);
  announcements(ids);
  assert.equal(tokensFor.length, 1, 'only the new CID');
  assert.ok(!tokensFor.some((c) => Buffer.from(c).equals(INITIAL)));
  assert.deepEqual(ids.initialResetToken, tokenOf(INITIAL));
  assert.deepEqual(ids.initialResetToken, tokenOf(INITIAL));
  assert.equal(tokensFor.length, 2, 'derived once');
});

test('in a connection: a client never derives the token of its first CID (it never sends it); a server does', () => {
  const original = StatelessResetTokens.prototype.tokenFor;
  const asked: string[] = [];
  StatelessResetTokens.prototype.tokenFor = function (this: StatelessResetTokens, cid: Uint8Array) {
    asked.push(Buffer.from(cid).toString('hex'));
    return original.call(this, cid);
  };
  try {
    const sim = new QuicSim({ seed: 32 });
    const conn = sim.dial();
    const clientFirst = Buffer.from(conn.localCid).toString('hex');
    const server = sim.handshake(conn);
    sim.net.runFor(100);
    assert.ok(!asked.includes(clientFirst), 'no token for the client first CID');
    // RFC 9000 §18.2: the server's stateless_reset_token is that of its first CID.
    const serverFirst = Buffer.from(server.localCid).toString('hex');
    assert.equal(asked.filter((c) => c === serverFirst).length, 1);
    // The client's other CIDs, announced in NEW_CONNECTION_ID, have theirs.
    assert.ok(asked.length >= 2);
  } finally {
    StatelessResetTokens.prototype.tokenFor = original;
  }
});

test("replenish issues CIDs up to the peer's active_connection_id_limit, announced once each", () => {
  const { ids, drawn } = make(10);
  ids.replenish(2);
  assert.equal(ids.count, 2);
  assert.deepEqual(drawn, [10]);
  const frames = announcements(ids);
  assert.deepEqual(
    frames.map((f) => [f.sequenceNumber, f.retirePriorTo]),
    [[1, 0]],
  );
  for (const f of frames) {
    assert.equal(f.type, FrameType.NewConnectionId);
    assert.equal(f.connectionId.length, 10);
    assert.deepEqual(f.statelessResetToken, tokenOf(f.connectionId));
  }
  assert.notDeepEqual(frames[0]!.connectionId, INITIAL);
  // The new CID is routed.
  assert.deepEqual(
    ids.takeRoutingChanges(),
    frames.map((f) => ({ type: 'add', cid: f.connectionId })),
  );
  assert.deepEqual(ids.takeRoutingChanges(), [], 'changes are drained');
  // Already at the limit: nothing more.
  ids.replenish(2);
  assert.equal(ids.count, 2);
  assert.equal(ids.hasPendingFrames(), false);
});

test(`the peer holds at most ${MAX_ACTIVE_ISSUED} of our CIDs whatever its limit (RFC 9000 §5.1.1 allows fewer)`, () => {
  assert.equal(MAX_ACTIVE_ISSUED, 2);
  for (const limit of [2, 3, 4, 8, 1_000_000]) {
    const { ids } = make();
    ids.replenish(limit);
    assert.equal(ids.count, 2, `limit ${limit}`);
    assert.deepEqual(
      announcements(ids).map((f) => f.sequenceNumber),
      [1],
    );
  }
});

test('a lost NEW_CONNECTION_ID is announced again, unless the CID was retired meanwhile', () => {
  const { ids } = make();
  ids.replenish(4);
  const [f1] = announcements(ids);
  ids.onAnnouncementLost(f1!.sequenceNumber);
  assert.deepEqual(announcements(ids), [f1]);
  // Lost, then retired before it went out again: not announced.
  ids.onAnnouncementLost(f1!.sequenceNumber);
  ids.onRetire(f1!.sequenceNumber, INITIAL);
  assert.deepEqual(announcements(ids), []);
  // Its replacement is announced; a loss of a sequence number never issued is ignored.
  ids.replenish(4);
  const [f2] = announcements(ids);
  assert.equal(f2!.sequenceNumber, 2);
  ids.onAnnouncementLost(99);
  assert.equal(ids.hasPendingFrames(), false);
});

test('RETIRE_CONNECTION_ID removes the CID and its route; a repeat is a no-op', () => {
  const { ids } = make();
  ids.replenish(4);
  const [f1] = announcements(ids);
  ids.takeRoutingChanges();
  ids.onRetire(0, f1!.connectionId);
  assert.equal(ids.count, 1);
  assert.deepEqual(
    ids.all().map((c) => c.sequenceNumber),
    [1],
  );
  assert.deepEqual(ids.takeRoutingChanges(), [{ type: 'remove', cid: INITIAL }]);
  ids.onRetire(0, f1!.connectionId);
  assert.equal(ids.count, 1);
  assert.deepEqual(ids.takeRoutingChanges(), []);
  // Replaced, then sequence 1 retired from a packet sent to the replacement.
  ids.replenish(4);
  const [f2] = announcements(ids);
  ids.takeRoutingChanges();
  ids.onRetire(1, f2!.connectionId);
  assert.deepEqual(
    ids.all().map((c) => c.sequenceNumber),
    [2],
  );
  assert.deepEqual(ids.takeRoutingChanges(), [{ type: 'remove', cid: f1!.connectionId }]);
});

test('RFC 9000 §19.16: retiring a sequence number never issued is PROTOCOL_VIOLATION', () => {
  const { ids } = make();
  assert.throws(() => ids.onRetire(1, INITIAL), isProtocolViolation);
  ids.replenish(2);
  assert.doesNotThrow(() => ids.onRetire(1, INITIAL));
  assert.throws(() => ids.onRetire(2, INITIAL), isProtocolViolation);
  assert.throws(() => ids.onRetire(2 ** 53, INITIAL), isProtocolViolation);
});

test('RFC 9000 §19.16: retiring the CID the packet was sent to is PROTOCOL_VIOLATION', () => {
  const { ids } = make();
  ids.replenish(2);
  const [f1] = announcements(ids);
  assert.throws(() => ids.onRetire(0, INITIAL), isProtocolViolation);
  assert.throws(() => ids.onRetire(1, Uint8Array.from(f1!.connectionId)), isProtocolViolation);
  // Nothing was removed by the refused frames.
  assert.equal(ids.count, 2);
});

test('in a connection: a retired CID is replaced by a new one (RFC 9000 §5.1.1 SHOULD), and routed', () => {
  const sent: NewConnectionIdFrame[] = [];
  const sim = new QuicSim({
    seed: 31,
    trace: (conn, e) => {
      if (conn.role === 'server' && e.direction === 'sent' && e.frame.type === FrameType.NewConnectionId) {
        sent.push(e.frame);
      }
    },
  });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  sim.net.runFor(100);
  // The client's default active_connection_id_limit is 4, but the server issues one CID beyond its
  // first (MAX_ACTIVE_ISSUED): sequence number 1 only.
  assert.deepEqual(
    sent.map((f) => f.sequenceNumber),
    [1],
  );
  const routes = sim.server.routeCount;
  // The client retires sequence 1 in a 1-RTT packet protected with its keys, handed straight to the
  // server endpoint; what the server sends back is collected by the trace, not delivered.
  const builder = new DatagramBuilder(new Uint8Array(2048));
  builder.reset(1252);
  const keys = conn.oneRtt!;
  builder.openShort(
    { dcid: conn.peerCids.current, keyPhase: keys.writePhase === 1, spin: false },
    PacketNumberSpace.ApplicationData,
    keys.write,
    conn.spaces[PacketNumberSpace.ApplicationData].takePacketNumber(),
    4,
  );
  builder.writeFrame({ type: FrameType.RetireConnectionId, sequenceNumber: 1 });
  builder.closePacket();
  sim.server.receive(builder.buffer.slice(0, builder.seal()), CLIENT_ADDRESS, sim.now);
  while (sim.server.transmit(sim.now)) {
    /* drop it */
  }
  assert.equal(server.isClosed, false, server.closeInfo?.reason);
  assert.equal(server.localCids.count, 2);
  assert.deepEqual(
    server.localCids.all().map((c) => c.sequenceNumber),
    [0, 2],
  );
  assert.deepEqual(
    sent.map((f) => f.sequenceNumber),
    [1, 2],
  );
  // The retired CID is no longer routed, the new one is.
  assert.equal(sim.server.routeCount, routes);
  assert.deepEqual(server.internalErrors, []);
});
