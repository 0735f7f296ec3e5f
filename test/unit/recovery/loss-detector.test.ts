import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { LossDetector } from '../../../src/recovery/loss-detector.js';
import { NewReno } from '../../../src/recovery/new-reno.js';
import { RttEstimator } from '../../../src/recovery/rtt-estimator.js';
import { PacketNumberSpace, type SentPacket } from '../../../src/recovery/types.js';
import { FrameType } from '../../../src/wire/frames.js';

const { Initial, Handshake, ApplicationData: App } = PacketNumberSpace;

function pkt(
  space: PacketNumberSpace,
  packetNumber: number,
  timeSent: number,
  opts: { ackEliciting?: boolean; inFlight?: boolean; size?: number } = {},
): SentPacket<string> {
  const ackEliciting = opts.ackEliciting ?? true;
  return {
    packetNumber,
    space,
    timeSent,
    size: opts.size ?? 1200,
    ackEliciting,
    inFlight: opts.inFlight ?? ackEliciting,
    payload: `${PacketNumberSpace[space]}#${packetNumber}`,
  };
}

function setup(opts: { isServer?: boolean; confirmed?: boolean; peerMaxAckDelay?: number } = {}) {
  const rtt = new RttEstimator();
  const cc = new NewReno();
  const ld = new LossDetector<string>({
    rtt,
    congestion: cc,
    isServer: opts.isServer ?? true,
    peerMaxAckDelay: opts.peerMaxAckDelay ?? 25,
  });
  if (opts.confirmed ?? true) ld.setHandshakeConfirmed();
  return { rtt, cc, ld };
}

const pns = (ps: readonly SentPacket<string>[]) => ps.map((p) => p.packetNumber);
const range = (smallest: number, largest: number) => ({ smallest, largest });

test('RFC 9002 §6.1.1: packets three below the largest acknowledged are lost by packet threshold', () => {
  const { ld, cc, rtt } = setup();
  for (let pn = 0; pn < 5; pn++) ld.onPacketSent(pkt(App, pn, pn));
  assert.equal(cc.bytesInFlight, 6000);
  const r = ld.onAckReceived(App, [range(4, 4)], 0, 50);
  assert.deepEqual(pns(r.newlyAcked), [4]);
  assert.deepEqual(pns(r.lost), [0, 1]);
  assert.equal(r.largestAckedNewlyAcked, true);
  assert.equal(r.rttSampled, true);
  assert.equal(r.persistentCongestion, false);
  assert.equal(rtt.latestRtt, 46);
  assert.equal(cc.bytesInFlight, 2400);
  assert.equal(ld.sentPacketCount(App), 2);
  assert.equal(ld.largestAcked(App), 4);
  // RFC 9002 §6.1.2: 2 and 3 wait for the time threshold: 9/8 * 46 after they were sent.
  assert.equal(ld.lossDetectionTimeout(), 2 + (9 / 8) * 46);
  // The loss made NewReno enter recovery.
  assert.equal(cc.inRecovery, true);
  assert.equal(cc.congestionWindow, 6000);
});

test('RFC 9002 §6.1.2: the time threshold timer declares the remaining packets lost', () => {
  const { ld, cc } = setup();
  for (let pn = 0; pn < 5; pn++) ld.onPacketSent(pkt(App, pn, pn));
  ld.onAckReceived(App, [range(4, 4)], 0, 50);
  const due = ld.lossDetectionTimeout()!;
  // Not due yet: nothing happens.
  assert.deepEqual(ld.onLossDetectionTimeout(due - 0.5), { lost: [] });
  assert.equal(ld.sentPacketCount(App), 2);
  const r = ld.onLossDetectionTimeout(due);
  assert.deepEqual(pns(r.lost), [2]);
  assert.equal(r.probe, undefined);
  // Packet 3 was sent 1 ms later, so it is due 1 ms later.
  assert.equal(ld.lossDetectionTimeout(), due + 1);
  assert.deepEqual(pns(ld.onLossDetectionTimeout(due + 1).lost), [3]);
  assert.equal(cc.bytesInFlight, 0);
  assert.equal(ld.ptoCount, 0);
  // Nothing in flight any more (server): no timer.
  assert.equal(ld.lossDetectionTimeout(), undefined);
});

