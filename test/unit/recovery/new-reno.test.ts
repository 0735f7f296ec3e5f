import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialWindow, minimumWindow } from '../../../src/recovery/congestion-base.js';
import { Cubic } from '../../../src/recovery/cubic.js';
import { NewReno } from '../../../src/recovery/new-reno.js';
import { RttEstimator } from '../../../src/recovery/rtt-estimator.js';

const rtt = new RttEstimator(100);
const MDS = 1200;

function packets(n: number, timeSent: number, size = MDS) {
  return Array.from({ length: n }, () => ({ size, timeSent, inFlight: true }));
}

/** Sends `n` full packets at `t` and returns them. */
function send(cc: NewReno, n: number, t: number) {
  for (let i = 0; i < n; i++) cc.onPacketSent(t, MDS, true);
  return packets(n, t);
}

test('RFC 9002 §7.2: initial window min(10*mds, max(14720, 2*mds)); minimum window 2*mds', () => {
  assert.equal(initialWindow(1200), 12000);
  assert.equal(initialWindow(1500), 14720);
  assert.equal(initialWindow(9000), 18000);
  assert.equal(minimumWindow(1200), 2400);
  const cc = new NewReno();
  assert.equal(cc.congestionWindow, 12000);
  assert.equal(cc.bytesInFlight, 0);
  assert.equal(cc.availableWindow(), 12000);
  assert.equal(cc.inSlowStart, true);
  assert.equal(cc.inRecovery, false);
  assert.equal(new NewReno({ maxDatagramSize: 1500 }).congestionWindow, 14720);
});

test('initialWindowPackets: the first window in datagrams, kept in step with the datagram size and on a new path', () => {
  const cc = new NewReno({ maxDatagramSize: 1200, initialWindowPackets: 32 });
  assert.equal(cc.congestionWindow, 32 * 1200);
  // PMTU discovery grows the datagram: an untouched initial window follows it (RFC 9002 §7.2).
  cc.setMaxDatagramSize(1452);
  assert.equal(cc.congestionWindow, 32 * 1452);
  cc.onNewPath(0);
  assert.equal(cc.congestionWindow, 32 * 1452);
  // 0 (the default) is RFC 9002's window.
  assert.equal(
    new NewReno({ maxDatagramSize: 1452, initialWindowPackets: 0 }).congestionWindow,
    initialWindow(1452),
  );
  assert.equal(new Cubic({ maxDatagramSize: 1452, initialWindowPackets: 3 }).congestionWindow, 3 * 1452);
});

test('RFC 9002 §7.3.1: slow start grows the window by the bytes acknowledged', () => {
  const cc = new NewReno();
  const sent = send(cc, 10, 0);
  assert.equal(cc.bytesInFlight, 12000);
  assert.equal(cc.availableWindow(), 0);
  cc.onPacketsAcked(100, sent.slice(0, 4), rtt);
  assert.equal(cc.congestionWindow, 12000 + 4800);
  assert.equal(cc.bytesInFlight, 7200);
  cc.onPacketsAcked(101, sent.slice(4), rtt);
  assert.equal(cc.congestionWindow, 24000);
  assert.equal(cc.bytesInFlight, 0);
  // Packets that are not in flight change nothing.
  cc.onPacketSent(102, 50, false);
  assert.equal(cc.bytesInFlight, 0);
  cc.onPacketsAcked(150, [{ size: 50, timeSent: 102, inFlight: false }], rtt);
  assert.equal(cc.congestionWindow, 24000);
});

test('RFC 9002 §7.3.2: a loss halves the window once per recovery period', () => {
  const cc = new NewReno();
  const first = send(cc, 10, 0);
  cc.onPacketsAcked(100, first, rtt); // cwnd 24000
  const flight = send(cc, 20, 110);
  cc.onPacketsLost(200, flight.slice(0, 1));
  assert.equal(cc.congestionWindow, 12000);
  assert.equal(cc.slowStartThreshold, 12000);
  assert.equal(cc.inRecovery, true);
  assert.equal(cc.inSlowStart, false);
  assert.equal(cc.bytesInFlight, 19 * 1200);
  // More losses of packets sent before the recovery period started: no further reduction.
  cc.onPacketsLost(210, flight.slice(1, 5));
  assert.equal(cc.congestionWindow, 12000);
  // Acknowledgments of packets sent before recovery started do not grow the window.
  cc.onPacketsAcked(220, flight.slice(5, 15), rtt);
  assert.equal(cc.congestionWindow, 12000);
  assert.equal(cc.inRecovery, true);
  // A packet sent after the start of recovery is acknowledged: recovery ends, congestion avoidance.
  const later = send(cc, 1, 230);
  cc.onPacketsAcked(330, later, rtt);
  assert.equal(cc.inRecovery, false);
  assert.equal(cc.congestionWindow, 12000 + Math.floor((1200 * 1200) / 12000));
  // A loss of a packet sent after the recovery period started starts a new one.
  const more = send(cc, 1, 340);
  cc.onPacketsLost(400, more);
  assert.equal(cc.congestionWindow, Math.floor((12000 + 120) / 2));
  assert.equal(cc.inRecovery, true);
});

