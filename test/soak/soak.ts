/**
 * Soak (issue 10): mixed traffic against ONE tsquic server over real UDP on 127.0.0.1 for a given
 * time, sampling the server's memory after a real GC. The server runs in its own process
 * (server.ts) so its RSS and heap are its own. Traffic, each kind in its own loop:
 *
 * - full handshakes with a small echo each;
 * - resumed connections with 0-RTT accepted (a fresh ticket each time), and the same ticket presented
 *   a second time, which the server's single-use replay store must refuse (0-RTT rejected: the
 *   request is sent again on `nextConnection()`);
 * - bulk uploads and downloads of 1-4 MiB, checked byte for byte on both sides;
 * - a download stopped by the client (STOP_SENDING) and an upload reset (RESET_STREAM) mid-way,
 *   then an echo on the same connection to show it goes on;
 * - HTTP/3 GETs and POSTs (ALPN h3 on the same server);
 * - clients killed with SIGKILL mid-transfer (child processes): the server only learns by idle timeout.
 *
 * The verdict fails on any transfer that is not byte-exact, any unexpected error on either side, any
 * internal error in the server, a server connection that outlives its idle timeout after the end,
 * traffic kinds that never ran, and memory growth: heap + ArrayBuffer memory after GC (median of the
 * last three samples against the first three after warm-up) above 8 MiB, a slope (Theil-Sen)
 * above 1 MiB/min (runs of 5 minutes or more; 8 MiB/min for shorter, noisier ones), or RSS growth
 * above 64 MiB.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client as H3Client } from '../../src/http3/index.js';
import {
  dial,
  dialEarly,
  type QuicConnection,
  type QuicStream,
  SessionCache,
  ZeroRTTRejectedError,
} from '../../src/index.js';
import { encodeHeader, PatternCheck, pattern } from './protocol.js';
import type { ServerSample } from './server.js';

export interface SoakOptions {
  durationMs: number;
  /** How often the server's memory is sampled (default: 3 s up to 2 minutes, else 10 s). */
  sampleEveryMs?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
}

export interface Sample extends ServerSample {
  /** Seconds since the traffic started. */
  t: number;
}

export interface SoakCounts {
  handshakes: number;
  zeroRttAccepted: number;
  zeroRttRejected: number;
  uploads: number;
  downloads: number;
  bytes: number;
  stopSending: number;
  resets: number;
  h3Requests: number;
  abruptKills: number;
}

export interface SoakResult {
  ok: boolean;
  failures: string[];
  samples: Sample[];
  counts: SoakCounts;
  final: ServerSample;
  heapGrowth: number;
  heapSlopePerMinute: number;
  rssGrowth: number;
  table: string;
}

const MiB = 1024 * 1024;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

class ServerProcess {
  private readonly child: ChildProcess;
  private waiting: Array<(m: { type: string }) => void> = [];
  port = 0;
  ca = '';

