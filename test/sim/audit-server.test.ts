/**
 * `tsquic audit-0rtt server` (src/audit/audit-server.ts) on the simulator, auditing tsquic clients at
 * core level: a correct client passes all six checks; clients made to misbehave the ways real stacks
 * did (a cancel of the dead stream reaching the live one, the remembered limits kept, a DATAGRAM the
 * new connection forbids, the early request dropped or sent twice, giving up after the rejection)
 * fail the check that names the bug, with its evidence. Deterministic: same seed, same trace.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientTrace } from '../../src/audit/audit-trace.js';
import type { CheckResult } from '../../src/audit/check-result.js';
import { runServerChecks } from '../../src/audit/server-checks.js';
import {
  AuditSim,
  auditWellBehavedClient,
  MISBEHAVIOURS,
  SCENARIO_REQUESTS,
  type Tweak,
} from './audit-harness.js';
import { withSimSeed } from './network.js';

const REQUESTS = SCENARIO_REQUESTS;

function verdicts(results: CheckResult[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.name, r.verdict]));
}

function check(results: CheckResult[], name: string): CheckResult {
  const r = results.find((x) => x.name === name);
  assert.ok(r, name);
  return r;
}

function audit(seed: number, alpn: string, tweak?: Tweak, requests = REQUESTS) {
  const sim = new AuditSim(seed);
  const clients = auditWellBehavedClient(sim, alpn, requests, tweak);
  assert.equal(sim.done.length, 1, 'one client audited');
  const trace: ClientTrace = sim.done[0]!;
  return { sim, trace, results: runServerChecks(trace), ...clients };
}

describe('audit-0rtt server mode on the simulator', () => {
  test('a correct client (tsquic core, hq-interop) passes all six checks', () => {
    withSimSeed(1500, (seed) => {
      const { trace, results, attempt } = audit(seed, 'hq-interop');
      assert.ok(attempt.rejected, 'the auditor rejected the 0-RTT attempt');
      assert.deepEqual(
        trace.connections.map((c) => [c.role, c.offered0Rtt, c.resumed]),
        [
          ['first', false, false],
          ['attempt', true, true],
        ],
      );
      const a = trace.connections[1]!;
      // The auditor decrypted the rejected 0-RTT packets: both early requests, with FIN.
      assert.deepEqual(
        a.dead
          .filter((l) => l.frame.type === 'STREAM')
          .map((l) => [
            l.frame.type === 'STREAM' && l.frame.stream,
            l.frame.type === 'STREAM' && Buffer.from(l.frame.data, 'hex').toString(),
          ]),
        [
          [0, REQUESTS[0]],
          [4, REQUESTS[1]],
        ],
      );
      assert.equal(a.deadUndecryptable, 0);
      // Smaller limits than the ticket remembered, on purpose.
      assert.ok(a.announced.maxStreamDataBidiRemote < trace.remembered.maxStreamDataBidiRemote);
      assert.equal(a.announced.maxDatagramFrameSize, null);
      assert.deepEqual(verdicts(results), {
        'no-dead-stream-frames': 'PASS',
        'stream-ids-restart': 'PASS',
        'new-flow-limits': 'PASS',
        'no-stale-control-frames': 'PASS',
        'data-resent-once': 'PASS',
        'client-recovers': 'PASS',
      });
      assert.match(
        check(results, 'data-resent-once').summary,
        /"GET \/index.html" \(dead stream 0\) again on stream 0/,
      );
    });
  });

  test('a correct client echoing 3 KB streams passes too (ALPN echo)', () => {
    withSimSeed(1501, (seed) => {
      const big = `${'x'.repeat(3000)}\n`;
      const { results } = audit(seed, 'echo', undefined, [big, big]);
      assert.deepEqual(
        results.map((r) => r.verdict),
        ['PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS'],
        JSON.stringify(results, null, 1),
      );
    });
  });

  test('#4706: a cancel of the dead stream 0 reaches the live connection before its request -> check 1 FAIL', () => {
    withSimSeed(1502, (seed) => {
      const { results } = audit(seed, 'hq-interop', MISBEHAVIOURS['cancel-dead-stream']);
      const r = check(results, 'no-dead-stream-frames');
      assert.equal(r.verdict, 'FAIL');
      const frames = r.evidence.map((e) => e.frame);
      assert.ok(frames.includes('RESET_STREAM stream 0 code 42 final size 0'), JSON.stringify(r.evidence));
      assert.ok(frames.includes('STOP_SENDING stream 0 code 42'));
      assert.match(
        r.evidence[0]!.note,
        /^stream 0 was never opened on this connection before this frame \(in the first 1-RTT packet\); the rejected 0-RTT attempt held stream 0/,
      );
      assert.match(r.evidence[0]!.packet!, /^1-RTT pn \d+$/);
    });
  });

  test('stream numbering continued after the dead attempt -> check 2 FAIL (and 3: it needs the old limits)', () => {
    withSimSeed(1508, (seed) => {
      const { results } = audit(seed, 'hq-interop', MISBEHAVIOURS['continued-numbering']);
      const r = check(results, 'stream-ids-restart');
      assert.equal(r.verdict, 'FAIL', JSON.stringify(r));
      assert.equal(
        r.summary,
        'the first bidirectional stream after the rejection is 4, not 0 (the dead attempt used 0, 4)',
      );
      assert.equal(check(results, 'new-flow-limits').verdict, 'FAIL');
    });
  });

  test('the remembered limits kept after the rejection -> check 3 FAIL (FLOW_CONTROL_ERROR)', () => {
    withSimSeed(1503, (seed) => {
      const { results, trace } = audit(seed, 'hq-interop', MISBEHAVIOURS['remembered-limits']);
      const r = check(results, 'new-flow-limits');
      assert.equal(r.verdict, 'FAIL', JSON.stringify(r));
      assert.match(
        r.summary,
        /stream 0 reaches offset 17, beyond its window of 8 bytes \(the ticket remembered 262144\)/,
      );
      assert.match(r.evidence.at(-1)!.note, /closed the connection with FLOW_CONTROL_ERROR/);
      assert.equal(trace.connections[1]!.close?.by, 'auditor');
      assert.equal(check(results, 'client-recovers').verdict, 'FAIL');
    });
  });

  test('a DATAGRAM on the new connection, which does not allow them -> check 4 FAIL', () => {
    withSimSeed(1504, (seed) => {
      const { results } = audit(seed, 'hq-interop', MISBEHAVIOURS['forbidden-datagram']);
      const r = check(results, 'no-stale-control-frames');
      assert.equal(r.verdict, 'FAIL', JSON.stringify(r));
      assert.match(
        r.summary,
        /DATAGRAM on a connection that does not allow them \(the ticket remembered max_datagram_frame_size 65535\)/,
      );
    });
  });

  test('the early request never sent again -> check 5 FAIL; sent twice -> check 5 FAIL', () => {
    withSimSeed(1505, (seed) => {
      const r = check(audit(seed, 'hq-interop', MISBEHAVIOURS['not-resent']).results, 'data-resent-once');
      assert.equal(r.verdict, 'FAIL', JSON.stringify(r));
      assert.match(
        r.summary,
        /the early data "GET \/index.html" \(dead stream 0\) never arrived again after the rejection/,
      );
    });
    withSimSeed(1506, (seed) => {
      const r = check(audit(seed, 'hq-interop', MISBEHAVIOURS['sent-twice']).results, 'data-resent-once');
      assert.equal(r.verdict, 'FAIL', JSON.stringify(r));
      assert.match(r.summary, /"GET \/index.html" arrived 2 times after the rejection \(streams 0, 4\)/);
    });
  });

  test('a client that gives up after the rejection -> check 6 FAIL', () => {
    withSimSeed(1507, (seed) => {
      const r = check(audit(seed, 'hq-interop', MISBEHAVIOURS['gives-up']).results, 'client-recovers');
      assert.equal(r.verdict, 'FAIL', JSON.stringify(r));
      // Closed before the handshake completed: the application close travels as APPLICATION_ERROR
      // (RFC 9000 §10.2.3).
      assert.equal(
        r.summary,
        'the handshake after the rejection never completed (closed by client with transport code 12)',
      );
    });
  });
});
