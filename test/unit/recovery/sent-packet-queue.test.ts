import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SentPacketQueue } from '../../../src/recovery/sent-packet-queue.js';
import { PacketNumberSpace, type SentPacket } from '../../../src/recovery/types.js';

function pkt(packetNumber: number, ackEliciting = true): SentPacket<number> {
  return {
    packetNumber,
    space: PacketNumberSpace.ApplicationData,
    timeSent: packetNumber,
    size: 100,
    ackEliciting,
    inFlight: ackEliciting,
    payload: packetNumber,
  };
}

function livePns(q: SentPacketQueue<number>): number[] {
  const out: number[] = [];
  for (let i = q.begin(); i < q.end(); i++) {
    const p = q.at(i);
    if (p !== undefined) out.push(p.packetNumber);
  }
  return out;
}

/** Live packets whose slot or a preceding tombstone (since the previous live packet) carries an ack mark. */
function ackedBeforeLive(q: SentPacketQueue<number>): number[] {
  const out: number[] = [];
  let saw = false;
  for (let i = q.begin(); i < q.end(); i++) {
    if (q.ackedMarkAt(i)) saw = true;
    const p = q.at(i);
    if (p === undefined) continue;
    if (saw) out.push(p.packetNumber);
    saw = false;
  }
  return out;
}

test('push keeps order, rejects non-increasing packet numbers and remembers skipped ones', () => {
  const q = new SentPacketQueue<number>();
  assert.equal(q.largestSent, -1);
  assert.equal(q.containsUnsent(0, 0), true);
  assert.equal(q.push(pkt(0)), true);
  assert.equal(q.push(pkt(0)), false);
  assert.equal(q.push(pkt(3)), true);
  assert.equal(q.push(pkt(2)), false);
  assert.equal(q.push(pkt(Number.NaN)), false);
  assert.equal(q.size, 2);
  assert.equal(q.largestSent, 3);
  assert.equal(q.containsUnsent(0, 0), false);
  assert.equal(q.containsUnsent(3, 3), false);
  assert.equal(q.containsUnsent(1, 1), true);
  assert.equal(q.containsUnsent(2, 3), true);
  assert.equal(q.containsUnsent(0, 3), true);
  assert.equal(q.containsUnsent(4, 4), true);
});

test('removeRange removes exactly the live packets in range, in order', () => {
  const q = new SentPacketQueue<number>();
  for (let pn = 0; pn < 10; pn++) q.push(pkt(pn, pn !== 5));
  const out: SentPacket<number>[] = [];
  q.removeRange(2, 4, out);
  q.removeRange(3, 6, out);
  assert.deepEqual(
    out.map((p) => p.packetNumber),
    [2, 3, 4, 5, 6],
  );
  assert.equal(q.size, 5);
  assert.equal(q.ackElicitingCount, 5);
  assert.deepEqual(livePns(q), [0, 1, 7, 8, 9]);
  assert.deepEqual(ackedBeforeLive(q), [7]);
});

test('compaction keeps the "acknowledged in between" marks and bounds memory', () => {
  const q = new SentPacketQueue<number>();
  for (let pn = 0; pn < 1000; pn++) q.push(pkt(pn));
  const out: SentPacket<number>[] = [];
  // Acknowledge everything but every 100th packet; lose packet 500 (not an ack).
  for (let pn = 0; pn < 1000; pn++) if (pn % 100 !== 0) q.removeRange(pn, pn, out);
  q.removeAt(q.lowerBound(500), false);
  q.compact();
  assert.equal(q.end() - q.begin(), 9, 'tombstones were swept');
  assert.deepEqual(livePns(q), [0, 100, 200, 300, 400, 600, 700, 800, 900]);
  assert.deepEqual(ackedBeforeLive(q), [100, 200, 300, 400, 600, 700, 800, 900]);
  // The acknowledged tail is remembered for the next packet.
  q.push(pkt(1000));
  assert.deepEqual(ackedBeforeLive(q), [100, 200, 300, 400, 600, 700, 800, 900, 1000]);
});

test('removeAll, removeWhere and ACK-only eviction', () => {
  const q = new SentPacketQueue<number>();
  for (let pn = 0; pn < 10; pn++) q.push(pkt(pn, pn % 3 === 0));
  assert.equal(q.ackOnlyCount, 6);
  assert.equal(q.evictOldestAckOnly()?.packetNumber, 1);
  assert.equal(q.evictOldestAckOnly()?.packetNumber, 2);
  assert.equal(q.ackOnlyCount, 4);
  assert.deepEqual(
    q.removeWhere((p) => p.packetNumber > 6).map((p) => p.packetNumber),
    [7, 8, 9],
  );
  assert.deepEqual(livePns(q), [0, 3, 4, 5, 6]);
  assert.deepEqual(
    q.removeAll().map((p) => p.packetNumber),
    [0, 3, 4, 5, 6],
  );
  assert.equal(q.size, 0);
  assert.equal(q.ackElicitingCount, 0);
  assert.equal(q.ackOnlyCount, 0);
  // The sent history (for unsent-ACK detection) survives.
  assert.equal(q.largestSent, 9);
  assert.equal(q.push(pkt(5)), false);
});
