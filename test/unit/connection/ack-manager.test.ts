import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACK_DECIMATION, AckManager } from '../../../src/connection/ack-manager.js';
import { PacketNumberSpace } from '../../../src/recovery/types.js';
import { type AckFrame, FrameType } from '../../../src/wire/frames.js';

const { Initial, Handshake, ApplicationData: App } = PacketNumberSpace;

function app(opts: { threshold?: number; maxRanges?: number } = {}) {
  return new AckManager({
    space: App,
    maxAckDelay: 25,
    ackElicitingThreshold: opts.threshold,
    maxRanges: opts.maxRanges,
  });
}

const ranges = (f: AckFrame | undefined) => f?.ranges.map((r) => [r.largest, r.smallest]);

function varintLength(v: number): number {
  return v < 64 ? 1 : v < 16384 ? 2 : v < 2 ** 30 ? 4 : 8;
}

/** Encoded size of an ACK frame per RFC 9000 §19.3. */
function encodedSize(f: AckFrame): number {
  const r = f.ranges;
  let size = 1 + varintLength(r[0]!.largest) + varintLength(f.ackDelay) + varintLength(r.length - 1);
  size += varintLength(r[0]!.largest - r[0]!.smallest);
  for (let i = 1; i < r.length; i++) {
    size +=
      varintLength(r[i - 1]!.smallest - r[i]!.largest - 2) + varintLength(r[i]!.largest - r[i]!.smallest);
  }
  if (f.ecn) size += varintLength(f.ecn.ect0) + varintLength(f.ecn.ect1) + varintLength(f.ecn.ce);
  return size;
}

test('RFC 9000 §13.2.1: Initial and Handshake packets are acknowledged immediately', () => {
  for (const space of [Initial, Handshake]) {
    const m = new AckManager({ space, maxAckDelay: 25 });
    assert.equal(m.ackDeadline(), undefined);
    assert.equal(m.hasNewAckable, false);
    m.onPacketReceived(0, true, 100);
    assert.equal(m.ackDeadline(), 100);
    assert.equal(m.hasNewAckable, true);
    const f = m.buildAckFrame(100, 3);
    assert.equal(f?.type, FrameType.Ack);
    assert.deepEqual(ranges(f), [[0, 0]]);
    m.onAckSent();
    assert.equal(m.ackDeadline(), undefined);
  }
});

test('RFC 9000 §13.2.1, §13.2.2: application packets are acked after max_ack_delay or every 2nd ack-eliciting packet', () => {
  const m = app();
  m.onPacketReceived(0, true, 1000);
  assert.equal(m.ackDeadline(), 1025);
  m.onPacketReceived(1, true, 1010);
  assert.equal(m.ackDeadline(), 1010);
  m.onAckSent();
  assert.equal(m.ackDeadline(), undefined);
  assert.equal(m.hasNewAckable, false);
  m.onPacketReceived(2, true, 1020);
  assert.equal(m.ackDeadline(), 1045);
  // A later packet does not push the deadline back.
  m.onPacketReceived(3, false, 1030);
  assert.equal(m.ackDeadline(), 1045);
});

test('ackElicitingThreshold: acknowledge every 10th packet', () => {
  const m = app({ threshold: 10 });
  for (let pn = 0; pn < 9; pn++) m.onPacketReceived(pn, true, pn);
  assert.equal(m.ackDeadline(), 25);
  m.onPacketReceived(9, true, 9);
  assert.equal(m.ackDeadline(), 9);
});

test('RFC 9000 §13.2.1: non-ack-eliciting packets alone never make an ACK due', () => {
  const m = app();
  for (let pn = 0; pn < 10; pn += 2) m.onPacketReceived(pn, false, pn);
  assert.equal(m.ackDeadline(), undefined);
  // But they are acknowledged when an ACK is sent anyway.
  assert.equal(m.hasNewAckable, true);
  assert.deepEqual(ranges(m.buildAckFrame(20, 3)), [
    [8, 8],
    [6, 6],
    [4, 4],
    [2, 2],
    [0, 0],
  ]);
});

