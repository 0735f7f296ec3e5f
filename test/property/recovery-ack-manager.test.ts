import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AckManager } from '../../src/connection/ack-manager.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';

type Op =
  | { kind: 'receive'; pn: number; ackEliciting: boolean; dt: number }
  | { kind: 'sendAck'; ackOfAck: boolean }
  | { kind: 'ackOfAck'; back: number }
  /** In-order ack-eliciting packets (long runs make decimation start), an ACK sent when due. */
  | { kind: 'run'; count: number; dt: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('receive' as const),
      // Mostly around the front, sometimes far behind or ahead.
      pn: fc.integer({ min: -40, max: 8 }),
      ackEliciting: fc.boolean(),
      dt: fc.integer({ min: 0, max: 30 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sendAck' as const), ackOfAck: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('ackOfAck' as const), back: fc.integer({ min: 0, max: 30 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('run' as const),
      count: fc.integer({ min: 1, max: 150 }),
      dt: fc.integer({ min: 0, max: 3 }),
    }),
  },
);

test('property: ACK frames acknowledge only received packets, all of those above the oldest range, within bounds', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { minLength: 1, maxLength: 500, size: 'max' }),
      fc.integer({ min: 1, max: 12 }),
      // The connection's min_rtt: decimated ACKs (after 100 packets) wait a quarter of it.
      fc.option(fc.double({ min: 0, max: 500, noNaN: true }), { nil: undefined }),
      (ops, maxRanges, minRtt) => {
        const m = new AckManager({
          space: PacketNumberSpace.ApplicationData,
          maxAckDelay: 25,
          maxRanges,
          rtt: { minRtt: minRtt ?? 0, hasSample: minRtt !== undefined },
        });
        const received = new Set<number>();
        let front = 0;
        let now = 0;
        let firstUnackedElicitingAt: number | undefined;
        let lastAckLargest: number | undefined;
        for (const op of ops) {
          if (op.kind === 'receive') {
            now += op.dt;
            const pn = front + op.pn;
            if (pn < 0) continue;
            const duplicate = m.isDuplicate(pn);
            // A packet number already received is always recognised as a duplicate.
            if (received.has(pn)) assert.equal(duplicate, true, `pn ${pn} accepted twice`);
            if (duplicate) continue;
            m.onPacketReceived(pn, op.ackEliciting, now);
            received.add(pn);
            front = Math.max(front, pn + 1);
            if (op.ackEliciting && firstUnackedElicitingAt === undefined) firstUnackedElicitingAt = now;
          } else if (op.kind === 'run') {
            for (let i = 0; i < op.count; i++) {
              now += op.dt;
              const pn = front++;
              m.onPacketReceived(pn, true, now);
              received.add(pn);
              if (firstUnackedElicitingAt === undefined) firstUnackedElicitingAt = now;
              // An ACK never waits beyond max_ack_delay (RFC 9000 §13.2.1), decimated or not.
              const due = m.ackDeadline();
              assert.ok(due !== undefined && due <= firstUnackedElicitingAt + 25);
              if (due <= now) {
                m.onAckSent();
                firstUnackedElicitingAt = undefined;
              }
            }
          } else if (op.kind === 'sendAck') {
            const f = m.buildAckFrame(now, 3);
            if (f === undefined) continue;
            m.onAckSent();
            firstUnackedElicitingAt = undefined;
            lastAckLargest = f.ranges[0]!.largest;
            if (op.ackOfAck) m.onAckOfAckReceived(lastAckLargest);
          } else if (lastAckLargest !== undefined) {
            m.onAckOfAckReceived(Math.max(0, lastAckLargest - op.back));
            // Late packets at or below an acknowledged ACK are dropped from reporting (§13.2.4).
            if (m.rangeCount === 0) firstUnackedElicitingAt = undefined;
          }

          assert.ok(m.rangeCount <= maxRanges);
          assert.equal(m.largestReceived, received.size === 0 ? -1 : Math.max(...received));
          // An ack-eliciting packet is acknowledged within max_ack_delay.
          const deadline = m.ackDeadline();
          if (firstUnackedElicitingAt !== undefined) {
            assert.ok(deadline !== undefined && deadline <= firstUnackedElicitingAt + 25);
          } else {
            assert.equal(deadline, undefined);
          }
          const f = m.buildAckFrame(now, 3);
          if (f === undefined) continue;
          const ranges = f.ranges;
          assert.ok(ranges.length <= maxRanges);
          assert.equal(ranges[0]!.largest, m.largestReceived);
          for (let i = 0; i < ranges.length; i++) {
            const r = ranges[i]!;
            assert.ok(r.smallest <= r.largest);
            // Descending, disjoint and not adjacent (RFC 9000 §19.3.1: Gap >= 0).
            if (i > 0) assert.ok(ranges[i - 1]!.smallest - r.largest - 2 >= 0);
            for (let pn = r.smallest; pn <= r.largest; pn++)
              assert.ok(received.has(pn), `acked unreceived ${pn}`);
          }
          // Everything received above the oldest reported range is reported.
          const lowest = ranges[ranges.length - 1]!.smallest;
          for (const pn of received) {
            if (pn < lowest) continue;
            assert.ok(
              ranges.some((r) => r.smallest <= pn && pn <= r.largest),
              `received ${pn} missing from the ACK`,
            );
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});
