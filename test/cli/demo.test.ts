/**
 * `tsquic demo` (what `npm start` runs) ends by itself with status 0 and shows the three scenarios.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cleanup, runCli } from './helpers.js';

after(cleanup);

function assertScenarios(stdout: string): void {
  const one = stdout.indexOf('1) First visit: a full handshake, then a transfer');
  const two = stdout.indexOf('2) Second visit: resumed');
  const three = stdout.indexOf('3) Third visit:');
  assert.ok(one >= 0 && two > one && three > two, `three scenarios in order:\n${stdout}`);
  const s1 = stdout.slice(one, two);
  const s2 = stdout.slice(two, three);
  const s3 = stdout.slice(three, stdout.indexOf('4) HTTP/3'));
  assert.match(s1, /handshake complete +[\d.]+ m?s/);
  assert.match(s1, /first byte of hello\.txt +[\d.]+ m?s/);
  assert.match(s1, /big\.bin: 2\.00 MiB in [\d.]+ m?s \([\d.]+ [kMG]bit\/s\), byte-exact/);
  assert.match(s1, /session ticket: the next visit can resume\n/);
  assert.match(s2, /server's verdict: 0-RTT accepted/);
  assert.match(s2, /first byte of hello\.txt +[\d.]+ m?s .* (sooner|later) than visit 1/);
  assert.match(s3, /server's verdict: 0-RTT rejected/);
  assert.match(s3, /the early request failed with ERR_QUIC_0RTT_REJECTED/);
  assert.match(s3, /nextConnection\(\)/);
  const four = stdout.indexOf('4) HTTP/3');
  assert.ok(four > three, 'the HTTP/3 scenario comes fourth');
  const s4 = stdout.slice(four);
  assert.match(s4, /first fetch: +200, 0-RTT not-attempted/);
  assert.match(s4, /0-RTT accepted: 200, 0-RTT accepted/);
  assert.match(s4, /the server saw req\.early = true/);
  assert.match(s4, /0-RTT rejected: 200, 0-RTT rejected/);
  assert.match(s4, /one response, the server saw it once/);
  assert.match(s4, /Done: every file byte-exact/);
}

describe('tsquic demo', () => {
  test('runs to completion with the default simulated RTT, and straight over loopback', async () => {
    const [relayed, direct] = await Promise.all([
      runCli(['demo'], { timeoutMs: 60_000 }),
      runCli(['demo', '--rtt', '0'], { timeoutMs: 60_000 }),
    ]);
    assert.equal(relayed.code, 0, relayed.stderr);
    assert.equal(relayed.stderr, '');
    assertScenarios(relayed.stdout);
    assert.match(relayed.stdout, /relay that delays each packet 25 ms: RTT 50 ms/);
    assert.equal(
      [...relayed.stdout.matchAll(/first byte of hello\.txt +[\d.]+ m?s +\(~[\d.]+ RTT\)/g)].length,
      3,
    );

    assert.equal(direct.code, 0, direct.stderr);
    assertScenarios(direct.stdout);
    assert.match(direct.stdout, /talks to it directly over loopback/);
  });
});
