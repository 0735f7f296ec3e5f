/**
 * `tsquic audit-0rtt client` (src/audit/audit-client.ts) on the simulator, auditing a tsquic server
 * endpoint: a correct one passes every check, including the expired ticket (its tickets live 3 s);
 * one whose replay protection is switched off fails the replay check, with the twin connection's
 * evidence. Deterministic: same seed, same run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runClientChecks } from '../../src/audit/client-checks.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { auditServer } from './audit-harness.js';
import { withSimSeed } from './network.js';
import { SERVER_ADDRESS } from './quic-harness.js';

describe('audit-0rtt client mode on the simulator', () => {
  test('a tsquic server passes all five checks (tickets of 3 s: the expiry check runs)', async () => {
    await withSimSeed(1600, async (seed) => {
      // What the auditor puts on the wire: the packet types of each datagram, in order.
      const sent: PacketType[][] = [];
      const trace = await auditServer(seed, {}, (net) =>
        net.onSend((e) => {
          if (e.to === SERVER_ADDRESS) sent.push(splitDatagram(e.datagram, 8).map((p) => p.type));
        }),
      );
      // Check 4 really sent a 0-RTT packet alone, right before the datagram with its Initial.
      const ahead = sent.findIndex(
        (types, i) =>
          types.length === 1 && types[0] === PacketType.ZeroRtt && sent[i + 1]?.[0] === PacketType.Initial,
      );
      assert.ok(ahead >= 0, 'a 0-RTT packet went out alone, ahead of its Initial');
      assert.deepEqual(trace.ticket, { received: true, allowsEarlyData: true, lifetime: 3 });
      assert.deepEqual(
        trace.attempts.map((a) => [a.kind, a.earlyData, a.resumed, a.zeroRttPackets > 0]),
        [
          ['attempt', 'accepted', true, true],
          // Its key share is secp256r1; tsquic prefers x25519: HelloRetryRequest, 0-RTT rejected.
          ['hrr', 'rejected', true, true],
          ['reorder', 'accepted', true, true],
        ],
      );
      assert.equal(trace.replay?.twinIdentical, true, 'the twin reproduced the first flight byte for byte');
      assert.equal(trace.replay?.earlyData, 'rejected', 'single-use tickets: the replay is rejected');
      assert.equal(trace.expired?.attempt?.earlyData, 'none', 'the expired ticket was not even resumed');
      const results = runClientChecks(trace);
      assert.deepEqual(
        results.map((r) => [r.name, r.verdict]),
        [
          ['accepted-keeps-limits', 'PASS'],
          ['rejected-early-data-ignored', 'PASS'],
          ['replay-refused', 'PASS'],
          ['early-before-initial', 'PASS'],
          ['expired-ticket-refused', 'PASS'],
        ],
        JSON.stringify(results, null, 1),
      );
    });
  });

  test('a server without replay protection fails the replay check; the twin read its answer', async () => {
    await withSimSeed(1601, async (seed) => {
      const trace = await auditServer(seed, { replayStore: { claim: () => true } });
      const r = runClientChecks(trace).find((x) => x.name === 'replay-refused')!;
      assert.equal(
        r.verdict,
        'FAIL',
        JSON.stringify({
          replay: trace.replay,
          expired: trace.expired?.skipped,
          attempts: trace.attempts.map((a) => [a.kind, a.earlyData, a.resumed]),
        }),
      );
      assert.match(
        r.summary,
        /^the server accepted the replayed 0-RTT data and answered the replayed request with 4096 bytes$/,
      );
      assert.match(r.evidence[0]!.note, /^1 datagram replayed \d+(\.\d)? s later from a new port$/);
    });
  });
});
