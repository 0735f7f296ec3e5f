/**
 * The five client-mode checks of `tsquic audit-0rtt`, each fed recorded traces of audited servers
 * (fixtures/): one it must pass, one it must fail, with the evidence it must name.
 *
 * Recorded over UDP with `tsquic audit-0rtt client URL --trace` (fixtures/README.md):
 *   quic-go-server.json   quic-go 0.29 (interop/bin/server -0rtt): accepts a replayed 0-RTT flight
 *   tsquic-server.json    `tsquic server`
 * Recorded on the simulator (fixtures/record-sim.ts): sim-server-correct.json, a tsquic server endpoint
 * whose tickets live 3 s; sim-server-no-replay-protection.json, the same without anti-replay.
 * Where no real server misbehaves, the failing trace is a recorded one with one named change.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { checkAcceptedKeepsLimits } from '../../../src/audit/checks/accepted-keeps-limits.js';
import { checkEarlyBeforeInitial } from '../../../src/audit/checks/early-before-initial.js';
import { checkExpiredTicketRefused } from '../../../src/audit/checks/expired-ticket-refused.js';
import { checkRejectedEarlyDataIgnored } from '../../../src/audit/checks/rejected-early-data-ignored.js';
import { checkReplayRefused } from '../../../src/audit/checks/replay-refused.js';
import { runClientChecks } from '../../../src/audit/client-checks.js';
import type { AttemptRecord, ServerTrace } from '../../../src/audit/server-trace.js';

function fixture(name: string): ServerTrace {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8')) as ServerTrace;
}

/** `t` with the attempt of `kind` changed by `edit`. */
function withAttempt(
  t: ServerTrace,
  kind: AttemptRecord['kind'],
  edit: (a: AttemptRecord) => AttemptRecord,
): ServerTrace {
  return { ...t, attempts: t.attempts.map((a) => (a.kind === kind ? edit(a) : a)) };
}

