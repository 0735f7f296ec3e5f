/**
 * What the benchmark peers in bench/peers share: the protocol, the result line, the handshake loop.
 *
 * The protocol (the same for tsquic, quic-go and Node's tls, see bench/README.md): the client sends a
 * request, the server reads all of it and answers with the number of bytes it read, in decimal ASCII.
 * Over QUIC a request is one bidirectional stream ended by FIN, and the answer ends with FIN; over TLS
 * (no per-request FIN) the request starts with its length as an 8-byte big-endian integer, which is not
 * counted. An upload is one big request; a handshake is a new connection carrying one small request.
 *
 * Peers print exactly one JSON line (`PeerResult`) on stdout; servers print `LISTENING host:port` and
 * run until their stdin closes (the parent holds it open, so they never outlive it).
 */

/** ALPN of the benchmark protocol (QUIC peers). */
export const BENCH_ALPN = 'tsquic-bench';

/** Name in the test certificate and SNI. */
export const SERVER_NAME = 'localhost';

/** Application write size of an upload. */
export const CHUNK_SIZE = 64 * 1024;

export type HandshakeMode = 'full' | 'resumed' | '0rtt';
/**
 * upload: one stream, --size bytes to the server; download: one stream, --size bytes from the server;
 * streams: --streams concurrent streams uploading --size bytes between them; the handshake modes.
 */
export type PeerMode = 'upload' | 'download' | 'streams' | HandshakeMode;

export const PEER_MODES: readonly PeerMode[] = ['upload', 'download', 'streams', 'full', 'resumed', '0rtt'];

/**
 * A download request: this prefix, then the number of bytes wanted in decimal ASCII. The server
 * answers such a (short) request with that many bytes instead of the byte count. Upload data starts
 * with a zero byte and handshake requests with 'a', so neither is mistaken for one.
 */
export const DOWNLOAD_PREFIX = 'DOWNLOAD ';

/** Requests up to this long are kept by servers to recognise a download request. */
export const MAX_DOWNLOAD_REQUEST = 64;

export function downloadRequest(size: number): Buffer {
  return Buffer.from(`${DOWNLOAD_PREFIX}${size}`, 'latin1');
}

