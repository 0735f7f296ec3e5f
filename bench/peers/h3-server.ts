/**
 * tsquic HTTP/3 server of bench/http3.ts, run as its own process:
 *
 *   node --import tsx bench/peers/h3-server.ts --cert FILE --key FILE --root DIR
 *
 * Serves the files under --root (GET, content-length, streamed from disk), like the quic-go peer's
 * http.FileServer. Prints `LISTENING host:port`; exits when stdin closes.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createServer } from '../../src/http3/index.js';
import { requiredOption, runUntilStdinCloses } from './protocol.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const root = requiredOption(argv, '--root');
  const server = createServer(
    { cert: readFileSync(requiredOption(argv, '--cert')), key: readFileSync(requiredOption(argv, '--key')) },
    (req, res) => {
      const file = join(root, new URL(req.url, 'https://x').pathname.slice(1));
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        res.writeHead(404, { 'content-length': '0' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
      if (size < 64 * 1024) res.end(readFileSync(file));
      else pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), res).catch(() => {});
    },
  );
  await server.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`LISTENING 127.0.0.1:${server.address().port}\n`);
  runUntilStdinCloses(() => server.close());
}

void main();
