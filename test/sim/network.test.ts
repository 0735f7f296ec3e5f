import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Millis } from '../../src/util/time.js';
import {
  DEFAULT_START_TIME,
  formatSeedHint,
  SimLivelockError,
  SimNetwork,
  type SimNode,
  SimTimeoutError,
  simSeed,
  withSimSeed,
} from './network.js';
import { EchoNode, NumberedReceiver, NumberedSender, numberedDatagram, RecorderNode } from './toy-nodes.js';

const A = '10.0.0.1:50000';
const B = '10.0.0.2:4433';
const C = '10.0.0.3:4433';

/** A node whose timer is driven by a list of requested deadlines; records when handleTimeout runs. */
class TimerNode implements SimNode {
  readonly fired: Millis[] = [];
  constructor(public deadline: Millis | undefined) {}
  receive(): void {}
  transmit(): undefined {
    return undefined;
  }
  nextTimeout(): Millis | undefined {
    return this.deadline;
  }
  handleTimeout(now: Millis): void {
    this.fired.push(now);
    this.deadline = undefined;
  }
}

test('default link: 10 ms one-way delay; the datagram arrives intact, from the sender address', () => {
  const net = new SimNetwork({ seed: 1 });
  assert.equal(net.now, DEFAULT_START_TIME);
  const a = new RecorderNode();
  const b = new RecorderNode();
  net.addNode(A, a);
  net.addNode(B, b);
  a.send(B, Uint8Array.of(1, 2, 3));
  const end = net.run({});
  assert.equal(end, DEFAULT_START_TIME + 10);
  assert.equal(b.received.length, 1);
  assert.deepEqual(b.received[0], { time: DEFAULT_START_TIME + 10, from: A, data: Uint8Array.of(1, 2, 3) });
  assert.deepEqual(net.trace, [
    {
      time: DEFAULT_START_TIME,
      from: A,
      to: B,
      size: 3,
      fate: 'delivered',
      arrival: DEFAULT_START_TIME + 10,
    },
  ]);
  const s = net.stats();
  assert.equal(s.sent, 1);
  assert.equal(s.delivered, 1);
  assert.equal(s.bytesSent, 3);
  assert.equal(s.bytesDelivered, 3);
  assert.equal(s.lost, 0);
  assert.equal(s.events, 1);
  assert.deepEqual(net.linkStats(B, A).sent, 0);
});

test('ping-pong over asymmetric delays: each round trip takes 10 + 30 ms', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  const a = new EchoNode(3);
  const b = new EchoNode();
  net.addNode(A, a);
  net.addNode(B, b);
  net.setLink(A, B, { delay: 10 });
  net.setLink(B, A, { delay: 30 });
  a.send(B, Uint8Array.of(0xaa));
  const end = net.run({});
  assert.deepEqual(
    b.received.map((r) => r.time),
    [10, 50, 90, 130],
  );
  assert.deepEqual(
    a.received.map((r) => r.time),
    [40, 80, 120, 160],
  );
  assert.equal(end, 160);
  assert.equal(a.replies, 3);
});

test('same-time events run in insertion order; at() callbacks run at their time and let nodes transmit', () => {
  const net = new SimNetwork({ seed: 1, startTime: 1000 });
  const a = new RecorderNode();
  const b = new RecorderNode();
  net.addNode(A, a);
  net.addNode(B, b);
  const order: string[] = [];
  net.at(1500, () => order.push(`second@${net.now}`));
  net.at(1200, () => order.push(`first@${net.now}`));
  net.at(1500, () => {
    order.push(`third@${net.now}`);
    a.send(B, Uint8Array.of(7));
  });
  net.run({});
  assert.deepEqual(order, ['first@1200', 'second@1500', 'third@1500']);
  assert.deepEqual(
    b.received.map((r) => r.time),
    [1510],
  );
  assert.throws(() => net.at(100, () => {}), RangeError);
});

test('timers: fire at the requested time, once; rescheduling supersedes; a past deadline fires now', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  const node = new TimerNode(100);
  net.addNode(A, node);
  // Move the deadline later, then earlier, from callbacks; only the last request fires.
  net.at(50, () => {
    node.deadline = 300;
  });
  net.at(60, () => {
    node.deadline = 200;
  });
  net.run({});
  assert.deepEqual(node.fired, [200]);
  // A deadline in the past fires at the current time.
  net.at(net.now + 10, () => {
    node.deadline = 5;
  });
  net.run({});
  assert.deepEqual(node.fired, [200, 210]);
  assert.throws(() => {
    node.deadline = Number.NaN;
    net.run({});
  }, TypeError);
});

