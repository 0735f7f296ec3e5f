/**
 * Client mode over HTTP/3 (`tsquic audit-0rtt client URL --alpn h3`): check 1 also holds an
 * accepting server to the SETTINGS the ticket's connection announced (RFC 9114 §7.2.4.2).
 *
 * Recorded over UDP (fixtures/README.md): tsquic-h3-server.json (`tsquic server --alpn h3`),
 * quic-go-h3-server.json (interop/bin/h3server -0rtt), ngtcp2-h3-server.json (gtlsserver).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { checkAcceptedKeepsLimits } from '../../../src/audit/checks/accepted-keeps-limits.js';
import { runClientChecks } from '../../../src/audit/client-checks.js';
import type { ServerTrace } from '../../../src/audit/server-trace.js';

function fixture(name: string): ServerTrace {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8')) as ServerTrace;
}

describe('client-mode checks for HTTP/3 servers', () => {
  test('recorded servers: the verdicts of the matrix', () => {
    const v = (name: string) => runClientChecks(fixture(name)).map((c) => `${c.id} ${c.verdict}`);
    assert.deepEqual(v('tsquic-h3-server'), ['1 PASS', '2 PASS', '3 PASS', '4 PASS', '5 NOT-EXERCISED']);
    for (const name of ['quic-go-h3-server', 'ngtcp2-h3-server']) {
      assert.deepEqual(v(name), ['1 PASS', '2 NOT-EXERCISED', '3 FAIL', '4 PASS', '5 NOT-EXERCISED'], name);
    }
    for (const name of ['tsquic-h3-server', 'quic-go-h3-server', 'ngtcp2-h3-server']) {
      const t = fixture(name);
      assert.ok(
        t.attempts.every((a) => a.h3Remembered && a.h3Announced),
        `${name}: SETTINGS recorded`,
      );
      assert.match(
        checkAcceptedKeepsLimits(t).summary,
        /remembered limits and the remembered HTTP\/3 SETTINGS kept/,
      );
    }
  });

  test('an accepting server whose SETTINGS reduce the remembered QPACK table fails check 1', () => {
    const t = fixture('tsquic-h3-server');
    const a = t.attempts.find((x) => x.earlyData === 'accepted')!;
    a.h3Announced = a.h3Announced!.map((e) => (e.id === 0x01 ? { id: 0x01, value: 0 } : e));
    const r = checkAcceptedKeepsLimits(t);
    assert.equal(r.verdict, 'FAIL');
    assert.match(
      r.evidence[0]!.note,
      /^attempt connection: HTTP\/3 SETTINGS QPACK_MAX_TABLE_CAPACITY reduced \(remembered: QPACK_MAX_TABLE_CAPACITY 4096, .*; now: QPACK_MAX_TABLE_CAPACITY 0, /,
    );
  });

  test('a rejecting server may announce any SETTINGS', () => {
    const t = fixture('tsquic-h3-server');
    const hrr = t.attempts.find((x) => x.earlyData === 'rejected')!;
    hrr.h3Announced = [];
    assert.equal(checkAcceptedKeepsLimits(t).verdict, 'PASS');
  });
});
