/**
 * The tsquic side of the interop tests, over the public API: an HTTP/0.9 (hq-interop) file server that
 * records what each connection did, fetches that hash what arrives, an echo exchange, and bounded waits.
 * Everything a test starts is closed when the test ends (`t.after`), also when it fails or times out:
 * connections dialled with `testSignal(t)` are aborted, servers are closed.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { fetchHq } from '../../src/hq/hq-client.js';
import { type HqRequestInfo, serveHq } from '../../src/hq/hq-server.js';
import {
  type ClientOptions,
  type CloseReason,
  listen,
  listenEarly,
  type QuicConnection,
  type QuicServer,
  type QuicStream,
  type ServerOptions,
} from '../../src/index.js';
import type { TestPkiFiles } from './go-peers.js';

/** Rejects after `ms` with a message naming `what`, so that a hang fails the test instead of the run. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Polls `cond` every 10 ms until it holds; rejects after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An AbortSignal that fires when the test ends: every connection dialled with it is closed then, so
 * that a failed or timed-out test leaves no socket behind.
 */
export function testSignal(t: TestContext): AbortSignal {
  const ac = new AbortController();
  t.after(() => ac.abort());
  return ac.signal;
}

/** Client options trusting the test CA, for the name every test certificate carries. */
export function clientOptionsFor(
  pki: Pick<TestPkiFiles, 'caPem'>,
  t: TestContext,
  extra: Partial<ClientOptions> = {},
): ClientOptions {
  return { alpn: ['hq-interop'], ca: pki.caPem, serverName: 'localhost', signal: testSignal(t), ...extra };
}

// ---------------------------------------------------------------------------------------------------
// Fetching

export interface Fetched {
  bytes: number;
  sha256: string;
}

/** GET `path` (hq-interop, src/hq) on `conn`: the response's size and SHA-256, once it ended with FIN. */
export async function fetchHashed(conn: QuicConnection, path: string): Promise<Fetched> {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done();
    },
  });
  const bytes = await fetchHq(conn, path, sink);
  return { bytes, sha256: hash.digest('hex') };
}

/** All `paths` in parallel on one connection (one stream each). */
export async function fetchAll(
  conn: QuicConnection,
  paths: readonly string[],
): Promise<Map<string, Fetched>> {
  const results = await Promise.all(paths.map((p) => fetchHashed(conn, p)));
  return new Map(paths.map((p, i) => [p, results[i]!]));
}

/** Reads a stream to its end. */
export async function readAll(stream: QuicStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads from `stream` until `n` bytes have arrived (without waiting for FIN). */
export function readBytes(stream: QuicStream, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) {
        cleanup();
        resolve(Buffer.concat(chunks));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`stream ${stream.id} ended after ${length} of ${n} bytes`));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** Sends `data` and FIN on a new stream and reads the whole answer (an echo server sends it back). */
export async function echoOnce(conn: QuicConnection, data: Uint8Array): Promise<Buffer> {
  const stream = await conn.openStream();
  const answer = readAll(stream);
  stream.end(data);
  return answer;
}

// ---------------------------------------------------------------------------------------------------
// The hq-interop server

/** One connection the server handed out, and what happened on it. */
export interface ServedConnection {
  readonly conn: QuicConnection;
  /** Requests answered (or refused), in completion order. */
  readonly requests: HqRequestInfo[];
  /**
   * Request streams handed out before `handshakeComplete` had resolved: 0-RTT streams, but also 1-RTT
   * streams that arrived in the packet batch completing the handshake (the promise resolves a
   * microtask later), so only meaningful together with `used0RTT`.
   */
  streamsBeforeHandshake: number;
  streams: number;
  handshakeDone: boolean;
  /** Set once the connection has closed. */
  closeReason: CloseReason | undefined;
}

export interface TsquicHqServer {
  readonly server: QuicServer;
  readonly port: number;
  /** Connections in the order they were handed out. */
  readonly connections: readonly ServedConnection[];
  url(path: string): string;
  /** Resolves once `count` connections have been handed out and have completed their handshake. */
  waitForConnections(count: number, timeoutMs?: number): Promise<ServedConnection[]>;
  /** Resolves once `count` requests (over every connection) have been answered. */
  waitForRequests(count: number, timeoutMs?: number): Promise<HqRequestInfo[]>;
  close(): Promise<void>;
}

export interface HqServerOptions extends Partial<ServerOptions> {
  root: string;
  pki: Pick<TestPkiFiles, 'certPem' | 'keyPem'>;
  /** listenEarly (0-RTT streams are handed out before the handshake completes) instead of listen. */
  early?: boolean;
}

