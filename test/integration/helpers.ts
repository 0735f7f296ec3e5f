/**
 * Helpers for integration tests over real UDP on loopback.
 */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { dial, listen, listenEarly, type QuicServer, type ServerOptions } from '../../src/index.js';
import { createTestPki, type GeneratedCertificate } from '../../src/tls/x509-builder.js';

let pki: { ca: GeneratedCertificate; leaf: GeneratedCertificate } | undefined;

/** A CA and a leaf for localhost, 127.0.0.1 and ::1, made once per process. */
export function testPki() {
  pki ??= createTestPki({ names: ['localhost', '127.0.0.1', '::1'], now: Date.now() });
  return pki;
}

export async function startServer(
  opts: Partial<ServerOptions> & { early?: boolean } = {},
): Promise<QuicServer> {
  const { early, ...rest } = opts;
  const p = testPki();
  const options: ServerOptions = {
    host: '127.0.0.1',
    port: 0,
    cert: p.leaf.certPem,
    key: p.leaf.keyPem,
    alpn: ['test'],
    ...rest,
  };
  return early ? listenEarly(options) : listen(options);
}

/** Every connection the server accepts gets `handler`; errors inside are collected, not thrown. */
export function serve(
  server: QuicServer,
  handler: (conn: import('../../src/index.js').QuicConnection) => Promise<void> | void,
) {
  const errors: unknown[] = [];
  (async () => {
    for await (const conn of server) {
      Promise.resolve()
        .then(() => handler(conn))
        .catch((e: unknown) => errors.push(e));
    }
  })();
  return errors;
}

/** Echo every bidirectional stream of every connection. */
export function echoServer(server: QuicServer) {
  return serve(server, async (conn) => {
    for await (const s of conn) {
      s.on('error', () => {});
      s.pipe(s);
    }
  });
}

export async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function clientOptions(extra: Record<string, unknown> = {}) {
  return { alpn: ['test'], ca: testPki().ca.certPem, ...extra };
}

/** Reject after `ms` with a message, so a hang fails the test instead of the whole run. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * `count` connections to `port` one after another, each dialled, echoing one stream, then closed:
 * what the spare-* tests watch the shell's work-ahead sources through.
 */
export async function sequentialEchoes(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const conn = await within(dial({ host: '127.0.0.1', port }, clientOptions()), 10_000, 'the handshake');
    const s = await conn.openStream();
    s.end(Buffer.from(`hello ${i}`));
    assert.equal((await within(readAll(s), 10_000, 'the echo')).toString(), `hello ${i}`);
    await conn.close();
  }
}
