/**
 * Options are checked before anything is bound (issue 11, item 6): a bad option rejects with a
 * TypeError or RangeError carrying Node's `code`, binds nothing (the port stays free, the process can
 * exit), and the files the options name are opened or created up front: an unusable key log or qlog
 * directory is a FileAccessError from the call, a qlog directory that does not exist is created, and
 * a file that fails later is a process warning, never an unhandled 'error'.
 */
import assert from 'node:assert/strict';

import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  dial,
  dialEarly,
  FileAccessError,
  listen,
  listenEarly,
  QuicEndpoint,
  QuicError,
  type ServerOptions,
  SessionCache,
} from '../../src/index.js';
import { runTsx } from '../support/child-process.js';
import { clientOptions, startServer, testPki, within } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsquic-options-'));
  dirs.push(d);
  return d;
}

function serverOptions(extra: Record<string, unknown>): ServerOptions {
  const p = testPki();
  return { host: '127.0.0.1', port: 0, cert: p.leaf.certPem, key: p.leaf.keyPem, alpn: ['test'], ...extra };
}

const CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE']);

function isOptionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (e instanceof TypeError || e instanceof RangeError) && typeof code === 'string' && CODES.has(code);
}

/** Options of both kinds that are wrong, each alone. */
const BAD_COMMON: Array<Record<string, unknown>> = [
  { idleTimeout: -5 },
  { idleTimeout: 1.5 },
  { idleTimeout: 2 ** 31 },
  { idleTimeout: '30s' },
  { handshakeTimeout: 0 },
  { keepAlive: -1 },
  { congestionControl: 'bbr' },
  { initialCongestionWindow: 1 },
  { initialCongestionWindow: 1001 },
  { initialCongestionWindow: 10.5 },
  { initialCongestionWindow: '32' },
  { maxDatagramSize: 100 },
  { maxDatagramSize: 70000 },
  { pmtuDiscoveryMax: 1199 },
  { pmtuDiscoveryMax: 16384 },
  { pmtuDiscoveryMax: 1300.5 },
  { pmtuDiscoveryMax: '1452' },
  { initialMaxData: -1 },
  { initialMaxData: 10_000_000, maxConnectionWindow: 1000 },
  { maxStreamsBidi: 1.5 },
  { sendBufferSize: 0 },
  { connectionSendBufferSize: 0 },
  { connectionSendBufferSize: 2.5 },
  { keyUpdateInterval: 0 },
  { socketBufferSize: -1 },
  { maxDatagramFrameSize: -1 },
  { cipherSuites: [] },
  { cipherSuites: [0x1304] },
  { groups: ['x448'] },
  { keylog: 42 },
  { keylog: '' },
  { qlogDir: '' },
  { alpn: [] },
  { alpn: [''] },
  { alpn: 'test' },
  { alpn: ['x'.repeat(256)] },
];

const BAD_SERVER: Array<Record<string, unknown>> = [
  ...BAD_COMMON,
  { port: 70000 },
  { port: -1 },
  { host: '' },
  { cert: undefined },
  { key: 42 },
  { allow0RTT: 'yes' },
  { retry: 1 },
  { ticketKey: Buffer.alloc(16) },
  { ticketLifetime: 0 },
  { tokenKey: Buffer.alloc(31) },
  { statelessResetKey: Buffer.alloc(8) },
  { replayStore: {} },
  { maxHalfOpen: 0 },
  { retryThreshold: -1 },
  { retryThreshold: 1.5 },
  { maxConnections: 0 },
  { maxConnections: '10' },
];

const BAD_CLIENT: Array<Record<string, unknown>> = [
  ...BAD_COMMON,
  { serverName: 7 },
  { ca: 42 },
  { insecureSkipVerify: 'no' },
  { sessionCache: {} },
  { signal: {} },
  { localPort: 65536 },
];

