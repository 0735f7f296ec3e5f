import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AckManager } from '../../src/connection/ack-manager.js';
import { QuicTransportError, TransportErrorCode } from '../../src/errors/transport-error.js';
import { Cubic } from '../../src/recovery/cubic.js';
import { type AckResult, LossDetector } from '../../src/recovery/loss-detector.js';
import { NewReno } from '../../src/recovery/new-reno.js';
import { RttEstimator } from '../../src/recovery/rtt-estimator.js';
import { type CongestionController, PacketNumberSpace, type SentPacket } from '../../src/recovery/types.js';
import type { AckRange } from '../../src/wire/frames.js';

type Status = 'tracked' | 'acked' | 'lost' | 'discarded';

type Op =
  | {
      kind: 'send';
      space: PacketNumberSpace;
      ackEliciting: boolean;
      padding: boolean;
      size: number;
      skip: boolean;
      dt: number;
    }
  | {
      kind: 'ack';
      space: PacketNumberSpace;
      spans: [number, number][];
      ackDelay: number;
      ce: number;
      dt: number;
    }
  | { kind: 'badAck'; space: PacketNumberSpace; beyond: number }
  | { kind: 'timeout'; dt: number }
  | { kind: 'discardPackets'; space: PacketNumberSpace; mod: number }
  | { kind: 'discardSpace'; space: PacketNumberSpace }
  | { kind: 'confirm' }
  | { kind: 'amplification'; blocked: boolean };

