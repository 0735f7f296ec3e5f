import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, Cubic } from '../../../src/recovery/cubic.js';
import { RttEstimator } from '../../../src/recovery/rtt-estimator.js';

const MDS = 1200;

function rttOf(ms: number): RttEstimator {
  const rtt = new RttEstimator();
  rtt.update(ms, 0, true, 0, 0);
  return rtt;
}

interface Pkt {
  size: number;
  timeSent: number;
  inFlight: boolean;
}

function send(cc: Cubic, n: number, t: number): Pkt[] {
  const out: Pkt[] = [];
  for (let i = 0; i < n; i++) {
    cc.onPacketSent(t, MDS, true);
    out.push({ size: MDS, timeSent: t, inFlight: true });
  }
  return out;
}

/** Sends a full window at t and acknowledges it one packet at a time at t + rtt. */
function round(cc: Cubic, t: number, rtt: RttEstimator): void {
  const flight = send(cc, Math.max(1, Math.floor(cc.availableWindow() / MDS)), t);
  for (const p of flight) cc.onPacketsAcked(t + rtt.smoothedRtt, [p], rtt);
}

/** Slow start from 12000 to 96000 bytes, then one loss: W_max 96000, cwnd 67200, K = cbrt(60) s. */
function afterLoss(rtt: RttEstimator): { cc: Cubic; t: number } {
  const cc = new Cubic();
  let t = 0;
  for (let i = 0; i < 3; i++) {
    round(cc, t, rtt);
    t += rtt.smoothedRtt;
  }
  assert.equal(cc.congestionWindow, 96000);
  const flight = send(cc, 80, t);
  cc.onPacketsLost(t + 1, flight.slice(0, 1));
  cc.onPacketsAcked(t + 2, flight.slice(1), rtt); // sent before recovery: no growth
  return { cc, t: t + 10 };
}

test('RFC 9438 constants: C = 0.4, beta = 0.7, alpha = 3(1-beta)/(1+beta)', () => {
  assert.equal(CUBIC_C, 0.4);
  assert.equal(CUBIC_BETA, 0.7);
  assert.ok(Math.abs(CUBIC_ALPHA - 0.9 / 1.7) < 1e-12);
});

test('CUBIC slow start is standard: +bytes acknowledged, initial window 10 packets', () => {
  const cc = new Cubic();
  assert.equal(cc.congestionWindow, 12000);
  const rtt = rttOf(100);
  cc.onPacketsAcked(100, send(cc, 10, 0), rtt);
  assert.equal(cc.congestionWindow, 24000);
  assert.equal(cc.inSlowStart, true);
});

test('RFC 9438 §4.6: a loss reduces the window to beta * cwnd, once per recovery period', () => {
  const { cc } = afterLoss(rttOf(100));
  assert.equal(cc.congestionWindow, 67200);
  assert.equal(cc.slowStartThreshold, 67200);
  assert.equal(cc.maxWindow, 96000);
  assert.equal(cc.inRecovery, true);
  assert.equal(cc.bytesInFlight, 0);
  // A second loss of a packet sent before the recovery started: no reduction.
  cc.onPacketsLost(400, [{ size: MDS, timeSent: 300, inFlight: false }]);
  assert.equal(cc.congestionWindow, 67200);
});

test('RFC 9438 §4.7: fast convergence lowers W_max when a loss comes before reaching it', () => {
  const { cc, t } = afterLoss(rttOf(100));
  const p = send(cc, 1, t);
  cc.onPacketsLost(t + 100, p);
  assert.equal(cc.maxWindow, (67200 * (1 + CUBIC_BETA)) / 2);
  assert.equal(cc.congestionWindow, Math.floor(67200 * CUBIC_BETA));
});

test('RFC 9438 §4.2, §4.4: one ACK at t = K moves cwnd by (W_cubic(K + RTT) - cwnd) / cwnd per segment', () => {
  const rtt = rttOf(100);
  const { cc, t } = afterLoss(rtt);
  // Fill the window so that it is in use, then acknowledge one packet to start the epoch.
  const flight = send(cc, 56, t);
  cc.onPacketsAcked(t + 100, [flight[0]!], rtt);
  // First ACK at t = 0: W_cubic(0) = cwnd_epoch < W_est, the Reno-friendly estimate wins.
  const wEst1 = 67200 + (CUBIC_ALPHA * MDS * MDS) / 67200;
  assert.equal(cc.congestionWindow, Math.floor(wEst1));
  // Second ACK exactly K seconds later.
  const K = Math.cbrt((96000 - 67200) / MDS / CUBIC_C);
  cc.onPacketsAcked(t + 100 + K * 1000, [flight[1]!], rtt);
  const target = CUBIC_C * 0.1 ** 3 * MDS + 96000;
  const expected = wEst1 + ((target - wEst1) * MDS) / wEst1;
  assert.equal(cc.congestionWindow, Math.floor(expected));
});

