/**
 * tsquic server of the real-UDP benchmark (bench/udp.ts), run as its own process:
 *
 *   node --import tsx [--single-threaded-gc] bench/peers/quic-server.ts --cert FILE --key FILE [--host H]
 *        [--qlog-dir DIR] [--max-datagram-size N]
 *
 * listenEarly with allow0RTT: every bidirectional stream is read to its FIN and answered with the
 * byte count (bench/peers/protocol.ts). Prints `LISTENING host:port`; exits when stdin closes.
 */
import { readFileSync } from 'node:fs';
import { listenEarly, type QuicConnection, type QuicStream } from '../../src/index.js';
import { BENCH_ALPN, option, requiredOption, runUntilStdinCloses } from './protocol.js';

function serveStream(stream: QuicStream): void {
  let count = 0;
  stream.on('data', (chunk: Buffer) => {
    count += chunk.length;
  });
  stream.on('end', () => stream.end(String(count)));
  // A client that goes away mid-request is not the server's problem.
  stream.on('error', () => {});
}

async function serveConnection(conn: QuicConnection): Promise<void> {
  try {
    for await (const stream of conn) serveStream(stream);
  } catch {
    // the connection ended
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const qlogDir = option(argv, '--qlog-dir');
  const mds = option(argv, '--max-datagram-size');
  const maxDatagramSize = mds === undefined ? undefined : Number(mds);
  const server = await listenEarly({
    host: option(argv, '--host') ?? '127.0.0.1',
    port: 0,
    cert: readFileSync(requiredOption(argv, '--cert')),
    key: readFileSync(requiredOption(argv, '--key')),
    alpn: [BENCH_ALPN],
    allow0RTT: true,
    ...(qlogDir !== undefined ? { qlogDir } : {}),
    ...(maxDatagramSize !== undefined ? { maxDatagramSize } : {}),
  });
  const { address, port } = server.address();
  process.stdout.write(`LISTENING ${address.includes(':') ? `[${address}]` : address}:${port}\n`);
  runUntilStdinCloses(() => server.close());
  for await (const conn of server) void serveConnection(conn);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
