import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MtuDiscovery } from '../../../src/connection/mtu-discovery.js';

/** Run the search against a path that carries datagrams up to `pathMtu`. */
function search(base: number, max: number, pathMtu: number): { size: number; probes: number } {
  const d = new MtuDiscovery(base, max);
  let probes = 0;
  for (let size = d.nextProbe(); size !== undefined; size = d.nextProbe()) {
    probes++;
    d.onProbeSent(size);
    if (size <= pathMtu) d.onProbeAcked(size);
    else d.onProbeLost(size);
    assert.ok(probes < 100, 'the search terminates');
  }
  return { size: d.current, probes };
}

test('the ceiling is tried first: a loopback-sized path is found with one probe', () => {
  assert.deepEqual(search(1252, 16383, 65535), { size: 16383, probes: 1 });
});

test('binary search converges to within 16 bytes below the path MTU, never above', () => {
  for (const mtu of [1252, 1300, 1472, 1500, 4000, 8972, 9000]) {
    const r = search(1252, 16383, mtu);
    assert.ok(r.size <= mtu, `mtu ${mtu}: chose ${r.size}`);
    assert.ok(mtu - r.size < 16 || r.size === 16383, `mtu ${mtu}: chose ${r.size}`);
    assert.ok(r.probes < 40, `mtu ${mtu}: ${r.probes} probes`);
  }
});

test('an intermediate size is retried (random loss) before it is given up', () => {
  const d = new MtuDiscovery(1200, 2000);
  d.onProbeSent(d.nextProbe()!); // the ceiling
  d.onProbeLost(2000);
  const mid = d.nextProbe()!;
  d.onProbeSent(mid);
  d.onProbeLost(mid); // one random loss
  assert.equal(d.nextProbe(), mid, 'the same size again');
  d.onProbeSent(mid);
  d.onProbeAcked(mid);
  assert.equal(d.current, mid);
});

test("the peer's max_udp_payload_size caps the search; one probe at a time", () => {
  const d = new MtuDiscovery(1252, 16383);
  d.limit(1400);
  assert.equal(d.nextProbe(), 1400);
  d.onProbeSent(1400);
  assert.equal(d.nextProbe(), undefined, 'no second probe while one is outstanding');
  d.onProbeAcked(1400);
  assert.equal(d.done, true);
  assert.equal(d.current, 1400);
});

test('probing starts 2 smoothed RTTs (at least 10 ms) after the sender could first probe, or at its 16th chance', () => {
  const d = new MtuDiscovery(1252, 1452);
  // The first call fixes the start: 2 x 30 ms after t = 1000.
  assert.equal(d.probeAllowed(1000, 30), false);
  assert.equal(d.probeAllowed(1059, 10), false, 'the start does not move with later RTT samples');
  assert.equal(d.probeAllowed(1060, 10), true);
  // A tiny RTT (loopback) still waits the minimum.
  const e = new MtuDiscovery(1252, 1452);
  assert.equal(e.probeAllowed(0, 0.1), false);
  assert.equal(e.probeAllowed(9.9, 0.1), false);
  assert.equal(e.probeAllowed(10, 0.1), true);
  // A new path searches again, after a new delay.
  e.restart();
  assert.equal(e.probeAllowed(50, 1), false);
  assert.equal(e.probeAllowed(60, 1), true);
  // A sender that keeps building datagrams (a transfer) does not wait for the clock.
  const f = new MtuDiscovery(1252, 1452);
  for (let i = 1; i < 16; i++) assert.equal(f.probeAllowed(0, 100), false, `chance ${i}`);
  assert.equal(f.probeAllowed(0, 100), true, 'the 16th chance');
});
