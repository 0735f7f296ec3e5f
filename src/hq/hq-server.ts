/**
 * HTTP/0.9 over QUIC ("hq-interop", the QUIC interop runner's protocol): the client sends
 * `GET /path\r\n` on a bidirectional stream and FIN; the server answers with the file's bytes and FIN.
 * Files are served from one root directory and never from outside it.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { QuicError } from '../errors/public-errors.js';
import type { QuicConnection } from '../node/quic-connection.js';
import type { QuicStream } from '../node/quic-stream.js';

/** Application error codes used to reset a response stream. */
export const HQ_NOT_FOUND = 0x10;
export const HQ_BAD_REQUEST = 0x11;
export const HQ_INTERNAL_ERROR = 0x12;

/** Longest request line accepted. */
const MAX_REQUEST = 8 * 1024;

export interface HqRequestInfo {
  path: string;
  /** Bytes sent, or an error code when the stream was reset. */
  bytes?: number;
  error?: number;
  /**
   * The client went away before the response was complete (it reset or stopped the stream, closed
   * the connection, or vanished): the reason, and no error code of ours.
   */
  aborted?: string;
}

export interface HqServeOptions {
  root: string;
  onRequest?: (info: HqRequestInfo) => void;
  /** A request handler failed unexpectedly (a bug, not the peer's doing). Default: logged to stderr. */
  onError?: (err: unknown) => void;
}

/** Serve every request stream of `conn` until the connection ends. */
export async function serveHq(conn: QuicConnection, opts: HqServeOptions): Promise<void> {
  const root = await realpath(resolve(opts.root));
  for await (const stream of conn) {
    stream.on('error', () => {});
    handleRequest(stream, root, opts).catch((err: unknown) => {
      stream.destroy();
      (opts.onError ?? logHandlerError)(err);
    });
  }
}

function logHandlerError(err: unknown): void {
  console.error('tsquic hq-interop: a request handler failed:', err);
}

async function handleRequest(stream: QuicStream, root: string, opts: HqServeOptions): Promise<void> {
  const request = await readRequest(stream);
  const path = request === undefined ? undefined : parseRequest(request);
  if (path === undefined) {
    stream.cancelWrite(HQ_BAD_REQUEST);
    opts.onRequest?.({ path: request ?? '', error: HQ_BAD_REQUEST });
    return;
  }
  const file = await resolveInRoot(root, path);
  if (file === undefined) {
    stream.cancelWrite(HQ_NOT_FOUND);
    opts.onRequest?.({ path, error: HQ_NOT_FOUND });
    return;
  }
  try {
    const { size } = await stat(file);
    await pipeline(createReadStream(file), stream);
    opts.onRequest?.({ path, bytes: size });
  } catch (err) {
    // A QUIC error here comes from the peer or the connection's end, not from us: not a server error.
    if (err instanceof QuicError) {
      opts.onRequest?.({ path, aborted: err.message });
      return;
    }
    if (!stream.destroyed) stream.cancelWrite(HQ_INTERNAL_ERROR);
    opts.onRequest?.({ path, error: HQ_INTERNAL_ERROR });
  }
}

/**
 * The request line (up to LF or FIN), or undefined when it is too long or the stream fails. Reads
 * with events rather than `for await`: leaving an async iterator early would destroy the stream.
 */
function readRequest(stream: QuicStream): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (value: string | undefined) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length > MAX_REQUEST) finish(undefined);
      else if (chunk.includes(0x0a)) finish(Buffer.concat(chunks).toString('latin1'));
    };
    const onEnd = () => finish(Buffer.concat(chunks).toString('latin1'));
    const onError = () => finish(undefined);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** `GET /path\r\n` -> "/path" (percent-decoded); undefined for anything else. */
export function parseRequest(request: string): string | undefined {
  const line = request.split('\n')[0]!.replace(/\r$/, '');
  const m = /^GET (\/\S*)$/.exec(line);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!.split('?')[0]!);
  } catch {
    return undefined;
  }
}

/**
 * The file for `path` under `root`, or undefined if it does not exist, is not a regular file, or
 * resolves (through `..` or symbolic links) to somewhere outside the root.
 */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  if (path.includes('\0')) return undefined;
  const candidate = join(root, path);
  if (!inside(root, candidate)) return undefined;
  try {
    const real = await realpath(candidate);
    if (!inside(root, real)) return undefined;
    const st = await stat(real);
    return st.isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
