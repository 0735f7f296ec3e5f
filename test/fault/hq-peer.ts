/**
 * A tsquic hq-interop peer in a process of its own, so that a benchmark compares processes with
 * processes (the quic-go peers are separate processes too, and the fault proxy's event loop is then
 * not shared with the stack under test).
 *
 *   node --import tsx test/fault/hq-peer.ts server ROOT CERT KEY        prints LISTENING <port>, serves until stdin closes
 *   node --import tsx test/fault/hq-peer.ts client PORT CA N PATH...    fetches every PATH on N connections
 *                                                                       one after the other; prints one JSON
 *                                                                       line per file: {"path","bytes","sha256"},
 *                                                                       then {"elapsedMs"} from the first dial
 */
import { readFileSync } from 'node:fs';
import { serveHq } from '../../src/hq/hq-server.js';
import { dial, listen } from '../../src/index.js';
import { fetchAll } from '../interop/tsquic-peers.js';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'server') {
  const [root, cert, key] = args as [string, string, string];
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    cert: readFileSync(cert, 'utf8'),
    key: readFileSync(key, 'utf8'),
    alpn: ['hq-interop'],
  });
  server.on('connection', (conn) => {
    serveHq(conn, { root }).catch(() => {});
  });
  void (async () => {
    for await (const _ of server) {
      // handled by the 'connection' listener
    }
  })();
  process.stdout.write(`LISTENING ${server.address().port}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void server.close().then(() => process.exit(0));
  });
} else if (mode === 'client') {
  const [port, ca, n, ...paths] = args as [string, string, string, ...string[]];
  // Timed from the first dial (not from process start: module loading is not the stack's work).
  const t0 = performance.now();
  for (let i = 0; i < Number(n); i++) {
    const conn = await dial(
      { host: '127.0.0.1', port: Number(port) },
      { alpn: ['hq-interop'], ca: readFileSync(ca, 'utf8'), serverName: 'localhost' },
    );
    for (const [path, f] of await fetchAll(conn, paths)) {
      process.stdout.write(`${JSON.stringify({ path, bytes: f.bytes, sha256: f.sha256 })}\n`);
    }
    await conn.close();
  }
  process.stdout.write(`${JSON.stringify({ elapsedMs: performance.now() - t0 })}\n`);
} else {
  process.stderr.write('usage: hq-peer.ts server ROOT CERT KEY | client PORT CA N PATH...\n');
  process.exit(2);
}