test('RFC 9002 §6.1.2: an old packet is lost by time even within the packet threshold', () => {
  const { ld } = setup();
  ld.onPacketSent(pkt(App, 0, 0));
  ld.onPacketSent(pkt(App, 1, 500));
  // RTT sample 20 ms: loss delay 22.5 ms, packet 0 was sent 520 ms ago.
  const r = ld.onAckReceived(App, [range(1, 1)], 0, 520);
  assert.deepEqual(pns(r.lost), [0]);
});

test('RFC 9002 §6.2.1: PTO = srtt + max(4*rttvar, granularity) + max_ack_delay, doubling per expiry', () => {
  const { ld, cc } = setup({ peerMaxAckDelay: 25 });
  ld.onPacketSent(pkt(App, 0, 0));
  assert.equal(ld.lossDetectionTimeout(), 333 + 666 + 25);
  const r1 = ld.onLossDetectionTimeout(1024);
  assert.deepEqual(r1, { lost: [], probe: { space: App, count: 2 } });
  assert.equal(ld.ptoCount, 1);
  // RFC 9002 §6.2.3: a PTO does not declare anything lost.
  assert.equal(ld.sentPacketCount(App), 1);
  assert.equal(cc.bytesInFlight, 1200);
  assert.equal(ld.lossDetectionTimeout(), 2048);
  // Probes are sent; the timer is restarted from the last ack-eliciting packet.
  ld.onPacketSent(pkt(App, 1, 1030));
  ld.onPacketSent(pkt(App, 2, 1030));
  assert.equal(ld.lossDetectionTimeout(), 1030 + 2048);
  ld.onLossDetectionTimeout(3078);
  assert.equal(ld.ptoCount, 2);
  assert.equal(ld.lossDetectionTimeout(), 1030 + 4096);
  // An acknowledgment resets the backoff (RFC 9002 §6.2.1).
  ld.onAckReceived(App, [range(2, 2)], 0, 3100);
  assert.equal(ld.ptoCount, 0);
});

test('RFC 9002 §6.2.1: Initial and Handshake PTOs leave out max_ack_delay; the earliest space is probed', () => {
  const { ld } = setup({ confirmed: false, peerMaxAckDelay: 100 });
  ld.onPacketSent(pkt(Initial, 0, 0));
  ld.onPacketSent(pkt(Handshake, 0, 10));
  assert.equal(ld.lossDetectionTimeout(), 999);
  assert.deepEqual(ld.onLossDetectionTimeout(999).probe, { space: Initial, count: 2 });
  // Backoff applies across spaces: Initial at 0 + 1998, Handshake at 10 + 1998.
  assert.equal(ld.lossDetectionTimeout(), 1998);
  ld.onPacketSent(pkt(Initial, 1, 1000));
  assert.equal(ld.lossDetectionTimeout(), 10 + 1998);
  assert.deepEqual(ld.onLossDetectionTimeout(2008).probe, { space: Handshake, count: 2 });
  assert.equal(ld.ackElicitingInFlight(), 3);
  assert.equal(ld.ackElicitingInFlight(Initial), 2);
});

test('RFC 9002 §6.2.1: no Application Data PTO before the handshake is confirmed', () => {
  const { ld } = setup({ confirmed: false });
  ld.onPacketSent(pkt(App, 0, 0));
  assert.equal(ld.lossDetectionTimeout(), undefined);
  assert.deepEqual(ld.onLossDetectionTimeout(10_000), { lost: [] });
  assert.equal(ld.ptoCount, 0);
  // A Handshake packet in flight arms the Handshake PTO only.
  ld.onPacketSent(pkt(Handshake, 0, 100));
  assert.equal(ld.lossDetectionTimeout(), 100 + 999);
  assert.equal(ld.onLossDetectionTimeout(1099).probe?.space, Handshake);
  ld.discardSpace(Handshake, 1200);
  assert.equal(ld.lossDetectionTimeout(), undefined);
  ld.setHandshakeConfirmed();
  assert.equal(ld.lossDetectionTimeout(), 0 + 999 + 25);
  assert.equal(ld.onLossDetectionTimeout(1024).probe?.space, App);
});

