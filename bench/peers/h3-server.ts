/**
 * tsquic HTTP/3 server of bench/http3.ts, run as its own process:
 *
 *   node --import tsx bench/peers/h3-server.ts --cert FILE --key FILE --root DIR [--pmtu-max N] [--qlog-dir DIR]
 *
 * Serves the files under --root (GET, content-length, streamed from disk), like the quic-go peer's
 * http.FileServer. `--pmtu-max N` caps tsquic's PMTU discovery (bench/http3.ts passes 1452, the
 * ceiling quic-go 0.29 never exceeds). Prints `LISTENING host:port`; answers a `STATS` line on stdin
 * with the QUIC packets and bytes its connections sent so far; exits when stdin closes.
 */
import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createServer } from '../../src/http3/index.js';
import { listenEarly } from '../../src/node/api.js';
import type { QuicConnection } from '../../src/node/quic-connection.js';
import { option, requiredOption, runUntilStdinCloses } from './protocol.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const root = requiredOption(argv, '--root');
  const pmtu = option(argv, '--pmtu-max');
  const qlogDir = option(argv, '--qlog-dir');
  const cert = readFileSync(requiredOption(argv, '--cert'));
  const key = readFileSync(requiredOption(argv, '--key'));
  const h3 = createServer({ cert, key }, (req, res) => {
    // What quic-go's http.FileServer does per request: clean the path, then open, fstat, read and
    // close the file (4 system calls; a statSync before readFileSync would be a fifth).
    const file = fileOf(root, req.url);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    const size = stat.size;
    res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    if (size < 64 * 1024) {
      const body = Buffer.allocUnsafe(size);
      try {
        for (let got = 0; got < size; ) {
          const n = readSync(fd, body, got, size - got, got);
          if (n === 0) break;
          got += n;
        }
      } finally {
        closeSync(fd);
      }
      res.end(body);
    } else {
      pipeline(createReadStream('', { fd, highWaterMark: 256 * 1024 }), res).catch(() => {});
    }
  });
  // The QUIC server is ours (not h3.listen()) so that the packets it sends can be counted.
  const quic = await listenEarly({
    host: '127.0.0.1',
    port: 0,
    cert,
    key,
    alpn: ['h3'],
    ...(pmtu !== undefined ? { pmtuDiscoveryMax: Number(pmtu) } : {}),
    ...(qlogDir !== undefined ? { qlogDir } : {}),
  });
  const live = new Set<QuicConnection>();
  const closed = { packetsSent: 0, bytesSent: 0 };
  quic.on('connection', (conn: QuicConnection) => {
    live.add(conn);
    void conn.closed.then(() => {
      const s = conn.stats();
      closed.packetsSent += s.packetsSent;
      closed.bytesSent += s.bytesSent;
      live.delete(conn);
    });
    h3.serveConnection(conn, quic.address());
  });
  const stats = () => {
    let { packetsSent, bytesSent } = closed;
    for (const c of live) {
      const s = c.stats();
      packetsSent += s.packetsSent;
      bytesSent += s.bytesSent;
    }
    return { packetsSent, bytesSent };
  };
  process.stdout.write(`LISTENING 127.0.0.1:${quic.address().port}\n`);
  runUntilStdinCloses(async () => {
    await h3.close();
    await quic.close();
  }, stats);
}

/**
 * The file a request path names under `root` (like Go's http.Dir: the query dropped, %-escapes
 * decoded, the path cleaned so that it cannot leave `root`).
 */
function fileOf(root: string, url: string): string {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return join(root, '\0');
    }
  }
  // posix.normalize of an absolute path never climbs above '/'.
  return join(root, posix.normalize(`/${path}`));
}

void main();
