/**
 * RFC 9000 §9.4: on a new path, congestion control and RTT start from their initial values, and
 * packets sent on the old path contribute to neither (they still leave bytes in flight).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialWindow } from '../../../src/recovery/congestion-base.js';
import { Cubic } from '../../../src/recovery/cubic.js';
import { LossDetector } from '../../../src/recovery/loss-detector.js';
import { NewReno } from '../../../src/recovery/new-reno.js';
import { INITIAL_RTT, RttEstimator } from '../../../src/recovery/rtt-estimator.js';
import { PacketNumberSpace, type SentPacket } from '../../../src/recovery/types.js';

const App = PacketNumberSpace.ApplicationData;

function pkt(packetNumber: number, timeSent: number): SentPacket<string> {
  return { packetNumber, space: App, timeSent, size: 1200, ackEliciting: true, inFlight: true, payload: '' };
}

for (const [name, make] of [
  ['NewReno', () => new NewReno({ maxDatagramSize: 1200 })],
  ['CUBIC', () => new Cubic({ maxDatagramSize: 1200 })],
] as const) {
  test(`${name}: onNewPath restores the initial window; old-path acks and losses do not move it`, () => {
    const rtt = new RttEstimator();
    const cc = make();
    const ld = new LossDetector<string>({ rtt, congestion: cc, isServer: true });
    ld.setHandshakeConfirmed();
    // Grow the window, then shrink it with a loss, on the old path.
    for (let pn = 0; pn < 10; pn++) ld.onPacketSent(pkt(pn, 0));
    ld.onAckReceived(App, [{ smallest: 0, largest: 9 }], 0, 50);
    for (let pn = 10; pn < 20; pn++) ld.onPacketSent(pkt(pn, 100));
    ld.onAckReceived(App, [{ smallest: 14, largest: 19 }], 0, 150);
    assert.equal(cc.inSlowStart, false, 'a loss ended slow start');
    assert.equal(rtt.hasSample, true);
    // Old-path packets still in flight: 20..23 (sent at 200).
    for (let pn = 20; pn < 24; pn++) ld.onPacketSent(pkt(pn, 200));
    ld.onNewPath(210);
    assert.equal(cc.congestionWindow, initialWindow(1200));
    assert.equal(cc.inSlowStart, true);
    assert.equal(rtt.hasSample, false);
    assert.equal(rtt.smoothedRtt, INITIAL_RTT);
    const inFlight = cc.bytesInFlight;
    // A new-path packet, then an ACK of old-path packets 20..21: they leave flight, take no RTT
    // sample and do not grow the window.
    ld.onPacketSent(pkt(24, 220));
    const r = ld.onAckReceived(App, [{ smallest: 20, largest: 21 }], 0, 260);
    assert.equal(r.rttSampled, false);
    assert.equal(rtt.hasSample, false);
    assert.equal(cc.congestionWindow, initialWindow(1200));
    assert.equal(cc.bytesInFlight, inFlight + 1200 - 2400);
    // Old-path packets 22..23 declared lost (by time): no congestion event on the new path.
    ld.onAckReceived(App, [{ smallest: 24, largest: 24 }], 0, 300);
    assert.equal(rtt.hasSample, true, 'the new-path packet gave the first sample');
    assert.equal(cc.inRecovery, false);
    assert.ok(cc.congestionWindow >= initialWindow(1200));
    assert.equal(cc.bytesInFlight, 0);
  });
}
