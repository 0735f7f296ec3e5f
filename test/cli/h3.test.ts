/**
 * `tsquic server --alpn h3` and `tsquic client --alpn h3` as child processes over loopback: files
 * byte-exact with statuses, HEAD/404/405/index.html over HTTP/3 from the library's own client,
 * `--alpn h3,hq-interop` serving both protocols, and 0-RTT across runs with a session file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Client } from '../../src/http3/index.js';
import { cleanup, makeFixture, runCli, serverArgs, startCliServer, urls } from './helpers.js';

after(cleanup);

describe('tsquic server/client --alpn h3', () => {
  test('files byte-exact over HTTP/3; statuses printed; a 404 fails the run; the server logs 0-RTT or not', async () => {
    const f = makeFixture({ 'big.bin': 3 * 1024 * 1024, 'page.html': 2000, 'empty.txt': 0 });
    const server = await startCliServer(serverArgs(f, '--alpn', 'h3'));
    const out = f.out();
    const r = await runCli([
      'client',
      '--alpn',
      'h3',
      '--ca',
      f.ca,
      '--output',
      out,
      ...urls(server.port, ...f.files.keys()),
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const [name, data] of f.files) assert.ok(readFileSync(join(out, name)).equals(data), name);
    assert.match(r.stdout, /^200 https:\/\/127\.0\.0\.1:\d+\/big\.bin 3\.00 MiB$/m);
    assert.match(r.stdout, /^3 URLs, 3\.\d+ MiB in .* goodput, HTTP\/3, no 0-RTT\n$/m);
    const missing = await runCli([
      'client',
      '--alpn',
      'h3',
      '--ca',
      f.ca,
      '--output',
      out,
      ...urls(server.port, 'nope.txt'),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^404 https:\/\/127\.0\.0\.1:\d+\/nope\.txt/m);
    assert.ok(!existsSync(join(out, 'nope.txt')));
    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    assert.match(stopped.stdout, /listening on 127\.0\.0\.1:\d+ \(ALPN h3,/);
    assert.match(stopped.stdout, /GET \/big\.bin -> 200, 3145728 bytes \(1-RTT\)/);
    assert.match(stopped.stdout, /GET \/nope\.txt -> 404 \(1-RTT\)/);
  });

  test('HEAD, 405 with allow, directory index.html, content types', async () => {
    const f = makeFixture({ 'a.css': 10 });
    mkdirSync(join(f.root, 'docs'));
    writeFileSync(join(f.root, 'docs', 'index.html'), '<p>docs</p>');
    const server = await startCliServer(serverArgs(f, '--alpn', 'h3'));
    const client = new Client({ ca: readFileSync(f.ca, 'utf8') });
    try {
      const base = `https://localhost:${server.port}`;
      const head = await client.fetch(`${base}/a.css`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '10');
      assert.equal(head.headers.get('content-type'), 'text/css; charset=utf-8');
      const post = await client.fetch(`${base}/a.css`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      const index = await client.fetch(`${base}/docs/`);
      assert.equal(await index.text(), '<p>docs</p>');
      assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  test('--alpn h3,hq-interop serves both protocols on one port', async () => {
    const f = makeFixture({ 'x.bin': 50_000 });
    const server = await startCliServer(serverArgs(f, '--alpn', 'h3,hq-interop'));
    const out3 = join(f.out(), 'h3');
    const out0 = join(f.out(), 'hq');
    const r3 = await runCli([
      'client',
      '--alpn',
      'h3',
      '--ca',
      f.ca,
      '--output',
      out3,
      ...urls(server.port, 'x.bin'),
    ]);
    const r0 = await runCli([
      'client',
      '--alpn',
      'hq-interop',
      '--ca',
      f.ca,
      '--output',
      out0,
      ...urls(server.port, 'x.bin'),
    ]);
    const stopped = await server.stop();
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(r0.code, 0, r0.stderr);
    assert.ok(readFileSync(join(out3, 'x.bin')).equals(f.files.get('x.bin')!));
    assert.ok(readFileSync(join(out0, 'x.bin')).equals(f.files.get('x.bin')!));
    assert.match(stopped.stdout, /ALPN h3\)/);
    assert.match(stopped.stdout, /ALPN hq-interop\)/);
  });

  test('0-RTT across runs with --session-file: accepted, and the server logs the early request', async () => {
    const f = makeFixture({ 'a.txt': 1000 });
    const server = await startCliServer(serverArgs(f, '--alpn', 'h3'));
    const session = join(f.out(), 's.bin');
    const args = [
      'client',
      '--alpn',
      'h3',
      '--ca',
      f.ca,
      '--session-file',
      session,
      '--0rtt',
      '--output',
      f.out(),
    ];
    const first = await runCli([...args, ...urls(server.port, 'a.txt')]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /0-RTT not attempted/);
    const second = await runCli([...args, ...urls(server.port, 'a.txt')]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^0-RTT accepted/m);
    assert.match(second.stdout, /^200 .*a\.txt .*\(0-RTT accepted\)$/m);
    const stopped = await server.stop();
    assert.match(stopped.stdout, /GET \/a\.txt -> 200, 1000 bytes \(1-RTT\)/);
    assert.match(stopped.stdout, /GET \/a\.txt -> 200, 1000 bytes \(0-RTT\)/);
  });

  test('--alpn h3,hq-interop: 0-RTT requests are answered at once (the ALPN is known from the ClientHello)', async () => {
    const f = makeFixture({ 'a.txt': 1000 });
    const server = await startCliServer(serverArgs(f, '--alpn', 'h3,hq-interop'));
    const session = join(f.out(), 's.bin');
    const args = [
      'client',
      '--alpn',
      'h3',
      '--ca',
      f.ca,
      '--session-file',
      session,
      '--0rtt',
      '--output',
      f.out(),
    ];
    const first = await runCli([...args, ...urls(server.port, 'a.txt')]);
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli([...args, ...urls(server.port, 'a.txt')]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^200 .*a\.txt .*\(0-RTT accepted\)$/m);
    const stopped = await server.stop();
    // Served as it arrived, in 0-RTT: not held until the handshake completed.
    assert.match(stopped.stdout, /GET \/a\.txt -> 200, 1000 bytes \(0-RTT\)/);
  });

  test('usage errors: an unknown ALPN', async () => {
    const r = await runCli(['client', '--alpn', 'h2', 'https://localhost:1/x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--alpn: hq-interop or h3/);
  });
});