test('RFC 9002 §6.2.2.1: an amplification-blocked server arms no PTO, but time-threshold loss still runs', () => {
  const { ld } = setup({ confirmed: false });
  ld.onPacketSent(pkt(Initial, 0, 0));
  ld.setAmplificationBlocked(true);
  assert.equal(ld.lossDetectionTimeout(), undefined);
  assert.deepEqual(ld.onLossDetectionTimeout(5000), { lost: [] });
  ld.setAmplificationBlocked(false);
  assert.equal(ld.lossDetectionTimeout(), 999);

  ld.onPacketSent(pkt(Initial, 1, 100));
  ld.onPacketSent(pkt(Initial, 2, 101));
  // RTT 40 ms, loss delay 45 ms: packet 0 is lost by time, packet 1 waits until 145.
  assert.deepEqual(pns(ld.onAckReceived(Initial, [range(2, 2)], 0, 141).lost), [0]);
  ld.setAmplificationBlocked(true);
  assert.equal(ld.lossDetectionTimeout(), 145);
  assert.deepEqual(pns(ld.onLossDetectionTimeout(145).lost), [1]);
  assert.equal(ld.lossDetectionTimeout(), undefined);
});

test('RFC 9002 §6.2.2.1: a client arms an anti-deadlock PTO with nothing in flight until the server validated it', () => {
  const { ld } = setup({ isServer: false, confirmed: false });
  // Nothing sent yet: nothing to unblock.
  assert.equal(ld.lossDetectionTimeout(), undefined);
  ld.onPacketSent(pkt(Initial, 0, 0));
  ld.onAckReceived(Initial, [range(0, 0)], 0, 100);
  assert.equal(ld.ackElicitingInFlight(), 0);
  // srtt 100, rttvar 50: PTO 300 from the time of the ACK.
  assert.equal(ld.lossDetectionTimeout(), 400);
  assert.deepEqual(ld.onLossDetectionTimeout(400).probe, { space: Initial, count: 1 });
  assert.equal(ld.ptoCount, 1);
  // The client does not reset the backoff on Initial ACKs (RFC 9002 §6.2.1).
  ld.onPacketSent(pkt(Initial, 1, 410));
  ld.onAckReceived(Initial, [range(1, 1)], 0, 500);
  assert.equal(ld.ptoCount, 1);
  ld.setHasHandshakeKeys(true);
  assert.equal(ld.onLossDetectionTimeout(ld.lossDetectionTimeout()!).probe?.space, Handshake);
  // A Handshake ACK proves the server validated the address: no more anti-deadlock timer.
  ld.onPacketSent(pkt(Handshake, 0, 2000));
  ld.onAckReceived(Handshake, [range(0, 0)], 0, 2100);
  assert.equal(ld.ptoCount, 0);
  assert.equal(ld.lossDetectionTimeout(), undefined);
});

test('a server with nothing in flight arms no timer', () => {
  const { ld } = setup({ confirmed: false });
  assert.equal(ld.lossDetectionTimeout(), undefined);
  ld.onPacketSent(pkt(App, 0, 0, { ackEliciting: false }));
  assert.equal(ld.lossDetectionTimeout(), undefined);
});

/** RFC 9002 §7.6.3 example, times x100 ms: srtt + 4*rttvar + max_ack_delay = 200 ms -> duration 600. */
function persistentCongestionScenario(opts: {
  withRttSample?: boolean;
  ackAlso5?: boolean;
  lastNonEliciting?: boolean;
}) {
  const { ld, cc, rtt } = setup({ peerMaxAckDelay: 80 });
  ld.onPacketSent(pkt(App, 1, 0));
  ld.onPacketSent(pkt(App, 2, 100));
  if (opts.withRttSample ?? true) ld.onAckReceived(App, [range(1, 1)], 0, 40);
  for (let pn = 3; pn <= 7; pn++) ld.onPacketSent(pkt(App, pn, (pn - 1) * 100));
  ld.onPacketSent(pkt(App, 8, 800, { ackEliciting: !opts.lastNonEliciting, inFlight: true }));
  ld.onPacketSent(pkt(App, 9, 1200));
  const ranges = opts.ackAlso5 ? [range(9, 9), range(5, 5)] : [range(9, 9)];
  const ranges1 = opts.withRttSample === false ? [...ranges, range(1, 1)] : ranges;
  const r = ld.onAckReceived(App, ranges1, 0, 1220);
  return { r, cc, rtt };
}

