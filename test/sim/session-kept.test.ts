/**
 * A client derives a session ticket's PSK (and the resumption master secret behind it, RFC 8446
 * §4.6.1, §7.1) only for a session somebody keeps: a session cache or a 'session' listener. Without
 * either, the ticket is dropped and nothing is derived (issue 13); with one, the session handed over
 * has its PSK already, so it refers to no TLS engine (a cache keeps no engine alive).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionCache } from '../../src/node/session-cache.js';
import { KeySchedule } from '../../src/tls/key-schedule.js';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import type { ResumptionSession } from '../../src/tls/types.js';
import { DEFAULT_START_TIME } from './network.js';
import { Prng, seededRandomBytes } from './prng.js';
import { advance, PublicClient, simWait } from './public-api-sim.js';
import { QuicSim, SERVER_NAME } from './quic-harness.js';

let derived = 0;

/** Master secrets the client derived so far (the server derives one per connection first). */
const clientDerived = () => derived - 1;

/** Runs a connection through the public objects; returns how often the client derived a master secret. */
async function run(opts: { store?: SessionCache; listen?: (s: ResumptionSession) => void }): Promise<number> {
  const original = KeySchedule.prototype.resumptionMasterSecret;
  derived = 0;
  KeySchedule.prototype.resumptionMasterSecret = function (this: KeySchedule, th: Uint8Array) {
    derived++;
    return original.call(this, th);
  };
  try {
    const sim = new QuicSim({
      seed: 81,
      server: {
        tls: {
          ticketKeys: new SessionTicketKeys({
            random: seededRandomBytes(new Prng(3)),
            now: DEFAULT_START_TIME,
          }),
        },
      },
    });
    const client = new PublicClient(sim, sim.dial(), false, opts.store);
    const conn = await simWait(sim, client.client.next, 'handshake');
    if (opts.listen) conn.on('session', opts.listen);
    // The ticket arrives with the server's first 1-RTT flight.
    await advance(sim, 50);
    assert.equal(sim.serverConnections.length, 1);
    return clientDerived();
  } finally {
    KeySchedule.prototype.resumptionMasterSecret = original;
  }
}

test('no session cache and no listener: the ticket is dropped, nothing derived', async () => {
  assert.equal(await run({}), 0);
});

test("a 'session' listener gets the session with its PSK already derived", async () => {
  const got: ResumptionSession[] = [];
  const atHandover: number[] = [];
  const listen = (s: ResumptionSession) => {
    atHandover.push(clientDerived());
    got.push(s);
  };
  assert.equal(await run({ listen }), 1);
  assert.deepEqual(atHandover, [1]);
  assert.equal(got[0]!.psk.length, 32);
});

test('a session cache stores it with its PSK already derived', async () => {
  const atHandover: number[] = [];
  const store = new (class extends SessionCache {
    override saveSession(s: ResumptionSession): void {
      atHandover.push(clientDerived());
      super.saveSession(s);
    }
  })();
  assert.equal(await run({ store }), 1);
  assert.deepEqual(atHandover, [1]);
  const session = store.takeSession(SERVER_NAME, 0);
  assert.ok(session);
  assert.equal(session.psk.length, 32);
});
