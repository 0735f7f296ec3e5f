/**
 * The timer table is the owner of a connection's deadlines (issue 15, issue 13): every input that
 * changes state (a datagram in or out, a timeout, a close) marks the table for rewriting before it
 * returns, and the next read (nextTimeout, handleTimeout, deadlineOf) writes it from the owners'
 * state first, once however many inputs came before; reading a deadline changes nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { Timer } from '../../src/connection/timer-table.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../sim/network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from '../sim/quic-harness.js';
import { TransferClient, TransferServer } from '../sim/stream-apps.js';

/** Runs a transfer and checks, after every event and every datagram sent, that no table is stale. */
function transferWithChecks(opts: {
  seed: number;
  loss: number;
  clientTransport?: ConstructorParameters<typeof QuicSim>[0]['clientTransport'];
  rebindAt?: number;
}): { checks: number; timers: Set<Timer> } {
  const sim = new QuicSim({
    seed: opts.seed,
    link: { delay: 15, jitter: 5, loss: opts.loss },
    ...(opts.clientTransport ? { clientTransport: opts.clientTransport } : {}),
  });
  let checks = 0;
  const timers = new Set<Timer>();
  const checkAll = (where: string) => {
    for (const e of [sim.client, sim.server]) {
      for (const c of e.connections) {
        checks++;
        // First, before a read below rewrites a table marked stale: a table not marked must match.
        if (!c.timersCurrent()) {
          assert.fail(
            `${c.role} at ${sim.now} (${where}): a deadline changed without the table being marked for rewriting`,
          );
        }
        for (const t of [
          Timer.Idle,
          Timer.LossDetection,
          Timer.AckDelay,
          Timer.KeepAlive,
          Timer.KeyDiscard,
          Timer.PathValidation,
          Timer.Pacing,
        ]) {
          if (c.deadlineOf(t) !== undefined) timers.add(t);
        }
      }
    }
  };
  sim.net.onSend(() => checkAll('after a datagram was sent'));
  const conn = sim.dial(undefined, opts.clientTransport);
  const client = new TransferClient(conn, { streams: 3, upload: 40_000, download: 120_000 });
  const server = new TransferServer();
  sim.onServerConnection = (c) => server.add(c);
  sim.appHooks.push(() => {
    checkAll('after an input');
    client.pump();
    server.pump();
  });
  if (opts.rebindAt !== undefined)
    sim.net.at(sim.now + opts.rebindAt, () => sim.rebindClient('10.0.0.9:40000'));
  sim.run(() => client.done || client.closed, 120_000);
  assert.ok(client.done, `transfer failed: ${[...client.failures, ...server.failures].join('; ')}`);
  return { checks, timers };
}

test('every input leaves the timer table current: a lossy transfer with key updates and keep-alive', () => {
  const { checks, timers } = transferWithChecks({
    seed: 41,
    loss: 0.05,
    clientTransport: { keyUpdateInterval: 40, keepAlivePeriod: 50 },
  });
  assert.ok(checks > 1000, `only ${checks} checks`);
  // The run exercised the timers the check is about.
  for (const t of [Timer.Idle, Timer.LossDetection, Timer.AckDelay, Timer.KeepAlive, Timer.KeyDiscard]) {
    assert.ok(timers.has(t), `timer ${Timer[t]} was never armed`);
  }
});

test('every input leaves the timer table current: NAT rebinding (path validation timers)', () => {
  const { timers } = transferWithChecks({ seed: 42, loss: 0, rebindAt: 150 });
  assert.ok(timers.has(Timer.PathValidation), 'a path validation ran');
});

test('close() writes the closing deadline at once; nothing else is armed while closing', () => {
  const sim = new QuicSim({ seed: 3, link: { delay: 10 } });
  const conn = sim.dial();
  sim.handshake(conn);
  conn.close(0, 'bye', sim.now);
  // No transmit, no timeout in between: the table already says when the closing period ends.
  assert.equal(conn.state, 'closing');
  assert.equal(conn.nextTimeout(), conn.closeDeadline);
  assert.equal(conn.deadlineOf(Timer.Close), conn.closeDeadline);
  assert.equal(conn.deadlineOf(Timer.Idle), undefined);
  assert.equal(conn.deadlineOf(Timer.LossDetection), undefined);
});