test('RFC 9002 §7.6.3: the example establishes persistent congestion; the window collapses', () => {
  const { r, cc, rtt } = persistentCongestionScenario({});
  assert.deepEqual(pns(r.lost), [2, 3, 4, 5, 6, 7, 8]);
  // srtt 37.5, rttvar 20 after the second sample: duration (37.5 + 80 + 80) * 3 = 592.5 < 800 - 100.
  assert.equal(rtt.smoothedRtt, 37.5);
  assert.equal(r.persistentCongestion, true);
  // The window collapsed to kMinimumWindow, then (A.7 order: losses before acks) slow start
  // credited the acknowledged packet 9, sent after the recovery period was reset.
  assert.equal(cc.congestionWindow, 2400 + 1200);
  assert.equal(cc.inSlowStart, true);
  assert.equal(cc.inRecovery, false);
  assert.equal(rtt.minRtt, 20);
});

test('RFC 9002 §7.6.2: no persistent congestion without a prior RTT sample', () => {
  const { r, cc } = persistentCongestionScenario({ withRttSample: false });
  assert.deepEqual(pns(r.lost), [2, 3, 4, 5, 6, 7, 8]);
  assert.equal(r.persistentCongestion, false);
  assert.ok(cc.congestionWindow > 2400);
});

test('RFC 9002 §7.6.2: an acknowledged packet between the lost ones breaks the period', () => {
  const { r, cc } = persistentCongestionScenario({ ackAlso5: true });
  assert.deepEqual(pns(r.lost), [2, 3, 4, 6, 7, 8]);
  assert.deepEqual(pns(r.newlyAcked), [5, 9]);
  assert.equal(r.persistentCongestion, false);
  assert.ok(cc.congestionWindow > 2400);
});

test('RFC 9002 §7.6.2: the two packets spanning the period must be ack-eliciting', () => {
  const { r } = persistentCongestionScenario({ lastNonEliciting: true });
  // Packets 2..7 span only 500 ms.
  assert.equal(r.persistentCongestion, false);
});

test('persistent congestion also spans a packet declared lost earlier (it was not acknowledged)', () => {
  const { ld } = setup({ peerMaxAckDelay: 80 });
  ld.onPacketSent(pkt(App, 0, 0));
  ld.onAckReceived(App, [range(0, 0)], 0, 40);
  for (let pn = 1; pn <= 8; pn++) ld.onPacketSent(pkt(App, pn, pn * 100));
  // Packet 4 is discarded (as if its 0-RTT keys were rejected): not acknowledged, not a break.
  ld.discardPackets(App, (p) => p.packetNumber === 4);
  ld.onPacketSent(pkt(App, 9, 1000));
  const r = ld.onAckReceived(App, [range(9, 9)], 0, 1040);
  assert.deepEqual(pns(r.lost), [1, 2, 3, 5, 6, 7, 8]);
  assert.equal(r.persistentCongestion, true);
});

test('RFC 9000 §13.1, §21.4: an ACK of a packet never sent is a PROTOCOL_VIOLATION', () => {
  const { ld } = setup();
  const isViolation = (e: unknown) =>
    e instanceof QuicTransportError &&
    e.errorCode === TransportErrorCode.PROTOCOL_VIOLATION &&
    e.frameType === FrameType.Ack;
  assert.throws(() => ld.onAckReceived(App, [range(0, 0)], 0, 10), isViolation);
  ld.onPacketSent(pkt(App, 0, 0));
  ld.onPacketSent(pkt(App, 2, 1)); // packet number 1 skipped
  ld.onPacketSent(pkt(App, 3, 2));
  assert.throws(() => ld.onAckReceived(App, [range(4, 4)], 0, 10), isViolation);
  assert.throws(() => ld.onAckReceived(App, [range(1, 1)], 0, 10), isViolation);
  assert.throws(() => ld.onAckReceived(App, [range(0, 3)], 0, 10), isViolation);
  assert.throws(() => ld.onAckReceived(App, [range(3, 3), range(0, 1)], 0, 10), isViolation);
  // Nothing was processed by the rejected frames.
  assert.equal(ld.sentPacketCount(App), 3);
  const r = ld.onAckReceived(App, [range(2, 3), range(0, 0)], 0, 10);
  assert.deepEqual(pns(r.newlyAcked), [0, 2, 3]);
  // Acknowledging again what was acknowledged is fine, and changes nothing.
  const again = ld.onAckReceived(App, [range(2, 3)], 0, 11);
  assert.deepEqual(again.newlyAcked, []);
  assert.equal(again.rttSampled, false);
  // Other spaces are separate.
  assert.throws(() => ld.onAckReceived(Handshake, [range(0, 0)], 0, 10), isViolation);
});

