/**
 * How `tsquic` fails (issue 11): one line on stderr for file and option problems (docs/cli.md), exit
 * status 2 for an empty --alpn, no leftover socket holding the process after a failed handshake (the
 * child reports what still kept its event loop alive when it exited: test/cli/exit-probe.mjs), and a
 * client that goes away mid-response is logged as such, not as a server failure.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dial } from '../../src/index.js';
import { cleanup, makeFixture, runCli, serverArgs, startCliServer, urls } from './helpers.js';

after(cleanup);

const PROBE = fileURLToPath(new URL('./exit-probe.mjs', import.meta.url));

/** stderr without the probe's report. */
function errLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('exit-probe:'));
}

/** What kept the event loop alive when the child exited (the probe's JSON list). */
function aliveAtExit(stderr: string): string[] {
  const line = stderr.split('\n').find((l) => l.startsWith('exit-probe: '));
  assert.ok(line, `no exit-probe report in: ${stderr}`);
  return JSON.parse(line.slice('exit-probe: '.length)) as string[];
}

describe('file and option errors are one line, exit status 1', () => {
  test('server: an unwritable --keylog and an impossible --qlog-dir', async () => {
    const f = makeFixture({ 'a.txt': 10 });
    const notDir = join(f.dir, 'plain-file');
    writeFileSync(notDir, 'x');
    for (const [extra, pattern] of [
      [
        ['--keylog', '/nonexistent/dir/keys.log'],
        /^tsquic server: error: cannot write keylog \/nonexistent\/dir\/keys\.log: ENOENT/,
      ],
      [
        ['--qlog-dir', join(notDir, 'q')],
        /^tsquic server: error: cannot write qlogDir .*plain-file\/q: ENOTDIR/,
      ],
    ] as const) {
      const r = await runCli(['server', ...serverArgs(f, ...extra)]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(errLines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  });

  test('client: an unwritable --keylog and an impossible --qlog-dir', async () => {
    const f = makeFixture({});
    const notDir = join(f.dir, 'plain-file');
    writeFileSync(notDir, 'x');
    for (const [extra, pattern] of [
      [
        ['--keylog', '/nonexistent/dir/keys.log'],
        /^tsquic client: error: cannot write keylog \/nonexistent\/dir\/keys\.log: ENOENT/,
      ],
      [['--qlog-dir', join(notDir, 'q')], /^tsquic client: error: cannot write qlogDir .*: ENOTDIR/],
    ] as const) {
      const r = await runCli([
        'client',
        '--ca',
        f.ca,
        '--output',
        f.out(),
        ...extra,
        'https://127.0.0.1:9/a',
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(errLines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  });

  test('--alpn "" is a usage error (exit status 2) for both commands', async () => {
    const f = makeFixture({});
    const server = await runCli(['server', ...serverArgs(f, '--alpn', '')]);
    assert.equal(server.code, 2, server.stderr);
    assert.match(server.stderr, /^tsquic server: --alpn: unknown protocol ""/);
    const client = await runCli(['client', '--ca', f.ca, '--alpn', '', 'https://127.0.0.1:9/a']);
    assert.equal(client.code, 2, client.stderr);
    assert.match(client.stderr, /^tsquic client: --alpn: hq-interop or h3, got ""/);
  });
});

describe('failures end the process by themselves', () => {
  test('ALPN mismatch: the client reports it and exits with nothing left open', async () => {
    const f = makeFixture({ 'a.txt': 10 });
    const server = await startCliServer(serverArgs(f, '--alpn', 'h3'));
    try {
      const r = await runCli(
        ['client', '--ca', f.ca, '--alpn', 'hq-interop', '--output', f.out(), ...urls(server.port, 'a.txt')],
        {
          preload: [PROBE],
        },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(errLines(r.stderr)[0]!, /no_application_protocol/);
      assert.deepEqual(
        aliveAtExit(r.stderr),
        [],
        'the process had to be ended while a socket or timer was still open',
      );
    } finally {
      await server.stop();
    }
  });

  test('nothing listening: connection refused, and nothing left open', async () => {
    const f = makeFixture({});
    const r = await runCli(['client', '--ca', f.ca, '--output', f.out(), 'https://127.0.0.1:9/a'], {
      preload: [PROBE],
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(errLines(r.stderr)[0]!, /^tsquic client: error: QUIC handshake failed: connection refused/);
    assert.deepEqual(aliveAtExit(r.stderr), []);
  });
});

describe('server log', () => {
  test('a client that goes away mid-response is logged as aborted, not as a server failure', async () => {
    const f = makeFixture({ 'big.bin': 8 * 1024 * 1024 });
    const server = await startCliServer(serverArgs(f));
    try {
      const conn = await dial(`127.0.0.1:${server.port}`, {
        alpn: ['hq-interop'],
        ca: readFileSync(f.ca, 'utf8'),
      });
      const s = await conn.openStream();
      s.on('error', () => {}); // our own close below ends it with an error
      s.end('GET /big.bin\r\n');
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      await conn.close(0x42, 'bye');
      for (let i = 0; i < 200 && !/GET \/big\.bin/.test(server.stdout()); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      const out = (await server.stop()).stdout;
      const line = out.split('\n').find((l) => l.includes('GET /big.bin'));
      assert.ok(line, out);
      assert.match(
        line,
        /-> aborted by the client \(connection closed by peer: application error 66 \(bye\)\)/,
      );
      assert.doesNotMatch(line, /refused|0x12/);
    }
  });
});
