/**
 * `tsquic server` and `tsquic client` as child processes over loopback: byte-exact transfers,
 * refusal of paths outside --root, Retry, key logs.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  cleanup,
  isRetry,
  makeFixture,
  runCli,
  serverArgs,
  startCliServer,
  startTap,
  urls,
} from './helpers.js';

after(cleanup);

const MiB = 1024 * 1024;

describe('tsquic server + tsquic client', () => {
  test('several files on one connection, including 10 MiB, byte-exact; server logs each request', async () => {
    const f = makeFixture({ 'big.bin': 10 * MiB, 'medium.bin': 300_000, 'small.txt': 17, 'empty.txt': 0 });
    const server = await startCliServer(serverArgs(f));
    const out = f.out();
    const r = await runCli([
      'client',
      '--ca',
      f.ca,
      '--output',
      out,
      ...urls(server.port, ...f.files.keys()),
    ]);
    const stopped = await server.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const [name, data] of f.files) {
      assert.ok(readFileSync(join(out, name)).equals(data), `${name} byte-exact`);
    }
    assert.deepEqual(readdirSync(out).sort(), [...f.files.keys()].sort(), 'no .part files left');
    const total = [...f.files.values()].reduce((n, d) => n + d.length, 0);
    assert.match(
      r.stdout,
      /^4 files, 10\.\d+ MiB in [\d.]+ m?s, [\d.]+ [kMG]bit\/s goodput, handshake: full\n$/,
    );
    assert.equal(total, 10 * MiB + 300_017);

    assert.equal(stopped.code, 0, 'server exits 0 on SIGTERM');
    assert.match(stopped.stdout, /127\.0\.0\.1:\d+ connected \(full handshake, ALPN hq-interop\)/);
    assert.match(stopped.stdout, /GET \/big\.bin -> 10485760 bytes/);
    assert.match(stopped.stdout, /GET \/empty\.txt -> 0 bytes/);
    assert.match(stopped.stdout, /SIGTERM: shutting down\n.*stopped\n$/);
    assert.equal((stopped.stdout.match(/ connected /g) ?? []).length, 1, 'one connection for all files');
  });

  test('a path outside --root is refused: one-line error, exit 1, nothing written', async () => {
    const f = makeFixture({ 'ok.txt': 100 });
    writeFileSync(join(f.dir, 'secret.txt'), 'do not serve me');
    const server = await startCliServer(serverArgs(f, '--quiet'));
    const out = f.out();
    // %2f keeps the URL parser from resolving ".." itself: the server receives GET /../secret.txt.
    const r = await runCli([
      'client',
      '--ca',
      f.ca,
      '--output',
      out,
      ...urls(server.port, 'ok.txt', '..%2fsecret.txt'),
    ]);
    const missing = await runCli(['client', '--ca', f.ca, '--output', out, ...urls(server.port, 'nope.txt')]);
    const stopped = await server.stop();
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'tsquic client: error: /../secret.txt: refused by the server: not found (or outside the server root) (code 0x10)\n',
    );
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^tsquic client: error: \/nope\.txt: refused by the server: not found .*\n$/,
    );
    assert.ok(!existsSync(join(out, 'secret.txt')), 'the secret was not written');
    assert.deepEqual(
      readdirSync(out).filter((n) => n.endsWith('.part')),
      [],
      'no partial files left',
    );
    assert.equal(stopped.code, 0);
    assert.equal(
      stopped.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('listening on')).length,
      0,
      '--quiet',
    );
  });

  test('--retry: the server answers the first Initial with a Retry, and the transfer completes', async () => {
    const f = makeFixture({ 'a.bin': 50_000 });
    for (const retry of [true, false]) {
      const server = await startCliServer(serverArgs(f, ...(retry ? ['--retry'] : [])));
      assert.match(server.stdout(), retry ? /retry on\)/ : /retry off\)/);
      const tap = await startTap(server.port);
      const out = f.out();
      try {
        const r = await runCli(['client', '--ca', f.ca, '--output', out, ...urls(tap.port, 'a.bin')]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(readFileSync(join(out, 'a.bin')).equals(f.files.get('a.bin')!));
      } finally {
        tap.close();
        await server.stop();
      }
      const retries = tap.seen.filter((d) => !d.fromClient && isRetry(d.bytes));
      assert.equal(retries.length, retry ? 1 : 0, `Retry packets with retry=${retry}`);
      if (retry) {
        // RFC 9000 §8.1.2: the server sends nothing else before the client echoes the token.
        const firstFromServer = tap.seen.find((d) => !d.fromClient)!;
        assert.ok(isRetry(firstFromServer.bytes));
      }
    }
  });

  test('--keylog: client and server write the same NSS key log lines', async () => {
    const f = makeFixture({ 'k.txt': 1000 });
    const serverLog = join(f.dir, 'server.keys');
    const clientLog = join(f.dir, 'client.keys');
    const server = await startCliServer(serverArgs(f, '--keylog', serverLog));
    const r = await runCli([
      'client',
      '--ca',
      f.ca,
      '--keylog',
      clientLog,
      '--output',
      f.out(),
      ...urls(server.port, 'k.txt'),
    ]);
    await server.stop();
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(clientLog, 'utf8').trimEnd().split('\n');
    const labels = new Set<string>();
    let random: string | undefined;
    for (const line of lines) {
      const m = /^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]{64}|[0-9a-f]{96})$/.exec(line);
      assert.ok(m, `NSS key log line: ${line}`);
      labels.add(m[1]!);
      random ??= m[2];
      assert.equal(m[2], random, 'one connection: one client random');
    }
    for (const label of [
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'SERVER_TRAFFIC_SECRET_0',
    ]) {
      assert.ok(labels.has(label), label);
    }
    const serverLines = readFileSync(serverLog, 'utf8').trimEnd().split('\n');
    assert.deepEqual([...serverLines].sort(), [...lines].sort(), 'both ends derived the same secrets');
    assert.equal(statSync(clientLog).mode & 0o777, 0o600, 'key log readable by its owner only');
  });

  test('--qlog-dir: one JSON-SEQ qlog per connection on each side, named by the same original DCID', async () => {
    const f = makeFixture({ 'q.txt': 3000 });
    const serverDir = join(f.dir, 'qlog', 'server');
    const clientDir = join(f.dir, 'qlog', 'client');
    const server = await startCliServer(serverArgs(f, '--quiet', '--qlog-dir', serverDir));
    const r = await runCli([
      'client',
      '--ca',
      f.ca,
      '--qlog-dir',
      clientDir,
      '--output',
      f.out(),
      ...urls(server.port, 'q.txt'),
    ]);
    await server.stop();
    assert.equal(r.code, 0, r.stderr);
    const [clientFile] = readdirSync(clientDir);
    const [serverFile] = readdirSync(serverDir);
    assert.match(clientFile ?? '', /^[0-9a-f]+_client\.sqlog$/);
    assert.equal(serverFile, clientFile!.replace('_client', '_server'));
    for (const file of [join(clientDir, clientFile!), join(serverDir, serverFile!)]) {
      const records = readFileSync(file, 'utf8')
        .split('\x1e')
        .filter((x) => x.trim() !== '');
      const header = JSON.parse(records[0]!) as { qlog_format?: string };
      assert.equal(header.qlog_format, 'JSON-SEQ');
      const names = records.slice(1).map((x) => (JSON.parse(x) as { name?: string }).name);
      assert.ok(names.includes('transport:packet_sent'), file);
      assert.ok(names.includes('transport:packet_received'), file);
    }
  });

  test('--insecure accepts a certificate the client cannot verify; without it the handshake fails', async () => {
    const f = makeFixture({ 'i.txt': 10 });
    const server = await startCliServer(serverArgs(f, '--quiet'));
    const out = f.out();
    const [insecure, untrusted] = await Promise.all([
      runCli(['client', '--insecure', '--output', out, ...urls(server.port, 'i.txt')]),
      // Node's root store does not know the test CA.
      runCli(['client', '--output', f.out(), ...urls(server.port, 'i.txt')]),
    ]);
    await server.stop();
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.ok(readFileSync(join(out, 'i.txt')).equals(f.files.get('i.txt')!));
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /^tsquic client: error: QUIC handshake failed.*\n$/);
  });
});
