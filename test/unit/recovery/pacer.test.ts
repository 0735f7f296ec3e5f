import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pacer } from '../../../src/recovery/pacer.js';

// cwnd 12000 bytes, srtt 100 ms, N = 1.25: 150 bytes/ms, one 1200-byte packet every 8 ms.
const CWND = 12000;
const SRTT = 100;

test('RFC 9002 §7.7: a fresh pacer allows a burst of 10 packets, then spaces them', () => {
  const pacer = new Pacer();
  for (let i = 0; i < 10; i++) {
    assert.equal(pacer.nextSendTime(0, 1200, CWND, SRTT), 0, `packet ${i}`);
    pacer.onPacketSent(0, 1200, CWND, SRTT);
  }
  assert.equal(pacer.nextSendTime(0, 1200, CWND, SRTT), 8);
  assert.equal(pacer.nextSendTime(5, 1200, CWND, SRTT), 8);
  assert.equal(pacer.nextSendTime(8, 1200, CWND, SRTT), 8);
  pacer.onPacketSent(8, 1200, CWND, SRTT);
  assert.equal(pacer.nextSendTime(8, 1200, CWND, SRTT), 16);
  // A smaller packet needs fewer tokens.
  assert.equal(pacer.nextSendTime(8, 300, CWND, SRTT), 10);
});

test('RFC 9002 §7.7: the steady rate is N * cwnd / srtt', () => {
  const pacer = new Pacer({ burstPackets: 1 });
  let t = 0;
  let sent = 0;
  // Send as soon as allowed for one RTT.
  while (t < SRTT) {
    const next = pacer.nextSendTime(t, 1200, CWND, SRTT);
    if (next > t) {
      t = next;
      continue;
    }
    pacer.onPacketSent(t, 1200, CWND, SRTT);
    sent++;
  }
  // 1 initial token bucket packet + 1.25 * 10 packets per RTT.
  assert.equal(sent, 1 + Math.floor((1.25 * CWND) / 1200));
});

test('idle time refills the bucket only up to the burst size', () => {
  const pacer = new Pacer({ burstPackets: 4 });
  for (let i = 0; i < 4; i++) pacer.onPacketSent(0, 1200, CWND, SRTT);
  assert.equal(pacer.nextSendTime(0, 1200, CWND, SRTT), 8);
  let burst = 0;
  while (pacer.nextSendTime(10_000, 1200, CWND, SRTT) <= 10_000) {
    pacer.onPacketSent(10_000, 1200, CWND, SRTT);
    burst++;
  }
  assert.equal(burst, 4);
});

test('a larger window or a shorter RTT paces faster; no RTT estimate means no pacing', () => {
  const pacer = new Pacer({ burstPackets: 1 });
  pacer.onPacketSent(0, 1200, CWND, SRTT);
  assert.equal(pacer.nextSendTime(0, 1200, CWND * 2, SRTT), 4);
  assert.equal(pacer.nextSendTime(0, 1200, CWND, SRTT / 4), 2);
  assert.equal(pacer.nextSendTime(0, 1200, CWND, 0), 0);
});

test('a packet sent regardless of pacing (a probe) leaves a bounded debt', () => {
  const pacer = new Pacer({ burstPackets: 2 });
  for (let i = 0; i < 10; i++) pacer.onPacketSent(0, 1200, CWND, SRTT);
  // Debt is capped at one burst (2400 bytes): 2400 + 1200 bytes at 150 bytes/ms.
  assert.equal(pacer.nextSendTime(0, 1200, CWND, SRTT), 24);
  // A packet larger than the bucket only waits for a full bucket.
  const big = new Pacer({ burstPackets: 1 });
  assert.equal(big.nextSendTime(0, 5000, CWND, SRTT), 0);
});
