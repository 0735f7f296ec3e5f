/**
 * HTTP/3 benchmark: tsquic's HTTP/3 server (createServer) against quic-go 0.29's http3.Server, the
 * same client (quic-go's http3.RoundTripper, bench/peers/h3go) and the same run, every peer its own
 * process on loopback:
 *
 *  - small GET requests per second on one connection, with 1, 10 and 100 requests in flight;
 *  - the goodput of one download (--h3-size MiB, default 100) on one stream.
 *
 * Both servers serve the same files from disk. Packet sizes are the same for both: quic-go 0.29 sends
 * at most 1452-byte QUIC packets (1252 until its PMTU discovery raises it) and the tsquic server gets
 * `pmtuDiscoveryMax: 1452` (as in bench/compare.ts), so it too starts at 1252 and discovers at most
 * 1452 instead of the 16383 bytes it would use on loopback. The tsquic server's average datagram
 * size is measured and printed. The quic-go server is bench/peers/h3goserver (the interop peer
 * writes a JSON line per request, which would cost quic-go time). Figures are medians over --runs
 * runs; the stacks alternate within a run; the load average is printed at the start and the end.
 * Both servers are warmed up first (unmeasured requests at each concurrency and a download): a
 * long-running server is warm, and a cold V8 costs tsquic several times the CPU per request.
 * The tsquic server runs as compiled JavaScript, what the npm package ships (bench/tsquic-build.ts;
 * `--tsx` runs it from the TypeScript sources instead).
 *
 * This VM's hypervisor takes CPU away at times (the "steal" column of /proc/stat: up to 70% of a core
 * for seconds, whatever runs here), which moves one stack's figure and not the other's. Each pair of
 * measurements (both stacks at one concurrency) records the steal of each half; a pair in which either
 * half lost more than STEAL_LIMIT of a core is measured again (at most RETRIES times, the last attempt
 * is kept whatever its steal), and the stacks take turns going first. The steal and the retries are
 * printed. Printed, never asserted (bench/README.md).
 *
 *   npx tsx bench/http3.ts [--runs N] [--duration ms] [--h3-size MiB] [--tsx]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createTestPki } from '../src/tls/x509-builder.js';
import { formatMachine, numberFlag } from './core.js';
import { buildGoPeer } from './go-build.js';
import { buildTsquicJs, peerCommand, type TsquicBuild } from './tsquic-build.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GO_CLIENT = join(REPO_ROOT, '.bench', 'h3go');
const GO_SERVER = join(REPO_ROOT, '.bench', 'h3goserver');
const MiB = 1024 * 1024;
export const CONCURRENCY = [1, 10, 100] as const;
/** The largest UDP payload of both servers (the 1500-byte Ethernet MTU less IPv6 and UDP headers). */
export const H3_CAP = 1452;
/**
 * Unmeasured requests before the first run, per server and concurrency. With 2 s each, the tsquic
 * server's CPU per request still fell by a third over the first runs (V8 was still optimizing);
 * after 5 s at each concurrency it falls by less than a tenth more.
 */
const WARMUP_MS = 5000;
/** A measurement during which the hypervisor took more than this share of one core is retried. */
export const STEAL_LIMIT = 0.05;
/** Extra attempts of a pair of measurements hit by steal. */
const RETRIES = 3;

export interface Http3BenchOptions {
  runs?: number;
  durationMs?: number;
  sizeMiB?: number;
  /** How the tsquic server runs: compiled (default, what package users run) or through tsx. */
  build?: TsquicBuild;
  log?: (line: string) => void;
}

export interface Http3BenchResult {
  /** requests/s per stack and concurrency (medians). */
  rps: Record<'tsquic' | 'quic-go', Record<number, number>>;
  /**
   * Server CPU time (user + system, from /proc) per request, microseconds (medians): the servers'
   * CPU over a measurement divided by every request the client made in it, warm-up included.
   * Undefined where /proc is not readable.
   */
  cpuPerRequestUs: Record<'tsquic' | 'quic-go', Record<number, number | undefined>>;
  /** Download goodput, Mbit/s (medians). */
  goodput: Record<'tsquic' | 'quic-go', number>;
  /** The tsquic server's average datagram payload (UDP bytes / packets sent), small GETs and download. */
  tsquicAveragePacket: { rps: number; download: number };
  /** os.loadavg() (1 min) at the start and at the end. */
  loadAverage: { start: number; end: number };
  /**
   * CPU the hypervisor took (/proc/stat steal, share of one core) during the kept small-GET
   * measurements: median and largest; undefined where /proc/stat is not readable.
   */
  steal: { median: number; max: number } | undefined;
  /** Pairs of small-GET measurements measured again because of steal. */
  retried: number;
  build: TsquicBuild;
  sizeMiB: number;
  runs: number;
}