test('a received packet moves the idle deadline before anything else is asked', () => {
  const sim = new QuicSim({ seed: 4, link: { delay: 10 } });
  const conn = sim.dial(undefined, { maxIdleTimeout: 5000 });
  const server = sim.handshake(conn);
  sim.net.runFor(1000);
  const before = server.deadlineOf(Timer.Idle)!;
  // One PING from the client, delivered by hand.
  conn.framer.queuePing();
  const d = conn.transmit(sim.now);
  assert.ok(d);
  server.receive(d, CLIENT_ADDRESS, sim.now);
  const after = server.deadlineOf(Timer.Idle)!;
  assert.ok(after > before, `idle deadline ${after} not after ${before}`);
  assert.ok(server.timersCurrent());
});

test('asking for deadlines changes nothing: an unvalidated server connection', () => {
  const pki = simPki();
  const server = new Endpoint({
    random: seededRandomBytes(new Prng(9)),
    server: {
      tls: {
        alpn: ['hq-interop'],
        identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
      },
    },
  });
  const client = new Endpoint({ random: seededRandomBytes(new Prng(10)) });
  const now = DEFAULT_START_TIME;
  client.connect(
    {
      remoteAddress: SERVER_ADDRESS,
      tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [pki.ca.certPem] },
    },
    now,
  );
  for (let d = client.transmit(now); d; d = client.transmit(now))
    server.receive(Uint8Array.from(d.datagram), CLIENT_ADDRESS, now);
  const conn: Connection = [...server.connections][0]!;
  // The server answered within 3x what it received (RFC 9000 §8.1) and its address is not validated.
  while (server.transmit(now)) {
    // sent into the void
  }
  assert.equal(conn.addressValidated, false);
  // Every mutator of the loss detector is watched while the deadlines are read.
  const ld = conn.lossDetector as unknown as Record<string, unknown>;
  const calls: string[] = [];
  const proto = Object.getPrototypeOf(conn.lossDetector) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const f = proto[name];
    if (typeof f !== 'function' || name === 'constructor' || !/^(set|on|discard)/.test(name)) continue;
    ld[name] = (...args: unknown[]) => {
      calls.push(name);
      return (f as (...a: unknown[]) => unknown).apply(conn.lossDetector, args);
    };
  }
  const first = conn.nextTimeout();
  for (let i = 0; i < 5; i++) assert.equal(conn.nextTimeout(), first);
  server.nextTimeout();
  assert.deepEqual(calls, [], 'reading deadlines called into the loss detector');
});

test('the table is written once per read, however many inputs came before it (issue 13)', () => {
  const sim = new QuicSim({ seed: 5, link: { delay: 10 } });
  const conn = sim.dial();
  const server = sim.handshake(conn);
  sim.net.runFor(100);
  // Count the writes through one owner every write asks (the loss detector's deadline).
  const ld = server.lossDetector as unknown as { lossDetectionTimeout: () => unknown };
  const original = ld.lossDetectionTimeout;
  let writes = 0;
  ld.lossDetectionTimeout = function (this: unknown) {
    writes++;
    return original.call(this);
  };
  server.nextTimeout();
  writes = 0;
  // Five PINGs from the client, each answered: ten inputs on the server, no read in between.
  for (let i = 0; i < 5; i++) {
    conn.framer.queuePing();
    const d = conn.transmit(sim.now);
    assert.ok(d);
    server.receive(d, CLIENT_ADDRESS, sim.now);
    while (server.transmit(sim.now)) {
      // the ACKs go nowhere
    }
  }
  assert.equal(writes, 0, 'an input wrote the table');
  assert.ok(server.timersCurrent());
  const next = server.nextTimeout();
  assert.equal(writes, 1);
  // Reads after that write nothing, and what they see is what the owners' state says.
  assert.equal(server.nextTimeout(), next);
  assert.equal(server.deadlineOf(Timer.LossDetection), server.lossDetector.lossDetectionTimeout());
  assert.equal(writes, 2); // the direct call just above
  assert.ok(server.timersCurrent());
});
