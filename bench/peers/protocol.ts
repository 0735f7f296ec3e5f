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
export type PeerMode = 'upload' | HandshakeMode;

export const PEER_MODES: readonly PeerMode[] = ['upload', 'full', 'resumed', '0rtt'];

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
  /** tsquic uploads: packets sent by the client, their average size, packets declared lost. */
  packetsSent?: number;
  averagePacketBytes?: number;
  packetsLost?: number;
}

/** How one handshake connection went. */
export interface Outcome {
  resumed: boolean;
  used0RTT: boolean;
  rejected0RTT: boolean;
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
 */
export async function handshakeLoop(
  mode: HandshakeMode,
  one: () => Promise<Outcome>,
  warmupMs: number,
  durationMs: number,
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
  };
  const warmupEnd = performance.now() + warmupMs;
  let start: number | undefined;
  let cpu = 0;
  for (;;) {
    const now = performance.now();
    if (start === undefined && now >= warmupEnd) {
      start = now;
      cpu = cpuSeconds();
    }
    if (start !== undefined && now - start >= durationMs) {
      result.seconds = (now - start) / 1000;
      result.cpuSeconds = cpuSeconds() - cpu;
      return result;
    }
    let o: Outcome;
    try {
      o = await withTimeout(one(), CONNECTION_TIMEOUT_MS);
    } catch (err) {
      result.failed++;
      result.error ??= err instanceof Error ? err.message : String(err);
      if (result.failed > MAX_FAILURES && result.failed * 10 > result.count) {
        throw new Error(`${result.failed} connections failed, the first: ${result.error}`);
      }
      continue;
    }
    if (start === undefined) continue;
    result.count++;
    if (o.resumed) result.resumed++;
    if (o.used0RTT) result.used0RTT++;
    if (o.rejected0RTT) result.rejected0RTT++;
  }
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

/** Runs a server until stdin closes (the parent went away or is done), then `stop()`, then exits. */
export function runUntilStdinCloses(stop: () => Promise<void> | void): void {
  process.stdin.resume();
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
