/**
 * Real-UDP benchmark: tsquic over loopback with client and server in separate processes, side by side
 * with quic-go 0.29 (Go client <-> Go server) and Node's `tls` over TCP, in the same run:
 *
 *  - goodput of a single-stream upload (--size MiB, default 200), Mbit/s of application bytes;
 *  - full handshakes per second: new connections back to back, each carrying one small request;
 *  - resumed handshakes per second (session tickets) and 0-RTT handshakes per second (the request
 *    goes as 0-RTT; Node's tls has no early data).
 *
 * Every peer is a child process (bench/peers/): a server per stack started once, and a client process
 * per measurement that times itself and prints one JSON line. Figures are medians over --runs runs;
 * within a run the stacks take turns for each measurement, so they share the machine's moods. Also run
 * with tsquic under `node --single-threaded-gc` (client and server) as an extra column.
 *
 *   npx tsx bench/udp.ts [--size MiB] [--runs N] [--duration ms] [--warmup ms] [--no-stgc]
 *                        [--stacks tsquic,quic-go,tls] [--tsquic-max-datagram-size N]
 *
 * Figures are printed, never asserted. See bench/README.md.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createTestPki } from '../src/tls/x509-builder.js';
import { formatMachine, numberFlag } from './core.js';
import { buildGoPeer as buildGoProgram } from './go-build.js';
import type { PeerMode, PeerResult } from './peers/protocol.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PEERS = join(REPO_ROOT, 'bench', 'peers');
export const GO_BINARY = join(REPO_ROOT, '.bench', 'quicgo');
const MiB = 1024 * 1024;

export type StackName = 'tsquic' | 'quic-go' | 'tls';
const STACKS: readonly StackName[] = ['tsquic', 'quic-go', 'tls'];

export interface UdpBenchOptions {
  /** Upload size in MiB (default 200). */
  sizeMiB?: number;
  /** Runs per figure; figures are medians (default 3). */
  runs?: number;
  /** Measured time of each handshake figure, ms (default 3000). */
  durationMs?: number;
  /** Unmeasured handshakes before it, ms (default 500). */
  warmupMs?: number;
  /** Also run tsquic with --single-threaded-gc (default true). */
  singleThreadedGc?: boolean;
  /** Stacks to run (default all three). */
  stacks?: readonly StackName[];
  /** tsquic's maxDatagramSize on both sides: every datagram is at most this large, loopback included. */
  tsquicMaxDatagramSize?: number;
  /** Progress lines; default none. */
  log?: (line: string) => void;
}

/** The median of one figure over the runs, and every run's value (failed runs are left out). */
export interface Cell {
  median: number | undefined;
  values: number[];
  /** Runs that failed as a whole. */
  errors: string[];
  /** Single connections that failed or timed out within successful runs (not counted), the first error. */
  failedConnections: number;
  firstConnectionError?: string;
}

export interface ColumnResult {
  key: string;
  label: string;
  /** Per measurement; absent: the stack cannot do it (Node's tls has no 0-RTT). */
  cells: Partial<Record<PeerMode, Cell>>;
  /** Median average packet size and packets lost of tsquic uploads. */
  averagePacketBytes?: number;
  packetsLost?: number;
  /** Why the column could not run at all (e.g. no Go toolchain). */
  unavailable?: string;
}

export interface UdpBenchResult {
  sizeMiB: number;
  runs: number;
  durationMs: number;
  columns: ColumnResult[];
  environment: string[];
}

// ------------------------------------------------------------------------- child processes

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface Command {
  file: string;
  args: string[];
}

export function tsx(script: string, args: string[], stgc: boolean): Command {
  const flags = ['--import', 'tsx', ...(stgc ? ['--single-threaded-gc'] : [])];
  return { file: process.execPath, args: [...flags, join(PEERS, script), ...args] };
}

interface Server {
  address: string;
  stop(): Promise<void>;
}