describe('client-mode checks on recorded traces', () => {
  test('the whole audit: tsquic passes all it exercises; quic-go 0.29 fails the replay', () => {
    assert.deepEqual(
      runClientChecks(fixture('sim-server-correct')).map((r) => r.verdict),
      ['PASS', 'PASS', 'PASS', 'PASS', 'PASS'],
    );
    assert.deepEqual(
      runClientChecks(fixture('tsquic-server')).map((r) => r.verdict),
      ['PASS', 'PASS', 'PASS', 'PASS', 'NOT-EXERCISED'],
    );
    assert.deepEqual(
      runClientChecks(fixture('quic-go-server')).map((r) => r.verdict),
      ['PASS', 'NOT-EXERCISED', 'FAIL', 'PASS', 'NOT-EXERCISED'],
    );
  });

  test('1 accepted-keeps-limits: an accepting server that lowers a remembered limit fails', () => {
    for (const name of ['tsquic-server', 'quic-go-server']) {
      assert.equal(checkAcceptedKeepsLimits(fixture(name)).verdict, 'PASS', name);
    }
    const lowered = withAttempt(fixture('tsquic-server'), 'attempt', (a) => ({
      ...a,
      announced: { ...a.announced!, initial_max_streams_bidi: 1 },
    }));
    const r = checkAcceptedKeepsLimits(lowered);
    assert.equal(r.verdict, 'FAIL');
    assert.equal(
      r.summary,
      'accepted 0-RTT but lowered initial_max_streams_bidi was 100 in the ticket, 1 now',
    );
  });

  test('2 rejected-early-data-ignored: an answer to the rejected early request fails', () => {
    const t = fixture('tsquic-server');
    assert.equal(checkRejectedEarlyDataIgnored(t).verdict, 'PASS');
    // The HelloRetryRequest attempt, with a response on the early stream before the client asked again.
    const answered = withAttempt(t, 'hrr', (a) => ({
      ...a,
      log: [
        {
          dir: 'recv',
          packet: '1rtt',
          pn: 0,
          frame: {
            type: 'STREAM',
            stream: a.early.stream!,
            offset: 0,
            length: 5,
            fin: true,
            data: '68656c6c6f',
          },
        },
        ...a.log,
      ],
    }));
    const r = checkRejectedEarlyDataIgnored(answered);
    assert.equal(r.verdict, 'FAIL');
    assert.equal(r.evidence[0]!.packet, '1-RTT pn 0');
    assert.equal(
      r.summary,
      'hrr connection: the server answered the rejected early request on stream 0 before the client opened that stream again',
    );
    assert.equal(checkRejectedEarlyDataIgnored(fixture('quic-go-server')).verdict, 'NOT-EXERCISED');
  });

  test('3 replay-refused: quic-go 0.29 processes a replayed first flight', () => {
    for (const name of ['tsquic-server', 'sim-server-correct']) {
      const r = checkReplayRefused(fixture(name));
      assert.equal(r.verdict, 'PASS', name);
      assert.equal(r.summary, 'the server rejected the replayed 0-RTT data (resumed handshake)');
    }
    const q = checkReplayRefused(fixture('quic-go-server'));
    assert.equal(q.verdict, 'FAIL');
    assert.match(
      q.summary,
      /^the server accepted the replayed 0-RTT data and answered the replayed request with \d+ bytes$/,
    );
    assert.match(q.evidence[0]!.note, /^1 datagram replayed [\d.]+ s later from a new port$/);
    assert.equal(checkReplayRefused(fixture('sim-server-no-replay-protection')).verdict, 'FAIL');
    // A replay of an expired ticket proves nothing about anti-replay.
    const t = fixture('tsquic-server');
    const late = { ...t, replay: { ...t.replay!, ticketAgeMs: t.replay!.ticketLifetime * 1000 + 1 } };
    assert.equal(checkReplayRefused(late).verdict, 'NOT-EXERCISED');
  });

  test('4 early-before-initial: a server that fails the connection fails', () => {
    assert.equal(checkEarlyBeforeInitial(fixture('quic-go-server')).verdict, 'PASS');
    const fatal = withAttempt(fixture('tsquic-server'), 'reorder', (a) => ({
      ...a,
      handshakeComplete: false,
      close: { by: 'server', application: false, code: 10, reason: '0-RTT before Initial' },
    }));
    const r = checkEarlyBeforeInitial(fatal);
    assert.equal(r.verdict, 'FAIL');
    assert.equal(r.summary, 'the handshake did not complete');
  });

  test('5 expired-ticket-refused: 0-RTT accepted with an expired ticket fails', () => {
    const t = fixture('sim-server-correct');
    const r = checkExpiredTicketRefused(t);
    assert.equal(r.verdict, 'PASS');
    assert.match(r.evidence[0]!.note, /^ticket lifetime 3 s, offered 4(\.\d)? s after it arrived$/);
    const accepted = {
      ...t,
      expired: { ...t.expired!, attempt: { ...t.expired!.attempt!, earlyData: 'accepted' as const } },
    };
    assert.equal(checkExpiredTicketRefused(accepted).verdict, 'FAIL');
    const long = checkExpiredTicketRefused(fixture('quic-go-server'));
    assert.equal(long.verdict, 'NOT-EXERCISED');
    assert.equal(long.summary, "the server's tickets live 604800 s, longer than --max-ticket-wait (10 s)");
  });

  test('no ticket allowing 0-RTT: everything NOT-EXERCISED', () => {
    const t = {
      ...fixture('tsquic-server'),
      ticket: { received: true, allowsEarlyData: false, lifetime: 100 },
    };
    const results = runClientChecks(t);
    assert.ok(results.every((r) => r.verdict === 'NOT-EXERCISED'));
    assert.equal(results[0]!.summary, "the server's tickets do not allow 0-RTT");
  });
});