test('RFC 9000 §13.2.1: out-of-order and gapped ack-eliciting packets are acknowledged immediately', () => {
  const m = app();
  m.onPacketReceived(0, true, 0);
  m.onPacketReceived(1, true, 1);
  m.onAckSent();
  // Gap: 2 is missing.
  m.onPacketReceived(3, true, 10);
  assert.equal(m.ackDeadline(), 10);
  m.onAckSent();
  // Fills the hole below the largest.
  m.onPacketReceived(2, true, 20);
  assert.equal(m.ackDeadline(), 20);
  m.onAckSent();
  // In order again: delayed.
  m.onPacketReceived(4, true, 30);
  assert.equal(m.ackDeadline(), 55);
  m.onAckSent();
  // A gap behind a non-ack-eliciting packet counts too: 5 (non-eliciting) then 7.
  m.onPacketReceived(5, false, 40);
  assert.equal(m.ackDeadline(), undefined);
  m.onPacketReceived(7, true, 41);
  assert.equal(m.ackDeadline(), 41);
  m.onAckSent();
  // No gap: 8 follows 7 directly, 9 is non-eliciting, 10 continues after it.
  m.onPacketReceived(8, true, 50);
  m.onAckSent();
  m.onPacketReceived(9, false, 51);
  m.onPacketReceived(10, true, 52);
  assert.equal(m.ackDeadline(), 77);
});

test('RFC 9000 §13.2.1, §13.4.1: ECN-CE is acknowledged immediately and ECN counts are reported', () => {
  const m = app();
  m.onPacketReceived(0, true, 0, 'ect0');
  assert.equal(m.ackDeadline(), 25);
  m.onAckSent();
  m.onPacketReceived(1, true, 5, 'ce');
  assert.equal(m.ackDeadline(), 5);
  m.onPacketReceived(2, false, 6, 'ect1');
  assert.deepEqual(m.buildAckFrame(6, 3)?.ecn, { ect0: 1, ect1: 1, ce: 1 });
  assert.deepEqual(m.ecnCounts, { ect0: 1, ect1: 1, ce: 1 });
  // Without marks, no ECN section.
  const plain = app();
  plain.onPacketReceived(0, true, 0);
  assert.equal(plain.buildAckFrame(0, 3)?.ecn, undefined);
});

test('RFC 9000 §13.2.3, §19.3: ranges of a gappy sequence, descending; ACK Delay scaled by the exponent', () => {
  const m = app();
  for (const pn of [0, 1, 2, 5, 6, 9]) m.onPacketReceived(pn, true, 10);
  assert.equal(m.largestReceived, 9);
  const f = m.buildAckFrame(15, 3);
  assert.deepEqual(ranges(f), [
    [9, 9],
    [6, 5],
    [2, 0],
  ]);
  // 5 ms = 5000 us, in units of 2^3 us.
  assert.equal(f?.ackDelay, 625);
  assert.equal(m.buildAckFrame(15, 0)?.ackDelay, 5000);
  assert.equal(m.buildAckFrame(10, 3)?.ackDelay, 0);
  // Filling holes merges ranges, in any order.
  for (const pn of [4, 3, 7, 8]) m.onPacketReceived(pn, true, 20);
  assert.deepEqual(ranges(m.buildAckFrame(20, 3)), [[9, 0]]);
  assert.equal(m.rangeCount, 1);
  // The ACK delay is measured from the arrival of the largest packet (9 at t=10).
  assert.equal(m.buildAckFrame(20, 3)?.ackDelay, 1250);
});

test('RFC 9000 §12.3: duplicates are detected, and a duplicate changes nothing', () => {
  const m = app();
  assert.equal(m.largestReceived, -1);
  assert.equal(m.isDuplicate(0), false);
  m.onPacketReceived(5, true, 0);
  m.onPacketReceived(7, true, 0);
  assert.equal(m.isDuplicate(5), true);
  assert.equal(m.isDuplicate(7), true);
  assert.equal(m.isDuplicate(6), false);
  assert.equal(m.isDuplicate(4), false);
  assert.equal(m.isDuplicate(8), false);
  m.onAckSent();
  m.onPacketReceived(7, true, 1, 'ce');
  assert.equal(m.ackDeadline(), undefined);
  assert.equal(m.hasNewAckable, false);
  assert.deepEqual(m.ecnCounts, { ect0: 0, ect1: 0, ce: 0 });
});