/** Starts a server peer and waits for its LISTENING line; it exits when its stdin closes. */
function startServer(cmd: Command): Promise<Server> {
  const child = track(spawn(cmd.file, cmd.args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const stop = (): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      child.stdin?.end();
    });
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`server did not start within 60 s: ${stderr.trim()}`));
    }, 60_000);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /LISTENING (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveStart({ address: m[1]!, stop });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      rejectStart(new Error(`server exited (${signal ?? code}): ${stderr.trim()}`));
    });
  });
}

/** Runs a client peer to its end and parses its result line. */
export function runClient(cmd: Command, timeoutMs: number): Promise<PeerResult> {
  return new Promise((done, fail) => {
    const child = track(spawn(cmd.file, cmd.args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) {
        done(JSON.parse(line) as PeerResult);
        return;
      }
      const why = signal === 'SIGKILL' ? `killed after ${timeoutMs} ms` : `exit ${signal ?? code}`;
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      fail(new Error(`${why}${tail ? `: ${tail}` : ''}`));
    });
  });
}

// ------------------------------------------------------------------------- quic-go

/**
 * Builds bench/peers/quicgo into .bench/quicgo (bench/go-build.ts); skipped when the binary is newer
 * than the sources. Returns an explanation instead of throwing when Go or quic-go is missing.
 */
export function buildGoPeer(): string | undefined {
  try {
    buildGoProgram('quicgo', GO_BINARY);
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message?: string };
    // The first line says what is missing ("cannot find package ...", "spawnSync go ENOENT").
    const text = err.stderr?.toString().trim() || err.message || String(e);
    const detail = text.split('\n')[0]!.replace(/\s+/g, ' ');
    return `quic-go peer not built (needs golang-go and golang-github-lucas-clemente-quic-go-dev): ${detail}`;
  }
}

