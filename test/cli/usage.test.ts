/**
 * `tsquic` as a command: help, version, and usage errors (exit status 2), in child processes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { cleanup, runCli } from './helpers.js';

after(cleanup);

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

describe('tsquic help and version', () => {
  test('--help, <command> --help, help <command>, --version', async () => {
    const [top, server, client, demo, helpClient, ver, noArgs] = await Promise.all([
      runCli(['--help']),
      runCli(['server', '--help']),
      runCli(['client', '-h']),
      runCli(['demo', '--help']),
      runCli(['help', 'client']),
      runCli(['--version']),
      runCli([]),
    ]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /^Usage: tsquic <command>/);
    for (const cmd of ['server', 'client', 'demo']) assert.match(top.stdout, new RegExp(`^  ${cmd} `, 'm'));

    assert.equal(server.code, 0);
    for (const flag of [
      '--listen',
      '--cert',
      '--key',
      '--root',
      '--alpn',
      '--retry',
      '--no-0rtt',
      '--keylog',
      '--qlog-dir',
    ]) {
      assert.ok(server.stdout.includes(flag), `server help lists ${flag}`);
    }
    assert.match(server.stdout, /--qlog-dir DIR +write a qlog file \(JSON-SEQ\) per connection/);

    assert.equal(client.code, 0);
    for (const flag of [
      '--ca',
      '--insecure',
      '--session-file',
      '--0rtt',
      '--keylog',
      '--qlog-dir',
      '--output',
    ]) {
      assert.ok(client.stdout.includes(flag), `client help lists ${flag}`);
    }
    assert.equal(helpClient.stdout, client.stdout);

    assert.equal(demo.code, 0);
    assert.match(demo.stdout, /^Usage: tsquic demo/);

    assert.equal(ver.code, 0);
    assert.equal(ver.stdout, `tsquic ${version}\n`);

    assert.equal(noArgs.code, 2);
    assert.match(noArgs.stderr, /^Usage: tsquic/);
    assert.equal(noArgs.stdout, '');
  });
});

describe('usage errors exit with status 2', () => {
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['frobnicate'], message: /unknown command frobnicate/ },
    { args: ['--frobnicate'], message: /unknown option --frobnicate/ },
    { args: ['server', '--bogus'], message: /Unknown option '--bogus'/ },
    {
      args: ['server', '--cert', 'c', '--key', 'k', '--root', '.'],
      message: /missing required option --listen/,
    },
    {
      args: ['server', '--listen', 'localhost', '--cert', 'c', '--key', 'k', '--root', '.'],
      message: /--listen must be HOST:PORT/,
    },
    {
      args: ['server', '--listen', '1.2.3.4:70000', '--cert', 'c', '--key', 'k', '--root', '.'],
      message: /invalid port/,
    },
    { args: ['server', '--listen', '127.0.0.1:0', '--cert'], message: /argument missing/ },
    { args: ['client'], message: /at least one URL is required/ },
    { args: ['client', '--bogus', 'https://a:1/x'], message: /Unknown option '--bogus'/ },
    { args: ['client', 'http://a:1/x'], message: /only https:\/\/ URLs/ },
    { args: ['client', 'https://a:1/x', 'https://b:1/y'], message: /same server/ },
    { args: ['client', 'https://a:1/d1/x', 'https://a:1/d2/x'], message: /same file x/ },
    {
      args: ['client', '--ca', 'ca.pem', '--insecure', 'https://a:1/x'],
      message: /--ca and --insecure are exclusive/,
    },
    { args: ['demo', '--rtt', 'soon'], message: /--rtt must be/ },
    { args: ['demo', 'extra'], message: /Unexpected argument 'extra'/ },
  ];
  test('each malformed command line', async () => {
    // A few at a time: each is a Node process compiling TypeScript, and on a loaded 2-core machine
    // sixteen at once starve each other past the per-process timeout.
    const results: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < cases.length; i += 4) {
      results.push(...(await Promise.all(cases.slice(i, i + 4).map((c) => runCli(c.args)))));
    }
    results.forEach((r, i) => {
      const c = cases[i]!;
      const what = `tsquic ${c.args.join(' ')}`;
      assert.equal(r.code, 2, `${what}: exit status (stderr: ${r.stderr})`);
      assert.match(r.stderr, c.message, what);
      assert.match(r.stderr, /Run 'tsquic( \w+)? --help' for usage\.\n$/, what);
      assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    });
  });
});

describe('runtime failures exit with status 1 and one line on stderr', () => {
  test('unreadable certificate, missing root, unreadable CA file', async () => {
    const [cert, root, ca] = await Promise.all([
      runCli([
        'server',
        '--listen',
        '127.0.0.1:0',
        '--cert',
        '/nonexistent/c.pem',
        '--key',
        '/nonexistent/k.pem',
        '--root',
        '.',
      ]),
      runCli([
        'server',
        '--listen',
        '127.0.0.1:0',
        '--cert',
        'c',
        '--key',
        'k',
        '--root',
        '/nonexistent/dir',
      ]),
      runCli(['client', '--ca', '/nonexistent/ca.pem', 'https://127.0.0.1:9/x']),
    ]);
    assert.equal(cert.code, 1);
    assert.match(
      cert.stderr,
      /^tsquic server: error: cannot read --cert \/nonexistent\/c\.pem: .*ENOENT.*\n$/,
    );
    assert.equal(root.code, 1);
    assert.match(root.stderr, /^tsquic server: error: --root \/nonexistent\/dir is not a directory\n$/);
    assert.equal(ca.code, 1);
    assert.match(ca.stderr, /^tsquic client: error: cannot read --ca \/nonexistent\/ca\.pem: .*\n$/);
  });
});