test('RFC 9002 §7.3.3: congestion avoidance adds about one datagram per window acknowledged', () => {
  const cc = new NewReno();
  const initial = send(cc, 10, 0);
  cc.onPacketsLost(10, initial.slice(0, 1)); // cwnd 6000, ssthresh 6000
  assert.equal(cc.congestionWindow, 6000);
  cc.onPacketsAcked(15, initial.slice(1), rtt); // sent before recovery: no growth
  assert.equal(cc.congestionWindow, 6000);
  let t = 20;
  for (let round = 0; round < 3; round++) {
    const before = cc.congestionWindow;
    const sent = send(cc, Math.floor(cc.availableWindow() / MDS), t);
    for (const p of sent) cc.onPacketsAcked(t + 100, [p], rtt);
    t += 110;
    const grown = cc.congestionWindow - before;
    assert.ok(grown > 900 && grown <= 1200, `round ${round}: grew ${grown}`);
  }
});

test('RFC 9002 §7.2: the window never goes below the minimum window', () => {
  const cc = new NewReno();
  let t = 0;
  for (let i = 0; i < 10; i++) {
    const p = send(cc, 1, t);
    cc.onPacketsLost(t + 1, p);
    t += 10;
  }
  assert.equal(cc.congestionWindow, 2400);
  assert.equal(cc.bytesInFlight, 0);
});

test('RFC 9002 §7.6.2: persistent congestion collapses the window to the minimum and restarts slow start', () => {
  const cc = new NewReno();
  const first = send(cc, 10, 0);
  cc.onPacketsAcked(100, first, rtt);
  const flight = send(cc, 20, 110);
  cc.onPacketsLost(1000, flight);
  assert.equal(cc.congestionWindow, 12000);
  cc.onPersistentCongestion(1000);
  assert.equal(cc.congestionWindow, 2400);
  assert.equal(cc.inRecovery, false);
  assert.equal(cc.inSlowStart, true);
  const next = send(cc, 2, 1010);
  cc.onPacketsAcked(1110, next, rtt);
  assert.equal(cc.congestionWindow, 4800);
});

test('RFC 9002 B.7: an ECN congestion event reduces like a loss, once per recovery period', () => {
  const cc = new NewReno();
  send(cc, 10, 0);
  cc.onCongestionEvent(50, 0);
  assert.equal(cc.congestionWindow, 6000);
  cc.onCongestionEvent(60, 10);
  assert.equal(cc.congestionWindow, 6000);
  cc.onCongestionEvent(70, 55);
  assert.equal(cc.congestionWindow, 3000);
  // Nothing was removed from flight by the ECN signal.
  assert.equal(cc.bytesInFlight, 12000);
});

test('RFC 9002 §7.8: no window growth while application-limited or using less than half the window', () => {
  // The connection says it has nothing to send: even a full window does not grow.
  const limited = new NewReno();
  limited.setAppLimited(true);
  limited.onPacketsAcked(100, send(limited, 10, 0), rtt);
  assert.equal(limited.congestionWindow, 12000);
  limited.setAppLimited(false);
  limited.onPacketsAcked(200, send(limited, 10, 100), rtt);
  assert.equal(limited.congestionWindow, 24000);

  // One packet in flight of a 12000-byte window, round after round: not window-limited.
  const cc = new NewReno();
  for (let i = 0; i < 20; i++) cc.onPacketsAcked(100 + i * 100, send(cc, 1, i * 100), rtt);
  assert.equal(cc.congestionWindow, 12000);
  // Half the window in flight: growth resumes.
  cc.onPacketsAcked(5000, send(cc, 5, 4900), rtt);
  assert.equal(cc.congestionWindow, 18000);
  // Two acknowledgments of one flight (nothing sent in between) both count.
  const flight = send(cc, 15, 5100);
  cc.onPacketsAcked(5200, flight.slice(0, 5), rtt);
  cc.onPacketsAcked(5201, flight.slice(5), rtt);
  assert.equal(cc.congestionWindow, 36000);
});

test('discarded bytes leave flight without a congestion signal; setMaxDatagramSize recomputes the initial window', () => {
  const cc = new NewReno();
  send(cc, 3, 0);
  cc.onPacketsDiscarded(2400);
  assert.equal(cc.bytesInFlight, 1200);
  cc.onPacketsDiscarded(5000);
  assert.equal(cc.bytesInFlight, 0);
  assert.equal(cc.congestionWindow, 12000);
  cc.setMaxDatagramSize(1500);
  assert.equal(cc.congestionWindow, 14720);
  const shrunk = new NewReno({ maxDatagramSize: 1500 });
  shrunk.onPacketsLost(10, packets(1, 0, 1500));
  for (let i = 0; i < 5; i++) shrunk.onPacketsLost(20 + i * 10, packets(1, 15 + i * 10, 1500));
  assert.equal(shrunk.congestionWindow, 3000);
  shrunk.setMaxDatagramSize(1800);
  assert.equal(shrunk.congestionWindow, 3600);
});