export function commandOutput(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------- columns

interface ColumnSpec {
  key: string;
  label: string;
  modes: readonly PeerMode[];
  server(pki: PkiFiles): Command;
  client(mode: PeerMode, address: string, pki: PkiFiles, o: RunSettings): Command;
}

interface RunSettings {
  sizeBytes: number;
  durationMs: number;
  warmupMs: number;
  maxDatagramSize: number | undefined;
}

export interface PkiFiles {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

function clientArgs(mode: PeerMode, address: string, pki: PkiFiles, o: RunSettings, go: boolean): string[] {
  const dash = go ? '-' : '--';
  const ms = (v: number) => (go ? `${v}ms` : String(v));
  const args = [`${dash}addr`, address, `${dash}ca`, pki.ca, `${dash}mode`, mode];
  if (mode === 'upload') args.push(`${dash}size`, String(o.sizeBytes));
  else args.push(`${dash}warmup`, ms(o.warmupMs), `${dash}duration`, ms(o.durationMs));
  return args;
}

function tsquicColumn(stgc: boolean, maxDatagramSize: number | undefined): ColumnSpec {
  const mds = maxDatagramSize !== undefined ? ['--max-datagram-size', String(maxDatagramSize)] : [];
  return {
    key: stgc ? 'tsquic-stgc' : 'tsquic',
    label: stgc ? 'tsquic stgc' : 'tsquic',
    modes: ['upload', 'full', 'resumed', '0rtt'],
    server: (pki) => tsx('quic-server.ts', ['--cert', pki.cert, '--key', pki.key, ...mds], stgc),
    client: (mode, address, pki, o) =>
      tsx('quic-client.ts', [...clientArgs(mode, address, pki, o, false), ...mds], stgc),
  };
}

const GO_COLUMN: ColumnSpec = {
  key: 'quic-go',
  label: 'quic-go 0.29',
  modes: ['upload', 'full', 'resumed', '0rtt'],
  server: (pki) => ({ file: GO_BINARY, args: ['server', '-cert', pki.cert, '-key', pki.key] }),
  client: (mode, address, pki, o) => ({
    file: GO_BINARY,
    args: ['client', ...clientArgs(mode, address, pki, o, true)],
  }),
};

const TLS_COLUMN: ColumnSpec = {
  key: 'tls',
  label: 'node tls/tcp',
  modes: ['upload', 'full', 'resumed'],
  server: (pki) => tsx('tls-peer.ts', ['server', '--cert', pki.cert, '--key', pki.key], false),
  client: (mode, address, pki, o) =>
    tsx('tls-peer.ts', ['client', ...clientArgs(mode, address, pki, o, false)], false),
};

/** The figure of one client result: Mbit/s for uploads, connections per second for handshakes. */
function figureOf(r: PeerResult): number {
  return r.mode === 'upload' ? ((r.bytes ?? 0) * 8) / 1e6 / r.seconds : r.count / r.seconds;
}

/** A handshake run must have been what it claims: every connection resumed / used 0-RTT. */
function checkKind(r: PeerResult): string | undefined {
  if ((r.mode === 'resumed' || r.mode === '0rtt') && r.resumed !== r.count) {
    return `${r.count - r.resumed} of ${r.count} connections did not resume`;
  }
  if (r.mode === '0rtt' && r.used0RTT !== r.count) {
    return `${r.count - r.used0RTT} of ${r.count} connections had 0-RTT rejected`;
  }
  return undefined;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function writePki(): PkiFiles {
  const dir = mkdtempSync(join(tmpdir(), 'tsquic-bench-udp-'));
  const { ca, leaf } = createTestPki({ names: ['localhost', '127.0.0.1'], now: Date.now() });
  const files = { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.cert, leaf.certPem);
  writeFileSync(files.key, leaf.keyPem, { mode: 0o600 });
  return files;
}

function format1(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export async function run(opts: UdpBenchOptions = {}): Promise<UdpBenchResult> {
  const sizeMiB = opts.sizeMiB ?? 200;
  const runs = Math.max(1, Math.floor(opts.runs ?? 3));
  const settings: RunSettings = {
    sizeBytes: Math.round(sizeMiB * MiB),
    durationMs: opts.durationMs ?? 3000,
    warmupMs: opts.warmupMs ?? 500,
    maxDatagramSize: opts.tsquicMaxDatagramSize,
  };
  const log = opts.log ?? (() => {});
  const stacks = opts.stacks ?? STACKS;
  if (!(sizeMiB > 0)) throw new RangeError('size must be > 0 MiB');

  const environment: string[] = [
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start`,
  ];
  environment.push(`OpenSSL ${process.versions.openssl} (node tls)`);
  const specs: ColumnSpec[] = [];
  const unavailable = new Map<string, string>();
  if (stacks.includes('tsquic')) {
    specs.push(tsquicColumn(false, opts.tsquicMaxDatagramSize));
    if (opts.singleThreadedGc ?? true) specs.push(tsquicColumn(true, opts.tsquicMaxDatagramSize));
  }
  if (stacks.includes('quic-go')) {
    specs.push(GO_COLUMN);
    const why = buildGoPeer();
    if (why) unavailable.set(GO_COLUMN.key, why);
    else {
      const go = commandOutput('go', ['version']);
      // "name<TAB>version"
      const pkg = commandOutput('dpkg-query', ['-W', 'golang-github-lucas-clemente-quic-go-dev'])?.split(
        '\t',
      )[1];
      environment.push(`${go ?? 'go'}, quic-go ${pkg ?? '0.29 (version unknown)'}`);
    }
  }
  if (stacks.includes('tls')) specs.push(TLS_COLUMN);

  const pki = writePki();
  const servers = new Map<string, Server>();
  const columns: ColumnResult[] = specs.map((s) => ({ key: s.key, label: s.label, cells: {} }));
  const packetSizes: number[] = [];
  const packetsLost: number[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const why = unavailable.get(spec.key);
      if (why) {
        columns[i]!.unavailable = why;
        continue;
      }
      try {
        const server = await startServer(spec.server(pki));
        servers.set(spec.key, server);
        // Warm the server (and the JIT of a Node server) with unmeasured handshakes.
        await runClient(spec.client('full', server.address, pki, { ...settings, durationMs: 0 }), 60_000);
      } catch (e) {
        columns[i]!.unavailable = `could not start: ${(e as Error).message}`;
      }
    }
    for (let r = 0; r < runs; r++) {
      for (const mode of ['upload', 'full', 'resumed', '0rtt'] as const) {
        for (const [i, spec] of specs.entries()) {
          const column = columns[i]!;
          const server = servers.get(spec.key);
          if (!server || column.unavailable || !spec.modes.includes(mode)) continue;
          const cell = column.cells[mode] ?? {
            median: undefined,
            values: [],
            errors: [],
            failedConnections: 0,
          };
          column.cells[mode] = cell;
          const timeout = mode === 'upload' ? 600_000 : settings.warmupMs + settings.durationMs + 60_000;
          try {
            const res = await runClient(spec.client(mode, server.address, pki, settings), timeout);
            const wrong = checkKind(res);
            if (wrong) throw new Error(wrong);
            const v = figureOf(res);
            cell.values.push(v);
            if (res.failed > 0) {
              cell.failedConnections += res.failed;
              cell.firstConnectionError ??= res.error;
            }
            if (spec.key === 'tsquic' && res.averagePacketBytes !== undefined) {
              packetSizes.push(res.averagePacketBytes);
              packetsLost.push(res.packetsLost ?? 0);
            }
            const unit = mode === 'upload' ? 'Mbit/s' : '/s';
            const failed = res.failed > 0 ? ` (${res.failed} connections failed: ${res.error})` : '';
            log(
              `  run ${r + 1}/${runs} ${mode.padEnd(7)} ${spec.label.padEnd(13)} ${format1(v)} ${unit}${failed}`,
            );
          } catch (e) {
            cell.errors.push((e as Error).message);
            log(
              `  run ${r + 1}/${runs} ${mode.padEnd(7)} ${spec.label.padEnd(13)} failed: ${(e as Error).message}`,
            );
          }
        }
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    rmSync(pki.dir, { recursive: true, force: true });
  }
  for (const c of columns) for (const cell of Object.values(c.cells)) cell.median = median(cell.values);
  const tsq = columns.find((c) => c.key === 'tsquic');
  if (tsq) {
    const size = median(packetSizes);
    const lost = median(packetsLost);
    if (size !== undefined) tsq.averagePacketBytes = size;
    if (lost !== undefined) tsq.packetsLost = lost;
  }
  return { sizeMiB, runs, durationMs: settings.durationMs, columns, environment };
}

// ------------------------------------------------------------------------- output

export const ROWS: ReadonlyArray<{ mode: PeerMode; label: (r: UdpBenchResult) => string; unit: string }> = [
  { mode: 'upload', label: (r) => `${r.sizeMiB} MiB upload goodput`, unit: 'Mbit/s' },
  { mode: 'full', label: () => 'full handshakes', unit: '/s' },
  { mode: 'resumed', label: () => 'resumed handshakes', unit: '/s' },
  { mode: '0rtt', label: () => '0-RTT handshakes', unit: '/s' },
];

function cellText(c: ColumnResult, mode: PeerMode): string {
  if (c.unavailable) return 'n/a';
  const cell = c.cells[mode];
  if (!cell) return '-';
  if (cell.median === undefined) return 'failed';
  return format1(cell.median);
}

/** tsquic / other for one row, or undefined. */
export function ratio(r: UdpBenchResult, num: string, den: string, mode: PeerMode): number | undefined {
  const a = r.columns.find((c) => c.key === num)?.cells[mode]?.median;
  const b = r.columns.find((c) => c.key === den)?.cells[mode]?.median;
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

export function formatUdp(r: UdpBenchResult): string {
  const cols = r.columns;
  const stgc = cols.some((c) => c.key === 'tsquic-stgc');
  const ratioCols: Array<{ title: string; den: string }> = [
    { title: 'tsquic/quic-go', den: 'quic-go' },
    { title: 'tsquic/tls', den: 'tls' },
  ].filter(
    (rc) => cols.some((c) => c.key === 'tsquic') && cols.some((c) => c.key === rc.den && !c.unavailable),
  );
  const ratioText = (mode: PeerMode, den: string): string => {
    const a = ratio(r, 'tsquic', den, mode);
    const b = stgc ? ratio(r, 'tsquic-stgc', den, mode) : undefined;
    if (a === undefined && b === undefined) return '-';
    const t = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));
    return stgc ? `${t(a)} (${t(b)})` : t(a);
  };
  const rowLabel = (row: (typeof ROWS)[number]) => `${row.label(r)}, ${row.unit}`;
  const labelWidth = Math.max(...ROWS.map((row) => rowLabel(row).length)) + 2;
  const header =
    ''.padEnd(labelWidth + 2) +
    cols.map((c) => c.label.padStart(14)).join('') +
    ratioCols.map((rc) => rc.title.padStart(17)).join('');
  const lines = [
    `udp: loopback, client and server in separate processes; median of ${r.runs} run(s); ` +
      `handshakes counted over ${r.durationMs} ms`,
    `  ${r.environment.join('; ')}`,
    header,
  ];
  for (const row of ROWS) {
    lines.push(
      `  ${rowLabel(row).padEnd(labelWidth)}` +
        cols.map((c) => cellText(c, row.mode).padStart(14)).join('') +
        ratioCols.map((rc) => ratioText(row.mode, rc.den).padStart(17)).join(''),
    );
  }
  if (stgc) lines.push('  ratios in parentheses: tsquic under --single-threaded-gc (client and server)');
  const tsq = cols.find((c) => c.key === 'tsquic');
  if (tsq?.averagePacketBytes !== undefined) {
    lines.push(
      `  tsquic upload: ${tsq.averagePacketBytes.toFixed(0)} bytes per client packet on average ` +
        `(PMTU discovery on loopback), ${tsq.packetsLost ?? 0} packets declared lost`,
    );
  }
  for (const c of cols) {
    if (c.unavailable) lines.push(`  ${c.label}: ${c.unavailable}`);
    for (const [mode, cell] of Object.entries(c.cells)) {
      if (cell.errors.length > 0)
        lines.push(`  ${c.label} ${mode}: ${cell.errors.length} failed run(s): ${cell.errors[0]}`);
      if (cell.failedConnections > 0) {
        lines.push(
          `  ${c.label} ${mode}: ${cell.failedConnections} connection(s) failed, not counted: ${cell.firstConnectionError}`,
        );
      }
    }
  }
  return lines.join('\n');
}

function listArg(argv: readonly string[], name: string): string[] | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  return (argv[i + 1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Parses the stacks list of --stacks; throws a RangeError on an unknown name. */
export function parseStacks(argv: readonly string[]): StackName[] | undefined {
  const names = listArg(argv, '--stacks');
  if (names === undefined) return undefined;
  return names.map((n) => {
    const s = STACKS.find((k) => k === n);
    if (!s) throw new RangeError(`unknown stack ${n}; have ${STACKS.join(', ')}`);
    return s;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  console.log(formatMachine());
  const result = await run({
    sizeMiB: numberFlag(argv, '--size'),
    runs: numberFlag(argv, '--runs'),
    durationMs: numberFlag(argv, '--duration'),
    warmupMs: numberFlag(argv, '--warmup'),
    singleThreadedGc: !argv.includes('--no-stgc'),
    stacks: parseStacks(argv),
    tsquicMaxDatagramSize: numberFlag(argv, '--tsquic-max-datagram-size'),
    log: (line) => console.error(line),
  });
  console.log(formatUdp(result));
}