test('RFC 9438 §4.4, §4.5: the window is concave below W_max and convex above it', () => {
  // A 300 ms RTT keeps the Reno-friendly estimate below the cubic curve throughout.
  const rtt = rttOf(300);
  const { cc, t: t0 } = afterLoss(rtt);
  const K = Math.cbrt((96000 - 67200) / MDS / CUBIC_C); // ~3.91 s
  const samples: { t: number; cwnd: number }[] = [];
  let t = t0;
  while (t - t0 < 8000) {
    round(cc, t, rtt);
    t += 300;
    samples.push({ t: t - t0, cwnd: cc.congestionWindow });
  }
  const at = (ms: number) => samples.find((s) => s.t >= ms)!.cwnd;
  // Plateau around K: close to W_max.
  const nearK = at(K * 1000);
  assert.ok(Math.abs(nearK - 96000) < 3000, `cwnd at K: ${nearK}`);
  // Concave: growth slows down while approaching W_max.
  const g1 = at(1200) - at(600);
  const g2 = at(3000) - at(2400);
  assert.ok(g1 > 2 * g2, `concave: ${g1} then ${g2}`);
  // Convex: growth speeds up beyond W_max.
  const g3 = at(5400) - at(4800);
  const g4 = at(7800) - at(7200);
  assert.ok(at(4800) > 96000);
  assert.ok(g4 > 2 * g3, `convex: ${g3} then ${g4}`);
  // Never more than +50% per round trip.
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.cwnd <= samples[i - 1]!.cwnd * 1.5 + MDS);
});

test('RFC 9438 §4.3: with a short RTT the Reno-friendly estimate drives the window', () => {
  const rtt = rttOf(1);
  const { cc, t: t0 } = afterLoss(rtt);
  let t = t0;
  for (let i = 0; i < 50; i++) {
    round(cc, t, rtt);
    t += 1;
  }
  // W_cubic after ~50 ms has grown by about one segment; Reno-friendly adds ~alpha segments per RTT.
  const cubicOnly = CUBIC_C * (0.05 - Math.cbrt(60)) ** 3 * MDS + 96000;
  assert.ok(cubicOnly < 67200 + 2 * MDS);
  const cwnd = cc.congestionWindow;
  assert.ok(cwnd > 67200 + 50 * 0.45 * MDS, `cwnd ${cwnd}`);
  assert.ok(cwnd < 67200 + 50 * 0.6 * MDS, `cwnd ${cwnd}`);
});

test('RFC 9438 §4.8: persistent congestion collapses to the minimum window; the next stage starts at K = 0', () => {
  const rtt = rttOf(100);
  const { cc, t } = afterLoss(rtt);
  cc.onPersistentCongestion(t);
  assert.equal(cc.congestionWindow, 2400);
  assert.equal(cc.maxWindow, undefined);
  assert.equal(cc.inSlowStart, true);
  assert.equal(cc.inRecovery, false);
  let now = t + 10;
  while (cc.inSlowStart) {
    round(cc, now, rtt);
    now += 100;
  }
  const epochCwnd = cc.congestionWindow;
  assert.ok(epochCwnd >= 67200);
  round(cc, now, rtt);
  // W_max is the window at the start of the stage.
  assert.ok(cc.maxWindow !== undefined && cc.maxWindow >= 67200 && cc.maxWindow <= epochCwnd + 2 * MDS);
});

test('RFC 9438 §5.8: application-limited time does not advance the cubic curve', () => {
  const rtt = rttOf(100);
  const run = (idle: boolean) => {
    const { cc, t } = afterLoss(rtt);
    const flight = send(cc, 56, t);
    cc.onPacketsAcked(t + 100, [flight[0]!], rtt); // epoch starts
    let now = t + 100;
    if (idle) {
      cc.setAppLimited(true);
      for (let i = 0; i < 100; i++) {
        now += 100;
        cc.onPacketsAcked(now, [flight[1 + (i % 50)]!], rtt);
      }
      cc.setAppLimited(false);
      assert.equal(cc.congestionWindow, Math.floor(67200 + (CUBIC_ALPHA * MDS * MDS) / 67200));
    }
    const more = send(cc, 10, now);
    cc.onPacketsAcked(now + 100, [more[0]!], rtt);
    return cc.congestionWindow;
  };
  const withIdle = run(true);
  const without = run(false);
  // 10 s of idle time would put t far beyond K (convex, +50% steps) if it were counted.
  assert.ok(Math.abs(withIdle - without) < 50, `${withIdle} vs ${without}`);
});