test('RFC 9000 §13.2.4: an acknowledged ACK stops the ranges at or below its Largest Acknowledged', () => {
  const m = app();
  for (const pn of [0, 1, 2, 5, 6, 9]) m.onPacketReceived(pn, true, 10);
  m.onAckSent();
  m.onAckOfAckReceived(5);
  assert.deepEqual(ranges(m.buildAckFrame(20, 3)), [
    [9, 9],
    [6, 6],
  ]);
  // Everything at or below 5 now counts as received, even 3 and 4 which never arrived.
  assert.equal(m.isDuplicate(3), true);
  assert.equal(m.isDuplicate(5), true);
  assert.equal(m.isDuplicate(7), false);
  assert.equal(m.isDuplicate(8), false);
  // An older ack-of-ack changes nothing.
  m.onAckOfAckReceived(2);
  assert.equal(m.rangeCount, 2);
  m.onAckOfAckReceived(9);
  assert.equal(m.rangeCount, 0);
  assert.equal(m.buildAckFrame(30, 3), undefined);
  assert.equal(m.hasNewAckable, false);
  // The largest received survives (packet number decoding needs it).
  assert.equal(m.largestReceived, 9);
  m.onPacketReceived(10, true, 40);
  assert.deepEqual(ranges(m.buildAckFrame(40, 3)), [[10, 10]]);
  // 10 directly follows the acknowledged 9: in order, not urgent.
  assert.equal(m.ackDeadline(), 65);
});

test('RFC 9000 §13.2.3: every other packet for 100k packets keeps the ranges bounded', () => {
  const m = app({ maxRanges: 64 });
  for (let pn = 0; pn < 200_000; pn += 2) m.onPacketReceived(pn, true, pn / 1000);
  assert.equal(m.rangeCount, 64);
  const f = m.buildAckFrame(200, 3)!;
  assert.equal(f.ranges.length, 64);
  assert.equal(f.ranges[0]!.largest, 199_998);
  assert.equal(f.ranges[63]!.smallest, 199_998 - 126);
  // Old, pruned packet numbers count as duplicates; recent holes do not.
  assert.equal(m.isDuplicate(1), true);
  assert.equal(m.isDuplicate(199_998 - 128), true);
  assert.equal(m.isDuplicate(199_997), false);
  assert.equal(m.isDuplicate(199_998 - 125), false);
  assert.equal(m.largestReceived, 199_998);
});

test('RFC 9000 §13.2.3: ranges out of maxBytes are left out, oldest first', () => {
  const m = app();
  for (let pn = 0; pn < 100; pn += 2) m.onPacketReceived(pn, true, 0);
  const full = m.buildAckFrame(1, 3)!;
  assert.equal(full.ranges.length, 50);
  // type, largest 98, delay 125, count 49, first range 0, then 49 x (gap 0, length 0)
  assert.equal(encodedSize(full), 1 + 2 + 2 + 1 + 1 + 49 * 2);
  for (const maxBytes of [7, 8, 9, 10, 20, 50, 104, 105]) {
    const f = m.buildAckFrame(1, 3, maxBytes)!;
    assert.ok(encodedSize(f) <= maxBytes, `size ${encodedSize(f)} > ${maxBytes}`);
    assert.ok(encodedSize(f) > maxBytes - 2 || f.ranges.length === 50, `${maxBytes}: too few ranges`);
    assert.equal(f.ranges[0]!.largest, 98);
  }
  assert.equal(m.buildAckFrame(1, 3, 6), undefined);
  assert.equal(m.buildAckFrame(1, 3, 7)?.ranges.length, 1);
});

test('the maximum ACK delay only applies in the Application Data space', () => {
  const m = new AckManager({ space: Handshake, maxAckDelay: 25, immediateAck: false });
  m.onPacketReceived(0, true, 7);
  assert.equal(m.ackDeadline(), 7);
});

