/**
 * PeerConnectionIds (RFC 9000 §5.1.1, §5.1.2, §10.3.1, §19.15): the CIDs the peer issued to us, Retire
 * Prior To, the active_connection_id_limit we advertised, repeated frames, floods, and the stateless
 * reset token lookup.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerConnectionIds } from '../../../src/connection/peer-connection-ids.js';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { FrameType, type NewConnectionIdFrame } from '../../../src/wire/frames.js';

const INITIAL = Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9]);
const cid = (seq: number) => Uint8Array.from([0xc0, seq, seq >> 8, 1, 2, 3, 4, 5]);
const token = (seq: number) => new Uint8Array(16).fill(0x10 + (seq % 200)).fill(seq >> 8, 0, 1);

function ncid(
  seq: number,
  retirePriorTo = 0,
  over: Partial<NewConnectionIdFrame> = {},
): NewConnectionIdFrame {
  return {
    type: FrameType.NewConnectionId,
    sequenceNumber: seq,
    retirePriorTo,
    connectionId: cid(seq),
    statelessResetToken: token(seq),
    ...over,
  };
}

function retirements(p: PeerConnectionIds): number[] {
  const out: number[] = [];
  for (let f = p.nextRetirement(); f; f = p.nextRetirement()) {
    assert.equal(f.type, FrameType.RetireConnectionId);
    out.push(f.sequenceNumber);
  }
  assert.equal(p.hasPendingFrames(), false);
  return out.sort((a, b) => a - b);
}

function errorWith(code: TransportErrorCode) {
  return (err: unknown) => {
    assert.ok(err instanceof QuicTransportError, String(err));
    assert.equal(err.errorCode, code);
    assert.equal(err.frameType, FrameType.NewConnectionId);
    return true;
  };
}

test('the initial CID is current; setInitial replaces it (server SCID or Retry SCID, RFC 9000 §7.2)', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  assert.deepEqual(p.current, INITIAL);
  assert.equal(p.activeCount, 1);
  const scid = Uint8Array.from([1, 2, 3, 4, 5]);
  p.setInitial(scid);
  assert.deepEqual(p.current, scid);
  assert.equal(p.activeCount, 1);
});

test("stateless reset tokens: the server's transport parameter token belongs to sequence 0 (§18.2)", () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  const t0 = new Uint8Array(16).fill(0xab);
  assert.equal(p.isStatelessResetToken(t0), false);
  p.setInitialResetToken(t0);
  assert.equal(p.isStatelessResetToken(Uint8Array.from(t0)), true);
  // setInitial after the token keeps it (the token is the server's, whatever CID it chose).
  p.setInitial(Uint8Array.from([7, 7, 7, 7]));
  assert.equal(p.isStatelessResetToken(t0), true);
  p.onNewConnectionId(ncid(1), false);
  assert.equal(p.isStatelessResetToken(token(1)), true);
  assert.equal(p.isStatelessResetToken(token(2)), false);
  assert.equal(p.isStatelessResetToken(new Uint8Array(16)), false);
});

test('new CIDs are stored as copies: later changes to the packet buffer do not affect them', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  // Decoded frames are views of the decrypted payload, a Buffer (whose slice() shares memory).
  const payload = Buffer.concat([Buffer.from(cid(1)), Buffer.from(token(1))]);
  p.onNewConnectionId(
    ncid(1, 0, { connectionId: payload.subarray(0, 8), statelessResetToken: payload.subarray(8, 24) }),
    false,
  );
  payload.fill(0);
  assert.equal(p.isStatelessResetToken(token(1)), true);
  assert.equal(p.isStatelessResetToken(new Uint8Array(16)), false);
  // The repeat check still compares against the original CID.
  assert.doesNotThrow(() => p.onNewConnectionId(ncid(1), false));
});

test('RFC 9000 §5.1.1: more active CIDs than our limit is CONNECTION_ID_LIMIT_ERROR', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  p.onNewConnectionId(ncid(1), false);
  p.onNewConnectionId(ncid(2), false);
  p.onNewConnectionId(ncid(3), false);
  assert.equal(p.activeCount, 4);
  assert.throws(
    () => p.onNewConnectionId(ncid(4), false),
    errorWith(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR),
  );
  // The limit applies after retirement: retiring as many as are added is fine.
  const q = new PeerConnectionIds(INITIAL, 2);
  q.onNewConnectionId(ncid(1), false);
  q.onNewConnectionId(ncid(2, 1), false);
  q.onNewConnectionId(ncid(3, 2), false);
  assert.equal(q.activeCount, 2);
  assert.throws(
    () => q.onNewConnectionId(ncid(4, 2), false),
    errorWith(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR),
  );
});

test('Retire Prior To retires lower sequence numbers, queues RETIRE_CONNECTION_ID and moves off them', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  p.onNewConnectionId(ncid(1), false);
  p.onNewConnectionId(ncid(2), false);
  assert.deepEqual(p.current, INITIAL);
  p.onNewConnectionId(ncid(3, 2), false);
  // Sequence 0 was current: the lowest remaining one takes over.
  assert.deepEqual(p.current, cid(2));
  assert.equal(p.activeCount, 2);
  assert.equal(p.isStatelessResetToken(token(1)), false, 'a retired CID token no longer counts');
  assert.deepEqual(retirements(p), [0, 1]);
  // A smaller Retire Prior To later changes nothing (it never goes backwards).
  p.onNewConnectionId(ncid(4, 1), false);
  assert.equal(p.activeCount, 3);
  assert.deepEqual(retirements(p), []);
  assert.deepEqual(p.current, cid(2));
  // Retire Prior To that does not cover the current CID keeps it.
  const q = new PeerConnectionIds(INITIAL, 8);
  q.onNewConnectionId(ncid(1), false);
  q.onNewConnectionId(ncid(2), false);
  q.onNewConnectionId(ncid(5, 1), false);
  assert.deepEqual(q.current, cid(1));
  assert.deepEqual(retirements(q), [0]);
});

test('§19.15: a CID below the current Retire Prior To is retired at once, not added', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  p.onNewConnectionId(ncid(5, 5), false);
  assert.deepEqual(retirements(p), [0]);
  // Reordered: sequence 3 arrives after Retire Prior To 5.
  p.onNewConnectionId(ncid(3), false);
  assert.equal(p.activeCount, 1);
  assert.equal(p.isStatelessResetToken(token(3)), false);
  assert.deepEqual(retirements(p), [3]);
  // And again if repeated (the first RETIRE may have been lost).
  p.onNewConnectionId(ncid(3), false);
  assert.deepEqual(retirements(p), [3]);
});

test('§19.15: an identical repeat is ignored; a sequence number reused for another CID or token is PROTOCOL_VIOLATION', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  p.onNewConnectionId(ncid(1), false);
  p.onNewConnectionId(ncid(1), false);
  p.onNewConnectionId({ ...ncid(1), connectionId: Uint8Array.from(cid(1)) }, false);
  assert.equal(p.activeCount, 2);
  assert.throws(
    () => p.onNewConnectionId(ncid(1, 0, { connectionId: cid(7) }), false),
    errorWith(TransportErrorCode.PROTOCOL_VIOLATION),
  );
  assert.throws(
    () => p.onNewConnectionId(ncid(1, 0, { statelessResetToken: token(7) }), false),
    errorWith(TransportErrorCode.PROTOCOL_VIOLATION),
  );
});

test('§19.15: the same CID under another sequence number is PROTOCOL_VIOLATION', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  p.onNewConnectionId(ncid(1), false);
  assert.throws(
    () => p.onNewConnectionId(ncid(2, 0, { connectionId: cid(1) }), false),
    errorWith(TransportErrorCode.PROTOCOL_VIOLATION),
  );
  // Including the handshake CID.
  assert.throws(
    () => p.onNewConnectionId(ncid(2, 0, { connectionId: INITIAL }), false),
    errorWith(TransportErrorCode.PROTOCOL_VIOLATION),
  );
});

test('§19.15: NEW_CONNECTION_ID from a peer using zero-length CIDs is PROTOCOL_VIOLATION', () => {
  const p = new PeerConnectionIds(new Uint8Array(0), 4);
  assert.throws(() => p.onNewConnectionId(ncid(1), true), errorWith(TransportErrorCode.PROTOCOL_VIOLATION));
  assert.equal(p.activeCount, 1);
});

test('§5.1.2: a flood of CIDs each retiring the previous is bounded by the RETIRE frames owed', () => {
  const p = new PeerConnectionIds(INITIAL, 2);
  let error: unknown;
  let accepted = 0;
  for (let seq = 1; seq < 1000; seq++) {
    try {
      p.onNewConnectionId(ncid(seq, seq), false);
      accepted++;
    } catch (err) {
      error = err;
      break;
    }
  }
  assert.ok(errorWith(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR)(error));
  assert.ok(accepted >= 8 && accepted <= 100, `${accepted} accepted before the error`);
  // An honest peer, which acknowledges the RETIRE frames we send as they are owed, never hits the bound.
  const q = new PeerConnectionIds(INITIAL, 2);
  for (let seq = 1; seq < 1000; seq++) {
    q.onNewConnectionId(ncid(seq, seq), false);
    assert.deepEqual(retirements(q), [seq - 1]);
    q.onRetirementAcked(seq - 1);
    assert.deepEqual(q.current, cid(seq));
  }
});

test('a lost RETIRE_CONNECTION_ID is queued again', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  p.onNewConnectionId(ncid(2, 2), false);
  assert.deepEqual(retirements(p), [0]);
  p.onRetirementLost(0);
  assert.equal(p.hasPendingFrames(), true);
  assert.deepEqual(retirements(p), [0]);
});

test('issue 10 defect 2: 70 NEW_CONNECTION_ID (seq s, Retire Prior To s) keep a consistent state, then CONNECTION_ID_LIMIT_ERROR', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  let thrown: unknown;
  for (let s = 1; s <= 70 && thrown === undefined; s++) {
    try {
      p.onNewConnectionId(ncid(s, s), false);
    } catch (err) {
      thrown = err;
    }
    // At every step, even the failing one: current is an active CID (the newest one).
    assert.deepEqual(p.current, cid(s));
    assert.equal(p.currentSequenceNumber, s);
    assert.deepEqual(p.cidFor(s), cid(s));
    assert.equal(p.activeCount, 1);
  }
  assert.ok(errorWith(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR)(thrown));
  // Nothing was forgotten without being retired (RFC 9000 §5.1.2).
  assert.equal(retirements(p).length, p.unackedRetirementCount);
});

test('retirements count until acknowledged: a slow flood across packets is bounded too (RFC 9000 §5.1.2)', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  // Each retirement is sent (taken) but never acknowledged.
  let thrown: unknown;
  for (let s = 1; s <= 100 && thrown === undefined; s++) {
    try {
      p.onNewConnectionId(ncid(s, s), false);
    } catch (err) {
      thrown = err;
    }
    retirements(p);
  }
  assert.ok(errorWith(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR)(thrown));
  // Acknowledged retirements free the budget: a well-behaved rotation goes on forever.
  const q = new PeerConnectionIds(INITIAL, 4);
  for (let s = 1; s <= 500; s++) {
    q.onNewConnectionId(ncid(s, s), false);
    for (const seq of retirements(q)) q.onRetirementAcked(seq);
  }
  assert.equal(q.unackedRetirementCount, 0);
  assert.deepEqual(q.current, cid(500));
  // A lost retirement is sent again, unless it was acknowledged meanwhile.
  q.onNewConnectionId(ncid(501, 501), false);
  assert.deepEqual(retirements(q), [500]);
  q.onRetirementLost(500);
  assert.deepEqual(retirements(q), [500]);
  q.onRetirementAcked(500);
  q.onRetirementLost(500);
  assert.deepEqual(retirements(q), []);
});

test('a sequence number beyond 2^53 is PROTOCOL_VIOLATION (RFC 9000 §5.1.1: they go up by one)', () => {
  const p = new PeerConnectionIds(INITIAL, 4);
  assert.throws(
    () => p.onNewConnectionId(ncid(1, 0, { sequenceNumber: 2 ** 62 - 512 }), false),
    errorWith(TransportErrorCode.PROTOCOL_VIOLATION),
  );
  assert.deepEqual(p.current, INITIAL);
});