test('an idle timer pushed back by every datagram fires once, after the last one (superseded timers purged)', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  class IdleNode extends NumberedReceiver {
    deadline: Millis | undefined = 1000;
    readonly fired: Millis[] = [];
    override receive(datagram: Uint8Array, from: string, now: Millis): void {
      super.receive(datagram, from, now);
      this.deadline = now + 1000;
    }
    override nextTimeout(): Millis | undefined {
      return this.deadline;
    }
    override handleTimeout(now: Millis): void {
      this.fired.push(now);
      this.deadline = undefined;
    }
  }
  const idle = new IdleNode(false);
  net.addNode(A, new NumberedSender({ peer: B, count: 20_000, interval: 0.125, size: 8 }));
  net.addNode(B, idle);
  const end = net.run({});
  assert.equal(idle.arrivals.length, 20_000);
  const last = idle.arrivals[19_999]![0];
  assert.deepEqual(idle.fired, [last + 1000]);
  assert.equal(end, last + 1000);
  // Events counted: deliveries, the sender's timers and one idle firing; superseded timers are not events.
  assert.equal(net.stats().events, 20_000 + 19_999 + 1);
});

test('the network copies datagrams on send: a node reusing its buffer does not change what was sent', () => {
  const net = new SimNetwork({ seed: 1 });
  const sender = new NumberedSender({ peer: B, count: 5, size: 20, reuseBuffer: true });
  const receiver = new NumberedReceiver(false);
  net.addNode(A, sender);
  net.addNode(B, receiver);
  net.run({});
  assert.deepEqual(
    receiver.arrivals.map(([, seq]) => seq),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(
    receiver.received.map((r) => r.data),
    [0, 1, 2, 3, 4].map((i) => numberedDatagram(i, 20)),
  );
});

test('onSend sees every datagram before its fate, as a copy that later corruption does not touch', () => {
  const net = new SimNetwork({ seed: 3 });
  const sender = new NumberedSender({ peer: B, count: 50, size: 40, interval: 1 });
  const receiver = new NumberedReceiver(false);
  net.addNode(A, sender);
  net.addNode(B, receiver);
  net.setLink(A, B, { loss: 0.3, corrupt: 0.5 });
  const seen: Array<{ time: Millis; from: string; to: string; datagram: Uint8Array }> = [];
  net.onSend((e) => seen.push(e));
  net.run({});
  assert.equal(seen.length, 50);
  seen.forEach((e, i) => {
    assert.equal(e.from, A);
    assert.equal(e.to, B);
    assert.equal(e.time, DEFAULT_START_TIME + i);
    assert.deepEqual(e.datagram, numberedDatagram(i, 40));
  });
  const stats = net.stats();
  assert.ok(stats.lost > 0 && stats.corrupted > 0);
  assert.equal(receiver.received.length, 50 - stats.lost);
});

test('inject delivers at the given time, bypassing link conditions; injecting into the past throws', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  const b = new RecorderNode();
  net.addNode(B, b);
  net.setLink(C, B, { loss: 1, delay: 500 });
  const captured = Uint8Array.of(9, 9, 9);
  net.inject(C, B, captured, 25);
  net.inject(C, B, captured);
  captured[0] = 0; // the network keeps its own copy
  net.run({});
  assert.deepEqual(b.received, [
    { time: 0, from: C, data: Uint8Array.of(9, 9, 9) },
    { time: 25, from: C, data: Uint8Array.of(9, 9, 9) },
  ]);
  const s = net.stats();
  assert.equal(s.injected, 2);
  assert.equal(s.delivered, 2);
  assert.equal(s.sent, 0);
  assert.throws(() => net.inject(C, B, captured, 10), RangeError);
});