describe('AckManager.ackUrgent (batching drivers, issue 16)', () => {
  const app = () => new AckManager({ space: PacketNumberSpace.ApplicationData, maxAckDelay: 25 });

  test('in-order packets become urgent only at the batch limit', () => {
    const m = app();
    for (let pn = 0; pn < 7; pn++) {
      m.onPacketReceived(pn, true, 0);
      assert.equal(m.ackUrgent(8), false, `after ${pn + 1} packets`);
    }
    m.onPacketReceived(7, true, 0);
    assert.equal(m.ackUrgent(8), true);
    m.onAckSent();
    assert.equal(m.ackUrgent(8), false);
  });

  test('a gap (a loss, or a probe after a skipped packet number) is urgent at once (RFC 9000 §13.2.1)', () => {
    const m = app();
    m.onPacketReceived(0, true, 0);
    m.onAckSent();
    m.onPacketReceived(2, true, 0); // 1 skipped
    assert.equal(m.ackUrgent(8), true);
    m.onAckSent();
    m.onPacketReceived(3, true, 0);
    assert.equal(m.ackUrgent(8), false, 'in order again');
    m.onPacketReceived(1, true, 0); // fills the hole: also out of order
    assert.equal(m.ackUrgent(8), true);
  });

  test('ECN-CE is urgent; Initial and Handshake packets always are', () => {
    const m = app();
    m.onPacketReceived(0, true, 0, 'ce');
    assert.equal(m.ackUrgent(8), true);
    const h = new AckManager({ space: PacketNumberSpace.Handshake, maxAckDelay: 25 });
    h.onPacketReceived(0, true, 0);
    assert.equal(h.ackUrgent(8), true);
  });
});

