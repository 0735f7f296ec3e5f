/**
 * The HTTP/3 request handler of `tsquic server --alpn h3`: serves the files under a root directory
 * (never outside it): GET and HEAD, 200 with content-length and a content-type from the extension,
 * a directory's index.html, 404, and 405 with `allow` for other methods. One log line per request,
 * saying whether it arrived as 0-RTT.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { resolveInRoot } from '../hq/hq-server.js';
import type { Http3ServerRequest, Http3ServerResponse } from '../http3/index.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.woff2': 'font/woff2',
};

export function contentTypeFor(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export interface H3RequestLog {
  method: string;
  path: string;
  status: number;
  bytes: number;
  early: boolean;
  peer: string;
  /** The response did not complete (the client went away, or reading the file failed). */
  aborted?: boolean;
}

/** A request handler serving `root`; `log` is called once per request when the response is done. */
export async function fileHandler(root: string, log: (entry: H3RequestLog) => void) {
  const realRoot = await realpath(root);
  return async (req: Http3ServerRequest, res: Http3ServerResponse): Promise<void> => {
    const peer = `${req.socket.remoteFamily === 'IPv6' ? `[${req.socket.remoteAddress}]` : req.socket.remoteAddress}:${req.socket.remotePort}`;
    let bytes = 0;
    const done = (status: number, aborted = false) =>
      log({
        method: req.method,
        path: req.url,
        status,
        bytes,
        early: req.early,
        peer,
        ...(aborted ? { aborted } : {}),
      });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' });
      res.end();
      done(405);
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url, 'https://x').pathname);
    } catch {
      res.writeHead(400, { 'content-length': '0' });
      res.end();
      done(400);
      return;
    }
    let file = await resolveInRoot(realRoot, path);
    if (file === undefined) {
      // A directory: its index.html.
      const dir = path.endsWith('/') ? path : `${path}/`;
      file = await resolveInRoot(realRoot, join(dir, 'index.html'));
    }
    if (file === undefined) {
      const body = 'not found\n';
      res.writeHead(404, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(body.length),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      done(404);
      return;
    }
    const { size } = await stat(file);
    res.writeHead(200, { 'content-type': contentTypeFor(file), 'content-length': String(size) });
    if (req.method === 'HEAD') {
      res.end();
      done(200);
      return;
    }
    try {
      const source = createReadStream(file);
      source.on('data', (c: string | Buffer) => {
        bytes += c.length;
      });
      await pipeline(source, res);
      done(200);
    } catch {
      done(200, true);
    }
  };
}