function push(map: Record<string, number[]>, key: string, v: number): void {
  const list = map[key] ?? [];
  list.push(v);
  map[key] = list;
}

/** CPU seconds (user + system) process `pid` has used, from /proc/<pid>/stat; undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Jiffies (1/100 s) of CPU the hypervisor took from this VM so far, all cores; undefined elsewhere. */
function stealJiffies(): number | undefined {
  try {
    // "cpu  user nice system idle iowait irq softirq steal ...": steal is the 8th value.
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const v = Number(f[8]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a pair of measurements is measured again: either half lost more than STEAL_LIMIT of a core
 * to the hypervisor (unknown steal counts as none), and attempts remain (`attempt` counts from 0).
 */
export function measureAgain(steals: readonly (number | undefined)[], attempt: number): boolean {
  return attempt < RETRIES && steals.some((s) => s !== undefined && s > STEAL_LIMIT);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Server {
  child: ChildProcess;
  port: number;
  /** Called with each later line of the server's stdout. */
  onLine?: (line: string) => void;
}

function startServer(file: string, args: string[]): Promise<Server> {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolvePromise, reject) => {
    let pending = '';
    let server: Server | undefined;
    const timer = setTimeout(() => reject(new Error(`${file}: no LISTENING line`)), 30_000);
    // Keep reading the server's stdout (it must never block on a full pipe).
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        const line = pending.slice(0, i).trim();
        pending = pending.slice(i + 1);
        if (server) {
          server.onLine?.(line);
          continue;
        }
        const m = /^LISTENING \S+:(\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          server = { child, port: Number(m[1]) };
          resolvePromise(server);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/** The tsquic server's packets and bytes sent so far (its answer to a STATS line). */
function serverStats(server: Server): Promise<{ packetsSent: number; bytesSent: number }> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error('tsquic h3 server: no STATS answer')), 10_000);
    server.onLine = (line) => {
      if (!line.startsWith('STATS ')) return;
      clearTimeout(timer);
      server.onLine = undefined;
      resolvePromise(JSON.parse(line.slice(6)) as { packetsSent: number; bytesSent: number });
    };
    server.child.stdin!.write('STATS\n');
  });
}

/** Runs the Go client (asynchronously: the servers' output keeps being drained meanwhile). */
function runClient(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(GO_CLIENT, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`h3go ${args.join(' ')} exited with ${code}`));
      else resolvePromise(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>);
    });
  });
}

