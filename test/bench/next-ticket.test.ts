/**
 * The loop of the handshake benchmarks (bench/compare.ts: dial, one request, wait for the server's
 * next session ticket, close) between tsquic's client and server, in the simulator's virtual time:
 * the next ticket must not add a wait. The server sends it as soon as the handshake completes (RFC
 * 8446 §4.6.1; with HANDSHAKE_DONE, RFC 9001 §4.1.2), so it reaches the client within two round trips
 * of the dial, with the answer of a full or resumed connection and one round trip after the answer of
 * a 0-RTT one. A ticket held back by a timer (an ACK delay, a probe, a batch) would show here as
 * extra virtual time. Virtual time is exact: this is a protocol check, not a timed assertion.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionTimeline, KINDS } from '../../bench/zero-rtt.js';

const RTT = 40;

for (const kind of KINDS) {
  test(`${kind}: the next session ticket arrives within 2 RTT of the dial`, () => {
    const t = connectionTimeline(kind, RTT, 7);
    assert.ok(t.ticket !== undefined, 'no session ticket');
    // A one-way delay is RTT / 2; allow one ms of the simulator's application step.
    assert.ok(t.ticket <= 2 * RTT + 1, `ticket after ${t.ticket} ms, ${t.ticket / RTT} RTT`);
    assert.ok(t.answered <= (kind === '0rtt' ? 1 : 2) * RTT + 1, `answered after ${t.answered} ms`);
    if (kind !== '0rtt') assert.ok(t.ticket <= t.answered, 'the ticket came after the answer');
  });
}
