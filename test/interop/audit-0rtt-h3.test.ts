/**
 * `tsquic audit-0rtt server --alpn h3` against real HTTP/3 clients: the h3 rows of the matrix in
 * docs/audit-0rtt.md. Each client connects twice to the auditor (the first connection earns the
 * ticket, the second one's 0-RTT is rejected on purpose) and the report's verdicts are asserted.
 *
 * - tsquic's own h3 client (`tsquic client --alpn h3 --session-file F --0rtt`, twice): all 7 pass
 *   (before its pool was fixed it repeated the requests on a third connection and left the one
 *   after the rejection open: check 6 failed);
 * - ngtcp2 0.12 gtlsclient over nghttp3 (`--session-file`/`--tp-file`, twice): all 7 pass;
 * - quic-go 0.29's http3 RoundTripper (interop/bin/h3client -0rtt -runs 2: GET_0RTT): the quic-go
 *   #4706 class one layer up: after the rejection the connection that goes on carries a RESET_STREAM
 *   (H3_FRAME_ERROR) for the dead request stream 0, and the client repeats the request on a new
 *   connection instead;
 * - headless Chromium: two navigations (the second after Chromium's idle timeout, through a relay
 *   adding 40 ms each way, so that the document GET goes in 0-RTT).
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import type { CheckResult } from '../../src/audit/check-result.js';
import type { AuditReport, PeerReport } from '../../src/audit/report.js';
import { BUILTIN_FILE } from '../../src/audit/server-app.js';
import { DelayRelay } from '../../src/cli/delay-relay.js';
import { createServer } from '../../src/http3/index.js';
import { cleanup, runCli } from '../cli/helpers.js';
import { killAudits, startAudit } from './audit-peers.js';
import { makeTempDir, removeDir, type TestPkiFiles, writeTestPki } from './go-peers.js';
import {
  ensureH3GoPeers,
  freeUdpPort,
  jsonEvents,
  ngtcp2Bin,
  startPeer,
  waitForEvents,
  waitUdpBound,
} from './h3-peers.js';

const TIMEOUT = 120_000;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
let work = '';
let pki: TestPkiFiles;

before(() => {
  work = makeTempDir('tsquic-audit-h3-');
  pki = writeTestPki(work);
});

after(() => {
  killAudits();
  cleanup();
  if (work) removeDir(work);
});

function auditArgs(): string[] {
  const a = ['server', '--listen', '127.0.0.1:0', '--cert', pki.certFile, '--key', pki.keyFile];
  return [...a, '--alpn', 'h3', '--timeout', '90'];
}

function verdicts(checks: CheckResult[]): string[] {
  return checks.map((c) => `${c.id} ${c.verdict}`);
}

const ALL_PASS = ['1 PASS', '2 PASS', '3 PASS', '4 PASS', '5 PASS', '6 PASS', '7 PASS'];

describe('interop: tsquic audit-0rtt server --alpn h3 audits real HTTP/3 clients', () => {
  test("tsquic's h3 client (tsquic client --alpn h3 --0rtt, twice): every check passes", {
    timeout: TIMEOUT,
  }, async () => {
    const audit = await startAudit(auditArgs());
    const session = join(work, 'tsquic-h3.session');
    const base = `https://localhost:${audit.port}`;
    const args = ['client', '--alpn', 'h3', '--ca', pki.caFile, '--session-file', session, '--0rtt'];
    const urls = [`${base}/index.html`, `${base}/other.txt`];
    const first = await runCli([...args, '--output', join(work, 'out1'), ...urls], { timeoutMs: 30_000 });
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli([...args, '--output', join(work, 'out2'), ...urls], { timeoutMs: 30_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /200 .*\/index\.html .*\(0-RTT rejected\)/);
    const run = await audit.result(90_000);
    assert.equal(run.code, 0, run.stdout);
    const peer = run.report.peers[0]!;
    assert.equal(peer.alpn, 'h3');
    assert.deepEqual(verdicts(peer.checks), ALL_PASS, JSON.stringify(peer.checks, null, 1));
    // Resent on the connection that goes on after the rejection (no third connection).
    assert.match(
      peer.checks[4]!.summary,
      /GET https:\/\/localhost:\d+\/index\.html \(dead stream 0\) again on the same connection/,
    );
    assert.match(peer.checks[6]!.summary, /control stream 2 starts with SETTINGS again/);
  });

  test('ngtcp2 0.12 gtlsclient (nghttp3, --session-file/--tp-file, twice): every check passes', {
    timeout: TIMEOUT,
  }, async (t) => {
    const audit = await startAudit(auditArgs());
    const state = join(work, 'ngtcp2');
    mkdirSync(state, { recursive: true });
    const base = `https://localhost:${audit.port}`;
    for (const run of [1, 2]) {
      const out = join(work, `ngtcp2-out${run}`);
      mkdirSync(out, { recursive: true });
      const client = startPeer(t, ngtcp2Bin('gtlsclient'), [
        '-q',
        '--exit-on-all-streams-close',
        '--download',
        out,
        '--session-file',
        join(state, 'session.pem'),
        '--tp-file',
        join(state, 'tp.txt'),
        '127.0.0.1',
        String(audit.port),
        `${base}/index.html`,
        `${base}/other.txt`,
      ]);
      assert.equal(await client.exited(40_000), 0, client.stderr());
      assert.equal(readFileSync(join(out, 'index.html')).length, 4096);
    }
    const run = await audit.result(90_000);
    assert.equal(run.code, 0, run.stdout);
    const peer = run.report.peers[0]!;
    assert.deepEqual(verdicts(peer.checks), ALL_PASS, JSON.stringify(peer.checks, null, 1));
    assert.match(peer.notes[0]!, /0-RTT attempt from .*: \d+ rejected 0-RTT packets decrypted/);
    assert.match(peer.checks[4]!.summary, /\(dead stream 0\) again on the same connection/);
  });

  test('quic-go 0.29 http3 RoundTripper (GET_0RTT): a RESET_STREAM of the dead request stream leaks (check 1 FAIL); it abandons the connection', {
    timeout: 3 * TIMEOUT,
  }, async (t) => {
    const { client: bin } = await ensureH3GoPeers();
    // On the rejection the RoundTripper fails the request (its stream is reset) and closes the
    // connection: a race inside quic-go. Either the RESET_STREAM goes out first, in 1-RTT, on the
    // connection that goes on after the rejection; sometimes the close wins. The odds move with
    // timing: since the server answers a request in the event-loop turn that read it, the close won
    // 3 attempts of 3 in two runs on a quiet machine (about 1 attempt in 4-6 showed the leak). Up to
    // ATTEMPTS runs (about 1.5 s each), each of which must end in one of the two ways; the leak must
    // show in one.
    const ATTEMPTS = 30;
    const seen: string[] = [];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const audit = await startAudit(auditArgs());
      const go = startPeer(t, bin, [
        '-ca',
        pki.caFile,
        '-runs',
        '2',
        '-0rtt',
        `https://localhost:${audit.port}/index.html`,
      ]);
      assert.equal(await go.exited(60_000), 0, go.stderr() + go.lines.join('\n'));
      assert.deepEqual(
        jsonEvents(go).map((e) => e.event),
        ['response', 'error', 'retry', 'response'],
        'run 2: 0-RTT rejected, then a fresh connection',
      );
      const run = await audit.result(90_000);
      const checks = run.report.peers[0]!.checks;
      const v = verdicts(checks);
      seen.push(v.join(', '));
      // Never anything asked on the connection after the rejection: the request again on a new one.
      assert.deepEqual(v.slice(1, 5), ['2 NOT-EXERCISED', '3 NOT-EXERCISED', '4 NOT-EXERCISED', '5 PASS']);
      assert.match(
        checks[4]!.summary,
        /^GET https:\/\/localhost:\d+\/index\.html \(dead stream 0\) again on later connection 1$/,
      );
      assert.equal(checks[6]!.verdict, 'PASS', checks[6]!.summary);
      if (checks[0]!.verdict === 'PASS') {
        // The close won: no frame after it.
        assert.match(checks[5]!.summary, /closed|abandoned/);
        continue;
      }
      assert.equal(run.code, 1);
      assert.equal(checks[0]!.verdict, 'FAIL');
      // The dead request stream 0 is reset with the dead stream's final size: the stale frame of the
      // #4706 class, one layer up (0x106 = H3_FRAME_ERROR, what the RoundTripper resets a failed request with).
      const leak = checks[0]!.evidence[0]!;
      assert.match(leak.packet!, /^1-RTT pn \d+$/);
      assert.match(leak.frame!, /^RESET_STREAM stream 0 code 262 final size \d+$/);
      assert.match(leak.note, /the rejected 0-RTT attempt held stream 0 with the same final size/);
      // The stale final size is above the new connection's 8-byte window: the auditor's core closes
      // with FLOW_CONTROL_ERROR, and nothing was asked on that connection.
      assert.equal(checks[5]!.verdict, 'FAIL');
      assert.match(
        checks[5]!.summary,
        /abandoned the connection that goes on after the rejection \(nothing asked on it; closed by auditor with transport code 3/,
      );
      return;
    }
    assert.fail(`the leak did not show in ${ATTEMPTS} runs: ${seen.join(' | ')}`);
  });

  test('headless Chromium, second navigation in 0-RTT: it gives up on a rejecting server that lowers its stream limits (check 6 FAIL)', {
    timeout: 180_000,
  }, async (t) => {
    const peer = await auditChromium(t, []);
    assert.deepEqual(verdicts(peer.checks), CHROMIUM_LOWERED, JSON.stringify(peer.checks, null, 1));
    assert.match(
      peer.checks[5]!.summary,
      /closed by client with transport code 1 ".*Server rejected 0-RTT, aborting because new bidirectional limit 1 decreases the current limit: 100"/,
    );
    assert.match(
      peer.checks[4]!.summary,
      /GET https:\/\/localhost:\d+\/index\.html\?again \(dead stream 0\) again on later connection 1/,
    );
  });

  test('headless Chromium with --keep-limits: the verdicts of the matrix', {
    timeout: 180_000,
  }, async (t) => {
    const peer = await auditChromium(t, ['--keep-limits']);
    assert.deepEqual(verdicts(peer.checks), CHROMIUM_KEPT, JSON.stringify(peer.checks, null, 1));
  });
});

/** Two navigations of headless Chromium to the auditor (the second in 0-RTT): the report of the client. */
async function auditChromium(t: TestContext, extra: string[]): Promise<PeerReport> {
  assert.ok(CHROMIUM, 'Chromium not found: install the Debian package chromium (.ci/run does)');
  const audit = await startAudit([...auditArgs(), ...extra]);
  // 40 ms each way, so that the document GET reliably goes in 0-RTT (test/interop/chromium.test.ts).
  const relay = await DelayRelay.start({ host: '127.0.0.1', port: audit.port }, 40);
  t.after(() => relay.close());
  const profile = mkdtempSync(join(tmpdir(), 'tsquic-audit-chromium-'));
  t.after(() => rmSync(profile, { recursive: true, force: true }));
  const origin = `localhost:${relay.port}`;
  const der = createPublicKey(readFileSync(pki.certFile, 'utf8')).export({ type: 'spki', format: 'der' });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      `--user-data-dir=${profile}`,
      `--origin-to-force-quic-on=${origin}`,
      `--ignore-certificate-errors-spki-list=${createHash('sha256').update(der).digest('base64')}`,
      '--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND',
      // Idle timeout 1 s: the second navigation needs a new connection, which resumes with 0-RTT.
      '--force-fieldtrials=QUIC/Enabled',
      '--force-fieldtrial-params=QUIC.Enabled:idle_connection_timeout_seconds/1',
      '--disable-gpu',
    ],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setCacheEnabled(false);
  const first = await page.goto(`https://${origin}/index.html`, { waitUntil: 'load', timeout: 60_000 });
  assert.equal(first?.status(), 200);
  await new Promise((r) => setTimeout(r, 2500));
  const second = await page.goto(`https://${origin}/index.html?again`, {
    waitUntil: 'load',
    timeout: 60_000,
  });
  assert.equal(second?.status(), 200);
  assert.equal(await second!.text(), Buffer.from(BUILTIN_FILE).toString('latin1'));
  // Let the favicon request finish: closing the page would cancel it (STOP_SENDING).
  await new Promise((r) => setTimeout(r, 1500));
  await browser.close();
  const run = await audit.result(90_000);
  const peer = run.report.peers[0]!;
  assert.equal(peer.alpn, 'h3');
  assert.match(peer.notes[0]!, /^0-RTT attempt from /, 'the second navigation attempted 0-RTT');
  return peer;
}

