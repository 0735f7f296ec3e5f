/**
 * tsquic client of the real-UDP benchmark (bench/udp.ts), run as its own process:
 *
 *   node --import tsx [--single-threaded-gc] bench/peers/quic-client.ts --addr HOST:PORT --ca FILE
 *        --mode upload|full|resumed|0rtt [--size BYTES] [--request BYTES] [--warmup MS] [--duration MS]
 *        [--max-datagram-size N]
 *
 * upload: one connection (dial), one stream, --size bytes and FIN; timed from the first write to the
 * server's answer. full / resumed / 0rtt: new connections back to back for --duration ms (after
 * --warmup ms), each carrying one request of --request bytes: `dial` without a session cache (full),
 * `dial` with one (resumed), `dialEarly` with one, the request sent as 0-RTT (0rtt; on a rejection it
 * is repeated on nextConnection()). Tickets are single-use, so a resuming connection closes only once
 * the server's next ticket is in. Prints one PeerResult JSON line. --max-datagram-size: see
 * ClientOptions.maxDatagramSize (a value above 1452 also caps PMTU discovery on loopback).
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
  type HandshakeMode,
  handshakeLoop,
  numberOption,
  type Outcome,
  option,
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

/** One request on a new stream: `total` bytes from `data` (repeated), FIN, then the server's answer. */
async function exchange(conn: QuicConnection, data: Buffer, total: number): Promise<void> {
  const stream = await conn.openStream();
  const answer: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => answer.push(c));
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

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const mode = parseMode(requiredOption(argv, '--mode'));
  const target = splitHostPort(requiredOption(argv, '--addr'));
  const mds = option(argv, '--max-datagram-size');
  const base: ClientOptions = {
    alpn: [BENCH_ALPN],
    serverName: SERVER_NAME,
    ca: readFileSync(requiredOption(argv, '--ca')),
    ...(mds !== undefined ? { maxDatagramSize: Number(mds) } : {}),
  };
  if (mode === 'upload') {
    const size = numberOption(argv, '--size', 200 * 1024 * 1024);
    const conn = await dial(target, base);
    const result = await timeUpload(size, () => exchange(conn, uploadChunk(), size));
    const stats = conn.stats();
    await conn.close();
    report({
      ...result,
      packetsSent: stats.packetsSent,
      averagePacketBytes: stats.bytesSent / Math.max(1, stats.packetsSent),
      packetsLost: stats.packetsLost,
    });
    return;
  }
  const request = requestBody(numberOption(argv, '--request', 32));
  const cache = new SignallingCache();
  const options: ClientOptions = mode === 'full' ? base : { ...base, sessionCache: cache };
  const one = (m: HandshakeMode) => async (): Promise<Outcome> => {
    cache.reset();
    const outcome: Outcome = { resumed: false, used0RTT: false, rejected0RTT: false };
    let conn: QuicConnection;
    if (m === '0rtt') {
      const early = await dialEarly(target, options);
      conn = early;
      try {
        await exchange(early, request, request.length);
      } catch (err) {
        if (!(err instanceof ZeroRTTRejectedError)) throw err;
        // RFC 9001 §4.6.2: the request is repeated on the fresh connection.
        outcome.rejected0RTT = true;
        conn = await early.nextConnection();
        await exchange(conn, request, request.length);
      }
      await early.handshakeComplete;
      outcome.used0RTT = early.used0RTT;
    } else {
      conn = await dial(target, options);
      await exchange(conn, request, request.length);
    }
    outcome.resumed = conn.resumed;
    if (m !== 'full') await cache.ticket();
    await conn.close();
    return outcome;
  };
  // The first ticket comes from a full handshake (with the cache, so the ticket is kept).
  if (mode !== 'full') await one('resumed')();
  const warmup = numberOption(argv, '--warmup', 500);
  const duration = numberOption(argv, '--duration', 3000);
  report(await handshakeLoop(mode, one(mode), warmup, duration));
}

runMain(main);
