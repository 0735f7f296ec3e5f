/**
 * `tsquic audit-0rtt` as a command: help, usage errors (exit 2), and a server-mode run that no client
 * reaches (the report says so, --json and --trace included). The audits themselves are tested in
 * test/interop/audit-0rtt.test.ts and test/sim/audit-*.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanup, makeFixture, runCli } from './helpers.js';

after(cleanup);

describe('tsquic audit-0rtt', () => {
  test('help, and usage errors exit 2 with a hint', async () => {
    const help = await runCli(['audit-0rtt', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tsquic audit-0rtt server --listen HOST:PORT/);
    assert.match((await runCli(['--help'])).stdout, /audit-0rtt/);
    const cases: Array<[string[], RegExp]> = [
      [['audit-0rtt'], /Usage: tsquic audit-0rtt/],
      [['audit-0rtt', 'sideways'], /unknown mode "sideways"/],
      [['audit-0rtt', 'server', '--cert', 'c', '--key', 'k'], /missing required option --listen/],
      [
        ['audit-0rtt', 'server', '--listen', '127.0.0.1:0', '--cert', 'c', '--key', 'k', '--clients', '0'],
        /--clients must be a whole number >= 1/,
      ],
      [['audit-0rtt', 'client'], /give exactly one URL/],
      [['audit-0rtt', 'client', 'http://localhost:1/'], /only https:\/\/ URLs are supported/],
      [
        ['audit-0rtt', 'client', 'https://localhost:1/', '--ca', 'x', '--insecure'],
        /--ca and --insecure exclude each other/,
      ],
      [['audit-0rtt', 'client', 'https://localhost:1/', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  test('server mode that no client reaches: an empty report at --timeout, JSON and trace', async () => {
    const f = makeFixture({});
    const trace = join(f.dir, 'trace.json');
    const r = await runCli(
      [
        'audit-0rtt',
        'server',
        '--listen',
        '127.0.0.1:0',
        '--cert',
        f.cert,
        '--key',
        f.key,
        '--timeout',
        '1',
        '--json',
        '--trace',
        trace,
      ],
      { timeoutMs: 20_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^listening on 127\.0\.0\.1:\d+ \(ALPN hq-interop,echo, auditing 1 client\)$/m);
    const report = JSON.parse(r.stdout) as {
      tool: string;
      mode: string;
      peers: unknown[];
      result: string;
      exitStatus: number;
    };
    assert.deepEqual(report, {
      tool: 'tsquic audit-0rtt',
      mode: 'server',
      peers: [],
      result: 'PASS',
      exitStatus: 0,
    });
    assert.deepEqual(JSON.parse(readFileSync(trace, 'utf8')), []);
  });
});
