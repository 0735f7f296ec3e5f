/**
 * tsquic client of the real-UDP benchmark (bench/udp.ts), run as its own process:
 *
 *   node --import tsx [--single-threaded-gc] bench/peers/quic-client.ts --addr HOST:PORT --ca FILE
 *        --mode upload|download|streams|full|resumed|0rtt [--size BYTES] [--streams N] [--request BYTES]
 *        [--warmup MS] [--duration MS] [--parallel N] [--max-datagram-size N] [--pmtu-max N]
 *        [--warmup-bytes BYTES] [--warmup-connections N]
 *
 * upload: one connection (dial), one stream, --size bytes and FIN; timed from the first write to the
 * server's answer. download: one stream asking for --size bytes, timed from the request to the last
 * byte. streams: --streams (default 10) concurrent streams uploading --size bytes between them.
 * --warmup-bytes: the same transfer of that many bytes first, unmeasured, split over
 * --warmup-connections (default 1) connections one after another.
 * full / resumed / 0rtt: new connections back to back for --duration ms (after
 * --warmup ms), each carrying one request of --request bytes: `dial` without a session cache (full),
 * `dial` with one (resumed), `dialEarly` with one, the request sent as 0-RTT (0rtt; on a rejection it
 * is repeated on nextConnection()). Tickets are single-use, so a resuming connection closes only once
 * the server's next ticket is in; --parallel N runs N such loops at once, each with its own
 * session cache. Prints one PeerResult JSON line. --max-datagram-size and --pmtu-max: see
 * ClientOptions.maxDatagramSize and pmtuDiscoveryMax.
 */
import { readFileSync } from 'node:fs';
import {
  type ClientOptions,
  dial,
  dialEarly,
  type QuicConnection,
  type ResumptionSession,
  SessionCache,
  type SessionStore,
  ZeroRTTRejectedError,
} from '../../src/index.js';
import type { Millis } from '../../src/util/time.js';
import {
  BENCH_ALPN,
  checkAnswer,
  downloadRequest,
  type HandshakeMode,
  handshakeLoop,
  numberOption,
  type Outcome,
  option,
  type PeerResult,
  parseMode,
  report,
  requestBody,
  requiredOption,
  runMain,
  SERVER_NAME,
  splitHostPort,
  timeUpload,
  uploadChunk,
} from './protocol.js';

/** A SessionCache that can wait for the next ticket. */
class SignallingCache implements SessionStore {
  private readonly inner = new SessionCache();
  private waiting: (() => void) | undefined;
  private arrived = false;

  saveSession(session: ResumptionSession): void {
    this.inner.saveSession(session);
    this.arrived = true;
    this.waiting?.();
  }

  takeSession(serverName: string, now: Millis): ResumptionSession | undefined {
    return this.inner.takeSession(serverName, now);
  }

  saveToken(server: string, token: Uint8Array): void {
    this.inner.saveToken(server, token);
  }

  takeToken(server: string): Uint8Array | undefined {
    return this.inner.takeToken(server);
  }

  /** Forget earlier arrivals: the next `ticket()` waits for a new one. */
  reset(): void {
    this.arrived = false;
  }

  ticket(): Promise<void> {
    if (this.arrived) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no session ticket within 10 s')), 10_000);
      this.waiting = () => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve();
      };
    });
  }
}

/**
 * One request on a new stream: `total` bytes from `data` (repeated), FIN, then the server's answer.
 * `firstByte` is called when the answer's first byte arrives.
 */
async function exchange(
  conn: QuicConnection,
  data: Buffer,
  total: number,
  firstByte?: () => void,
): Promise<void> {
  const stream = await conn.openStream();
  const answer: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => {
      if (answer.length === 0) firstByte?.();
      answer.push(c);
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  let written = 0;
  while (written < total) {
    const n = Math.min(data.length, total - written);
    const more = stream.write(n === data.length ? data : data.subarray(0, n));
    written += n;
    if (!more) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        stream.once('error', onError);
        stream.once('drain', () => {
          stream.off('error', onError);
          resolve();
        });
      });
    }
  }
  stream.end();
  await done;
  checkAnswer(Buffer.concat(answer), total);
}