  constructor() {
    this.child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', here('./server.ts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: { type: string }) => {
      const w = this.waiting.shift();
      w?.(m);
    });
  }

  private next<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`soak server: no '${type}' within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.push((m) => {
        clearTimeout(t);
        if (m.type === type) resolve(m as T);
        else reject(new Error(`soak server: '${m.type}' instead of '${type}'`));
      });
    });
  }

  async ready(): Promise<void> {
    const m = await this.next<{ port: number; ca: string }>('ready', 60_000);
    this.port = m.port;
    this.ca = m.ca;
  }

  sample(): Promise<ServerSample> {
    const p = this.next<ServerSample>('sample', 30_000);
    this.child.send({ type: 'sample' });
    return p;
  }

  async stop(): Promise<void> {
    const p = this.next('stopped', 10_000).catch(() => undefined);
    this.child.send({ type: 'stop' });
    await p;
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      setTimeout(() => this.child.kill('SIGKILL'), 5_000).unref();
      await exited;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(s: QuicStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/**
 * Slope of y over x, Theil-Sen: the median of the slopes between every pair of samples. A sample
 * taken while many packets were in flight (their buffers count as memory) moves a least-squares
 * slope a lot and this one little, while a steady leak moves both alike.
 */
function slope(xs: number[], ys: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = xs[j]! - xs[i]!;
      if (dx !== 0) slopes.push((ys[j]! - ys[i]!) / dx);
    }
  }
  return median(slopes);
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => {});
  const sampleEvery = opts.sampleEveryMs ?? (opts.durationMs <= 120_000 ? 3_000 : 10_000);
  const server = new ServerProcess();
  await server.ready();
  const target = { host: '127.0.0.1', port: server.port };
  const base = { alpn: ['soak'], ca: server.ca };
  const failures: string[] = [];
  const counts: SoakCounts = {
    handshakes: 0,
    zeroRttAccepted: 0,
    zeroRttRejected: 0,
    uploads: 0,
    downloads: 0,
    bytes: 0,
    stopSending: 0,
    resets: 0,
    h3Requests: 0,
    abruptKills: 0,
  };
  const fail = (what: string) => {
    if (failures.length < 50) failures.push(what);
    log(`FAIL ${what}`);
  };

  const start = Date.now();
  const deadline = start + opts.durationMs;
  const running = () => Date.now() < deadline;

  /** One loop of a traffic kind: every error is a failure, and the loop goes on. */
  const loop = async (name: string, body: () => Promise<void>) => {
    while (running()) {
      try {
        await body();
      } catch (err) {
        fail(`${name}: ${(err as Error)?.stack ?? String(err)}`);
        await sleep(200);
      }
    }
  };

  const echo = async (conn: QuicConnection, size: number) => {
    const body = pattern(randomInt(2 ** 31), size);
    const st = await conn.openStream();
    st.end(Buffer.concat([encodeHeader('E', size, 0), body]));
    const back = await readAll(st);
    if (!back.equals(body))
      throw new Error(`echo of ${size} bytes came back as ${back.length} different bytes`);
    counts.bytes += 2 * size;
  };

  const upload = async (conn: QuicConnection, size: number) => {
    const seed = randomInt(2 ** 31);
    const st = await conn.openStream();
    st.end(Buffer.concat([encodeHeader('U', size, seed), pattern(seed, size)]));
    const answer = (await readAll(st)).toString();
    if (answer !== 'K') throw new Error(`upload of ${size} bytes: server says '${answer}'`);
    counts.uploads++;
    counts.bytes += size;
  };

  const download = async (conn: QuicConnection, size: number) => {
    const seed = randomInt(2 ** 31);
    const st = await conn.openStream();
    st.end(encodeHeader('D', size, seed));
    const check = new PatternCheck(seed);
    for await (const c of st) check.add(c as Buffer);
    if (!check.ok(size)) {
      throw new Error(
        `download of ${size}: ${check.received} bytes, first mismatch at ${check.firstMismatch}`,
      );
    }
    counts.downloads++;
    counts.bytes += size;
  };

  const fullHandshakes = loop('full handshake', async () => {
    const conn = await dial(target, base);
    await echo(conn, randomInt(1, 32 * 1024));
    await conn.close();
    counts.handshakes++;
  });

  // Each round: a full handshake stores a ticket; the ticket's bytes are copied; 0-RTT with it is
  // accepted; the copy of the same ticket must then be refused by the server's replay store.
  const zeroRtt = loop('0-RTT', async () => {
    const cache = new SessionCache();
    const first = await dial(target, { ...base, sessionCache: cache });
    await echo(first, 1000);
    for (let i = 0; i < 50 && cache.size === 0; i++) await sleep(20);
    await first.close();
    counts.handshakes++;
    if (cache.size === 0) throw new Error('no session ticket arrived');
    const copy = cache.export();
    const accepted = await dialEarly(target, { ...base, sessionCache: cache });
    await echo(accepted, randomInt(1, 8 * 1024));
    await accepted.handshakeComplete;
    if (!accepted.used0RTT) throw new Error('0-RTT with a fresh ticket was not accepted');
    counts.zeroRttAccepted++;
    await accepted.close();
    const replayed = await dialEarly(target, { ...base, sessionCache: SessionCache.import(copy) });
    try {
      await echo(replayed, 1000);
      await replayed.handshakeComplete;
      if (replayed.used0RTT) throw new Error('the server accepted 0-RTT with a ticket used before');
      await replayed.close();
    } catch (err) {
      if (!(err instanceof ZeroRTTRejectedError)) throw err;
      counts.zeroRttRejected++;
      const next = await replayed.nextConnection();
      await echo(next, 1000);
      await next.close();
    }
  });

  const bulk = loop('bulk', async () => {
    const conn = await dial(target, base);
    for (let i = 0; i < 3 && running(); i++) {
      await Promise.all([upload(conn, randomInt(MiB, 4 * MiB)), download(conn, randomInt(MiB, 4 * MiB))]);
    }
    await conn.close();
    counts.handshakes++;
  });

  const resets = loop('resets', async () => {
    const conn = await dial(target, base);
    // STOP_SENDING: a download abandoned after 128 KiB.
    const down = await conn.openStream();
    down.on('error', () => {});
    down.end(encodeHeader('D', 8 * MiB, 1));
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      down.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= 128 * 1024) {
          down.cancelRead(0x11);
          resolve();
        }
      });
      down.on('end', () => reject(new Error('the stopped download ended normally')));
    });
    counts.stopSending++;
    // RESET_STREAM: an upload abandoned after 1 MiB.
    const up = await conn.openStream();
    up.on('error', () => {});
    up.write(Buffer.concat([encodeHeader('U', 8 * MiB, 2), pattern(2, MiB)]));
    await sleep(randomInt(1, 30));
    up.cancelWrite(0x12);
    counts.resets++;
    // The connection goes on.
    await echo(conn, 4096);
    await conn.close();
    counts.handshakes++;
  });

  const h3 = loop('http3', async () => {
    const client = new H3Client({ ca: server.ca });
    try {
      for (let i = 0; i < 10 && running(); i++) {
        const n = randomInt(1, 256 * 1024);
        const seed = randomInt(2 ** 31);
        const res = await client.fetch(`https://127.0.0.1:${server.port}/bytes?n=${n}&seed=${seed}`);
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200 || !body.equals(pattern(seed, n)))
          throw new Error(`GET of ${n} bytes: ${res.status}, ${body.length} bytes`);
        const sent = pattern(seed, randomInt(1, 64 * 1024));
        const echoed = await client.fetch(`https://127.0.0.1:${server.port}/echo`, {
          method: 'POST',
          body: sent,
        });
        const back = Buffer.from(await echoed.arrayBuffer());
        if (!back.equals(sent))
          throw new Error(`POST echo of ${sent.length} bytes came back as ${back.length}`);
        counts.h3Requests += 2;
        counts.bytes += n + 2 * sent.length;
      }
    } finally {
      await client.close();
    }
  });

  const abrupt = loop('abrupt exit', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', here('./abrupt-client.ts')], {
      env: { ...process.env, SOAK_PORT: String(server.port), SOAK_CA: server.ca },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const started = new Promise<boolean>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('started')) resolve(true);
      });
      void exited.then(() => resolve(false));
      setTimeout(() => resolve(false), 30_000).unref();
    });
    const ok = await started;
    if (ok) await sleep(randomInt(50, 400)); // mid-transfer
    child.kill('SIGKILL');
    await exited;
    if (!ok) throw new Error(`the abrupt client never started: ${stderr.slice(0, 500)}`);
    counts.abruptKills++;
    // One every few seconds: each is a Node process start.
    for (let i = 0; i < 20 && running(); i++) await sleep(250);
  });

  const samples: Sample[] = [];
  const sampler = (async () => {
    while (running()) {
      const s = await server.sample();
      const sample = { ...s, t: (Date.now() - start) / 1000 };
      samples.push(sample);
      log(row(sample));
      const wait = Math.min(sampleEvery, deadline - Date.now());
      if (wait > 0) await sleep(wait);
    }
  })();

  log(header());
  await Promise.all([fullHandshakes, zeroRtt, bulk, resets, h3, abrupt, sampler]);
  const end = await server.sample();
  samples.push({ ...end, t: (Date.now() - start) / 1000 });
  log(row(samples[samples.length - 1]!));
  // Killed clients' connections end by the server's idle timeout (5 s): wait for them.
  let final = end;
  for (let i = 0; i < 30 && final.connectionsOpen > 0; i++) {
    await sleep(500);
    final = await server.sample();
  }
  await server.stop();

  // Memory verdict, on samples taken while traffic ran (the last one is after it).
  const traffic = samples.slice(0, -1);
  const warm = traffic.filter((s) => s.t >= (opts.durationMs / 1000) * 0.2);
  const settled = warm.length >= 2 ? warm : traffic;
  const firsts = settled.slice(0, 3);
  const lasts = settled.slice(-3);
  // The JS heap and the memory of ArrayBuffers (Node Buffers live outside the heap) together.
  const js = (s: ServerSample) => s.heapUsed + s.arrayBuffers;
  const heapGrowth = median(lasts.map(js)) - median(firsts.map(js));
  const rssGrowth = median(lasts.map((s) => s.rss)) - median(firsts.map((s) => s.rss));
  const heapSlopePerMinute =
    slope(
      settled.map((s) => s.t / 60),
      settled.map(js),
    ) / MiB;

  if (heapGrowth > 8 * MiB)
    fail(`server heap + buffers grew by ${(heapGrowth / MiB).toFixed(1)} MiB during the run`);
  // A short run's slope is noisier (JIT, caches and the replay store warming up): -0.1 to 4.9
  // MiB/min without a leak over eight 35 s runs (sessions 39-41; least squares read up to 6.0);
  // keeping every connection measured 16 MiB/min.
  const maxSlope = opts.durationMs >= 5 * 60_000 ? 1 : 8;
  if (heapSlopePerMinute > maxSlope) {
    fail(`server heap + buffers grow ${heapSlopePerMinute.toFixed(2)} MiB/min (limit ${maxSlope})`);
  }
  if (rssGrowth > 64 * MiB) fail(`server RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);
  for (const e of final.internalErrors) fail(`server internal error: ${e}`);
  for (const e of final.unexpected) fail(`server: ${e}`);
  if (final.uploadsBad > 0) fail(`${final.uploadsBad} uploads arrived damaged`);
  if (final.connectionsOpen > 0)
    fail(`${final.connectionsOpen} server connections still open after the idle timeout`);
  for (const [k, v] of Object.entries(counts)) if (v === 0) fail(`no ${k} happened`);

  const table = [header(), ...samples.map(row)].join('\n');
  return {
    ok: failures.length === 0,
    failures,
    samples,
    counts,
    final,
    heapGrowth,
    heapSlopePerMinute,
    rssGrowth,
    table,
  };
}

function header(): string {
  return '   t(s)   RSS MiB  heap MiB  buffers MiB  open  conns  0-RTT  streams  h3 reqs  closes';
}

function row(s: Sample): string {
  const m = (v: number) => (v / MiB).toFixed(1).padStart(8);
  return [
    s.t.toFixed(0).padStart(7),
    m(s.rss).padStart(9),
    m(s.heapUsed).padStart(9),
    m(s.arrayBuffers).padStart(12),
    String(s.connectionsOpen).padStart(5),
    String(s.connections).padStart(6),
    String(s.early).padStart(6),
    String(s.streams).padStart(8),
    String(s.h3Requests).padStart(8),
    String(s.closes).padStart(7),
  ].join(' ');
}

/** The verdict in a few lines. */
export function summary(r: SoakResult, durationMs: number): string {
  const c = r.counts;
  return [
    `duration ${(durationMs / 1000).toFixed(0)} s; connections ${r.final.connections} (${c.handshakes} client handshakes, ` +
      `0-RTT accepted ${c.zeroRttAccepted}, rejected ${c.zeroRttRejected}), uploads ${c.uploads}, downloads ${c.downloads}, ` +
      `STOP_SENDING ${c.stopSending}, RESET_STREAM ${c.resets}, HTTP/3 requests ${c.h3Requests}, clients killed ${c.abruptKills}, ` +
      `${(c.bytes / MiB).toFixed(0)} MiB checked`,
    `server heap + buffers growth ${(r.heapGrowth / MiB).toFixed(2)} MiB (slope ${r.heapSlopePerMinute.toFixed(2)} MiB/min), ` +
      `RSS growth ${(r.rssGrowth / MiB).toFixed(1)} MiB; peer errors ${JSON.stringify(r.final.peerErrors)}`,
    r.ok ? 'VERDICT: PASS' : `VERDICT: FAIL\n${r.failures.map((f) => `  - ${f}`).join('\n')}`,
  ].join('\n');
}