const CHROMIUM_LOWERED = [
  '1 PASS',
  '2 NOT-EXERCISED',
  '3 NOT-EXERCISED',
  '4 NOT-EXERCISED',
  '5 PASS',
  '6 FAIL',
  '7 PASS',
];
const CHROMIUM_KEPT = [
  '1 PASS',
  '2 PASS',
  '3 NOT-EXERCISED',
  '4 NOT-EXERCISED',
  '5 PASS',
  '6 PASS',
  '7 PASS',
];

/** Runs `tsquic audit-0rtt client URL --alpn h3 ARGS... --json` to completion. */
async function auditH3Server(
  url: string,
  ...args: string[]
): Promise<{ code: number | null; report: AuditReport }> {
  const run = await runCli(
    ['audit-0rtt', 'client', url, '--alpn', 'h3', '--ca', pki.caFile, '--json', ...args],
    {
      timeoutMs: 100_000,
    },
  );
  try {
    return { code: run.code, report: JSON.parse(run.stdout) as AuditReport };
  } catch {
    throw new Error(`no JSON report (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

describe('interop: tsquic audit-0rtt client --alpn h3 audits real HTTP/3 servers', () => {
  test('tsquic (tsquic/http3 createServer, tickets of 3 s): every check passes, SETTINGS kept', {
    timeout: TIMEOUT,
  }, async (t) => {
    const early: boolean[] = [];
    const server = createServer(
      {
        cert: readFileSync(pki.certFile, 'utf8'),
        key: readFileSync(pki.keyFile, 'utf8'),
        allow0RTT: true,
        ticketLifetime: 3,
      },
      (req, res) => {
        early.push(req.early);
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '6' });
        res.end('hello\n');
      },
    );
    await server.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const url = `https://localhost:${server.address().port}/index.html`;
    const run = await auditH3Server(url, '--max-ticket-wait', '5', '--replay-delay', '1500');
    assert.equal(run.code, 0, JSON.stringify(run.report, null, 1));
    const checks = run.report.peers[0]!.checks;
    assert.deepEqual(verdicts(checks), ['1 PASS', '2 PASS', '3 PASS', '4 PASS', '5 PASS']);
    assert.match(checks[0]!.summary, /and the remembered HTTP\/3 SETTINGS kept or raised/);
    assert.ok(early.includes(true), 'requests were served in 0-RTT');
  });

  test('quic-go 0.29 http3.Server (early listener): SETTINGS kept; the replay is answered (check 3 FAIL)', {
    timeout: TIMEOUT,
  }, async (t) => {
    const { server: bin } = await ensureH3GoPeers();
    const root = join(work, 'www-go');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'f.txt'), 'tsquic audit-0rtt h3\n');
    const go = startPeer(t, bin, ['-cert', pki.certFile, '-key', pki.keyFile, '-root', root, '-0rtt']);
    const port = Number(/LISTENING \S+:(\d+)/.exec(await go.waitLine(/^LISTENING /))![1]);
    const run = await auditH3Server(`https://localhost:${port}/f.txt`);
    assert.equal(run.code, 1, JSON.stringify(run.report, null, 1));
    const checks = run.report.peers[0]!.checks;
    assert.deepEqual(verdicts(checks), ['1 PASS', '2 NOT-EXERCISED', '3 FAIL', '4 PASS', '5 NOT-EXERCISED']);
    assert.match(checks[0]!.summary, /and the remembered HTTP\/3 SETTINGS kept or raised/);
    assert.match(
      checks[2]!.summary,
      /^the server accepted the replayed 0-RTT data and answered the replayed request with \d+ bytes$/,
    );
    // The replayed GET reached the application twice over: once from the attempt, once from the replay.
    const served = await waitForEvents(go, (e) => e.event === 'request' && e.early === true, 2);
    assert.ok(served.length >= 2, JSON.stringify(served));
  });

  test('ngtcp2 0.12 gtlsserver (nghttp3): SETTINGS kept; the replay is answered (check 3 FAIL)', {
    timeout: TIMEOUT,
  }, async (t) => {
    const root = join(work, 'www-ng');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'f.txt'), 'tsquic audit-0rtt h3\n');
    const port = await freeUdpPort();
    const server = startPeer(t, ngtcp2Bin('gtlsserver'), [
      '-q',
      '-d',
      root,
      '127.0.0.1',
      String(port),
      pki.keyFile,
      pki.certFile,
    ]);
    await server.waitLine(/Using document root/);
    await waitUdpBound(port);
    const run = await auditH3Server(`https://localhost:${port}/f.txt`);
    assert.equal(run.code, 1, JSON.stringify(run.report, null, 1));
    const checks = run.report.peers[0]!.checks;
    // Check 2 needs a rejection: gtlsserver sends no HelloRetryRequest for the auditor's key share, but
    // GnuTLS sometimes rejects early data of a slow run (seen under load): then it must pass.
    const v = verdicts(checks);
    assert.deepEqual([v[0], v[2], v[3], v[4]], ['1 PASS', '3 FAIL', '4 PASS', '5 NOT-EXERCISED']);
    assert.ok(['2 NOT-EXERCISED', '2 PASS'].includes(v[1]!), v[1]);
    assert.match(checks[0]!.summary, /and the remembered HTTP\/3 SETTINGS kept or raised/);
    assert.match(
      checks[2]!.summary,
      /^the server accepted the replayed 0-RTT data and answered the replayed request with \d+ bytes$/,
    );
  });
});