/** Asks for `size` bytes on a new stream and reads them all; returns the bytes received. */
async function download(conn: QuicConnection, size: number): Promise<void> {
  const stream = await conn.openStream();
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => {
      received += c.length;
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  stream.end(downloadRequest(size));
  await done;
  if (received !== size) throw new Error(`asked for ${size} bytes, received ${received}`);
}

/** One transfer of `size` bytes on a new connection (dial, transfer, close): its figures. */
async function transfer(
  target: { host: string; port: number },
  options: ClientOptions,
  mode: 'upload' | 'download' | 'streams',
  size: number,
  streams: number,
): Promise<PeerResult> {
  const conn = await dial(target, options);
  const each = Math.floor(size / streams);
  const result =
    mode === 'upload'
      ? await timeUpload(size, () => exchange(conn, uploadChunk(), size))
      : mode === 'download'
        ? await timeUpload(size, () => download(conn, size))
        : await timeUpload(each * streams, async () => {
            const chunk = uploadChunk();
            await Promise.all(Array.from({ length: streams }, () => exchange(conn, chunk, each)));
          });
  const stats = conn.stats();
  await conn.close();
  return {
    ...result,
    mode,
    packetsSent: stats.packetsSent,
    averagePacketBytes: stats.bytesSent / Math.max(1, stats.packetsSent),
    packetsLost: stats.packetsLost,
    packetsReceived: stats.packetsReceived,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const mode = parseMode(requiredOption(argv, '--mode'));
  const target = splitHostPort(requiredOption(argv, '--addr'));
  const mds = option(argv, '--max-datagram-size');
  const pmtu = option(argv, '--pmtu-max');
  const base: ClientOptions = {
    alpn: [BENCH_ALPN],
    serverName: SERVER_NAME,
    ca: readFileSync(requiredOption(argv, '--ca')),
    ...(mds !== undefined ? { maxDatagramSize: Number(mds) } : {}),
    ...(pmtu !== undefined ? { pmtuDiscoveryMax: Number(pmtu) } : {}),
  };
  if (mode === 'upload' || mode === 'download' || mode === 'streams') {
    const size = numberOption(argv, '--size', 200 * 1024 * 1024);
    const streams = Math.max(1, Math.floor(numberOption(argv, '--streams', 10)));
    // A process that has run for a while: the same transfer first, unmeasured (V8 compiles the paths
    // it takes; the handshake rows' --warmup does the same for handshakes). Over several connections:
    // a process's second connection re-optimizes much of what its first left (docs/performance.md,
    // "The second connection's recompilation").
    const warmupBytes = numberOption(argv, '--warmup-bytes', 0);
    const warmupConnections = Math.max(1, Math.floor(numberOption(argv, '--warmup-connections', 1)));
    if (warmupBytes > 0) {
      const each = Math.floor(warmupBytes / warmupConnections);
      for (let i = 0; i < warmupConnections; i++) await transfer(target, base, mode, each, streams);
    }
    const result = await transfer(target, base, mode, size, streams);
    report(warmupBytes > 0 ? { ...result, warmupBytes, warmupConnections } : result);
    return;
  }
  const request = requestBody(numberOption(argv, '--request', 32));
  const parallel = Math.max(1, Math.floor(numberOption(argv, '--parallel', 1)));
  // One session cache per loop: tickets are single-use, and each loop waits for its own next one.
  const caches = Array.from({ length: parallel }, () => new SignallingCache());
  const one =
    (m: HandshakeMode) =>
    async (worker: number): Promise<Outcome> => {
      const cache = caches[worker]!;
      const options: ClientOptions = mode === 'full' ? base : { ...base, sessionCache: cache };
      cache.reset();
      const outcome: Outcome = { resumed: false, used0RTT: false, rejected0RTT: false };
      const start = performance.now();
      const firstByte = () => {
        outcome.firstByteMs ??= performance.now() - start;
      };
      let conn: QuicConnection;
      if (m === '0rtt') {
        const early = await dialEarly(target, options);
        conn = early;
        try {
          await exchange(early, request, request.length, firstByte);
        } catch (err) {
          if (!(err instanceof ZeroRTTRejectedError)) throw err;
          // RFC 9001 §4.6.2: the request is repeated on the fresh connection.
          outcome.rejected0RTT = true;
          conn = await early.nextConnection();
          await exchange(conn, request, request.length, firstByte);
        }
        await early.handshakeComplete;
        outcome.used0RTT = early.used0RTT;
      } else {
        conn = await dial(target, options);
        await exchange(conn, request, request.length, firstByte);
      }
      outcome.resumed = conn.resumed;
      if (m !== 'full') await cache.ticket();
      await conn.close();
      return outcome;
    };
  // The first ticket of each loop comes from a full handshake (with the cache, so the ticket is kept).
  if (mode !== 'full') await Promise.all(caches.map((_, w) => one('resumed')(w)));
  const warmup = numberOption(argv, '--warmup', 500);
  const duration = numberOption(argv, '--duration', 3000);
  const result = await handshakeLoop(mode, one(mode), warmup, duration, parallel);
  if (mode !== 'full') result.total = (result.total ?? 0) + parallel;
  report(result);
}

runMain(main);