/** A tsquic hq-interop server on 127.0.0.1 (any free port), closed when the test ends. */
export async function startTsquicHqServer(t: TestContext, o: HqServerOptions): Promise<TsquicHqServer> {
  const { root, pki, early, ...rest } = o;
  const options: ServerOptions = {
    host: '127.0.0.1',
    port: 0,
    cert: pki.certPem,
    key: pki.keyPem,
    alpn: ['hq-interop'],
    ...rest,
  };
  const server = early ? await listenEarly(options) : await listen(options);
  t.after(() => server.close());
  const connections: ServedConnection[] = [];
  const allRequests: HqRequestInfo[] = [];
  // 'connection' is emitted synchronously when the server hands a connection out: listeners attached
  // here see every stream, also 0-RTT streams opened in the same packet batch.
  server.on('connection', (conn: QuicConnection) => {
    const served: ServedConnection = {
      conn,
      requests: [],
      streamsBeforeHandshake: 0,
      streams: 0,
      handshakeDone: false,
      closeReason: undefined,
    };
    connections.push(served);
    conn.handshakeComplete.then(
      () => {
        served.handshakeDone = true;
      },
      () => {},
    );
    conn.on('stream', () => {
      served.streams++;
      if (!served.handshakeDone) served.streamsBeforeHandshake++;
    });
    conn.closed.then((reason) => {
      served.closeReason = reason;
    });
    serveHq(conn, {
      root,
      onRequest: (info) => {
        served.requests.push(info);
        allRequests.push(info);
      },
    }).catch(() => {});
  });
  // Connections are taken by the 'connection' listener; the accept queue is drained so it never grows.
  void (async () => {
    for await (const _ of server) {
      // handled above
    }
  })();
  const port = server.address().port;
  return {
    server,
    port,
    connections,
    url: (path) => `https://127.0.0.1:${port}${path}`,
    async waitForConnections(count, timeoutMs = 10_000) {
      await until(
        () => connections.filter((c) => c.handshakeDone).length >= count,
        timeoutMs,
        `${count} handshakes on the tsquic server (have ${connections.length} connections)`,
      );
      return connections.slice(0, count);
    },
    async waitForRequests(count, timeoutMs = 10_000) {
      await until(
        () => allRequests.length >= count,
        timeoutMs,
        `${count} requests answered by the tsquic server (have ${allRequests.length})`,
      );
      return allRequests.slice();
    },
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------------------------------------------
// The echo server

/** One connection of the echo server: the streams it echoed whole and the stream errors it saw. */
export interface EchoConnection {
  readonly conn: QuicConnection;
  /** [stream ID, bytes] of every stream echoed up to FIN. */
  readonly echoed: Array<[number, number]>;
  readonly streamErrors: Array<{ stream: number; error: Error }>;
}

export interface TsquicEchoServer {
  readonly server: QuicServer;
  readonly port: number;
  readonly connections: readonly EchoConnection[];
  url(path?: string): string;
}

/**
 * A tsquic server on ALPN `echo` that writes every bidirectional stream back, handling stream errors
 * the documented way: an 'error' listener on each stream as it is accepted. Closed when the test ends.
 */
export async function startTsquicEchoServer(
  t: TestContext,
  o: Partial<ServerOptions> & { pki: Pick<TestPkiFiles, 'certPem' | 'keyPem'>; early?: boolean },
): Promise<TsquicEchoServer> {
  const { pki, early, ...rest } = o;
  const options: ServerOptions = {
    host: '127.0.0.1',
    port: 0,
    cert: pki.certPem,
    key: pki.keyPem,
    alpn: ['echo'],
    ...rest,
  };
  const server = early ? await listenEarly(options) : await listen(options);
  t.after(() => server.close());
  const connections: EchoConnection[] = [];
  void (async () => {
    for await (const conn of server) {
      const record: EchoConnection = { conn, echoed: [], streamErrors: [] };
      connections.push(record);
      void (async () => {
        for await (const stream of conn) {
          let bytes = 0;
          stream.on('error', (error: Error) => record.streamErrors.push({ stream: stream.id, error }));
          stream.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          stream.on('end', () => record.echoed.push([stream.id, bytes]));
          stream.pipe(stream);
        }
      })();
    }
  })();
  const port = server.address().port;
  return { server, port, connections, url: (path = '/') => `https://127.0.0.1:${port}${path}` };
}