const spaceArb = fc.constantFrom(
  PacketNumberSpace.Initial,
  PacketNumberSpace.Handshake,
  PacketNumberSpace.ApplicationData,
  PacketNumberSpace.ApplicationData,
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      space: spaceArb,
      ackEliciting: fc.boolean(),
      padding: fc.boolean(),
      size: fc.integer({ min: 20, max: 1500 }),
      skip: fc.integer({ min: 0, max: 39 }).map((n) => n === 0),
      dt: fc.integer({ min: 0, max: 40 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('ack' as const),
      space: spaceArb,
      spans: fc.array(
        fc
          .tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }))
          .map(([a, b]) => [a / 1000, b / 1000] as [number, number]),
        { minLength: 1, maxLength: 4 },
      ),
      ackDelay: fc.integer({ min: 0, max: 50 }),
      ce: fc.integer({ min: 0, max: 3 }),
      dt: fc.integer({ min: 0, max: 200 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('badAck' as const),
      space: spaceArb,
      beyond: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('timeout' as const), dt: fc.integer({ min: 0, max: 3000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('discardPackets' as const),
      space: spaceArb,
      mod: fc.integer({ min: 2, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('discardSpace' as const),
      space: fc.constantFrom(PacketNumberSpace.Initial, PacketNumberSpace.Handshake),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'confirm' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('amplification' as const), blocked: fc.boolean() }) },
);

interface Model {
  status: Map<string, Status>;
  packets: Map<string, SentPacket<string>>;
  nextPn: number[];
  discarded: boolean[];
  ce: number[];
  /** Packet numbers skipped by the sender (never sent). */
  skipped: Set<string>;
  largestAcked: number[];
}

function keyOf(space: PacketNumberSpace, pn: number): string {
  return `${space}:${pn}`;
}

function transition(model: Model, packets: readonly SentPacket<string>[], to: Status): void {
  for (const p of packets) {
    const prev = model.status.get(p.payload);
    assert.equal(prev, 'tracked', `${p.payload} became ${to} but was ${prev}`);
    model.status.set(p.payload, to);
  }
}

function checkInvariants(model: Model, ld: LossDetector<string>, cc: CongestionController): void {
  assert.ok(cc.bytesInFlight >= 0);
  let inFlight = 0;
  const tracked = [0, 0, 0];
  let ackEliciting = 0;
  for (const [key, status] of model.status) {
    if (status !== 'tracked') continue;
    const p = model.packets.get(key)!;
    tracked[p.space]!++;
    if (p.inFlight) inFlight += p.size;
    if (p.ackEliciting) ackEliciting++;
  }
  assert.equal(cc.bytesInFlight, inFlight, 'bytes in flight = sizes of tracked in-flight packets');
  for (const space of [0, 1, 2]) assert.equal(ld.sentPacketCount(space), tracked[space]);
  assert.equal(ld.ackElicitingInFlight(), ackEliciting);
}

interface Stats {
  acked: number;
  lost: number;
  rejected: number;
  persistentCongestion: number;
  probes: number;
}

function run(ops: readonly Op[], isServer: boolean, makeCc: () => CongestionController, stats: Stats): void {
  const rtt = new RttEstimator();
  const cc = makeCc();
  const ld = new LossDetector<string>({ rtt, congestion: cc, isServer, maxAckOnlyTracked: 1_000_000 });
  const model: Model = {
    status: new Map(),
    packets: new Map(),
    nextPn: [0, 0, 0],
    discarded: [false, false, false],
    ce: [0, 0, 0],
    skipped: new Set(),
    largestAcked: [-1, -1, -1],
  };
  let now = 1000;
  for (const op of ops) {
    switch (op.kind) {
      case 'send': {
        if (model.discarded[op.space]) break;
        now += op.dt;
        if (op.skip) model.skipped.add(keyOf(op.space, model.nextPn[op.space]!));
        const pn = model.nextPn[op.space]! + (op.skip ? 1 : 0);
        model.nextPn[op.space] = pn + 1;
        const p: SentPacket<string> = {
          packetNumber: pn,
          space: op.space,
          timeSent: now,
          size: op.size,
          ackEliciting: op.ackEliciting,
          inFlight: op.ackEliciting || op.padding,
          payload: keyOf(op.space, pn),
        };
        ld.onPacketSent(p);
        model.packets.set(p.payload, p);
        model.status.set(p.payload, 'tracked');
        break;
      }
      case 'ack': {
        const largestSent = model.nextPn[op.space]! - 1;
        if (largestSent < 0 || model.discarded[op.space]) break;
        now += op.dt;
        // Map the spans onto [0, largestSent], merge and order them descending.
        const raw = op.spans
          .map(([a, b]) => [Math.round(a * largestSent), Math.round(b * largestSent)].sort((x, y) => x - y))
          .sort((x, y) => x[0]! - y[0]!);
        const merged: AckRange[] = [];
        for (const [lo, hi] of raw) {
          const last = merged[merged.length - 1];
          if (last !== undefined && lo! <= last.largest + 1) last.largest = Math.max(last.largest, hi!);
          else merged.push({ smallest: lo!, largest: hi! });
        }
        merged.reverse();
        const acksSkipped = [...model.skipped].some((key) => {
          const [sp, n] = key.split(':').map(Number);
          return sp === op.space && merged.some((m) => m.smallest <= n! && n! <= m.largest);
        });
        if (acksSkipped) {
          // RFC 9000 §21.4: acknowledging a skipped packet number is a PROTOCOL_VIOLATION; nothing changes.
          assert.throws(
            () => ld.onAckReceived(op.space, merged, op.ackDelay, now),
            (e: unknown) =>
              e instanceof QuicTransportError && e.errorCode === TransportErrorCode.PROTOCOL_VIOLATION,
          );
          stats.rejected++;
          break;
        }
        model.ce[op.space]! += op.ce;
        const ecn = { ect0: 0, ect1: 0, ce: model.ce[op.space]! };
        const r: AckResult<string> = ld.onAckReceived(op.space, merged, op.ackDelay, now, ecn);
        // Exactly the tracked packets inside the ranges are newly acknowledged.
        const expected: string[] = [];
        for (const [key, status] of model.status) {
          const p = model.packets.get(key)!;
          if (
            status === 'tracked' &&
            p.space === op.space &&
            merged.some((m) => m.smallest <= p.packetNumber && p.packetNumber <= m.largest)
          ) {
            expected.push(key);
          }
        }
        assert.deepEqual(r.newlyAcked.map((p) => p.payload).sort(), expected.sort());
        transition(model, r.newlyAcked, 'acked');
        transition(model, r.lost, 'lost');
        stats.acked += r.newlyAcked.length;
        stats.lost += r.lost.length;
        if (r.persistentCongestion) stats.persistentCongestion++;
        model.largestAcked[op.space] = Math.max(model.largestAcked[op.space]!, merged[0]!.largest);
        assert.equal(ld.largestAcked(op.space), model.largestAcked[op.space]);
        for (const p of r.lost) {
          assert.ok(
            p.packetNumber < model.largestAcked[op.space]!,
            'only packets below the largest acked are lost',
          );
        }
        break;
      }
      case 'badAck': {
        const beyond = model.nextPn[op.space]! - 1 + op.beyond;
        assert.throws(
          () => ld.onAckReceived(op.space, [{ smallest: beyond, largest: beyond }], 0, now),
          (e: unknown) =>
            e instanceof QuicTransportError && e.errorCode === TransportErrorCode.PROTOCOL_VIOLATION,
        );
        break;
      }
      case 'timeout': {
        const due = ld.lossDetectionTimeout();
        now += op.dt;
        if (due !== undefined && due > now) now = due;
        const r = ld.onLossDetectionTimeout(now);
        const { lost, probe } = r;
        transition(model, lost, 'lost');
        stats.lost += lost.length;
        if (probe !== undefined) {
          stats.probes++;
          assert.ok(probe.count >= 1 && probe.count <= 2);
          assert.equal(lost.length, 0, 'a PTO declares nothing lost');
        }
        // An unarmed timer does nothing.
        if (due === undefined) assert.deepEqual(r, { lost: [] });
        break;
      }
      case 'discardPackets': {
        const removed = ld.discardPackets(op.space, (p) => p.packetNumber % op.mod === 0);
        for (const p of removed) assert.equal(p.packetNumber % op.mod, 0);
        transition(model, removed, 'discarded');
        break;
      }
      case 'discardSpace': {
        transition(model, ld.discardSpace(op.space, now), 'discarded');
        model.discarded[op.space] = true;
        break;
      }
      case 'confirm':
        ld.setHandshakeConfirmed();
        break;
      case 'amplification':
        ld.setAmplificationBlocked(op.blocked);
        break;
    }
    checkInvariants(model, ld, cc);
    const timeout = ld.lossDetectionTimeout();
    assert.ok(timeout === undefined || Number.isFinite(timeout));
  }
  // Every packet sent into a live space ends up exactly once acked, lost, discarded or still tracked.
  let count = 0;
  for (const status of model.status.values()) {
    assert.ok(status === 'tracked' || status === 'acked' || status === 'lost' || status === 'discarded');
    count++;
  }
  assert.equal(count, model.packets.size);
}

for (const [name, makeCc, numRuns] of [
  ['NewReno', () => new NewReno(), 300],
  ['CUBIC', () => new Cubic(), 200],
] as const) {
  test(`property: random send/ack/loss/discard sequences keep the accounting exact (${name})`, () => {
    const stats: Stats = { acked: 0, lost: 0, rejected: 0, persistentCongestion: 0, probes: 0 };
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 30, maxLength: 150, size: 'max' }),
        fc.boolean(),
        (ops, isServer) => {
          run(ops, isServer, makeCc, stats);
        },
      ),
      { numRuns },
    );
    // The generator really exercised acknowledgments, losses, rejected ACKs and probes.
    assert.ok(
      stats.acked > 500 && stats.lost > 50 && stats.rejected > 10 && stats.probes > 100,
      JSON.stringify(stats),
    );
  });
}

