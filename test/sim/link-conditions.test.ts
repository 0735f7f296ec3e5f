import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LinkConditions, SimNetwork, type TraceEntry } from './network.js';
import { NumberedReceiver, NumberedSender, numberedDatagram, RecorderNode } from './toy-nodes.js';

const A = '192.0.2.1:50000';
const B = '198.51.100.7:443';
const C = '203.0.113.9:443';

/** A sender streaming `count` numbered datagrams (one per `interval` ms) from A to B over `conditions`. */
function stream(
  seed: number,
  conditions: LinkConditions,
  opts: { count: number; size?: number; interval?: number; rto?: number; ack?: boolean } = { count: 100 },
) {
  const net = new SimNetwork({ seed, startTime: 0 });
  const sender = new NumberedSender({
    peer: B,
    count: opts.count,
    size: opts.size ?? 100,
    interval: opts.interval ?? 1,
    rto: opts.rto,
  });
  const receiver = new NumberedReceiver(opts.ack ?? false);
  net.addNode(A, sender);
  net.addNode(B, receiver);
  net.setLink(A, B, conditions);
  return { net, sender, receiver };
}

function fates(trace: TraceEntry[], fate: TraceEntry['fate']): TraceEntry[] {
  return trace.filter((e) => e.fate === fate);
}

test('delay and jitter: every one-way delay lies in [delay, delay + jitter), spread over it, reordering some', () => {
  const { net, receiver } = stream(11, { delay: 25, jitter: 20 }, { count: 500 });
  net.run({});
  assert.equal(receiver.arrivals.length, 500);
  const delays = receiver.arrivals.map(([time, seq]) => time - seq); // datagram seq was sent at t = seq
  for (const d of delays) assert.ok(d >= 25 && d < 45, `delay ${d}`);
  assert.ok(Math.min(...delays) < 26 && Math.max(...delays) > 44);
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
  assert.ok(Math.abs(mean - 35) < 1.5, `mean delay ${mean}`);
  let inversions = 0;
  for (let i = 1; i < receiver.arrivals.length; i++) {
    if (receiver.arrivals[i]![1] < receiver.arrivals[i - 1]![1]) inversions++;
  }
  assert.ok(inversions > 50, `inversions ${inversions}`);
  // The trace records each arrival.
  for (const e of net.trace)
    assert.ok(e.arrival !== undefined && e.arrival - e.time >= 25 && e.arrival - e.time < 45);
});

test('bandwidth: a burst is serialized back to back (1000 B at 1 Mbit/s = 8 ms each)', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  const a = new RecorderNode();
  const b = new RecorderNode();
  net.addNode(A, a);
  net.addNode(B, b);
  net.setLink(A, B, { delay: 10, bandwidth: 1_000_000 });
  for (let i = 0; i < 10; i++) a.send(B, numberedDatagram(i, 1000));
  net.run({});
  assert.deepEqual(
    b.received.map((r) => r.time),
    [18, 26, 34, 42, 50, 58, 66, 74, 82, 90],
  );
  // The reverse direction was not configured: no serialization delay there.
  b.send(A, new Uint8Array(1000));
  net.at(100, () => {});
  net.run({});
  assert.deepEqual(
    a.received.map((r) => r.time),
    [100],
  );
});

test('bandwidth queue: drop-tail at queueBytes, counting datagrams not yet fully serialized', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  const a = new RecorderNode();
  const b = new RecorderNode();
  net.addNode(A, a);
  net.addNode(B, b);
  net.setLink(A, B, { delay: 10, bandwidth: 1_000_000, queueBytes: 5000 });
  // t=0: ten 1000-byte datagrams; five fit (serialized by 8, 16, 24, 32, 40), five are dropped.
  for (let i = 0; i < 10; i++) a.send(B, numberedDatagram(i, 1000));
  // t=20: two have left the queue, 3000 bytes remain: two of five more fit (serialized by 48, 56).
  net.at(20, () => {
    for (let i = 10; i < 15; i++) a.send(B, numberedDatagram(i, 1000));
  });
  // t=100: the queue is empty again: five fit.
  net.at(100, () => {
    for (let i = 15; i < 21; i++) a.send(B, numberedDatagram(i, 1000));
  });
  net.run({});
  const seqs = b.received.map((r) => new DataView(r.data.buffer).getUint32(0));
  assert.deepEqual(seqs, [0, 1, 2, 3, 4, 10, 11, 15, 16, 17, 18, 19]);
  assert.deepEqual(
    b.received.map((r) => r.time),
    [18, 26, 34, 42, 50, 58, 66, 118, 126, 134, 142, 150],
  );
  const s = net.linkStats(A, B);
  assert.equal(s.queueDropped, 9);
  assert.equal(fates(net.trace, 'queue-drop').length, 9);
  assert.equal(s.sent, 21);
  assert.equal(s.delivered, 12);
});