test('until stops the run after the event that satisfies it; runFor advances the clock exactly', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  const sender = new NumberedSender({ peer: B, count: 100, interval: 10 });
  const receiver = new NumberedReceiver(false);
  net.addNode(A, sender);
  net.addNode(B, receiver);
  const t = net.run({ until: () => receiver.arrivals.length === 3 });
  assert.equal(t, 30); // datagrams 0, 1, 2 sent at 0, 10, 20 arrive at 10, 20, 30
  assert.equal(receiver.arrivals.length, 3);
  assert.equal(net.runFor(55), 85);
  assert.equal(net.now, 85);
  assert.equal(receiver.arrivals.length, 8); // arrivals at 40 .. 80
  assert.equal(net.runFor(0), 85);
  // until is also honoured by runFor, and already-true until returns at once.
  assert.equal(net.runFor(1000, { until: () => receiver.arrivals.length === 10 }), 100);
  assert.equal(net.run({ until: () => true }), 100);
});

test('maxTime and maxEvents throw SimTimeoutError naming the seed', () => {
  const seed = 4242;
  const make = () => {
    const net = new SimNetwork({ seed, startTime: 0 });
    net.addNode(A, new NumberedSender({ peer: B, count: 1000, interval: 1000 }));
    net.addNode(B, new NumberedReceiver(false));
    return net;
  };
  const net = make();
  assert.throws(
    () => net.run({ until: () => false, maxTime: 60_000 }),
    (e: unknown) => {
      assert.ok(e instanceof SimTimeoutError);
      assert.equal(e.seed, seed);
      assert.match(e.message, /seed 4242/);
      assert.match(e.message, /SIM_SEED=4242/);
      assert.ok(e.time <= 60_000);
      return true;
    },
  );
  assert.ok(net.now <= 60_000);
  assert.throws(
    () => make().run({ maxEvents: 100 }),
    (e: unknown) => e instanceof SimTimeoutError && e.events === 100 && e.message.includes('SIM_SEED=4242'),
  );
  // The default limit is 10 virtual minutes.
  const third = make();
  assert.throws(() => third.run({}), SimTimeoutError);
  assert.ok(third.now <= 600_000 && third.now > 590_000);
});

test('a node whose timer stays due is detected as a livelock, naming the node and the seed', () => {
  const net = new SimNetwork({ seed: 77 });
  const stuck: SimNode = {
    receive() {},
    transmit: () => undefined,
    nextTimeout: () => 0,
    handleTimeout() {},
  };
  net.addNode(C, stuck);
  assert.throws(
    () => net.run({}),
    (e: unknown) =>
      e instanceof SimLivelockError &&
      e.address === C &&
      e.message.includes(C) &&
      e.message.includes('SIM_SEED=77') &&
      net.stats().events === 1000,
  );
});

test('a node whose transmit never returns undefined is detected', () => {
  const net = new SimNetwork({ seed: 78 });
  const flood: SimNode = {
    receive() {},
    transmit: () => ({ datagram: Uint8Array.of(1), to: B }),
    nextTimeout: () => undefined,
    handleTimeout() {},
  };
  net.addNode(A, flood);
  assert.throws(
    () => net.run({}),
    (e: unknown) => e instanceof SimLivelockError && e.address === A && e.message.includes('SIM_SEED=78'),
  );
  assert.equal(net.stats().sent, 10_000);
});

test('zero-delay ping-pong that never lets time advance is detected', () => {
  const net = new SimNetwork({ seed: 79, startTime: 0 });
  /** Bounces one datagram back at once; keeps no history so that a million events stay cheap. */
  const bouncer = (peer: string, start: boolean): SimNode => {
    let pending = start;
    return {
      receive() {
        pending = true;
      },
      transmit() {
        if (!pending) return undefined;
        pending = false;
        return { datagram: Uint8Array.of(1), to: peer };
      },
      nextTimeout: () => undefined,
      handleTimeout() {},
    };
  };
  net.addNode(A, bouncer(B, true));
  net.addNode(B, bouncer(A, false));
  net.setPath(A, B, { delay: 0 });
  assert.throws(
    () => net.run({}),
    (e: unknown) =>
      e instanceof SimLivelockError && e.address === undefined && e.message.includes('SIM_SEED=79'),
  );
  assert.equal(net.now, 0);
});

test('run is not re-entrant', () => {
  const net = new SimNetwork({ seed: 1 });
  net.at(net.now + 1, () => net.run({}));
  assert.throws(() => net.run({}), /not re-entrant/);
});