/** The bytes a download request asks for, or undefined when `request` is not one. */
export function parseDownloadRequest(request: Buffer): number | undefined {
  if (request.length > MAX_DOWNLOAD_REQUEST) return undefined;
  const text = request.toString('latin1');
  if (!text.startsWith(DOWNLOAD_PREFIX)) return undefined;
  const n = Number(text.slice(DOWNLOAD_PREFIX.length));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The median of `values` (undefined when empty). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** What a client peer measured, printed as one JSON line. */
export interface PeerResult {
  mode: PeerMode;
  /** Uploads: 1. Handshakes: connections completed in the measured time. */
  count: number;
  /** Wall-clock seconds measured (uploads: first write to the server's answer). */
  seconds: number;
  /** Uploads: bytes sent. */
  bytes?: number;
  /** Connections that resumed a session, used 0-RTT, had their 0-RTT rejected. */
  resumed: number;
  used0RTT: number;
  rejected0RTT: number;
  /** Handshakes: connections that failed or timed out (not counted), and the first error. */
  failed: number;
  error?: string;
  /** CPU seconds the client process used while measuring (user + system, all threads). */
  cpuSeconds: number;
  /** Transfers: bytes of the unmeasured transfer done first (--warmup-bytes), if any. */
  warmupBytes?: number;
  /** Transfers: connections the warm-up bytes were split over, one after another (--warmup-connections). */
  warmupConnections?: number;
  /** Handshakes: connections in flight at once (default 1). */
  parallel?: number;
  /** Handshakes: median ms from the start of a dial to the first byte of the server's answer. */
  ttfbMs?: number;
  /**
   * Handshakes: every connection completed in the process's life (the first tickets' and the warm-up's
   * included), which the server's CPU over the whole client run is divided by.
   */
  total?: number;
  /** tsquic uploads: packets sent by the client, their average size, packets declared lost. */
  packetsSent?: number;
  averagePacketBytes?: number;
  packetsLost?: number;
  /** tsquic transfers: packets the client received (in an upload: the server's ACKs). */
  packetsReceived?: number;
}

/** How one handshake connection went. */
export interface Outcome {
  resumed: boolean;
  used0RTT: boolean;
  rejected0RTT: boolean;
  /** ms from the start of the dial to the first byte of the answer. */
  firstByteMs?: number;
}

/** `--name value` from argv, or undefined. */
export function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function requiredOption(argv: readonly string[], name: string): string {
  const v = option(argv, name);
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
}

export function numberOption(argv: readonly string[], name: string, fallback: number): number {
  const v = option(argv, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number >= 0`);
  return n;
}

export function parseMode(value: string | undefined): PeerMode {
  const mode = PEER_MODES.find((m) => m === value);
  if (!mode) throw new Error(`--mode must be one of ${PEER_MODES.join(', ')}`);
  return mode;
}

/** "host:port" to its parts (IPv6 hosts in brackets). */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`not host:port: ${address}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The bytes every upload write comes from. */
export function uploadChunk(): Buffer {
  const chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  for (let i = 0; i < CHUNK_SIZE; i++) chunk[i] = (i * 7) & 0xff;
  return chunk;
}

/** A small request body of `size` bytes. */
export function requestBody(size: number): Buffer {
  const body = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) body[i] = 0x61 + (i % 26);
  return body;
}

/** The server's answer must be the byte count; throws otherwise. */
export function checkAnswer(answer: Buffer, sent: number): void {
  if (answer.toString('latin1') !== String(sent)) {
    throw new Error(`sent ${sent} bytes, the server counted ${JSON.stringify(answer.toString('latin1'))}`);
  }
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** A connection that takes longer than this counts as failed (the loop goes on without it). */
export const CONNECTION_TIMEOUT_MS = 10_000;

/** Failed connections beyond which (and beyond a tenth of the successful ones) the loop gives up. */
const MAX_FAILURES = 10;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Runs `one()` (one whole connection) back to back: `warmupMs` unmeasured, then `durationMs` measured;
 * counts the connections that completed in the measured time and how they went. A connection that
 * fails or hangs is counted as failed, not as a handshake; too many failures end the loop with an error.
 * With `parallel` > 1, that many loops run at once (`one(worker)` says which), sharing the counts.
 */
export async function handshakeLoop(
  mode: HandshakeMode,
  one: (worker: number) => Promise<Outcome>,
  warmupMs: number,
  durationMs: number,
  parallel = 1,
): Promise<PeerResult> {
  const result: PeerResult = {
    mode,
    count: 0,
    seconds: 0,
    resumed: 0,
    used0RTT: 0,
    rejected0RTT: 0,
    failed: 0,
    cpuSeconds: 0,
    parallel,
    total: 0,
  };
  const firstBytes: number[] = [];
  const warmupEnd = performance.now() + warmupMs;
  let start: number | undefined;
  let cpu = 0;
  let end: number | undefined;
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (start === undefined && now >= warmupEnd) {
        start = now;
        cpu = cpuSeconds();
      }
      if (start !== undefined && now - start >= durationMs) {
        if (end === undefined) {
          end = now;
          result.seconds = (now - start) / 1000;
          result.cpuSeconds = cpuSeconds() - cpu;
        }
        return;
      }
      let o: Outcome;
      try {
        o = await withTimeout(one(w), CONNECTION_TIMEOUT_MS);
      } catch (err) {
        result.failed++;
        result.error ??= err instanceof Error ? err.message : String(err);
        if (result.failed > MAX_FAILURES && result.failed * 10 > result.count) {
          throw new Error(`${result.failed} connections failed, the first: ${result.error}`);
        }
        continue;
      }
      result.total = (result.total ?? 0) + 1;
      // Counted when it completed inside the measured time (with several in flight, most started before).
      if (start === undefined || end !== undefined) continue;
      result.count++;
      if (o.resumed) result.resumed++;
      if (o.used0RTT) result.used0RTT++;
      if (o.rejected0RTT) result.rejected0RTT++;
      if (o.firstByteMs !== undefined) firstBytes.push(o.firstByteMs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, (_, w) => worker(w)));
  const ttfb = median(firstBytes);
  if (ttfb !== undefined) result.ttfbMs = ttfb;
  return result;
}

/** Times an upload: `send()` runs from the first write to the server's answer. */
export async function timeUpload(bytes: number, send: () => Promise<void>): Promise<PeerResult> {
  const cpu = cpuSeconds();
  const start = performance.now();
  await send();
  const seconds = (performance.now() - start) / 1000;
  return {
    mode: 'upload',
    count: 1,
    seconds,
    bytes,
    resumed: 0,
    used0RTT: 0,
    rejected0RTT: 0,
    failed: 0,
    cpuSeconds: cpuSeconds() - cpu,
  };
}

/** Prints the result line. */
export function report(result: PeerResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * Runs a server until stdin closes (the parent went away or is done), then `stop()`, then exits.
 * Each line `STATS` on stdin is answered on stdout with a line `STATS {json}` from `stats()`.
 */
export function runUntilStdinCloses(
  stop: () => Promise<void> | void,
  stats?: () => Record<string, number | undefined>,
): void {
  process.stdin.resume();
  let pending = '';
  process.stdin.setEncoding('utf8').on('data', (s: string) => {
    pending += s;
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const line = pending.slice(0, i).trim();
      pending = pending.slice(i + 1);
      if (line === 'STATS' && stats) process.stdout.write(`STATS ${JSON.stringify(stats())}\n`);
    }
  });
  process.stdin.on('end', () => {
    Promise.resolve(stop()).finally(() => process.exit(0));
  });
}

/** Runs a client's main: a failure is one line on stderr and exit code 1. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