test('loss: the loss rate is within statistical bounds for a fixed seed; 0 and 1 are exact', () => {
  const { net, receiver } = stream(2024, { loss: 0.1 }, { count: 10_000, size: 20 });
  net.run({});
  const s = net.stats();
  assert.equal(s.sent, 10_000);
  // Binomial(10000, 0.1): sd = 30; +-4 sd.
  assert.ok(s.lost >= 880 && s.lost <= 1120, `lost ${s.lost}`);
  assert.equal(s.delivered, 10_000 - s.lost);
  assert.equal(receiver.unique.size, 10_000 - s.lost);
  assert.equal(fates(net.trace, 'lost').length, s.lost);
  // No long runs of consecutive losses at 10% (a sanity check on independence).
  let run = 0;
  let longest = 0;
  for (const e of net.trace) {
    run = e.fate === 'lost' ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  assert.ok(longest < 8, `longest loss run ${longest}`);

  const none = stream(1, { loss: 0 }, { count: 300 });
  none.net.run({});
  assert.equal(none.receiver.unique.size, 300);
  const all = stream(1, { loss: 1 }, { count: 300 });
  all.net.run({});
  assert.equal(all.receiver.received.length, 0);
  assert.equal(all.net.stats().lost, 300);
});

test('reordering: a fraction of datagrams gets exactly reorderDelay extra and arrives after later ones', () => {
  const { net, receiver } = stream(5, { delay: 10, reorder: 0.1 }, { count: 1000 });
  net.run({});
  assert.equal(receiver.arrivals.length, 1000);
  const delays = receiver.arrivals.map(([time, seq]) => time - seq);
  const late = delays.filter((d) => d === 30).length; // reorderDelay defaults to 2 * delay
  assert.equal(late + delays.filter((d) => d === 10).length, 1000);
  assert.ok(late >= 70 && late <= 130, `reordered ${late}`);
  const order = receiver.arrivals.map(([, seq]) => seq);
  assert.notDeepEqual(
    order,
    [...order].sort((x, y) => x - y),
  );
  assert.equal(new Set(order).size, 1000);

  const custom = stream(5, { delay: 10, reorder: 1, reorderDelay: 3 }, { count: 10 });
  custom.net.run({});
  assert.deepEqual(
    custom.receiver.arrivals.map(([time, seq]) => time - seq),
    new Array(10).fill(13),
  );
});

test('duplication: duplicated datagrams arrive exactly twice, byte-identical', () => {
  const { net, receiver } = stream(6, { duplicate: 0.2, jitter: 5 }, { count: 1000, size: 64 });
  net.run({});
  const s = net.stats();
  assert.ok(s.duplicated >= 150 && s.duplicated <= 250, `duplicated ${s.duplicated}`);
  assert.equal(receiver.received.length, 1000 + s.duplicated);
  assert.equal(s.delivered, 1000 + s.duplicated);
  const copies = new Map<number, number>();
  for (const [, seq] of receiver.arrivals) copies.set(seq, (copies.get(seq) ?? 0) + 1);
  assert.equal(copies.size, 1000);
  const twice = [...copies.entries()].filter(([, n]) => n === 2).map(([seq]) => seq);
  assert.equal(twice.length, s.duplicated);
  assert.ok([...copies.values()].every((n) => n === 1 || n === 2));
  // The trace marks exactly those datagrams.
  assert.deepEqual(
    fates(net.trace, 'duplicated').map((e) => e.time),
    twice.sort((x, y) => x - y),
  );
  for (const r of receiver.received) {
    const seq = new DataView(r.data.buffer).getUint32(0);
    assert.deepEqual(r.data, numberedDatagram(seq, 64));
  }
});

test('corruption: a corrupted datagram differs from what was sent in exactly one byte', () => {
  const { net, receiver } = stream(8, { corrupt: 0.3 }, { count: 1000, size: 50 });
  net.run({});
  const s = net.stats();
  assert.ok(s.corrupted >= 240 && s.corrupted <= 360, `corrupted ${s.corrupted}`);
  assert.equal(receiver.received.length, 1000); // corrupted datagrams are still delivered
  let changed = 0;
  receiver.received.forEach((r, i) => {
    const original = numberedDatagram(i, 50); // no delay variation: arrival order is send order
    assert.equal(r.data.length, 50);
    let diff = 0;
    for (let j = 0; j < 50; j++) if (r.data[j] !== original[j]) diff++;
    assert.ok(diff <= 1, `datagram ${i} differs in ${diff} bytes`);
    changed += diff;
  });
  assert.equal(changed, s.corrupted);
  assert.equal(fates(net.trace, 'corrupted').length, s.corrupted);
  // The toy integrity check rejects every corrupted datagram (the byte may be anywhere).
  assert.equal(receiver.corrupted, s.corrupted);
  assert.equal(receiver.unique.size, 1000 - s.corrupted);
});

test('blackhole: exactly the datagrams sent in [start, end) are dropped', () => {
  const { net, receiver } = stream(
    9,
    { blackholes: [{ start: 300, end: 500 }] },
    { count: 100, interval: 10 },
  );
  net.run({});
  const missing: number[] = [];
  for (let seq = 0; seq < 100; seq++) if (!receiver.unique.has(seq)) missing.push(seq);
  // Datagram seq is sent at 10 * seq: 30 (at 300) through 49 (at 490) are dropped; 50 (at 500) is not.
  assert.deepEqual(
    missing,
    Array.from({ length: 20 }, (_, i) => 30 + i),
  );
  assert.deepEqual(
    fates(net.trace, 'blackholed').map((e) => e.time),
    missing.map((seq) => seq * 10),
  );
  assert.equal(net.stats().blackholed, 20);
});

test('lossIf: custom loss sees index, time and bytes; a retransmitting sender still completes', () => {
  const seen: Array<{ now: number; index: number }> = [];
  const { net, sender, receiver } = stream(
    10,
    {
      // The first five datagrams on the link, and datagram 7 while t < 100 ("during the handshake").
      lossIf: ({ now, index, datagram }) => {
        seen.push({ now, index });
        const seq = new DataView(datagram.buffer, datagram.byteOffset).getUint32(0);
        return index < 5 || (seq === 7 && now < 100);
      },
    },
    { count: 20, interval: 1, rto: 40, ack: true },
  );
  net.run({ until: () => sender.done });
  assert.equal(receiver.unique.size, 20);
  assert.deepEqual(
    seen.map((s) => s.index),
    Array.from({ length: seen.length }, (_, i) => i),
  );
  assert.deepEqual(
    seen.slice(0, 20).map((s) => s.now),
    Array.from({ length: 20 }, (_, i) => i),
  );
  // 0..4 and 7 are lost at first; the retransmissions of 0..4 (t=40..44) pass; 7 is also lost when
  // retransmitted at t=47 and t=87 (< 100) and passes at t=127.
  assert.equal(net.stats().lost, 8);
  assert.deepEqual(
    sender.sent.filter(([, seq]) => seq === 7).map(([t]) => t),
    [7, 47, 87, 127],
  );
  assert.equal(receiver.arrivals.find(([, seq]) => seq === 7)?.[0], 137);
});

test('all impairments at once, both directions: a retransmitting sender delivers every datagram', () => {
  const conditions: LinkConditions = {
    delay: 20,
    jitter: 3,
    loss: 0.1,
    reorder: 0.05,
    duplicate: 0.05,
    corrupt: 0.02,
  };
  const { net, sender, receiver } = stream(12, conditions, {
    count: 2000,
    interval: 0.5,
    rto: 100,
    ack: true,
  });
  net.setLink(B, A, conditions);
  net.run({ until: () => sender.done });
  assert.equal(receiver.unique.size, 2000);
  const s = net.stats();
  assert.ok(s.lost > 0 && s.duplicated > 0 && s.corrupted > 0);
  assert.ok(sender.retransmissions > 0);
  assert.ok(net.linkStats(B, A).lost > 0);
});

test('determinism: the same seed gives the same trace and arrivals; another seed does not', () => {
  const conditions: LinkConditions = {
    delay: 15,
    jitter: 10,
    loss: 0.05,
    reorder: 0.1,
    duplicate: 0.05,
    corrupt: 0.05,
  };
  const runOnce = (seed: number) => {
    const { net, sender, receiver } = stream(seed, conditions, {
      count: 300,
      interval: 2,
      rto: 80,
      ack: true,
    });
    net.setLink(B, A, { ...conditions, bandwidth: 100_000 });
    const captured: Uint8Array[] = [];
    net.onSend((e) => captured.push(e.datagram));
    const end = net.run({ until: () => sender.done });
    return { end, trace: net.trace, arrivals: receiver.arrivals, received: receiver.received, captured };
  };
  const first = runOnce(31337);
  const second = runOnce(31337);
  assert.deepEqual(second, first);
  const other = runOnce(31338);
  assert.notDeepEqual(other.trace, first.trace);
  assert.notDeepEqual(other.arrivals, first.arrivals);
});

test('each link and each impairment has its own random stream', () => {
  const lostSeqs = (conditions: LinkConditions, extraTraffic: boolean) => {
    const { net, receiver } = stream(77, conditions, { count: 500 });
    if (extraTraffic) {
      const other = new NumberedSender({ peer: C, count: 500, interval: 1 });
      net.addNode('192.0.2.2:50000', other);
      net.addNode(C, new RecorderNode());
      net.setLink('192.0.2.2:50000', C, { loss: 0.5 });
    }
    net.run({});
    return Array.from({ length: 500 }, (_, i) => i).filter((seq) => !receiver.unique.has(seq));
  };
  const base = lostSeqs({ loss: 0.2 }, false);
  assert.ok(base.length > 50);
  assert.deepEqual(lostSeqs({ loss: 0.2, jitter: 7, duplicate: 0.3 }, false), base);
  assert.deepEqual(lostSeqs({ loss: 0.2 }, true), base);
});

test('conditions can change mid-run; setPath configures both directions', () => {
  const { net, receiver } = stream(13, {}, { count: 100, interval: 1 });
  net.at(50, () => net.setLink(A, B, { loss: 1 }));
  net.run({});
  assert.deepEqual(
    [...receiver.unique].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );

  const net2 = new SimNetwork({ seed: 1, startTime: 0 });
  const a = new RecorderNode();
  const b = new RecorderNode();
  net2.addNode(A, a);
  net2.addNode(B, b);
  net2.setPath(A, B, { delay: 42 });
  a.send(B, Uint8Array.of(1));
  b.send(A, Uint8Array.of(2));
  net2.run({});
  assert.deepEqual([a.received[0]?.time, b.received[0]?.time], [42, 42]);
});

/** Lengths of the runs of consecutive lost datagrams in a trace. */
function lossRuns(trace: TraceEntry[]): number[] {
  const runs: number[] = [];
  let n = 0;
  for (const e of trace) {
    if (e.fate === 'lost') n++;
    else if (n > 0) {
      runs.push(n);
      n = 0;
    }
  }
  if (n > 0) runs.push(n);
  return runs;
}

test('burstRuns: each run is exactly `length` datagrams (unless runs touch), started at the given rate', () => {
  const { net } = stream(77, { burstRuns: { start: 0.01, length: 8 } }, { count: 20_000, size: 20 });
  net.run({});
  const runs = lossRuns(net.trace.slice(-10_000));
  assert.ok(runs.length > 40 && runs.length < 120, `${runs.length} runs in 10,000 datagrams`);
  for (const r of runs) assert.ok(r % 8 === 0 || r > 8, `run of ${r}`);
  assert.ok(runs.filter((r) => r === 8).length > runs.length * 0.8);
});

test('Gilbert-Elliott: loss rate p/(p+r) and mean burst length 1/r', () => {
  const { net } = stream(78, { gilbertElliott: { p: 0.01, r: 0.25 } }, { count: 10_000, size: 20 });
  net.run({});
  const trace = net.trace;
  const lost = fates(trace, 'lost').length / trace.length;
  assert.ok(Math.abs(lost - 0.01 / 0.26) < 0.015, `loss rate ${lost}`);
  const runs = lossRuns(trace);
  const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
  assert.ok(mean > 3 && mean < 5, `mean burst ${mean}`);
  // lossBad < 1: the Bad state loses only some datagrams.
  const soft = stream(
    78,
    { gilbertElliott: { p: 0.01, r: 0.25, lossBad: 0.5 } },
    { count: 10_000, size: 20 },
  );
  soft.net.run({});
  const softLost = fates(soft.net.trace, 'lost').length / soft.net.trace.length;
  assert.ok(Math.abs(softLost - 0.5 * (0.01 / 0.26)) < 0.01, `loss rate ${softLost}`);
});

test('dropFirst loses exactly the first N datagrams; ackLoss only small datagrams inside its window', () => {
  const first = stream(79, { dropFirst: 8 }, { count: 20 });
  first.net.run({});
  assert.deepEqual(
    first.net.trace.map((e) => e.fate === 'lost'),
    [...Array(20)].map((_, i) => i < 8),
  );
  // Datagrams alternate between 50 and 1000 bytes; 100 datagrams, one per ms from t=0.
  const net = new SimNetwork({ seed: 80, startTime: 0 });
  const a = new RecorderNode();
  net.addNode(A, a);
  net.addNode(B, new RecorderNode());
  net.setLink(A, B, { ackLoss: { start: 20, end: 40 } });
  for (let i = 0; i < 100; i++) net.at(i, () => a.send(B, numberedDatagram(i, i % 2 === 0 ? 50 : 1000)));
  net.run({});
  for (const e of net.trace) {
    const inWindow = e.time >= 20 && e.time < 40;
    assert.equal(e.fate === 'lost', inWindow && e.size <= 100, `t=${e.time} size=${e.size}`);
  }
  assert.throws(() => net.setLink(A, B, { burstRuns: { start: 0.1, length: 0 } }), RangeError);
  assert.throws(() => net.setLink(A, B, { gilbertElliott: { p: 2, r: 0.1 } }), RangeError);
});