test('RFC 9002 §5.1: RTT samples only when the largest acknowledged is newly acked and ack-eliciting', () => {
  const { ld, rtt } = setup();
  ld.onPacketSent(pkt(App, 0, 0));
  ld.onPacketSent(pkt(App, 1, 10, { ackEliciting: false }));
  const r1 = ld.onAckReceived(App, [range(0, 1)], 0, 50);
  assert.equal(r1.largestAckedNewlyAcked, true);
  assert.equal(r1.rttSampled, false);
  assert.equal(rtt.hasSample, false);
  ld.onPacketSent(pkt(App, 2, 69));
  ld.onPacketSent(pkt(App, 3, 70));
  ld.onAckReceived(App, [range(3, 3)], 5, 100);
  assert.equal(rtt.latestRtt, 30);
  // Packet 3 again, with 2 newly acked: the largest is not newly acked, no sample.
  const r2 = ld.onAckReceived(App, [range(2, 3)], 0, 500);
  assert.deepEqual(pns(r2.newlyAcked), [2]);
  assert.equal(r2.largestAckedNewlyAcked, false);
  assert.equal(r2.rttSampled, false);
  assert.equal(rtt.latestRtt, 30);
});

test('RFC 9002 §5.3: the ack delay of an Initial ACK is ignored', () => {
  const { ld, rtt } = setup({ confirmed: false });
  ld.onPacketSent(pkt(Initial, 0, 0));
  ld.onPacketSent(pkt(Initial, 1, 100));
  ld.onAckReceived(Initial, [range(0, 0)], 0, 100);
  ld.onAckReceived(Initial, [range(1, 1)], 50, 260);
  // Without ignoring the delay the adjusted sample would be 110.
  assert.equal(rtt.smoothedRtt, 0.875 * 100 + 0.125 * 160);
});

test('RFC 9002 B.7: an increase of the ECN-CE count is a congestion event, once', () => {
  const { ld, cc } = setup();
  for (let pn = 0; pn < 10; pn++) ld.onPacketSent(pkt(App, pn, pn));
  ld.onAckReceived(App, [range(0, 1)], 0, 50, { ect0: 2, ect1: 0, ce: 0 });
  const before = cc.congestionWindow;
  ld.onAckReceived(App, [range(2, 2)], 0, 51, { ect0: 2, ect1: 0, ce: 1 });
  assert.equal(cc.congestionWindow, before / 2);
  assert.equal(cc.inRecovery, true);
  ld.onAckReceived(App, [range(3, 3)], 0, 52, { ect0: 2, ect1: 0, ce: 1 });
  assert.equal(cc.congestionWindow, before / 2);
});

test('RFC 9002 §6.4, A.11: discardSpace removes the packets from bytes in flight and resets the PTO', () => {
  const { ld, cc } = setup({ confirmed: false });
  ld.onPacketSent(pkt(Initial, 0, 0, { size: 1200 }));
  ld.onPacketSent(pkt(Initial, 1, 1, { size: 1200 }));
  ld.onPacketSent(pkt(Initial, 2, 2, { ackEliciting: false, inFlight: false, size: 50 }));
  ld.onPacketSent(pkt(Handshake, 0, 5, { size: 500 }));
  ld.onLossDetectionTimeout(1000);
  assert.equal(ld.ptoCount, 1);
  assert.equal(cc.bytesInFlight, 2900);
  const removed = ld.discardSpace(Initial, 1000);
  assert.deepEqual(pns(removed), [0, 1, 2]);
  assert.equal(cc.bytesInFlight, 500);
  assert.equal(ld.sentPacketCount(Initial), 0);
  assert.equal(ld.ackElicitingInFlight(Initial), 0);
  assert.equal(ld.ptoCount, 0);
  assert.equal(ld.lossDetectionTimeout(), 5 + 999);
  // Nothing is tracked in a discarded space any more.
  ld.onPacketSent(pkt(Initial, 3, 1001));
  assert.equal(ld.sentPacketCount(Initial), 0);
  assert.equal(cc.bytesInFlight, 500);
  // Not lost: no congestion signal.
  assert.equal(cc.inRecovery, false);
  assert.equal(cc.congestionWindow, 12000);
});

