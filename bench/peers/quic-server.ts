/**
 * tsquic server of the real-UDP benchmarks (bench/udp.ts, bench/compare.ts), run as its own process:
 *
 *   node --import tsx [--single-threaded-gc] [--expose-gc] bench/peers/quic-server.ts --cert FILE --key FILE
 *        [--host H] [--qlog-dir DIR] [--max-datagram-size N] [--pmtu-max N] [--idle-timeout MS]
 *
 * listenEarly with allow0RTT: every bidirectional stream is read to its FIN and answered with the
 * byte count, or with the bytes a download request asks for (bench/peers/protocol.ts). Prints
 * `LISTENING host:port`; answers `STATS` lines on stdin (heap after a GC when --expose-gc, RSS, open
 * connections, event-loop delay p99 since the previous STATS, packets sent and received by the
 * connections that have ended); exits when stdin closes.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';
import { listenEarly, type QuicConnection, type QuicStream } from '../../src/index.js';
import {
  BENCH_ALPN,
  CHUNK_SIZE,
  MAX_DOWNLOAD_REQUEST,
  option,
  parseDownloadRequest,
  requiredOption,
  runUntilStdinCloses,
  uploadChunk,
} from './protocol.js';

const CHUNK = uploadChunk();

/** Bytes used in new space and the large-object spaces (where objects are allocated). */
function allocatedSpaces(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space' || s.space_name.endsWith('large_object_space')) n += s.space_used_size;
  }
  return n;
}

function allocatedIn(spaces: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }>): number {
  let n = 0;
  for (const s of spaces) {
    if (s.spaceName === 'new_space' || s.spaceName.endsWith('large_object_space')) n += s.spaceUsedSize;
  }
  return n;
}

/**
 * Bytes allocated since the process started, as far as V8's GC records tell (the A/B's --allocs):
 * the growth of new space and the large-object spaces between garbage collections, summed (each
 * GC's "before" less the previous GC's "after"), plus the growth since the last GC. Objects V8
 * pretenures straight into old space are not seen.
 */
class AllocationCounter {
  private profiler = new GCProfiler();
  private total = 0;
  private lastAfter = allocatedSpaces();

  constructor() {
    this.profiler.start();
  }

  read(): number {
    for (const g of this.profiler.stop().statistics) {
      this.total += allocatedIn(g.beforeGC.heapSpaceStatistics) - this.lastAfter;
      this.lastAfter = allocatedIn(g.afterGC.heapSpaceStatistics);
    }
    this.profiler = new GCProfiler();
    this.profiler.start();
    return this.total + allocatedSpaces() - this.lastAfter;
  }
}

/** Writes `total` bytes with backpressure, then FIN. */
function sendBytes(stream: QuicStream, total: number): void {
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(CHUNK_SIZE, left);
      left -= n;
      if (!stream.write(n === CHUNK_SIZE ? CHUNK : CHUNK.subarray(0, n))) {
        stream.once('drain', pump);
        return;
      }
    }
    stream.end();
  };
  pump();
}

function serveStream(stream: QuicStream): void {
  let count = 0;
  const head: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    if (count < MAX_DOWNLOAD_REQUEST + 1) head.push(chunk.subarray(0, MAX_DOWNLOAD_REQUEST + 1 - count));
    count += chunk.length;
  });
  stream.on('end', () => {
    const want = count <= MAX_DOWNLOAD_REQUEST ? parseDownloadRequest(Buffer.concat(head)) : undefined;
    if (want !== undefined) sendBytes(stream, want);
    else stream.end(String(count));
  });
  // A client that goes away mid-request is not the server's problem.
  stream.on('error', () => {});
}

/** Packets sent and received by the connections that have ended (STATS: ACKs per data packet). */
const ended = { packetsSent: 0, packetsReceived: 0 };

async function serveConnection(conn: QuicConnection): Promise<void> {
  try {
    for await (const stream of conn) serveStream(stream);
  } catch {
    // the connection ended
  }
  const s = conn.stats();
  ended.packetsSent += s.packetsSent;
  ended.packetsReceived += s.packetsReceived;
}

function numberArg(argv: readonly string[], name: string): number | undefined {
  const v = option(argv, name);
  return v === undefined ? undefined : Number(v);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const qlogDir = option(argv, '--qlog-dir');
  const maxDatagramSize = numberArg(argv, '--max-datagram-size');
  const pmtuDiscoveryMax = numberArg(argv, '--pmtu-max');
  const idleTimeout = numberArg(argv, '--idle-timeout');
  const server = await listenEarly({
    host: option(argv, '--host') ?? '127.0.0.1',
    port: 0,
    cert: readFileSync(requiredOption(argv, '--cert')),
    key: readFileSync(requiredOption(argv, '--key')),
    alpn: [BENCH_ALPN],
    allow0RTT: true,
    ...(qlogDir !== undefined ? { qlogDir } : {}),
    ...(maxDatagramSize !== undefined ? { maxDatagramSize } : {}),
    ...(pmtuDiscoveryMax !== undefined ? { pmtuDiscoveryMax } : {}),
    ...(idleTimeout !== undefined ? { idleTimeout } : {}),
    // Enough for the idle-connection measurement (its client opens 16 at a time and holds 10k; the
    // default limit of open connections is 10000, and quic-go's server has none).
    maxHalfOpen: 1000,
    maxConnections: 100_000,
  });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const allocations = new AllocationCounter();
  const stats = () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    // Bytes allocated so far (the A/B's --allocs takes the difference across a client run).
    const allocated = allocations.read();
    gc?.();
    const m = process.memoryUsage();
    const p99 = delay.count > 0 ? delay.percentile(99) / 1e6 : undefined;
    delay.reset();
    return {
      heapUsed: m.heapUsed,
      rss: m.rss,
      connections: server.connectionCount,
      eventLoopP99Ms: p99,
      packetsSent: ended.packetsSent,
      packetsReceived: ended.packetsReceived,
      allocated,
    };
  };
  const { address, port } = server.address();
  process.stdout.write(`LISTENING ${address.includes(':') ? `[${address}]` : address}:${port}\n`);
  runUntilStdinCloses(() => server.close(), stats);
  for await (const conn of server) void serveConnection(conn);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
