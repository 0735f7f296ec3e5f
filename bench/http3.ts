/**
 * HTTP/3 benchmark: tsquic's HTTP/3 server (createServer) against quic-go 0.29's http3.Server, the
 * same client (quic-go's http3.RoundTripper, bench/peers/h3go) and the same run, every peer its own
 * process on loopback:
 *
 *  - small GET requests per second on one connection, with 1, 10 and 100 requests in flight;
 *  - the goodput of one download (--h3-size MiB, default 100) on one stream.
 *
 * Both servers serve the same files from disk. Packet sizes: quic-go 0.29 sends at most 1452-byte
 * QUIC packets (1252 until its PMTU discovery raises it); tsquic discovers the loopback path MTU
 * and sends up to 16383-byte packets there (on a real path it stops at 1452). Figures are medians over
 * --runs runs; the stacks alternate within a run. Printed, never asserted (bench/README.md).
 *
 *   npx tsx bench/http3.ts [--runs N] [--duration ms] [--h3-size MiB]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createTestPki } from '../src/tls/x509-builder.js';
import { formatMachine, numberFlag } from './core.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GO_CLIENT_SOURCE = join(REPO_ROOT, 'bench', 'peers', 'h3go');
const GO_CLIENT = join(REPO_ROOT, '.bench', 'h3go');
const GO_SERVER = join(REPO_ROOT, 'interop', 'bin', 'h3server');
const MiB = 1024 * 1024;
export const CONCURRENCY = [1, 10, 100] as const;

export interface Http3BenchOptions {
  runs?: number;
  durationMs?: number;
  sizeMiB?: number;
  log?: (line: string) => void;
}

export interface Http3BenchResult {
  /** requests/s per stack and concurrency (medians). */
  rps: Record<'tsquic' | 'quic-go', Record<number, number>>;
  /** Download goodput, Mbit/s (medians). */
  goodput: Record<'tsquic' | 'quic-go', number>;
  sizeMiB: number;
  runs: number;
}

function push(map: Record<string, number[]>, key: string, v: number): void {
  const list = map[key] ?? [];
  list.push(v);
  map[key] = list;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: process.env.TSQUIC_GOPATH ?? '/usr/share/gocode',
    GOFLAGS: '',
    GOPROXY: 'off',
  };
  let cache = env.GOCACHE ?? '';
  if (cache === '') cache = execFileSync('go', ['env', 'GOCACHE'], { encoding: 'utf8', env }).trim();
  if (cache === '' || cache === 'off') cache = join(REPO_ROOT, '.bench', 'gocache');
  env.GOCACHE = cache;
  return env;
}

/** The Go client (GOPATH mode, offline) and the quic-go HTTP/3 server (interop/build.sh). */
function buildPeers(): void {
  const src = statSync(join(GO_CLIENT_SOURCE, 'main.go')).mtimeMs;
  let fresh = false;
  try {
    fresh = statSync(GO_CLIENT).mtimeMs > src;
  } catch {
    // not built
  }
  if (!fresh) {
    mkdirSync(dirname(GO_CLIENT), { recursive: true });
    const tmp = `${GO_CLIENT}.${process.pid}`;
    execFileSync('go', ['build', '-o', tmp, '.'], {
      cwd: GO_CLIENT_SOURCE,
      env: goEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    renameSync(tmp, GO_CLIENT);
  }
  execFileSync('bash', [join(REPO_ROOT, 'interop', 'build.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Server {
  child: ChildProcess;
  port: number;
}

function startServer(file: string, args: string[]): Promise<Server> {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    // Keep reading the server's stdout (the quic-go peer reports every request there).
    const timer = setTimeout(() => reject(new Error(`${file}: no LISTENING line`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /LISTENING \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
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
  const runs = o.runs ?? 3;
  const durationMs = o.durationMs ?? 3000;
  const sizeMiB = o.sizeMiB ?? 100;
  const log = o.log ?? (() => {});
  buildPeers();
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
  const servers: Record<'tsquic' | 'quic-go', Server> = {
    tsquic: await startServer(process.execPath, [
      '--import',
      'tsx',
      join(REPO_ROOT, 'bench', 'peers', 'h3-server.ts'),
      '--cert',
      cert,
      '--key',
      key,
      '--root',
      root,
    ]),
    'quic-go': await startServer(GO_SERVER, ['-cert', cert, '-key', key, '-root', root]),
  };
  const stacks = ['tsquic', 'quic-go'] as const;
  const rpsRuns: Record<string, number[]> = {};
  const gpRuns: Record<string, number[]> = {};
  try {
    for (let r = 0; r < runs; r++) {
      for (const c of CONCURRENCY) {
        for (const s of stacks) {
          const res = await runClient([
            '-mode',
            'rps',
            '-ca',
            ca,
            '-concurrency',
            String(c),
            '-duration',
            `${durationMs}ms`,
            `https://localhost:${servers[s].port}/small.txt`,
          ]);
          const v = res.requests! / res.seconds!;
          push(rpsRuns, `${s}/${c}`, v);
          log(`http3 run ${r + 1}: ${s} ${c} in flight: ${v.toFixed(0)} requests/s`);
        }
      }
      for (const s of stacks) {
        const res = await runClient([
          '-mode',
          'download',
          '-ca',
          ca,
          `https://localhost:${servers[s].port}/big.bin`,
        ]);
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
  const rps = { tsquic: {}, 'quic-go': {} } as Http3BenchResult['rps'];
  for (const s of stacks) for (const c of CONCURRENCY) rps[s][c] = median(rpsRuns[`${s}/${c}`]!);
  return {
    rps,
    goodput: { tsquic: median(gpRuns.tsquic!), 'quic-go': median(gpRuns['quic-go']!) },
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
  const t = r.goodput.tsquic;
  const g = r.goodput['quic-go'];
  lines.push(
    `| ${r.sizeMiB} MiB download, Mbit/s | ${t.toFixed(0)} | ${g.toFixed(0)} | ${(t / g).toFixed(2)} |`,
  );
  lines.push('packets: tsquic up to 16383 bytes (loopback PMTU discovery), quic-go 0.29 at most 1452 bytes');
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  console.log(formatMachine());
  const r = await run({
    runs: numberFlag(argv, '--runs') ?? 3,
    durationMs: numberFlag(argv, '--duration') ?? 3000,
    sizeMiB: numberFlag(argv, '--h3-size') ?? 100,
    log: (l) => console.error(l),
  });
  console.log(formatHttp3(r));
}