describe('ACK decimation (issue 13; docs/recovery.md)', () => {
  const D = ACK_DECIMATION;
  const rttOf = (minRtt: number, hasSample = true) => ({ minRtt, hasSample });
  const decimated = (minRtt = 40, opts: { decimation?: false } = {}) =>
    new AckManager({ space: App, maxAckDelay: 25, rtt: rttOf(minRtt), ...opts });
  /** Receives packets from..to-1 in order at `now`, sending an ACK whenever one is due. */
  function inOrder(m: AckManager, from: number, to: number, now = 0): number {
    let acks = 0;
    for (let pn = from; pn < to; pn++) {
      m.onPacketReceived(pn, true, now);
      if ((m.ackDeadline() ?? Number.POSITIVE_INFINITY) <= now) {
        m.onAckSent();
        acks++;
      }
    }
    return acks;
  }

  test('the RFC rate for the first 100 ack-eliciting packets, then an ACK every ACK_DECIMATION.every-th', () => {
    const m = decimated();
    assert.equal(inOrder(m, 0, D.after), D.after / 2, 'every second packet first (RFC 9000 §13.2.2)');
    assert.equal(m.decimating, true);
    for (let pn = D.after; pn < D.after + D.every - 1; pn++) {
      m.onPacketReceived(pn, true, 1000);
      assert.ok(m.ackDeadline()! > 1000, `ACK due after ${pn - D.after + 1} packets`);
    }
    m.onPacketReceived(D.after + D.every - 1, true, 1000);
    assert.equal(m.ackDeadline(), 1000);
    m.onAckSent();
    assert.equal(inOrder(m, D.after + D.every, D.after + 11 * D.every), 10);
  });

  test('the decimated ACK delay: min(max_ack_delay, max(1 ms, min_rtt / 4)) after the first unacknowledged packet (RFC 9000 §13.2.1)', () => {
    for (const [minRtt, delay] of [
      [40, 10],
      [2, 1], // a quarter of a loopback RTT is below the timer granularity
      [0.2, 1],
      [100, 25], // never beyond max_ack_delay
      [1000, 25],
    ] as const) {
      const m = decimated(minRtt);
      inOrder(m, 0, D.after);
      m.onPacketReceived(D.after, true, 5000);
      assert.equal(m.ackDeadline(), 5000 + delay, `min_rtt ${minRtt}`);
      // Later packets do not push it back.
      m.onPacketReceived(D.after + 1, true, 5000 + delay / 2);
      assert.equal(m.ackDeadline(), 5000 + delay);
    }
    // No RTT sample yet: max_ack_delay.
    const m = new AckManager({ space: App, maxAckDelay: 25, rtt: rttOf(0, false) });
    inOrder(m, 0, D.after);
    m.onPacketReceived(D.after, true, 5000);
    assert.equal(m.ackDeadline(), 5025);
  });

  test('every immediate case of RFC 9000 §13.2.1 stays immediate while decimating', () => {
    const cases: Array<[string, (m: AckManager, next: number) => void]> = [
      ['a gap before the packet', (m, next) => m.onPacketReceived(next + 1, true, 7000)],
      [
        'a packet filling a gap',
        (m, next) => {
          m.onPacketReceived(next + 1, true, 6000);
          m.onAckSent();
          m.onPacketReceived(next, true, 7000);
        },
      ],
      ['ECN-CE', (m, next) => m.onPacketReceived(next, true, 7000, 'ce')],
      ['a probe (PING only)', (m, next) => m.onPacketReceived(next, true, 7000, undefined, true)],
    ];
    for (const [name, receive] of cases) {
      const m = decimated();
      inOrder(m, 0, D.after + 3);
      m.onPacketReceived(D.after + 3, true, 6000);
      m.onAckSent();
      assert.equal(m.decimating, true);
      receive(m, D.after + 4);
      assert.equal(m.ackDeadline(), 7000, name);
      assert.equal(m.ackUrgent(8), true, name);
    }
    // Initial and Handshake packets are never decimated.
    for (const space of [Initial, Handshake]) {
      const m = new AckManager({ space, maxAckDelay: 25, rtt: rttOf(40) });
      for (let pn = 0; pn < 2 * D.after; pn++) {
        m.onPacketReceived(pn, true, pn);
        assert.equal(m.ackDeadline(), pn);
        m.onAckSent();
      }
      assert.equal(m.decimating, false);
    }
  });

  test('after a gap or ECN-CE: the RFC rate for the next 20 ack-eliciting packets (the sender is recovering)', () => {
    for (const disorder of ['gap', 'ce'] as const) {
      const m = decimated();
      inOrder(m, 0, 300);
      assert.equal(m.decimating, true);
      m.onAckSent();
      if (disorder === 'gap') m.onPacketReceived(301, true, 1000);
      else m.onPacketReceived(300, true, 1000, 'ce');
      m.onAckSent();
      const next = disorder === 'gap' ? 302 : 301;
      assert.equal(m.decimating, false, disorder);
      assert.equal(inOrder(m, next, next + D.quiet - 1, 1000), (D.quiet - 1) >> 1, disorder);
      assert.equal(m.decimating, false, disorder);
      // Back to decimation once `quiet` packets arrived in order since.
      m.onPacketReceived(next + D.quiet - 1, true, 1000);
      assert.equal(m.decimating, true, disorder);
    }
  });

  test('a decimated ACK sent by its timer (a slow flow) brings the RFC rate back for 100 packets; by the count or piggybacked, not', () => {
    const m = decimated(40);
    inOrder(m, 0, D.after);
    // The count sends it: decimation goes on.
    inOrder(m, D.after, D.after + D.every, 1000);
    assert.equal(m.decimating, true);
    // Piggybacked on a packet sent before the deadline: goes on.
    m.onPacketReceived(D.after + D.every, true, 2000);
    m.onAckSent(2005);
    assert.equal(m.decimating, true);
    // The timer: 3 packets within a quarter of min_rtt (10 ms).
    for (let i = 1; i <= 3; i++) m.onPacketReceived(D.after + D.every + i, true, 3000 + i);
    assert.equal(m.ackDeadline(), 3011);
    m.onAckSent(3011);
    assert.equal(m.decimating, false);
    const next = D.after + D.every + 4;
    assert.equal(inOrder(m, next, next + D.after - 1, 4000), (D.after - 1) >> 1);
    assert.equal(m.decimating, false);
    m.onPacketReceived(next + D.after - 1, true, 4000);
    assert.equal(m.decimating, true);
  });

  test('while decimating, the batch limit of a batching driver rises to the decimated count', () => {
    const m = decimated();
    inOrder(m, 0, D.after);
    for (let pn = D.after; pn < D.after + D.every - 1; pn++) {
      m.onPacketReceived(pn, true, 0);
      assert.equal(m.ackUrgent(8), false, `${pn - D.after + 1} packets`);
    }
    m.onPacketReceived(D.after + D.every - 1, true, 0);
    assert.equal(m.ackUrgent(8), true);
  });

  test('decimation: false keeps the RFC rate throughout; non-ack-eliciting packets do not count', () => {
    const m = decimated(40, { decimation: false });
    assert.equal(inOrder(m, 0, 1000), 500);
    assert.equal(m.decimating, false);
    const n = decimated();
    for (let pn = 0; pn < 2 * D.after; pn++) n.onPacketReceived(pn, false, 0);
    assert.equal(n.decimating, false);
    assert.equal(n.ackDeadline(), undefined);
  });
});