test('RFC 9001 §4.6.2: discardPackets removes rejected 0-RTT packets without a congestion signal', () => {
  const { ld, cc } = setup();
  for (let pn = 0; pn < 6; pn++) ld.onPacketSent(pkt(App, pn, pn, { size: 1000 + pn }));
  const removed = ld.discardPackets(App, (p) => p.packetNumber % 2 === 0);
  assert.deepEqual(pns(removed), [0, 2, 4]);
  assert.equal(cc.bytesInFlight, 1001 + 1003 + 1005);
  assert.equal(ld.sentPacketCount(App), 3);
  assert.equal(ld.ackElicitingInFlight(App), 3);
  assert.equal(cc.congestionWindow, 12000);
  // Acknowledging a discarded packet is not a violation (it was sent) and acknowledges nothing.
  const r = ld.onAckReceived(App, [range(4, 5)], 0, 50);
  assert.deepEqual(pns(r.newlyAcked), [5]);
  assert.deepEqual(pns(r.lost), [1]);
  assert.deepEqual(
    ld.discardPackets(App, () => false),
    [],
  );
});

test('discardPackets re-arms the loss timer when the packet it waited for is gone', () => {
  const { ld } = setup();
  ld.onPacketSent(pkt(App, 0, 47));
  ld.onPacketSent(pkt(App, 1, 48));
  ld.onPacketSent(pkt(App, 2, 50));
  // RTT 40 ms: loss delay 45 ms; neither 0 nor 1 is lost yet.
  assert.deepEqual(ld.onAckReceived(App, [range(2, 2)], 0, 90).lost, []);
  assert.equal(ld.lossDetectionTimeout(), 47 + 45);
  ld.discardPackets(App, (p) => p.packetNumber === 0);
  assert.equal(ld.lossDetectionTimeout(), 48 + 45);
  ld.discardPackets(App, (p) => p.packetNumber === 1);
  // Only packet 2 was in flight and it is acknowledged: nothing to wait for.
  assert.equal(ld.lossDetectionTimeout(), undefined);
});

test('20,000 packets in flight: an ACK with 10,000 ranges acknowledges exactly the listed packets', () => {
  const { ld, cc } = setup();
  const N = 20_000;
  for (let pn = 0; pn < N; pn++) ld.onPacketSent(pkt(App, pn, pn / 100, { size: 100 }));
  assert.equal(cc.bytesInFlight, N * 100);
  const ranges = [];
  for (let pn = N - 1; pn >= 0; pn -= 2) ranges.push(range(pn, pn));
  const r = ld.onAckReceived(App, ranges, 0, 300);
  assert.equal(r.newlyAcked.length, N / 2);
  assert.ok(r.newlyAcked.every((p, i) => p.packetNumber === 2 * i + 1));
  // Every even packet but the last one lies at least 3 below the largest acknowledged.
  assert.equal(r.lost.length, N / 2 - 1);
  assert.ok(r.lost.every((p, i) => p.packetNumber === 2 * i));
  assert.equal(ld.sentPacketCount(App), 1);
  assert.equal(cc.bytesInFlight, 100);
  // Sending continues normally after the queue emptied.
  ld.onPacketSent(pkt(App, N, 400));
  assert.deepEqual(pns(ld.onAckReceived(App, [range(N, N)], 0, 450).newlyAcked), [N]);
});

test('ACK-only packets never acknowledged by the peer are bounded', () => {
  const rtt = new RttEstimator();
  const cc = new NewReno();
  const ld = new LossDetector<string>({ rtt, congestion: cc, isServer: true, maxAckOnlyTracked: 100 });
  for (let pn = 0; pn < 5000; pn++) {
    ld.onPacketSent(pkt(App, pn, pn, { ackEliciting: pn % 1000 === 0, inFlight: pn % 1000 === 0 }));
  }
  assert.ok(ld.sentPacketCount(App) <= 105, `tracked ${ld.sentPacketCount(App)}`);
  // The ack-eliciting ones are all kept.
  assert.equal(ld.ackElicitingInFlight(App), 5);
  assert.equal(cc.bytesInFlight, 6000);
});

test('packet numbers must increase within a space', () => {
  const { ld } = setup();
  ld.onPacketSent(pkt(App, 5, 0));
  assert.throws(
    () => ld.onPacketSent(pkt(App, 5, 1)),
    (e: unknown) => e instanceof QuicTransportError && e.errorCode === TransportErrorCode.INTERNAL_ERROR,
  );
  // A packet number in another space is independent.
  ld.onPacketSent(pkt(Handshake, 0, 1));
});
