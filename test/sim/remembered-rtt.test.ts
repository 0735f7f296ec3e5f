/**
 * Issue 16, RFC 9002 §6.2.2: a resumed connection starts from the smoothed RTT remembered with its
 * ticket instead of the default initial RTT (100 ms). On a 500 ms RTT path the default makes the
 * client's first PTO (300 ms) fire before the server can answer, a spurious probe; with the
 * remembered RTT it waits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import type { ResumptionSession } from '../../src/tls/types.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from './network.js';
import { CLIENT_ADDRESS, QuicSim } from './quic-harness.js';

test('a resumed connection uses the remembered RTT: no spurious probe on a 500 ms RTT path', () => {
  const seed = 16_400;
  const sim = new QuicSim({
    seed,
    link: { delay: 250 },
    server: {
      tls: {
        ticketKeys: new SessionTicketKeys({
          random: seededRandomBytes(new Prng(seed)),
          now: DEFAULT_START_TIME,
        }),
      },
    },
  });
  const first = sim.dial();
  sim.handshake(first);
  let session: ResumptionSession | undefined;
  sim.run(() => {
    for (let e = first.pollEvent(); e; e = first.pollEvent())
      if (e.type === 'session-ticket') session = e.session;
    return session !== undefined;
  }, 10_000);
  assert.ok(session?.rtt !== undefined, 'the ticket carries the RTT');
  assert.ok(session.rtt >= 500 && session.rtt < 600, `remembered ${session.rtt} ms`);
  // The first connection acknowledges the ticket's packet after its ACK delay: let that go out
  // before counting the next connection's datagrams.
  const settled = sim.now + 200;
  sim.run(() => sim.now >= settled, 1_000);

  /** Client datagrams sent in the first round trip (500 ms), before any answer can arrive. */
  const beforeAnswer = (resume: boolean): { sent: number; initialRtt: number } => {
    let sent = 0;
    const start = sim.now;
    sim.net.onSend(({ from, time }) => {
      if (from === CLIENT_ADDRESS && time >= start && time < start + 500) sent++;
    });
    const conn = sim.dial(resume ? { session } : {});
    const initialRtt = conn.rtt.smoothedRtt;
    sim.handshake(conn);
    return { sent, initialRtt };
  };
  const resumed = beforeAnswer(true);
  assert.equal(resumed.initialRtt, session.rtt);
  assert.equal(resumed.sent, 1, 'one Initial, no probe before the answer');
  const fresh = beforeAnswer(false);
  assert.equal(fresh.initialRtt, 100);
  assert.ok(fresh.sent > 1, `without it the client probed before the answer (${fresh.sent} datagrams)`);
});