test('removeNode: its timer is cancelled, in-flight datagrams go to the replacement or are unroutable', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0 });
  const a = new RecorderNode();
  const timer = new TimerNode(100);
  net.addNode(A, a);
  net.addNode(B, timer);
  a.send(B, Uint8Array.of(1)); // arrives at 10: nobody there
  net.at(5, () => {
    net.removeNode(B);
    a.send(B, Uint8Array.of(2)); // sent at 5, arrives at 15: the replacement
  });
  const replacement = new RecorderNode();
  net.at(12, () => net.addNode(B, replacement));
  net.run({});
  assert.deepEqual(timer.fired, []);
  assert.deepEqual(
    replacement.received.map((r) => [r.time, r.data[0]]),
    [[15, 2]],
  );
  assert.equal(net.stats().unroutable, 1);
  assert.equal(net.linkStats(A, B).unroutable, 1);
  assert.throws(() => net.addNode(B, new RecorderNode()), /already attached/);
  assert.throws(() => net.removeNode(C), /no node/);
});

test('invalid link conditions are rejected', () => {
  const net = new SimNetwork({ seed: 1 });
  for (const bad of [
    { delay: -1 },
    { jitter: Number.NaN },
    { loss: 1.5 },
    { duplicate: -0.1 },
    { corrupt: 2 },
    { reorder: Number.NaN },
    { bandwidth: 0 },
    { queueBytes: -5 },
    { blackholes: [{ start: 10, end: 5 }] },
  ]) {
    assert.throws(() => net.setLink(A, B, bad), RangeError, JSON.stringify(bad));
  }
});

test('the trace is a bounded ring of the most recent entries, oldest first', () => {
  const net = new SimNetwork({ seed: 1, startTime: 0, traceLimit: 10 });
  net.addNode(A, new NumberedSender({ peer: B, count: 35, interval: 1 }));
  net.addNode(B, new NumberedReceiver(false));
  net.run({});
  const trace = net.trace;
  assert.equal(trace.length, 10);
  assert.deepEqual(
    trace.map((e) => e.time),
    [25, 26, 27, 28, 29, 30, 31, 32, 33, 34],
  );
  assert.equal(net.stats().sent, 35);
  // The default bound is 10,000.
  const big = new SimNetwork({ seed: 1, startTime: 0 });
  big.addNode(A, new NumberedSender({ peer: B, count: 10_050, interval: 1, size: 8 }));
  big.addNode(B, new NumberedReceiver(false));
  big.run({});
  assert.equal(big.trace.length, 10_000);
  assert.equal(big.trace[0]!.time, 50);
  assert.equal(big.trace[9_999]!.time, 10_049);
});

test('simSeed reads SIM_SEED; formatSeedHint and withSimSeed name the seed in failures', async () => {
  const saved = process.env.SIM_SEED;
  try {
    delete process.env.SIM_SEED;
    assert.equal(simSeed(5), 5);
    process.env.SIM_SEED = '1234';
    assert.equal(simSeed(5), 1234);
    process.env.SIM_SEED = 'x';
    assert.throws(() => simSeed(5), RangeError);
  } finally {
    if (saved === undefined) delete process.env.SIM_SEED;
    else process.env.SIM_SEED = saved;
  }
  assert.equal(formatSeedHint(99), 'seed 99 (rerun with SIM_SEED=99)');
  assert.equal(
    withSimSeed(8, (s) => s * 2),
    16,
  );
  assert.throws(
    () =>
      withSimSeed(8, () => {
        assert.equal(1, 2);
      }),
    (e: unknown) =>
      e instanceof Error && e.message.endsWith('SIM_SEED=8)') && (e.stack ?? '').includes('SIM_SEED=8'),
  );
  await assert.rejects(
    withSimSeed(9, async () => {
      throw new Error('boom');
    }),
    { message: 'boom\nseed 9 (rerun with SIM_SEED=9)' },
  );
  // An error that already names the seed is not annotated twice.
  const err = new SimTimeoutError(10, 0, 0, 'x');
  assert.throws(
    () =>
      withSimSeed(10, () => {
        throw err;
      }),
    (e: unknown) => e === err && err.message.split('SIM_SEED=10').length === 2,
  );
});