describe('bad options are typed errors, thrown before anything is bound', () => {
  test('listen() and listenEarly(): TypeError/RangeError with ERR_INVALID_ARG_TYPE, _VALUE or ERR_OUT_OF_RANGE', async () => {
    for (const bad of BAD_SERVER) {
      for (const fn of [listen, listenEarly]) {
        await assert.rejects(fn(serverOptions(bad)), isOptionError, `${fn.name}(${JSON.stringify(bad)})`);
      }
    }
    await assert.rejects(listen(undefined as unknown as ServerOptions), isOptionError);
  });

  test('dial() and dialEarly(): the same, for client options and the target', async () => {
    for (const bad of BAD_CLIENT) {
      for (const fn of [dial, dialEarly]) {
        await assert.rejects(
          fn('127.0.0.1:4433', { ...clientOptions(), ...bad } as Parameters<typeof dial>[1]),
          isOptionError,
          `${fn.name}(${JSON.stringify(bad)})`,
        );
      }
    }
  });

  test('QuicEndpoint.bind() and new SessionCache() check their arguments too', async () => {
    for (const bad of [{ port: 70000 }, { host: '' }, { socketBufferSize: 0 }, { port: '1' }]) {
      await assert.rejects(QuicEndpoint.bind(bad as Parameters<typeof QuicEndpoint.bind>[0]), isOptionError);
    }
    assert.throws(() => new SessionCache(0), isOptionError);
  });

  test('QuicEndpoint.dial() and dialEarly() check options and files themselves (dial() checks once)', async () => {
    const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
    try {
      const target = '127.0.0.1:4433';
      for (const fn of [ep.dial, ep.dialEarly]) {
        await assert.rejects(fn.call(ep, target, clientOptions({ alpn: [] })), isOptionError);
        await assert.rejects(fn.call(ep, target, clientOptions({ idleTimeout: -5 })), isOptionError);
        await assert.rejects(
          fn.call(ep, target, clientOptions({ keylog: '/nonexistent/dir/k.log' })),
          (e: unknown) => e instanceof FileAccessError,
        );
      }
      for (const fn of [dial, dialEarly]) {
        await assert.rejects(fn(target, clientOptions({ alpn: [] })), isOptionError);
        await assert.rejects(
          fn(target, clientOptions({ keylog: '/nonexistent/dir/k.log' })),
          (e: unknown) => e instanceof FileAccessError,
        );
      }
    } finally {
      await ep.close();
    }
  });

  test('a bad certificate, key or CA is a TlsConfigError, which is a QuicError with a code', async () => {
    await assert.rejects(listen(serverOptions({ key: 'not a key' })), (e: unknown) => {
      return e instanceof QuicError && e.name === 'TlsConfigError' && e.code === 'ERR_QUIC_TLS_CONFIG';
    });
    await assert.rejects(dial('127.0.0.1:4433', clientOptions({ ca: 'not a certificate' })), (e: unknown) => {
      return e instanceof QuicError && e.code === 'ERR_QUIC_TLS_CONFIG';
    });
  });

  test('the port stays free: a failed listen() on a fixed port, then a good one on the same port', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(r));
    for (const bad of [
      { idleTimeout: -5 },
      { congestionControl: 'bbr' },
      { keylog: '/nonexistent/dir/k.log' },
    ]) {
      await assert.rejects(listen(serverOptions({ port, ...bad })));
    }
    const server = await listen(serverOptions({ port }));
    assert.equal(server.address().port, port);
    await server.close();
  });

  test('the process exits by itself after rejected listen() and dial() calls (no socket left open)', async () => {
    const entry = pathToFileURL(join(import.meta.dirname, '../../src/index.ts')).href;
    const p = testPki();
    const script = join(tempDir(), 'leak.mts');
    writeFileSync(
      script,
      `import { dial, listen } from ${JSON.stringify(entry)};
const cert = ${JSON.stringify(p.leaf.certPem)};
const key = ${JSON.stringify(p.leaf.keyPem)};
const base = { host: '127.0.0.1', port: 0, cert, key, alpn: ['x'] };
let failures = 0;
for (const bad of [{ idleTimeout: -5 }, { congestionControl: 'bbr' }, { keylog: '/nonexistent/k.log' },
                   { qlogDir: '/dev/null/qlog' }, { tokenKey: Buffer.alloc(3) }]) {
  try { await listen({ ...base, ...bad }); } catch { failures++; }
  try { await dial('127.0.0.1:9', { alpn: ['x'], ...bad }); } catch { failures++; }
}
console.log('failures', failures);
`,
    );
    const { code, signal, stdout: out } = await runTsx([script], { timeoutMs: 15_000 });
    assert.equal(signal, null, 'the process did not exit by itself: a socket or file was left open');
    assert.equal(code, 0);
    assert.match(out, /failures 10/);
  });
});

describe('files named in the options', () => {
  test('an unwritable key log is a FileAccessError from listen() and dial(), not a crash', async () => {
    const path = '/nonexistent/dir/keys.log';
    const isFileError = (e: unknown) =>
      e instanceof FileAccessError &&
      e.code === 'ERR_QUIC_FILE_ACCESS' &&
      e.option === 'keylog' &&
      e.path === path &&
      (e.cause as NodeJS.ErrnoException).code === 'ENOENT';
    await assert.rejects(listen(serverOptions({ keylog: path })), isFileError);
    await assert.rejects(dial('127.0.0.1:9', clientOptions({ keylog: path })), isFileError);
  });

  test('a missing qlogDir is created (with its parents) and gets the qlog files', async () => {
    const dir = join(tempDir(), 'a', 'b', 'qlog');
    const server = await startServer({ qlogDir: dir });
    assert.ok(existsSync(dir), 'created by listen()');
    const clientDir = join(tempDir(), 'client-qlog');
    const conn = await dial(
      { host: '127.0.0.1', port: server.address().port },
      clientOptions({ qlogDir: clientDir }),
    );
    await conn.close();
    await server.close();
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('_server.sqlog')).length, 1);
    assert.equal(readdirSync(clientDir).filter((f) => f.endsWith('_client.sqlog')).length, 1);
  });

  test('a qlogDir that cannot be created is a FileAccessError', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(
      startServer({ qlogDir: join(file, 'qlog') }),
      (e: unknown) => e instanceof FileAccessError && e.option === 'qlogDir',
    );
  });

  test('a qlog directory removed while running: a process warning, and the connection works', async () => {
    const dir = join(tempDir(), 'gone');
    const server = await startServer({ qlogDir: dir });
    rmSync(dir, { recursive: true });
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const conn = await dial({ host: '127.0.0.1', port: server.address().port }, clientOptions());
    const warning = await within(warned, 10_000, 'warning');
    assert.ok(warning instanceof FileAccessError, String(warning));
    assert.equal(warning.option, 'qlogDir');
    assert.equal((warning.cause as NodeJS.ErrnoException).code, 'ENOENT');
    const s = await conn.openStream();
    s.end('still fine');
    await conn.close();
    await server.close();
  });
});