test('property: ACKs built by AckManager over a lossy, reordering path are always valid for LossDetector', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          burst: fc.integer({ min: 1, max: 12 }),
          dropMask: fc.integer({ min: 0, max: 0xfff }),
          reverse: fc.boolean(),
          ackEliciting: fc.boolean(),
          ackLost: fc.boolean(),
          dt: fc.integer({ min: 1, max: 60 }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      (rounds) => {
        const rtt = new RttEstimator();
        const cc = new NewReno();
        const ld = new LossDetector<number>({ rtt, congestion: cc, isServer: true });
        ld.setHandshakeConfirmed();
        const receiver = new AckManager({
          space: PacketNumberSpace.ApplicationData,
          maxAckDelay: 25,
          maxRanges: 8,
        });
        const seen = new Set<number>();
        let now = 0;
        let pn = 0;
        for (const round of rounds) {
          const flight: number[] = [];
          for (let i = 0; i < round.burst; i++) {
            ld.onPacketSent({
              packetNumber: pn,
              space: PacketNumberSpace.ApplicationData,
              timeSent: now,
              size: 1200,
              ackEliciting: round.ackEliciting || i === 0,
              inFlight: true,
              payload: pn,
            });
            if ((round.dropMask & (1 << i)) === 0) flight.push(pn);
            pn++;
          }
          if (round.reverse) flight.reverse();
          now += round.dt;
          for (const p of flight) {
            if (receiver.isDuplicate(p)) continue;
            receiver.onPacketReceived(p, true, now);
          }
          const frame = receiver.buildAckFrame(now, 3);
          if (frame === undefined || round.ackLost) continue;
          receiver.onAckSent();
          now += round.dt;
          const r = ld.onAckReceived(
            PacketNumberSpace.ApplicationData,
            frame.ranges,
            (frame.ackDelay * 8) / 1000,
            now,
          );
          for (const p of [...r.newlyAcked, ...r.lost]) {
            assert.ok(!seen.has(p.payload), `packet ${p.payload} reported twice`);
            seen.add(p.payload);
          }
          // Everything the receiver acknowledged was delivered.
          for (const p of r.newlyAcked) assert.ok(receiver.isDuplicate(p.payload));
          assert.ok(cc.bytesInFlight >= 0);
          assert.equal(cc.bytesInFlight, ld.sentPacketCount(PacketNumberSpace.ApplicationData) * 1200);
        }
        assert.equal(seen.size + ld.sentPacketCount(PacketNumberSpace.ApplicationData), pn);
      },
    ),
    { numRuns: 200 },
  );
});
