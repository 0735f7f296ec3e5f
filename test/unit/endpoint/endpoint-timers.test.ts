/**
 * The endpoint's deadline heap (issue 13): Endpoint.nextTimeout() is the earliest deadline of its
 * connections and handleTimeout(now) visits exactly the connections whose deadline has come, no
 * matter how datagrams, timeouts, closes and new dials interleave. Checked against a naive model
 * that asks every connection, as the endpoint once did.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Connection } from '../../../src/connection/connection.js';
import { Endpoint } from '../../../src/endpoint/endpoint.js';
import type { Millis } from '../../../src/util/time.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { CLIENT_ADDRESS, SERVER_ADDRESS, SERVER_NAME, simPki } from '../../sim/quic-harness.js';

const ALPN = ['hq-interop'];

function endpoints(seed: number): { client: Endpoint; server: Endpoint } {
  const pki = simPki();
  const server = new Endpoint({
    random: seededRandomBytes(new Prng(seed)),
    server: {
      tls: { alpn: ALPN, identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem } },
      transport: { maxIdleTimeout: 4000 },
    },
  });
  const client = new Endpoint({ random: seededRandomBytes(new Prng(seed + 1)) });
  return { client, server };
}

/**
 * What the endpoint once computed: the minimum over every connection; and the end of the earliest
 * closing period that a retired connection left to the endpoint (closing-remnant.ts).
 */
function naiveNext(e: Endpoint): Millis | undefined {
  let t: Millis | undefined = e.earliestRemnantDeadline;
  for (const c of e.connections) {
    const d = c.nextTimeout();
    if (d !== undefined && (t === undefined || d < t)) t = d;
  }
  return t;
}

/** Records which connections handleTimeout visits. */
const visited = new Set<Connection>();
const spied = new WeakSet<Connection>();
function spy(e: Endpoint): void {
  for (const c of e.connections) {
    if (spied.has(c)) continue;
    spied.add(c);
    const handle = c.handleTimeout.bind(c);
    c.handleTimeout = (now: Millis) => {
      visited.add(c);
      handle(now);
    };
  }
}

type Op =
  | { kind: 'dial'; keepAlive: boolean; idle: number }
  | { kind: 'wait'; ms: number }
  | { kind: 'exchange'; dropMask: number }
  | { kind: 'timeout' }
  | { kind: 'close'; side: 'client' | 'server'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('dial' as const),
      keepAlive: fc.boolean(),
      idle: fc.constantFrom(0, 1500, 3000, 30_000),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 100, max: 6000 })),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('exchange' as const), dropMask: fc.nat(255) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('timeout' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('close' as const),
      side: fc.constantFrom('client' as const, 'server' as const),
      pick: fc.nat(10),
    }),
  },
);

function check(e: Endpoint, label: string): void {
  assert.equal(e.nextTimeout(), naiveNext(e), `${label}: nextTimeout is the earliest connection deadline`);
  // Lenient only when the deadlines left end closing or draining periods (RFC 9000 §10.2): one
  // connection's, or those of retired connections.
  const timed = [...e.connections].filter((c) => c.nextTimeout() !== undefined);
  assert.equal(
    e.nextTimeoutLenient(),
    (timed.length === 1 && timed[0]!.isClosed) || (timed.length === 0 && e.remnantCount > 0),
    `${label}: nextTimeoutLenient`,
  );
}

/** handleTimeout visits exactly the connections due at `now`, each once. */
function timeout(e: Endpoint, now: Millis, label: string): void {
  spy(e);
  const due = new Set([...e.connections].filter((c) => (c.nextTimeout() ?? Number.POSITIVE_INFINITY) <= now));
  visited.clear();
  e.handleTimeout(now);
  assert.deepEqual(visited, due, `${label}: handleTimeout visits exactly the due connections`);
}

