import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  GRANULARITY,
  INITIAL_RTT,
  RECENT_MIN_RTT_WINDOW,
  RttEstimator,
} from '../../../src/recovery/rtt-estimator.js';

test('RFC 9002 §5.3/§6.2.2: before any sample, smoothed_rtt = 333 ms, rttvar = 166.5 ms, PTO = 999 ms', () => {
  const rtt = new RttEstimator();
  assert.equal(INITIAL_RTT, 333);
  assert.equal(GRANULARITY, 1);
  assert.equal(rtt.smoothedRtt, 333);
  assert.equal(rtt.rttVar, 166.5);
  assert.equal(rtt.minRtt, 0);
  assert.equal(rtt.latestRtt, 0);
  assert.equal(rtt.hasSample, false);
  assert.equal(rtt.firstSampleTime, undefined);
  assert.equal(rtt.pto(25, false), 999);
  assert.equal(rtt.pto(25, true), 1024);
  assert.equal(new RttEstimator(100).pto(0, false), 300);
});

test('RFC 9002 §5.3: the first sample resets the estimator and ignores the ack delay', () => {
  const rtt = new RttEstimator();
  rtt.update(100, 10, false, 25, 1000);
  assert.equal(rtt.latestRtt, 100);
  assert.equal(rtt.minRtt, 100);
  assert.equal(rtt.smoothedRtt, 100);
  assert.equal(rtt.rttVar, 50);
  assert.equal(rtt.hasSample, true);
  assert.equal(rtt.firstSampleTime, 1000);
  // 100 + max(4*50, 1) + 25
  assert.equal(rtt.pto(25, true), 325);
});

test('RFC 9002 §5.3: later samples subtract the ack delay and update smoothed_rtt and rttvar', () => {
  const rtt = new RttEstimator();
  rtt.update(100, 0, false, 25, 0);
  rtt.update(120, 10, false, 25, 1100);
  // adjusted = 110; rttvar = 3/4*50 + 1/4*|100-110| = 40; smoothed = 7/8*100 + 1/8*110 = 101.25
  assert.equal(rtt.latestRtt, 120);
  assert.equal(rtt.minRtt, 100);
  assert.equal(rtt.rttVar, 40);
  assert.equal(rtt.smoothedRtt, 101.25);
  assert.equal(rtt.firstSampleTime, 0);
});

test('RFC 9002 §5.3: the ack delay is capped by max_ack_delay only once the handshake is confirmed', () => {
  const confirmed = new RttEstimator();
  confirmed.update(100, 0, true, 25);
  confirmed.update(200, 50, true, 25);
  // delay capped to 25: adjusted 175; rttvar = 37.5 + 18.75; smoothed = 87.5 + 21.875
  assert.equal(confirmed.rttVar, 56.25);
  assert.equal(confirmed.smoothedRtt, 109.375);

  const unconfirmed = new RttEstimator();
  unconfirmed.update(100, 0, false, 25);
  unconfirmed.update(200, 50, false, 25);
  // full delay 50: adjusted 150; rttvar = 37.5 + 12.5; smoothed = 87.5 + 18.75
  assert.equal(unconfirmed.rttVar, 50);
  assert.equal(unconfirmed.smoothedRtt, 106.25);
});

test('RFC 9002 §5.3: the ack delay is not subtracted when the result would fall below min_rtt', () => {
  const rtt = new RttEstimator();
  rtt.update(100, 0, true, 25);
  rtt.update(105, 10, true, 25);
  // 105 < 100 + 10: adjusted stays 105; rttvar = 37.5 + 1.25; smoothed = 87.5 + 13.125
  assert.equal(rtt.rttVar, 38.75);
  assert.equal(rtt.smoothedRtt, 100.625);
  assert.equal(rtt.minRtt, 100);
});

test('RFC 9002 §5.2: min_rtt tracks the smallest sample, ignoring ack delay; reset after persistent congestion', () => {
  const rtt = new RttEstimator();
  rtt.update(100, 0, true, 25);
  rtt.update(80, 50, true, 25);
  assert.equal(rtt.minRtt, 80);
  rtt.update(300, 0, true, 25);
  assert.equal(rtt.minRtt, 80);
  rtt.onPersistentCongestion();
  assert.equal(rtt.minRtt, 300);
});

test('RFC 9002 §6.2.1: the PTO period is at least kGranularity', () => {
  const rtt = new RttEstimator();
  rtt.update(0, 0, true, 0);
  assert.equal(rtt.smoothedRtt, 0);
  assert.equal(rtt.rttVar, 0);
  assert.equal(rtt.pto(0, false), 1);
  assert.equal(rtt.pto(25, true), 26);
});

test('a negative sample (clock went backwards) counts as 0; reset() forgets all samples', () => {
  const rtt = new RttEstimator(200);
  rtt.update(-5, 0, true, 25, 10);
  assert.equal(rtt.latestRtt, 0);
  assert.equal(rtt.smoothedRtt, 0);
  rtt.reset();
  assert.equal(rtt.hasSample, false);
  assert.equal(rtt.smoothedRtt, 200);
  assert.equal(rtt.rttVar, 100);
  assert.equal(rtt.firstSampleTime, undefined);
  rtt.reset(50);
  assert.equal(rtt.smoothedRtt, 50);
});

test('recentMinRtt: the least sample of the last 10-20 s; min_rtt keeps the connection-wide least', () => {
  const r = new RttEstimator();
  assert.equal(r.recentMinRtt, 0, 'no sample yet');
  r.update(10, 0, true, 25, 1_000);
  r.update(12, 0, true, 25, 2_000);
  assert.equal(r.recentMinRtt, 10);
  // The route changes: every sample is now 50 ms.
  for (let t = 3_000; t <= 40_000; t += 1_000) r.update(50, 0, true, 25, t);
  assert.equal(r.minRtt, 10, 'RFC 9002 §5.2: min_rtt does not forget');
  assert.equal(r.recentMinRtt, 50, 'the 10 ms samples are more than two windows old');
  // A lower sample counts at once.
  r.update(30, 0, true, 25, 41_000);
  assert.equal(r.recentMinRtt, 30);
});

test('recentMinRtt: a sample counts for at least one whole window', () => {
  const r = new RttEstimator();
  r.update(10, 0, true, 25, 0);
  for (let t = 1_000; t < RECENT_MIN_RTT_WINDOW * 2; t += 1_000) {
    r.update(50, 0, true, 25, t);
    if (t < RECENT_MIN_RTT_WINDOW) assert.equal(r.recentMinRtt, 10, `at ${t} ms`);
  }
  r.update(50, 0, true, 25, RECENT_MIN_RTT_WINDOW * 2);
  assert.equal(r.recentMinRtt, 50);
});

test('recentMinRtt restarts with persistent congestion and with reset()', () => {
  const r = new RttEstimator();
  r.update(10, 0, true, 25, 0);
  r.update(80, 0, true, 25, 100);
  r.onPersistentCongestion();
  assert.equal(r.recentMinRtt, 80);
  r.reset();
  assert.equal(r.recentMinRtt, 0);
  r.update(40, 0, true, 25, 200);
  assert.equal(r.recentMinRtt, 40);
});
