/**
 * The six server-mode checks of `tsquic audit-0rtt`, each fed recorded traces (fixtures/): one it
 * must pass and one it must fail, with the evidence it must name.
 *
 * Recorded over UDP with `tsquic audit-0rtt server --trace` (see fixtures/README.md):
 *   quic-go-cancel-rejected.json  quic-go 0.29 client, -0rtt -cancel-rejected 42 (the #4706 scenario)
 *   quic-go-hq.json               quic-go 0.29 client, -0rtt
 *   tsquic-client.json            tsquic's CLI client, --session-file --0rtt, run twice
 * Recorded on the simulator (fixtures/record-sim.ts): sim-correct.json and one sim-<misbehaviour>.json
 * per MISBEHAVIOURS entry of test/sim/audit-harness.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ClientTrace } from '../../../src/audit/audit-trace.js';
import type { CheckResult } from '../../../src/audit/check-result.js';
import { checkClientRecovers } from '../../../src/audit/checks/client-recovers.js';
import { checkDataResentOnce } from '../../../src/audit/checks/data-resent-once.js';
import { checkNewFlowLimits } from '../../../src/audit/checks/new-flow-limits.js';
import { checkNoDeadStreamFrames } from '../../../src/audit/checks/no-dead-stream-frames.js';
import { checkNoStaleControlFrames } from '../../../src/audit/checks/no-stale-control-frames.js';
import { checkStreamIdsRestart } from '../../../src/audit/checks/stream-ids-restart.js';
import { runServerChecks } from '../../../src/audit/server-checks.js';

function fixture(name: string): ClientTrace {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8')) as ClientTrace;
}

const PASSING = ['tsquic-client', 'sim-correct'];

function expectPass(check: (t: ClientTrace) => CheckResult, names = PASSING): void {
  for (const name of names) {
    const r = check(fixture(name));
    assert.equal(r.verdict, 'PASS', `${name}: ${r.summary}`);
    assert.ok(r.summary.length > 0);
  }
}

describe('server-mode checks on recorded traces', () => {
  test('the tsquic client passes every check; quic-go 0.29 without cancels passes all it exercises', () => {
    for (const name of PASSING) {
      assert.deepEqual(
        runServerChecks(fixture(name)).map((r) => [r.id, r.verdict]),
        [1, 2, 3, 4, 5, 6].map((id) => [id, 'PASS']),
        name,
      );
    }
    assert.deepEqual(
      runServerChecks(fixture('quic-go-hq')).map((r) => r.verdict),
      ['PASS', 'PASS', 'PASS', 'NOT-EXERCISED', 'PASS', 'PASS'],
    );
  });

  test("1 no-dead-stream-frames: quic-go 0.29 sends the dead streams' RESET_STREAM and STOP_SENDING in its first 1-RTT packet", () => {
    expectPass(checkNoDeadStreamFrames, [...PASSING, 'quic-go-hq']);
    const t = fixture('quic-go-cancel-rejected');
    const r = checkNoDeadStreamFrames(t);
    assert.equal(r.verdict, 'FAIL');
    const attempt = t.connections.find((c) => c.role === 'attempt')!;
    const firstPn = `1-RTT pn ${Math.min(...attempt.appPns)}`;
    // The acceptance test of the tool: the client's first 1-RTT packet carries RESET_STREAM and
    // STOP_SENDING for a stream of the dead attempt.
    const inFirst = r.evidence.filter((e) => e.packet === firstPn).map((e) => e.frame!.split(' ')[0]);
    assert.ok(
      inFirst.includes('RESET_STREAM') && inFirst.includes('STOP_SENDING'),
      JSON.stringify(r.evidence),
    );
    // Both cancels of each dead stream, the RESET_STREAM with the dead stream's final size.
    for (const dead of attempt.dead) {
      const f = dead.frame;
      if (f.type !== 'STREAM') continue;
      const reset = r.evidence.find(
        (e) => e.frame === `RESET_STREAM stream ${f.stream} code 42 final size ${f.length}`,
      );
      assert.ok(reset, `RESET_STREAM of dead stream ${f.stream}`);
      assert.equal(reset.stream, f.stream);
      assert.match(
        reset.note,
        new RegExp(
          `^stream ${f.stream} was never opened on this connection before this frame( \\(in the first 1-RTT packet\\))?; ` +
            `the rejected 0-RTT attempt held stream ${f.stream} with the same final size ${f.length} \\(0-RTT pn \\d+: STREAM stream ${f.stream} offset 0 length ${f.length} FIN "GET /`,
        ),
      );
      assert.ok(r.evidence.some((e) => e.frame === `STOP_SENDING stream ${f.stream} code 42`));
    }
    // The simulator's client made to do the same.
    const sim = checkNoDeadStreamFrames(fixture('sim-cancel-dead-stream'));
    assert.equal(sim.verdict, 'FAIL');
    assert.ok(sim.evidence.some((e) => e.frame === 'STOP_SENDING stream 0 code 42'));
  });

  test('1 no-dead-stream-frames: a frame behind a gap in packet numbers needs the dead attempt to match', () => {
    const t = fixture('sim-cancel-dead-stream');
    const attempt = t.connections.find((c) => c.role === 'attempt')!;
    // Pretend packet 0 of the application space never arrived: the stream might have been opened there.
    const gap: ClientTrace = {
      ...t,
      connections: t.connections.map((c) =>
        c === attempt
          ? { ...c, appPns: c.appPns.filter((pn) => pn !== Math.min(...c.appPns)), deadPns: [] }
          : c,
      ),
    };
    const r = checkNoDeadStreamFrames(gap);
    // Stream 0 was in the dead attempt: still reported, as inconclusive about the gap.
    assert.equal(r.verdict, 'FAIL');
    assert.match(r.evidence[0]!.note, /some earlier packets were not received/);
    // Without the dead stream, the same frames prove nothing.
    const noDead: ClientTrace = {
      ...gap,
      connections: gap.connections.map((c) => (c.role === 'attempt' ? { ...c, dead: [] } : c)),
    };
    assert.equal(checkNoDeadStreamFrames(noDead).verdict, 'NOT-EXERCISED');
  });

  test('2 stream-ids-restart: numbering that goes on after the dead attempt fails', () => {
    expectPass(checkStreamIdsRestart, [...PASSING, 'quic-go-hq', 'quic-go-cancel-rejected']);
    const r = checkStreamIdsRestart(fixture('sim-continued-numbering'));
    assert.equal(r.verdict, 'FAIL');
    assert.equal(
      r.summary,
      'the first bidirectional stream after the rejection is 4, not 0 (the dead attempt used 0, 4)',
    );
    assert.match(r.evidence[0]!.frame!, /^STREAM stream 4 offset 0/);
  });

  test('3 new-flow-limits: a client using the remembered limits exceeds the new window', () => {
    expectPass(checkNewFlowLimits, [...PASSING, 'quic-go-hq']);
    const r = checkNewFlowLimits(fixture('sim-remembered-limits'));
    assert.equal(r.verdict, 'FAIL');
    assert.equal(r.evidence[0]!.frame, 'STREAM stream 0 offset 0 length 17 FIN "GET /index.html"');
    assert.equal(
      r.evidence[0]!.note,
      'stream 0 reaches offset 17, beyond its window of 8 bytes (the ticket remembered 262144)',
    );
    assert.match(
      r.evidence.at(-1)!.note,
      /^the auditor's core closed the connection with FLOW_CONTROL_ERROR/,
    );
    // The stale RESET_STREAM of quic-go's dead stream also breaks the window: that is check 1's finding.
    assert.notEqual(checkNewFlowLimits(fixture('quic-go-cancel-rejected')).verdict, 'FAIL');
  });

  test('4 no-stale-control-frames: a DATAGRAM the new connection does not allow fails', () => {
    expectPass(checkNoStaleControlFrames);
    const r = checkNoStaleControlFrames(fixture('sim-forbidden-datagram'));
    assert.equal(r.verdict, 'FAIL');
    assert.equal(r.evidence[0]!.frame, 'DATAGRAM length 3');
    assert.equal(
      r.evidence[0]!.note,
      'DATAGRAM on a connection that does not allow them (the ticket remembered max_datagram_frame_size 65535)',
    );
  });

  test("4 no-stale-control-frames: a frame repeating the dead attempt's, and too many connection IDs, fail", () => {
    const t = fixture('sim-correct');
    const attempt = t.connections.find((c) => c.role === 'attempt')!;
    const cid = attempt.log.find((l) => l.frame.type === 'NEW_CONNECTION_ID')!;
    // The same NEW_CONNECTION_ID in a dead 0-RTT packet: the live one repeats a frame of the dead attempt.
    const repeated: ClientTrace = {
      ...t,
      connections: t.connections.map((c) =>
        c === attempt ? { ...c, dead: [...c.dead, { ...cid, packet: '0rtt' as const, pn: 0 }] } : c,
      ),
    };
    const r = checkNoStaleControlFrames(repeated);
    assert.equal(r.verdict, 'FAIL');
    assert.match(r.evidence[0]!.note, /^repeats the dead attempt's frame of 0-RTT pn 0$/);
    // Three client connection IDs when the new limit is 2 (quic-go #3060).
    const extra = { ...cid, frame: { ...cid.frame, seq: 7, cid: 'aabbccdd' } };
    const tooMany: ClientTrace = {
      ...t,
      connections: t.connections.map((c) => (c === attempt ? { ...c, log: [...c.log, extra] } : c)),
    };
    const m = checkNoStaleControlFrames(tooMany);
    assert.equal(m.verdict, 'FAIL');
    assert.match(
      m.summary,
      /^3 active connection IDs, above the new active_connection_id_limit of 2 \(the ticket remembered 4\)$/,
    );
  });

  test('5 data-resent-once: the early request dropped, or sent twice, fails', () => {
    expectPass(checkDataResentOnce, [...PASSING, 'quic-go-hq']);
    const dropped = checkDataResentOnce(fixture('sim-not-resent'));
    assert.equal(dropped.verdict, 'FAIL');
    assert.deepEqual(
      dropped.evidence.map((e) => e.note),
      [
        'the early data "GET /index.html" (dead stream 0) never arrived again after the rejection',
        'the early data "GET /other.txt" (dead stream 4) never arrived again after the rejection',
      ],
    );
    const twice = checkDataResentOnce(fixture('sim-sent-twice'));
    assert.equal(twice.verdict, 'FAIL');
    assert.equal(
      twice.summary,
      'the early data "GET /index.html" arrived 2 times after the rejection (streams 0, 4), more often than the dead attempt sent it',
    );
    // quic-go's connection died of the stale cancels before its resend completed: not held against it.
    const cut = checkDataResentOnce(fixture('quic-go-cancel-rejected'));
    assert.equal(cut.verdict, 'NOT-EXERCISED');
    assert.match(
      cut.summary,
      /^the connection ended with an error \(code 3\) before the early data could arrive again$/,
    );
  });

  test('6 client-recovers: a client that gives up, or whose request is reset, fails', () => {
    expectPass(checkClientRecovers, [...PASSING, 'quic-go-hq']);
    const gaveUp = checkClientRecovers(fixture('sim-gives-up'));
    assert.equal(gaveUp.verdict, 'FAIL');
    assert.equal(
      gaveUp.summary,
      'the handshake after the rejection never completed (closed by client with transport code 12)',
    );
    const q = checkClientRecovers(fixture('quic-go-cancel-rejected'));
    assert.equal(q.verdict, 'FAIL');
    assert.match(
      q.summary,
      /^no request after the rejection was answered; the connection was closed by auditor with transport code 3/,
    );
  });

  test('no attempt at all: every check is NOT-EXERCISED, none fails', () => {
    const t = fixture('tsquic-client');
    const firstOnly: ClientTrace = { ...t, connections: t.connections.filter((c) => c.role === 'first') };
    const results = runServerChecks(firstOnly);
    assert.deepEqual(
      results.map((r) => r.verdict),
      Array(6).fill('NOT-EXERCISED'),
    );
    assert.ok(results.every((r) => r.summary === 'the client did not attempt 0-RTT'));
  });
});