test('property: nextTimeout and handleTimeout agree with asking every connection', () => {
  const tls = { alpn: ALPN, serverName: SERVER_NAME, ca: [simPki().ca.certPem] };
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.array(opArb, { minLength: 1, maxLength: 40 }),
      (seed, ops) => {
        const { client, server } = endpoints(seed);
        let now = DEFAULT_START_TIME;
        let dials = 0;
        for (const op of ops) {
          switch (op.kind) {
            case 'dial':
              if (dials++ >= 6) break;
              client.connect(
                {
                  remoteAddress: SERVER_ADDRESS,
                  tls,
                  transport: { maxIdleTimeout: op.idle, ...(op.keepAlive ? { keepAlivePeriod: 700 } : {}) },
                },
                now,
              );
              break;
            case 'wait':
              now += op.ms;
              break;
            case 'exchange': {
              let bit = 0;
              for (let d = client.transmit(now); d; d = client.transmit(now)) {
                if (((op.dropMask >> (bit++ % 8)) & 1) === 0)
                  server.receive(Uint8Array.from(d.datagram), CLIENT_ADDRESS, now);
              }
              for (let d = server.transmit(now); d; d = server.transmit(now)) {
                if (((op.dropMask >> (bit++ % 8)) & 1) === 0)
                  client.receive(Uint8Array.from(d.datagram), SERVER_ADDRESS, now);
              }
              break;
            }
            case 'timeout':
              timeout(client, now, 'client');
              timeout(server, now, 'server');
              break;
            case 'close': {
              const e = op.side === 'client' ? client : server;
              const all = [...e.connections];
              const c = all[op.pick % Math.max(1, all.length)];
              if (c) {
                c.close(0, 'done', now);
                e.markActive(c);
              }
              break;
            }
          }
          check(client, `client after ${op.kind}`);
          check(server, `server after ${op.kind}`);
        }
        for (const e of [client, server])
          for (const c of e.connections) assert.deepEqual(c.internalErrors, []);
      },
    ),
    { numRuns: 30 },
  );
});

test('many connections with different deadlines: each is handled at its own deadline, never before', () => {
  const { client } = endpoints(7);
  const tls = { alpn: ALPN, serverName: SERVER_NAME, ca: [simPki().ca.certPem] };
  const start = DEFAULT_START_TIME;
  // No server: every dial ends by its handshake timeout, a different one each.
  const conns: Connection[] = [];
  for (let i = 0; i < 40; i++) {
    conns.push(
      client.connect(
        {
          remoteAddress: SERVER_ADDRESS,
          tls,
          transport: { handshakeTimeout: 1000 + ((i * 7919) % 40) * 25 },
        },
        start,
      ),
    );
  }
  while (client.transmit(start)) {
    // the first Initials go nowhere
  }
  let now = start;
  for (let guard = 0; client.connections.size > 0 && guard < 10_000; guard++) {
    const next = client.nextTimeout();
    assert.equal(next, naiveNext(client));
    assert.ok(next !== undefined);
    // Just before the deadline: nothing is due.
    if (next - 1 > now) timeout(client, next - 1, 'early');
    now = Math.max(now, next);
    timeout(client, now, 'due');
    while (client.transmit(now)) {
      // probes go nowhere either
    }
  }
  assert.equal(client.connections.size, 0);
  for (const [i, c] of conns.entries()) {
    assert.equal(c.state, 'closed');
    assert.equal(c.closeInfo?.source, 'handshake-timeout', `connection ${i}`);
  }
  assert.equal(client.nextTimeout(), undefined, 'a closed connection leaves no deadline behind');
});

test('nextTimeoutLenient: only while the one deadline left ends a closing period', () => {
  const { client } = endpoints(11);
  const tls = { alpn: ALPN, serverName: SERVER_NAME, ca: [simPki().ca.certPem] };
  const start = DEFAULT_START_TIME;
  const a = client.connect({ remoteAddress: SERVER_ADDRESS, tls }, start);
  while (client.transmit(start)) {
    // the Initial goes nowhere
  }
  assert.equal(client.nextTimeoutLenient(), false, 'a handshaking connection');
  a.close(0, 'done', start);
  while (client.transmit(start)) {
    // CONNECTION_CLOSE
  }
  assert.equal(a.state, 'closing');
  const closeAt = client.nextTimeout();
  assert.ok(closeAt !== undefined);
  assert.equal(client.nextTimeoutLenient(), true, 'only the closing period is left');
  // Another connection whose first deadline comes after the closing period's end: the earliest
  // deadline is still lenient, but serving it late would delay the other one.
  const later = closeAt - 10;
  const b = client.connect({ remoteAddress: SERVER_ADDRESS, tls }, later);
  while (client.transmit(later)) {
    // b's Initial
  }
  assert.ok((b.nextTimeout() ?? 0) > closeAt, 'b is due after the closing period');
  assert.equal(client.nextTimeout(), closeAt);
  assert.equal(client.nextTimeoutLenient(), false, 'another connection has a deadline');
});
