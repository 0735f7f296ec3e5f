/**
 * The soak's server, in its own process so that its memory is measured alone: one tsquic server
 * (public API, listenEarly with 0-RTT) on 127.0.0.1 serving the soak protocol (protocol.ts) on ALPN
 * 'soak' and HTTP/3 on 'h3'. It talks to the soak driver over IPC: 'ready' with its port and CA,
 * 'sample' answers with memory after a real GC and its counters, 'stop' closes it.
 *
 * Run with `node --expose-gc --import tsx test/soak/server.ts` (the driver does).
 */
import { subscribe } from 'node:diagnostics_channel';
import { finished } from 'node:stream/promises';
import { createServer as createH3Server } from '../../src/http3/index.js';
import {
  type CloseReason,
  type ConnectionCloseMessage,
  createTestPki,
  diagnosticsChannels,
  listenEarly,
  type QuicConnection,
  QuicError,
  type QuicStream,
} from '../../src/index.js';
import { decodeHeader, HEADER_BYTES, PatternCheck, pattern } from './protocol.js';

export interface ServerSample {
  type: 'sample';
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  connectionsOpen: number;
  connections: number;
  early: number;
  closes: number;
  /** Closes caused by a bug in tsquic (an internal error), with their reasons. */
  internalErrors: string[];
  /** Errors in the serving code that are not a peer's doing. */
  unexpected: string[];
  streams: number;
  uploadsOk: number;
  uploadsBad: number;
  downloads: number;
  echoes: number;
  h3Requests: number;
  /** Expected failures by code: peers that reset, stopped, vanished. */
  peerErrors: Record<string, number>;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) {
  console.error('run by the soak driver: node --expose-gc --import tsx test/soak/server.ts (with IPC)');
  process.exit(2);
}
const send = (m: unknown) => process.send!(m);

const counters = {
  connections: 0,
  early: 0,
  closes: 0,
  streams: 0,
  uploadsOk: 0,
  uploadsBad: 0,
  downloads: 0,
  echoes: 0,
  h3Requests: 0,
};
const internalErrors: string[] = [];
const unexpected: string[] = [];
const peerErrors: Record<string, number> = {};

function isInternal(reason: CloseReason): boolean {
  const cause = (reason.error as { cause?: unknown } | undefined)?.cause;
  return (
    cause !== undefined || (reason.source === 'local' && !reason.application && reason.errorCode === 0x1)
  );
}

subscribe(diagnosticsChannels.close, (m) => {
  const msg = m as ConnectionCloseMessage;
  if (msg.role !== 'server') return;
  counters.closes++;
  if (isInternal(msg.reason) && internalErrors.length < 20) {
    internalErrors.push(`${msg.reason.source} 0x${msg.reason.errorCode.toString(16)} ${msg.reason.reason}`);
  }
});

/** A peer's doing (reset, stop, vanish): counted by code. Anything else is a failure of the soak. */
function onError(where: string, err: unknown): void {
  if (err instanceof QuicError && !(err as { cause?: unknown }).cause) {
    peerErrors[err.code] = (peerErrors[err.code] ?? 0) + 1;
    return;
  }
  if (unexpected.length < 20) unexpected.push(`${where}: ${(err as Error)?.stack ?? String(err)}`);
}

async function serveStream(s: QuicStream): Promise<void> {
  counters.streams++;
  s.on('error', () => {}); // seen through the iteration and finished() below
  let head = Buffer.alloc(0);
  let req: ReturnType<typeof decodeHeader>;
  let check: PatternCheck | undefined;
  for await (const data of s) {
    let chunk = data as Buffer;
    if (!req) {
      head = Buffer.concat([head, chunk]);
      if (head.length < HEADER_BYTES) continue;
      req = decodeHeader(head);
      if (!req) throw new Error(`bad request header ${head.subarray(0, HEADER_BYTES).toString('hex')}`);
      if (req.op === 'U') check = new PatternCheck(req.seed);
      chunk = head.subarray(HEADER_BYTES);
    }
    if (req.op === 'E') {
      if (chunk.length > 0 && !s.write(chunk)) await waitDrain(s);
    } else if (check) check.add(chunk);
  }
  if (!req) throw new Error('stream ended before its request header');
  if (req.op === 'E') {
    s.end();
    counters.echoes++;
  } else if (req.op === 'U') {
    const ok = check!.ok(req.size);
    if (ok) counters.uploadsOk++;
    else {
      counters.uploadsBad++;
      unexpected.push(
        `upload of ${req.size} (seed ${req.seed}): ${check!.received} bytes, first mismatch at ${check!.firstMismatch}`,
      );
    }
    s.end(ok ? 'K' : 'X');
  } else {
    // In 64 KiB chunks with backpressure: the memory measured is tsquic's, not a whole body's.
    for (let offset = 0; offset < req.size && !s.destroyed; offset += CHUNK) {
      if (!s.write(pattern(req.seed, Math.min(CHUNK, req.size - offset), offset))) await waitDrain(s);
    }
    s.end();
    counters.downloads++;
  }
  await finished(s);
}

const CHUNK = 64 * 1024;

/** 'drain', or the stream's end (a peer's STOP_SENDING ends the writing for good). */
function waitDrain(s: QuicStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      s.off('error', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
    s.on('error', done);
  });
}

async function serveSoak(conn: QuicConnection): Promise<void> {
  for await (const s of conn) serveStream(s).catch((e: unknown) => onError('stream', e));
}

const pki = createTestPki({ names: ['localhost', '127.0.0.1'], now: Date.now() });
const h3 = createH3Server({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, async (req, res) => {
  counters.h3Requests++;
  const url = new URL(req.url ?? '/', 'https://localhost');
  if (url.pathname === '/echo') {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    res.end(Buffer.concat(chunks));
  } else if (url.pathname === '/bytes') {
    res.end(pattern(Number(url.searchParams.get('seed')), Number(url.searchParams.get('n'))));
  } else {
    res.statusCode = 404;
    res.end();
  }
});
h3.on('handlerError', (err: unknown) => onError('h3 handler', err));

const server = await listenEarly({
  host: '127.0.0.1',
  port: 0,
  cert: pki.leaf.certPem,
  key: pki.leaf.keyPem,
  alpn: ['soak', 'h3'],
  allow0RTT: true,
  // Abruptly gone clients are forgotten after this (the soak kills some mid-transfer).
  idleTimeout: 5_000,
});

(async () => {
  for await (const conn of server) {
    counters.connections++;
    if (conn.used0RTT) counters.early++;
    conn.closed.then(
      () => {},
      (e: unknown) => onError('closed', e),
    );
    if (conn.alpn === 'h3') h3.serveConnection(conn);
    else serveSoak(conn).catch((e: unknown) => onError('connection', e));
  }
})().catch((e: unknown) => onError('accept', e));

process.on('message', async (m: { type: string }) => {
  if (m.type === 'sample') {
    gc();
    gc();
    const mem = process.memoryUsage();
    const sample: ServerSample = {
      type: 'sample',
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      connectionsOpen: server.connectionCount,
      ...counters,
      internalErrors,
      unexpected,
      peerErrors,
    };
    send(sample);
  } else if (m.type === 'stop') {
    await server.close();
    send({ type: 'stopped' });
    process.disconnect();
  }
});

send({ type: 'ready', port: server.address().port, ca: pki.ca.certPem });
