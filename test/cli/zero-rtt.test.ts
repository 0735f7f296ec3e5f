/**
 * `tsquic client --session-file F --0rtt` against `tsquic server` (issue 6): the first run does a
 * full handshake and saves a ticket; the second sends its requests as 0-RTT. Against --no-0rtt the
 * client resumes without trying 0-RTT; against a restarted server (new ticket key) 0-RTT is rejected
 * and the requests are repeated on the next connection. Files arrive whole every time.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SessionCache } from '../../src/index.js';
import {
  type CliResult,
  cleanup,
  type Fixture,
  makeFixture,
  runCli,
  serverArgs,
  startCliServer,
  urls,
} from './helpers.js';

after(cleanup);

const FILES = { 'index.html': 2_000, 'data.bin': 1024 * 1024, 'tiny.txt': 5 };

function client(f: Fixture, port: number, sessionFile: string, out: string): Promise<CliResult> {
  return runCli([
    'client',
    '--ca',
    f.ca,
    '--session-file',
    sessionFile,
    '--0rtt',
    '--output',
    out,
    ...urls(port, ...f.files.keys()),
  ]);
}

function assertWhole(f: Fixture, out: string, r: CliResult): void {
  assert.equal(r.code, 0, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stderr, '');
  for (const [name, data] of f.files) assert.ok(readFileSync(join(out, name)).equals(data), `${name} whole`);
}

/** The handshake kind in the summary line (the last line). */
function handshakeOf(r: CliResult): string | undefined {
  const last = r.stdout.trimEnd().split('\n').at(-1) ?? '';
  return /, handshake: (.+)$/.exec(last)?.[1];
}

function sessionsIn(file: string): number {
  return SessionCache.import(readFileSync(file)).size;
}

describe('tsquic client --session-file F --0rtt', () => {
  test('against tsquic server: first run full, second run 0-RTT accepted', async () => {
    const f = makeFixture(FILES);
    const sessions = join(f.dir, 'sessions');
    const server = await startCliServer(serverArgs(f));
    const first = await client(f, server.port, sessions, f.out());
    const out2 = f.out();
    const second = await client(f, server.port, sessions, out2);
    const stopped = await server.stop();

    assertWhole(f, out2, second);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(handshakeOf(first), 'full');
    assert.match(
      first.stdout,
      /^0-RTT not attempted \(no session ticket allowing early data\): full handshake$/m,
    );
    assert.equal(handshakeOf(second), '0-RTT accepted');
    assert.match(second.stdout, /^0-RTT accepted: the requests went out with the first flight$/m);
    assert.match(stopped.stdout, /connected \(resumed, 0-RTT accepted, ALPN hq-interop\)/);
    // Each run saves the tickets it received; the file is private.
    assert.equal(statSync(sessions).mode & 0o777, 0o600);
    assert.ok(sessionsIn(sessions) >= 1, 'a fresh ticket saved by the second run');
  });

  test('against tsquic server --no-0rtt: the second run resumes without trying 0-RTT', async () => {
    const f = makeFixture(FILES);
    const sessions = join(f.dir, 'sessions');
    const server = await startCliServer(serverArgs(f, '--no-0rtt'));
    assert.match(server.stdout(), /0-RTT off/);
    const first = await client(f, server.port, sessions, f.out());
    const out2 = f.out();
    const second = await client(f, server.port, sessions, out2);
    const stopped = await server.stop();

    assert.equal(handshakeOf(first), 'full');
    assertWhole(f, out2, second);
    assert.equal(handshakeOf(second), 'resumed');
    assert.match(
      second.stdout,
      /^0-RTT not attempted \(no session ticket allowing early data\): resumed handshake$/m,
    );
    assert.doesNotMatch(stopped.stdout, /0-RTT accepted/);
    assert.match(stopped.stdout, /connected \(resumed, ALPN hq-interop\)/);
  });

  test('against a restarted server (new ticket key): 0-RTT rejected, requests repeated, files whole', async () => {
    const f = makeFixture(FILES);
    const sessions = join(f.dir, 'sessions');
    const before = await startCliServer(serverArgs(f));
    const first = await client(f, before.port, sessions, f.out());
    await before.stop();
    assert.equal(handshakeOf(first), 'full');
    assert.ok(sessionsIn(sessions) >= 1, 'a ticket to try');

    const restarted = await startCliServer(serverArgs(f));
    const out2 = f.out();
    const second = await client(f, restarted.port, sessions, out2);
    const stopped = await restarted.stop();
    assertWhole(f, out2, second);
    assert.equal(handshakeOf(second), '0-RTT rejected');
    assert.match(second.stdout, /^0-RTT rejected: repeating 3 requests on a new connection$/m);
    // The server answered each request once: on the fresh connection, not from the early data.
    for (const name of f.files.keys()) {
      assert.equal(stopped.stdout.split(`GET /${name} -> `).length - 1, 1, `${name} served once`);
    }
    assert.match(stopped.stdout, /connected \(full handshake, ALPN hq-interop\)/);
  });

  test('a corrupt session file is ignored (full handshake) and replaced', async () => {
    const f = makeFixture({ 'x.txt': 10 });
    const sessions = join(f.dir, 'sessions');
    writeFileSync(sessions, Buffer.from([1, 0, 3, 0, 0, 0, 4, 0x61, 0x62, 0x63, 9, 9, 9, 9, 2, 0]));
    const server = await startCliServer(serverArgs(f, '--quiet'));
    const out = f.out();
    const r = await client(f, server.port, sessions, out);
    await server.stop();
    assertWhole(f, out, r);
    assert.equal(handshakeOf(r), 'full');
    assert.ok(sessionsIn(sessions) >= 1);
  });
});