export async function run(o: Http3BenchOptions = {}): Promise<Http3BenchResult> {
  const runs = o.runs ?? 5;
  const durationMs = o.durationMs ?? 3000;
  const sizeMiB = o.sizeMiB ?? 100;
  const build = o.build ?? 'dist';
  const log = o.log ?? (() => {});
  buildGoPeer('h3go', GO_CLIENT);
  buildGoPeer('h3goserver', GO_SERVER);
  if (build === 'dist') buildTsquicJs();
  const loadStart = loadavg()[0]!;
  log(
    `http3: load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the start`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'tsquic-bench-h3-'));
  const pki = createTestPki({ names: ['localhost'], now: Date.now() });
  const ca = join(dir, 'ca.pem');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(ca, pki.ca.certPem);
  writeFileSync(cert, pki.leaf.certPem);
  writeFileSync(key, pki.leaf.keyPem);
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'small.txt'), 'hello, h3!\n');
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(sizeMiB * MiB, 0x61));
  writeFileSync(join(root, 'small-big.bin'), Buffer.alloc(10 * MiB, 0x61));
  const tsquicCommand = peerCommand(build, 'h3-server.ts', [
    '--cert',
    cert,
    '--key',
    key,
    '--root',
    root,
    '--pmtu-max',
    String(H3_CAP),
  ]);
  const servers: Record<'tsquic' | 'quic-go', Server> = {
    tsquic: await startServer(tsquicCommand.file, tsquicCommand.args),
    'quic-go': await startServer(GO_SERVER, ['-cert', cert, '-key', key, '-root', root]),
  };
  const stacks = ['tsquic', 'quic-go'] as const;
  const rpsRuns: Record<string, number[]> = {};
  const cpuRuns: Record<string, number[]> = {};
  const gpRuns: Record<string, number[]> = {};
  const steals: number[] = [];
  let retried = 0;
  // The tsquic server's datagrams during the measurements (including the handshake and warm-up).
  const sent = { rps: { packetsSent: 0, bytesSent: 0 }, download: { packetsSent: 0, bytesSent: 0 } };
  const measure = async <T>(s: 'tsquic' | 'quic-go', kind: keyof typeof sent, f: () => Promise<T>) => {
    if (s !== 'tsquic') return f();
    const before = await serverStats(servers.tsquic);
    const v = await f();
    // The client closed its connection: the server's last packets are already counted.
    const after = await serverStats(servers.tsquic);
    sent[kind].packetsSent += after.packetsSent - before.packetsSent;
    sent[kind].bytesSent += after.bytesSent - before.bytesSent;
    return v;
  };
  /** The Go client's arguments for small GETs at `concurrency` in flight for `ms` (flags before the URL). */
  const rpsArgs = (port: number, concurrency: number, ms: number, extra: string[] = []): string[] => [
    '-mode',
    'rps',
    '-ca',
    ca,
    '-concurrency',
    String(concurrency),
    '-duration',
    `${ms}ms`,
    ...extra,
    `https://localhost:${port}/small.txt`,
  ];
  try {
    // Warm both servers up first, unmeasured: a long-running server is warm, and tsquic's JIT needs
    // a few thousand requests before its code is optimized (cold, its first seconds at 1 in flight
    // cost several times the CPU per request of later ones).
    for (const s of stacks) {
      for (const c of CONCURRENCY) {
        await runClient(rpsArgs(servers[s].port, c, WARMUP_MS, ['-warmup', '0s']));
      }
      await runClient(['-mode', 'download', '-ca', ca, `https://localhost:${servers[s].port}/small-big.bin`]);
    }
    log('http3: servers warmed up');
    /** One small-GET measurement: requests/s, server CPU per request, steal (share of a core). */
    const measureRps = async (s: 'tsquic' | 'quic-go', c: number) => {
      const cpu0 = cpuSeconds(servers[s].child.pid);
      const steal0 = stealJiffies();
      const t0 = performance.now();
      const res = await measure(s, 'rps', () => runClient(rpsArgs(servers[s].port, c, durationMs)));
      const steal1 = stealJiffies();
      const wallS = (performance.now() - t0) / 1000;
      const cpu1 = cpuSeconds(servers[s].child.pid);
      const rps = res.requests! / res.seconds!;
      const cpuUs =
        cpu0 !== undefined && cpu1 !== undefined && res.total ? ((cpu1 - cpu0) / res.total) * 1e6 : undefined;
      // Over the client's whole life (its warm-up and handshake included).
      const steal =
        steal0 !== undefined && steal1 !== undefined ? (steal1 - steal0) / 100 / wallS : undefined;
      return { rps, cpuUs, steal };
    };
    for (let r = 0; r < runs; r++) {
      // The stacks take turns going first (whatever drifts during a pair treats both alike).
      const order = r % 2 === 0 ? stacks : (['quic-go', 'tsquic'] as const);
      for (const c of CONCURRENCY) {
        let pair: Record<string, Awaited<ReturnType<typeof measureRps>>> = {};
        for (let attempt = 0; ; attempt++) {
          pair = {};
          for (const s of order) pair[s] = await measureRps(s, c);
          const steals = stacks.map((s) => pair[s]!.steal);
          if (!measureAgain(steals, attempt)) break;
          const worst = Math.max(...steals.map((s) => s ?? 0));
          retried++;
          log(
            `http3 run ${r + 1}: ${c} in flight: measured again, steal ${(worst * 100).toFixed(0)}% of a core`,
          );
        }
        for (const s of order) {
          const m = pair[s]!;
          push(rpsRuns, `${s}/${c}`, m.rps);
          if (m.cpuUs !== undefined) push(cpuRuns, `${s}/${c}`, m.cpuUs);
          if (m.steal !== undefined) steals.push(m.steal);
          const cpuNote = m.cpuUs !== undefined ? `, server CPU ${m.cpuUs.toFixed(0)} us/request` : '';
          const stealNote = m.steal !== undefined ? `, steal ${(m.steal * 100).toFixed(0)}%` : '';
          log(
            `http3 run ${r + 1}: ${s} ${c} in flight: ${m.rps.toFixed(0)} requests/s${cpuNote}${stealNote}`,
          );
        }
      }
      for (const s of order) {
        const res = await measure(s, 'download', () =>
          runClient(['-mode', 'download', '-ca', ca, `https://localhost:${servers[s].port}/big.bin`]),
        );
        const v = (res.bytes! * 8) / res.seconds! / 1e6;
        push(gpRuns, s, v);
        log(`http3 run ${r + 1}: ${s} ${sizeMiB} MiB download: ${v.toFixed(0)} Mbit/s`);
      }
    }
  } finally {
    for (const s of Object.values(servers)) {
      s.child.stdin?.end();
      s.child.kill();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const loadEnd = loadavg()[0]!;
  log(
    `http3: load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end`,
  );
  const rps = { tsquic: {}, 'quic-go': {} } as Http3BenchResult['rps'];
  const cpuPerRequestUs = { tsquic: {}, 'quic-go': {} } as Http3BenchResult['cpuPerRequestUs'];
  for (const s of stacks) {
    for (const c of CONCURRENCY) {
      rps[s][c] = median(rpsRuns[`${s}/${c}`]!);
      const cpu = cpuRuns[`${s}/${c}`];
      cpuPerRequestUs[s][c] = cpu ? median(cpu) : undefined;
    }
  }
  return {
    rps,
    cpuPerRequestUs,
    goodput: { tsquic: median(gpRuns.tsquic!), 'quic-go': median(gpRuns['quic-go']!) },
    tsquicAveragePacket: {
      rps: sent.rps.bytesSent / Math.max(1, sent.rps.packetsSent),
      download: sent.download.bytesSent / Math.max(1, sent.download.packetsSent),
    },
    loadAverage: { start: loadStart, end: loadEnd },
    steal: steals.length > 0 ? { median: median(steals), max: Math.max(...steals) } : undefined,
    retried,
    build,
    sizeMiB,
    runs,
  };
}

export function formatHttp3(r: Http3BenchResult): string {
  const lines = [
    `HTTP/3 (client: quic-go 0.29 http3.RoundTripper; medians of ${r.runs} runs)`,
    '| | tsquic | quic-go 0.29 | tsquic / quic-go |',
    '|---|--:|--:|--:|',
  ];
  for (const c of CONCURRENCY) {
    const t = r.rps.tsquic[c]!;
    const g = r.rps['quic-go'][c]!;
    lines.push(
      `| small GETs/s, ${c} in flight | ${t.toFixed(0)} | ${g.toFixed(0)} | ${(t / g).toFixed(2)} |`,
    );
  }
  for (const c of CONCURRENCY) {
    const t = r.cpuPerRequestUs.tsquic[c];
    const g = r.cpuPerRequestUs['quic-go'][c];
    if (t === undefined || g === undefined) continue;
    lines.push(
      `| server CPU per request, ${c} in flight, us | ${t.toFixed(0)} | ${g.toFixed(0)} | ${(t / g).toFixed(2)} |`,
    );
  }
  const t = r.goodput.tsquic;
  const g = r.goodput['quic-go'];
  lines.push(
    `| ${r.sizeMiB} MiB download, Mbit/s | ${t.toFixed(0)} | ${g.toFixed(0)} | ${(t / g).toFixed(2)} |`,
  );
  lines.push(
    `packets: both servers at most ${H3_CAP} bytes (tsquic pmtuDiscoveryMax ${H3_CAP}; quic-go 0.29 never above 1452); ` +
      `tsquic server's average datagram ${r.tsquicAveragePacket.rps.toFixed(0)} bytes (small GETs), ` +
      `${r.tsquicAveragePacket.download.toFixed(0)} bytes (download)`,
  );
  lines.push(
    `load average (1 min) ${r.loadAverage.start.toFixed(2)} at the start, ${r.loadAverage.end.toFixed(2)} at the end`,
  );
  if (r.steal) {
    lines.push(
      `CPU taken by the hypervisor (steal) during the small-GET measurements kept: median ${(r.steal.median * 100).toFixed(1)}%, ` +
        `largest ${(r.steal.max * 100).toFixed(1)}% of a core; ${r.retried} pair(s) measured again (more than ${STEAL_LIMIT * 100}%)`,
    );
  }
  lines.push(
    r.build === 'dist'
      ? 'tsquic server: compiled JavaScript (what the npm package ships)'
      : 'tsquic server: TypeScript sources through tsx',
  );
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  console.log(formatMachine());
  const r = await run({
    runs: numberFlag(argv, '--runs') ?? 5,
    durationMs: numberFlag(argv, '--duration') ?? 3000,
    sizeMiB: numberFlag(argv, '--h3-size') ?? 100,
    build: argv.includes('--tsx') ? 'tsx' : 'dist',
    log: (l) => console.error(l),
  });
  console.log(formatHttp3(r));
}
