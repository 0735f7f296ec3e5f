/**
 * tsquic against quic-go 0.29 at real packet sizes, in one run (issue 13's table): both stacks on
 * 127.0.0.1, client and server in separate processes, **both capped at 1452-byte datagrams** (tsquic
 * with `pmtuDiscoveryMax: 1452` on both sides, so like quic-go 0.29 it starts at 1252 bytes and
 * discovers at most 1452; quic-go never goes above 1452). tsquic with loopback PMTU discovery (up to
 * 16383-byte datagrams) runs as a separate, labelled column and is left out of the ratios.
 *
 * Within a run every measurement is taken for each column in turn (alternating), so a busy moment
 * hits them alike; every figure is the median of --runs runs. Figures: single-stream upload and
 * download goodput, 10 concurrent streams, full / resumed / 0-RTT handshakes per second (sequential and
 * 16 in parallel), time to first byte, CPU seconds per GiB of each side, server memory per idle
 * connection (RSS and heap, with 1k and 10k open) and the server's event-loop delay p99 while they are
 * open. Results go to bench/results/compare.json and compare.svg (ratios against quic-go).
 *
 * tsquic runs as compiled JavaScript, as users of the package run it (bench/tsquic-build.ts); `--tsx`
 * adds a column running the TypeScript sources through tsx. Handshake rows: both servers first get
 * the same unmeasured handshakes of each kind (a server runs for long), each client process warms up
 * for --warmup ms (default 20 s) before it counts; the cold rows count fresh client processes from
 * 0.5 s after their first dial. Transfer rows: each client process first does the same transfer of
 * --transfer-warmup MiB (default 512) over --transfer-warmup-connections connections (default 8, one
 * after another), unmeasured; the cold transfer rows time a fresh process's first transfer. Client
 * and server CPU per connection are printed for the sequential and the parallel rows (a runtime
 * that spins while it waits spends CPU on waiting one at a time).
 *
 *   npx tsx bench/compare.ts [--quick] [--runs N] [--size MiB] [--duration ms] [--idle 1000,10000]
 *                            [--no-jumbo] [--out DIR] [--warmup ms] [--server-warmup ms]
 *                            [--transfer-warmup MiB] [--transfer-warmup-connections N]
 *                            [--handshakes-only] [--tsx]
 *
 * Figures are printed, never asserted. See bench/README.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { barChart } from './chart.js';
import { formatMachine, machineInfo } from './core.js';
import { median, type PeerMode, type PeerResult } from './peers/protocol.js';
import { buildTsquicJs, peerCommand, type TsquicBuild } from './tsquic-build.js';
import {
  buildGoPeer,
  type Command,
  commandOutput,
  GO_BINARY,
  type PkiFiles,
  REPO_ROOT,
  runClient,
  track,
  writePki,
} from './udp.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** The packet-size cap of the compared columns: Ethernet's 1500-byte MTU less IPv6 and UDP headers. */
export const CAP = 1452;
/** The 16 connections in flight of the parallel handshake figures. */
export const PARALLEL = 16;
/** Concurrent streams of the streams figure. */
export const STREAMS = 10;
/** Long enough that no idle connection times out while the others are being opened and measured. */
const IDLE_TIMEOUT_MS = 600_000;

export type ColumnKey = 'tsquic' | 'quic-go' | 'tsquic-jumbo' | 'tsquic-tsx';

/**
 * Unmeasured time of the fresh client process of the cold handshake rows: the client is in its first
 * 3.5 s, V8 still compiling its code.
 */
export const COLD_WARMUP_MS = 500;
/**
 * Default unmeasured time of the client before the (warm) handshake rows. A handshake runs hundreds
 * of functions once or a few times per connection, and V8 gives each to TurboFan only after many
 * calls: at about 500 connections per second a fresh client still made 140-170 first TurboFan
 * compilations (400-580 ms of a helper thread's CPU, on a 2-core machine whose other core runs the
 * server) in the 3 s counted after 10 s, and 8-40 per 3 s from 15 s on (closures recompiled after a
 * garbage collection dropped their code). Counted after 20 s a 0-RTT client made 581-642
 * connections/s against 539-556 after 10 s, against the same warmed server (docs/performance.md,
 * "Still compiling after 10 s of handshakes").
 */
export const WARM_CLIENT_MS = 20_000;
/** Unmeasured handshakes of each kind every server gets once, before the first measurement. */
export const SERVER_WARMUP_MS = 3000;
/**
 * Default unmeasured transfer of the client before each (warm) transfer row, MiB: the same transfer
 * first, so that the counted one runs in a process whose code V8 has compiled, as in any program
 * that has been running for a while (the cold rows' client is a fresh process). V8 optimizes the
 * functions a transfer calls per acknowledgment or per flush (once per 20 packets or so) much later
 * than the per-packet ones. After 32 MiB a counted 100 MiB still carried ~50 first TurboFan
 * compilations (140-160 ms, ~18% of a download client's CPU); after 128 MiB over four connections
 * 15 (115 ms) downloading and 22 (109 ms, ~10% of the client's CPU) uploading; after 512 MiB over
 * eight, 1 (1 ms) and 3-4 (10-17 ms) (docs/performance.md, "The second connection's recompilation"
 * and "Still compiling after 128 MiB").
 */
export const TRANSFER_WARMUP_MIB = 512;
/**
 * Connections the warm-up transfer is split over, one after another. A process's second connection
 * re-optimizes much of what V8 compiled on its first (its handshake reaches code optimized for the
 * first one's bulk transfer): 500-640 ms of TurboFan on a helper thread, measured, which a warm-up
 * of one connection leaves in the counted transfer; and the first end of a stream, of a connection
 * and of a key phase each make fields of V8's maps mutable that optimized code had taken as constant
 * (docs/performance.md, "The second connection's recompilation").
 */
export const TRANSFER_WARMUP_CONNECTIONS = 8;

export interface CompareOptions {
  /** Transfer size in MiB (default 100). */
  sizeMiB?: number;
  /** Runs per figure; figures are medians (default 3). */
  runs?: number;
  /** Measured time of each handshake figure, ms (default 3000). */
  durationMs?: number;
  /**
   * Unmeasured handshakes of the client process before each handshake figure, ms (default 20000:
   * warm clients). The cold rows always use COLD_WARMUP_MS.
   */
  warmupMs?: number;
  /** Unmeasured handshakes of each kind against each server before the first run, ms (default 3000). */
  serverWarmupMs?: number;
  /**
   * Unmeasured transfer of the client process before each transfer figure, MiB (default 512: warm
   * clients). The cold transfer rows always use none.
   */
  transferWarmupMiB?: number;
  /** Connections the warm-up transfer is split over, one after another (default 8). */
  transferWarmupConnections?: number;
  /** Only the handshake rows (no transfers, no idle connections). */
  handshakesOnly?: boolean;
  /** Also run tsquic from its TypeScript sources through tsx, as a labelled column outside the ratios. */
  tsx?: boolean;
  /** Idle connections to hold open for the memory figures (default [1000, 10000]; [] to skip). */
  idleCounts?: readonly number[];
  /** The loopback-jumbo tsquic column (default true). */
  jumbo?: boolean;
  /** Where compare.json and compare.svg go (default bench/results). */
  outDir?: string;
  log?: (line: string) => void;
}

/** One figure of one column: every run's value and their median. */
export interface Cell {
  median: number | undefined;
  values: number[];
  errors: string[];
}

export interface Row {
  key: string;
  label: string;
  unit: string;
  /** Whether more is better (goodput, rates) or less (time, CPU, memory). */
  better: 'higher' | 'lower';
  /** Goodput rows: the largest datagram of each column, in bytes. */
  packetBytes?: Partial<Record<ColumnKey, number>>;
  /** Upload rows: the average UDP payload of the datagrams tsquic's client sent (median over runs). */
  averagePacketBytes?: Partial<Record<ColumnKey, number>>;
  cells: Partial<Record<ColumnKey, Cell>>;
  /** tsquic / quic-go of the medians, oriented so that > 1 means tsquic is better. */
  ratio?: number;
}

export interface CompareResult {
  date: string;
  machine: { nproc: number; cpu: string; memoryGiB: number; node: string; loadAverageAtStart: number[] };
  versions: { node: string; go?: string; quicGo?: string };
  settings: {
    address: string;
    packetCap: number;
    sizeMiB: number;
    runs: number;
    durationMs: number;
    /** Client warm-up of the handshake rows; the cold rows use coldWarmupMs. */
    warmupMs: number;
    /** Client warm-up transfer of the transfer rows, MiB; the cold transfer rows have none. */
    transferWarmupMiB: number;
    /** Connections the warm-up transfer was split over, one after another. */
    transferWarmupConnections: number;
    coldWarmupMs: number;
    serverWarmupMs: number;
    /** How the tsquic peers run: compiled JavaScript (what the npm package ships) or through tsx. */
    tsquicBuild: TsquicBuild;
    parallel: number;
    streams: number;
    idleCounts: number[];
  };
  columns: Array<{ key: ColumnKey; label: string; maxDatagramBytes: number; unavailable?: string }>;
  rows: Row[];
  notes: string[];
}

// ------------------------------------------------------------------------- servers

/** A bench server peer (bench/peers): its address, pid, STATS answers; it exits when stdin closes. */
export interface Server {
  address: string;
  pid: number;
  /** The server's own figures (heap, rss, connections, eventLoopP99Ms). */
  stats(): Promise<Record<string, number | undefined>>;
  stop(): Promise<void>;
}

/** Starts a server peer and waits for its LISTENING line (the A/B scripts use it too). */
export function startServer(cmd: Command): Promise<Server> {
  const child: ChildProcess = track(
    spawn(cmd.file, cmd.args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  let out = '';
  const waiting: Array<(line: string) => void> = [];
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      if (line.startsWith('STATS ')) waiting.shift()?.(line.slice(6));
      const m = /^LISTENING (\S+)/.exec(line);
      if (m) listening(m[1]!);
    }
  });
  let listening: (address: string) => void = () => {};
  const stop = (): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      child.stdin?.end();
    });
  const stats = (): Promise<Record<string, number | undefined>> =>
    new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error('no STATS answer within 60 s')), 60_000);
      waiting.push((json) => {
        clearTimeout(timer);
        done(JSON.parse(json) as Record<string, number | undefined>);
      });
      child.stdin?.write('STATS\n');
    });
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`server did not start within 60 s: ${stderr.trim()}`));
    }, 60_000);
    listening = (address) => {
      clearTimeout(timer);
      resolveStart({ address, pid: child.pid ?? 0, stats, stop });
    };
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      rejectStart(new Error(`server exited (${signal ?? code}): ${stderr.trim()}`));
    });
  });
}

/** User + system CPU seconds of a process so far (/proc/PID/stat, Linux; clock ticks of 1/100 s). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The fields after the command name (which may contain spaces) in parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------- columns

export interface ColumnSpec {
  key: ColumnKey;
  label: string;
  maxDatagramBytes: number;
  server(pki: PkiFiles, idle: boolean): Command;
  client(mode: PeerMode, address: string, pki: PkiFiles, s: Settings, parallel: number): Command;
}

export interface Settings {
  sizeBytes: number;
  durationMs: number;
  warmupMs: number;
  /** Transfers: the same transfer of this many bytes first, unmeasured (0: none). */
  transferWarmupBytes: number;
  /** Transfers: the connections the warm-up bytes are split over, one after another. */
  transferWarmupConnections: number;
}

function clientArgs(
  mode: PeerMode,
  address: string,
  pki: PkiFiles,
  s: Settings,
  parallel: number,
  go: boolean,
) {
  const dash = go ? '-' : '--';
  const ms = (v: number) => (go ? `${v}ms` : String(v));
  const args = [`${dash}addr`, address, `${dash}ca`, pki.ca, `${dash}mode`, mode];
  if (mode === 'upload' || mode === 'download' || mode === 'streams') {
    args.push(`${dash}size`, String(s.sizeBytes));
    if (mode === 'streams') args.push(`${dash}streams`, String(STREAMS));
    if (s.transferWarmupBytes > 0) {
      args.push(`${dash}warmup-bytes`, String(s.transferWarmupBytes));
      args.push(`${dash}warmup-connections`, String(s.transferWarmupConnections));
    }
  } else {
    args.push(
      `${dash}warmup`,
      ms(s.warmupMs),
      `${dash}duration`,
      ms(s.durationMs),
      `${dash}parallel`,
      String(parallel),
    );
  }
  return args;
}

/**
 * A tsquic column: `capped` (the compared one, <= 1452-byte datagrams), `jumbo` (loopback PMTU
 * discovery up to 16383 bytes) or `tsx` (capped, run from the TypeScript sources through tsx instead of
 * compiled JavaScript); only `capped` is in the ratios.
 */
export function tsquicColumn(variant: 'capped' | 'jumbo' | 'tsx'): ColumnSpec {
  const jumbo = variant === 'jumbo';
  const build: TsquicBuild = variant === 'tsx' ? 'tsx' : 'dist';
  const cap = jumbo ? [] : ['--pmtu-max', String(CAP)];
  return {
    key: variant === 'capped' ? 'tsquic' : variant === 'jumbo' ? 'tsquic-jumbo' : 'tsquic-tsx',
    label: jumbo ? 'tsquic, loopback jumbo' : variant === 'tsx' ? 'tsquic via tsx' : `tsquic <= ${CAP} B`,
    maxDatagramBytes: jumbo ? 16383 : CAP,
    server: (pki, idle) =>
      peerCommand(
        build,
        'quic-server.ts',
        ['--cert', pki.cert, '--key', pki.key, '--idle-timeout', String(IDLE_TIMEOUT_MS), ...cap],
        idle ? ['--expose-gc'] : [],
      ),
    client: (mode, address, pki, s, parallel) =>
      peerCommand(build, 'quic-client.ts', [...clientArgs(mode, address, pki, s, parallel, false), ...cap]),
  };
}

const GO_COLUMN: ColumnSpec = {
  key: 'quic-go',
  label: `quic-go 0.29 <= ${CAP} B`,
  maxDatagramBytes: CAP,
  server: (pki) => ({
    file: GO_BINARY,
    args: ['server', '-cert', pki.cert, '-key', pki.key, '-idle-timeout', `${IDLE_TIMEOUT_MS}ms`],
  }),
  client: (mode, address, pki, s, parallel) => ({
    file: GO_BINARY,
    args: ['client', ...clientArgs(mode, address, pki, s, parallel, true)],
  }),
};

// ------------------------------------------------------------------------- measurements

type TransferMode = 'upload' | 'download' | 'streams';
type HandshakeMode = 'full' | 'resumed' | '0rtt';

interface Measurement {
  mode: PeerMode;
  parallel: number;
  /**
   * A figure of a fresh client process: handshakes with COLD_WARMUP_MS of warm-up instead of
   * warmupMs, transfers with no warm-up transfer.
   */
  cold?: boolean;
}

/** The row a handshake measurement fills. */
function handshakeRowKey(m: Measurement): string {
  return `${m.mode}-${m.parallel === 1 ? 'sequential' : `parallel${m.parallel}`}${m.cold ? '-cold' : ''}`;
}

const TRANSFERS: readonly TransferMode[] = ['upload', 'download', 'streams'];
const HANDSHAKES: readonly HandshakeMode[] = ['full', 'resumed', '0rtt'];

const TRANSFER_LABEL: Record<TransferMode, string> = {
  upload: 'single-stream upload goodput',
  download: 'single-stream download goodput',
  streams: `${STREAMS} concurrent streams upload goodput`,
};
const HANDSHAKE_LABEL: Record<HandshakeMode, string> = {
  full: 'full handshakes/s',
  resumed: 'resumed handshakes/s',
  '0rtt': '0-RTT handshakes/s',
};

/** The rows in the order they are printed; cells are filled as measurements come in. */
function emptyRows(sizeMiB: number, idleCounts: readonly number[]): Row[] {
  const rows: Row[] = [];
  for (const t of TRANSFERS) {
    rows.push({
      key: `${t}-goodput`,
      label: `${TRANSFER_LABEL[t]} (${sizeMiB} MiB)`,
      unit: 'Mbit/s',
      better: 'higher',
      cells: {},
    });
  }
  for (const p of [1, PARALLEL]) {
    for (const h of HANDSHAKES) {
      rows.push({
        key: `${h}-${p === 1 ? 'sequential' : `parallel${p}`}`,
        label: `${HANDSHAKE_LABEL[h]}, ${p === 1 ? 'sequential' : `${p} in parallel`}`,
        unit: '/s',
        better: 'higher',
        cells: {},
      });
    }
  }
  for (const t of TRANSFERS) {
    rows.push({
      key: `${t}-goodput-cold`,
      label: `${TRANSFER_LABEL[t]} (${sizeMiB} MiB), cold client (new process, no warm-up transfer)`,
      unit: 'Mbit/s',
      better: 'higher',
      cells: {},
    });
  }
  for (const h of HANDSHAKES) {
    rows.push({
      key: `${h}-sequential-cold`,
      label: `${HANDSHAKE_LABEL[h]}, sequential, cold client (new process, ${COLD_WARMUP_MS} ms warm-up)`,
      unit: '/s',
      better: 'higher',
      cells: {},
    });
  }
  rows.push(
    { key: 'ttfb-full', label: 'time to first byte, full handshake', unit: 'ms', better: 'lower', cells: {} },
    { key: 'ttfb-0rtt', label: 'time to first byte, 0-RTT', unit: 'ms', better: 'lower', cells: {} },
  );
  // Sequential and parallel: a runtime that spins while it waits (Go's scheduler does) spends CPU
  // per connection on waiting when connections go one at a time, not when they overlap.
  for (const p of [1, PARALLEL]) {
    for (const h of HANDSHAKES) {
      for (const side of ['client', 'server'] as const) {
        rows.push({
          key: cpuHandshakeKey(h, p, side),
          label: `CPU per ${h === '0rtt' ? '0-RTT' : h} connection, ${p === 1 ? 'sequential' : `${p} in parallel`}, ${side}`,
          unit: 'ms',
          better: 'lower',
          cells: {},
        });
      }
    }
  }
  for (const t of ['upload', 'download'] as const) {
    for (const side of ['client', 'server'] as const) {
      rows.push({
        key: `cpu-${t}-${side}`,
        label: `CPU per GiB, ${t}, ${side}`,
        unit: 's/GiB',
        better: 'lower',
        cells: {},
      });
    }
  }
  for (const n of idleCounts) {
    const k = n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
    rows.push(
      {
        key: `idle-rss-${n}`,
        label: `server RSS per idle connection, ${k} open`,
        unit: 'KiB',
        better: 'lower',
        cells: {},
      },
      {
        key: `idle-heap-${n}`,
        label: `server heap per idle connection, ${k} open`,
        unit: 'KiB',
        better: 'lower',
        cells: {},
      },
      {
        key: `idle-eld-${n}`,
        label: `server event-loop delay p99, ${k} open`,
        unit: 'ms',
        better: 'lower',
        cells: {},
      },
    );
  }
  return rows;
}

function record(
  rows: Row[],
  key: string,
  column: ColumnKey,
  value: number | undefined,
  error?: string,
): void {
  const row = rows.find((r) => r.key === key);
  if (!row) return;
  const cell = row.cells[column] ?? { median: undefined, values: [], errors: [] };
  row.cells[column] = cell;
  if (value !== undefined && Number.isFinite(value)) cell.values.push(value);
  if (error !== undefined) cell.errors.push(error);
}

/** The row of CPU per connection of a kind of handshake, connections in flight and side. */
function cpuHandshakeKey(h: HandshakeMode, parallel: number, side: 'client' | 'server'): string {
  return parallel === 1 ? `cpu-hs-${h}-${side}` : `cpu-hs-${h}-parallel${parallel}-${side}`;
}

/** One client run against a running server: the figures it gives, keyed by row. */
async function measure(
  spec: ColumnSpec,
  server: Server,
  m: Measurement,
  pki: PkiFiles,
  s: Settings,
): Promise<{ figures: Record<string, number | undefined>; result: PeerResult }> {
  const cpu0 = processCpuSeconds(server.pid);
  const transfer = TRANSFERS.includes(m.mode as TransferMode);
  const settings = m.cold ? { ...s, warmupMs: COLD_WARMUP_MS, transferWarmupBytes: 0 } : s;
  const timeout = transfer ? 600_000 : settings.warmupMs + settings.durationMs + 60_000;
  const result = await runClient(spec.client(m.mode, server.address, pki, settings, m.parallel), timeout);
  const cpu1 = processCpuSeconds(server.pid);
  const figures: Record<string, number | undefined> = {};
  if (transfer) {
    // The client says what it did first: a warm row's process has run the same transfer, a cold one's not.
    if ((result.warmupBytes ?? 0) !== settings.transferWarmupBytes) {
      throw new Error(
        `the client did a ${result.warmupBytes ?? 0}-byte warm-up transfer, not ${settings.transferWarmupBytes}`,
      );
    }
    const warmupConnections =
      settings.transferWarmupBytes > 0 ? settings.transferWarmupConnections : undefined;
    if (result.warmupConnections !== warmupConnections) {
      throw new Error(
        `the client split its warm-up over ${result.warmupConnections ?? 'no'} connections, not ${warmupConnections ?? 'none'}`,
      );
    }
    const bytes = result.bytes ?? 0;
    figures[`${m.mode}-goodput${m.cold ? '-cold' : ''}`] = (bytes * 8) / 1e6 / result.seconds;
    if (!m.cold && (m.mode === 'upload' || m.mode === 'download')) {
      figures[`cpu-${m.mode}-client`] = result.cpuSeconds / (bytes / GiB);
      // The server's CPU is read around the whole client run: the warm-up transfer's bytes count too.
      if (cpu0 !== undefined && cpu1 !== undefined)
        figures[`cpu-${m.mode}-server`] = (cpu1 - cpu0) / ((bytes + settings.transferWarmupBytes) / GiB);
    }
    return { figures, result };
  }
  if ((m.mode === 'resumed' || m.mode === '0rtt') && result.resumed !== result.count) {
    throw new Error(`${result.count - result.resumed} of ${result.count} connections did not resume`);
  }
  if (m.mode === '0rtt' && result.used0RTT !== result.count) {
    throw new Error(`${result.count - result.used0RTT} of ${result.count} connections had 0-RTT rejected`);
  }
  figures[handshakeRowKey(m)] = result.count / result.seconds;
  if (m.parallel === 1 && !m.cold && (m.mode === 'full' || m.mode === '0rtt'))
    figures[`ttfb-${m.mode}`] = result.ttfbMs;
  if (!m.cold) {
    // The client's CPU over the counted time; the server's over the whole client run (warm-up and
    // first tickets included, /proc's 1/100 s ticks) per connection of that run.
    const mode = m.mode as HandshakeMode;
    // (A key with no figure still gets its cell: a run that completed no connection shows as empty.)
    figures[cpuHandshakeKey(mode, m.parallel, 'client')] =
      result.count > 0 ? (result.cpuSeconds * 1000) / result.count : undefined;
    figures[cpuHandshakeKey(mode, m.parallel, 'server')] =
      cpu0 !== undefined && cpu1 !== undefined && result.total !== undefined && result.total > 0
        ? ((cpu1 - cpu0) * 1000) / result.total
        : undefined;
  }
  return { figures, result };
}

/**
 * Server memory per idle connection: a fresh server, the quic-go client (the same for both servers)
 * opens `count` connections on one socket, 16 at a time, and holds them; the server reports its heap
 * (after a GC) and RSS, minus what it reported before they were opened, and its event-loop delay p99
 * over two seconds while they are open (Node servers only).
 */
export async function idleMemory(
  spec: ColumnSpec,
  count: number,
  pki: PkiFiles,
  log: (line: string) => void,
): Promise<{ rss: number; heap: number; eld: number | undefined; open: number }> {
  const server = await startServer(spec.server(pki, true));
  let client: ChildProcess | undefined;
  try {
    // A few connections first, so that lazily loaded code and caches are not counted per connection.
    await runClient(
      spec.client(
        'full',
        server.address,
        pki,
        { sizeBytes: 0, durationMs: 0, warmupMs: 0, transferWarmupBytes: 0, transferWarmupConnections: 1 },
        1,
      ),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = await server.stats();
    const proc = track(
      spawn(
        GO_BINARY,
        ['client', '-addr', server.address, '-ca', pki.ca, '-mode', 'idle', '-count', String(count)].concat([
          '-parallel',
          String(PARALLEL),
          '-idle-timeout',
          `${IDLE_TIMEOUT_MS}ms`,
        ]),
        { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    );
    client = proc;
    const opened = await new Promise<number>((done, fail) => {
      let out = '';
      let err = '';
      const timer = setTimeout(
        () => fail(new Error(`not all ${count} connections open within 15 min`)),
        900_000,
      );
      proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
        err += s;
      });
      proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const m = /OPEN (\d+) (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          if (Number(m[2]) > 0)
            log(`  idle ${spec.label}: ${m[2]} of ${count} connections failed: ${out.trim()}`);
          done(Number(m[1]));
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`idle client exited (${code}): ${err.trim()}`));
      });
    });
    await new Promise((r) => setTimeout(r, 1000));
    await server.stats(); // resets the event-loop histogram: the next p99 covers the idle time only
    await new Promise((r) => setTimeout(r, 2000));
    const after = await server.stats();
    const per = (k: string) => ((after[k] ?? 0) - (before[k] ?? 0)) / 1024 / Math.max(1, opened);
    return { rss: per('rss'), heap: per('heapUsed'), eld: after.eventLoopP99Ms, open: opened };
  } finally {
    client?.stdin?.end();
    if (client && client.exitCode === null) {
      const c = client;
      await new Promise<void>((done) => {
        const t = setTimeout(() => {
          c.kill('SIGKILL');
          done();
        }, 10_000);
        c.once('exit', () => {
          clearTimeout(t);
          done();
        });
      });
    }
    await server.stop();
  }
}

// ------------------------------------------------------------------------- the run

function ratioOf(row: Row): number | undefined {
  const a = row.cells.tsquic?.median;
  const b = row.cells['quic-go']?.median;
  if (a === undefined || b === undefined || a <= 0 || b <= 0) return undefined;
  return row.better === 'higher' ? a / b : b / a;
}

export async function run(opts: CompareOptions = {}): Promise<CompareResult> {
  const sizeMiB = opts.sizeMiB ?? 100;
  const runs = Math.max(1, Math.floor(opts.runs ?? 3));
  const settings: Settings = {
    sizeBytes: Math.round(sizeMiB * MiB),
    durationMs: opts.durationMs ?? 3000,
    warmupMs: opts.warmupMs ?? WARM_CLIENT_MS,
    transferWarmupBytes: Math.round((opts.transferWarmupMiB ?? TRANSFER_WARMUP_MIB) * MiB),
    transferWarmupConnections: Math.max(
      1,
      Math.floor(opts.transferWarmupConnections ?? TRANSFER_WARMUP_CONNECTIONS),
    ),
  };
  const serverWarmupMs = opts.serverWarmupMs ?? SERVER_WARMUP_MS;
  const handshakesOnly = opts.handshakesOnly ?? false;
  const idleCounts = handshakesOnly ? [] : [...(opts.idleCounts ?? [1000, 10000])];
  const log = opts.log ?? (() => {});
  const specs: ColumnSpec[] = [tsquicColumn('capped'), GO_COLUMN];
  if (opts.jumbo ?? true) specs.push(tsquicColumn('jumbo'));
  if (opts.tsx ?? false) specs.push(tsquicColumn('tsx'));
  const m = machineInfo();
  const result: CompareResult = {
    date: new Date().toISOString(),
    machine: {
      nproc: m.nproc,
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round((totalmem() / GiB) * 10) / 10,
      node: process.version,
      loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    },
    versions: { node: process.version },
    settings: {
      address: '127.0.0.1',
      packetCap: CAP,
      sizeMiB,
      runs,
      durationMs: settings.durationMs,
      warmupMs: settings.warmupMs,
      transferWarmupMiB: settings.transferWarmupBytes / MiB,
      transferWarmupConnections: settings.transferWarmupConnections,
      coldWarmupMs: COLD_WARMUP_MS,
      serverWarmupMs,
      tsquicBuild: 'dist',
      parallel: PARALLEL,
      streams: STREAMS,
      idleCounts,
    },
    columns: specs.map((s) => ({ key: s.key, label: s.label, maxDatagramBytes: s.maxDatagramBytes })),
    rows: emptyRows(sizeMiB, idleCounts).filter(
      (r) => !handshakesOnly || !(r.unit === 'Mbit/s' || r.unit === 's/GiB'),
    ),
    notes: [],
  };
  const unavailable = new Map<ColumnKey, string>();
  const why = buildGoPeer();
  if (why) unavailable.set('quic-go', why);
  else {
    const go = commandOutput('go', ['version']);
    if (go) result.versions.go = go.replace(/^go version /, '');
    const pkg = commandOutput('dpkg-query', ['-W', 'golang-github-lucas-clemente-quic-go-dev'])?.split(
      '\t',
    )[1];
    result.versions.quicGo = pkg ?? '0.29 (version unknown)';
  }
  try {
    buildTsquicJs();
  } catch (e) {
    const err = e as { stdout?: Buffer | string; message?: string };
    throw new Error(`compiling tsquic for the bench failed: ${err.stdout?.toString() || err.message}`);
  }
  const pki = writePki();
  const servers = new Map<ColumnKey, Server>();
  const packetSizes = new Map<string, number[]>();
  try {
    for (const spec of specs) {
      if (unavailable.has(spec.key)) continue;
      try {
        const server = await startServer(spec.server(pki, false));
        servers.set(spec.key, server);
      } catch (e) {
        unavailable.set(spec.key, `could not start: ${(e as Error).message}`);
      }
    }
    // A server runs for long: every server gets the same unmeasured handshakes of each kind first, so
    // that no figure of the first run carries a server's start-up (V8 compiles tsquic's code paths as
    // they are first used; quic-go's are compiled ahead of time).
    for (const mode of HANDSHAKES) {
      for (const spec of specs) {
        const server = servers.get(spec.key);
        if (!server) continue;
        const warm = { ...settings, warmupMs: serverWarmupMs, durationMs: 0 };
        await runClient(spec.client(mode, server.address, pki, warm, 1), serverWarmupMs + 60_000).catch(
          (e: unknown) => log(`  server warm-up ${mode} ${spec.label} failed: ${(e as Error).message}`),
        );
      }
    }
    const measurements: Measurement[] = [
      ...(handshakesOnly ? [] : TRANSFERS.map((mode) => ({ mode, parallel: 1 }))),
      ...(handshakesOnly ? [] : TRANSFERS.map((mode) => ({ mode, parallel: 1, cold: true }))),
      ...HANDSHAKES.map((mode) => ({ mode, parallel: 1, cold: true })),
      ...HANDSHAKES.map((mode) => ({ mode, parallel: 1 })),
      ...HANDSHAKES.map((mode) => ({ mode, parallel: PARALLEL })),
    ];
    for (let r = 0; r < runs; r++) {
      // The columns take turns in an order that rotates from run to run, so that none is always the
      // first (or the last) of a measurement when the machine's load drifts.
      const order = specs.map((_, i) => specs[(i + r) % specs.length]!);
      for (const meas of measurements) {
        for (const spec of order) {
          const server = servers.get(spec.key);
          if (!server) continue;
          const name = `${meas.mode}${meas.parallel > 1 ? ` x${meas.parallel}` : ''}${meas.cold ? ' cold' : ''}`;
          try {
            const { figures, result: res } = await measure(spec, server, meas, pki, settings);
            for (const [k, v] of Object.entries(figures)) record(result.rows, k, spec.key, v);
            if (
              res.averagePacketBytes !== undefined &&
              !meas.cold &&
              (meas.mode === 'upload' || meas.mode === 'streams')
            ) {
              const list = packetSizes.get(`${meas.mode}-goodput ${spec.key}`) ?? [];
              list.push(res.averagePacketBytes);
              packetSizes.set(`${meas.mode}-goodput ${spec.key}`, list);
            }
            const main = Object.entries(figures)[0];
            const failed = res.failed > 0 ? ` (${res.failed} connections failed: ${res.error})` : '';
            log(
              `  run ${r + 1}/${runs} ${name.padEnd(11)} ${spec.label.padEnd(24)} ${main ? main[1]?.toFixed(1) : '-'}${failed}`,
            );
          } catch (e) {
            const msg = (e as Error).message;
            log(`  run ${r + 1}/${runs} ${name.padEnd(11)} ${spec.label.padEnd(24)} failed: ${msg}`);
            const rowKey = TRANSFERS.includes(meas.mode as TransferMode)
              ? `${meas.mode}-goodput${meas.cold ? '-cold' : ''}`
              : handshakeRowKey(meas);
            record(result.rows, rowKey, spec.key, undefined, msg);
          }
        }
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
  try {
    // Idle memory: once per count and stack (opening 10k connections takes minutes here), alternating.
    for (const count of idleCounts) {
      for (const spec of specs) {
        if (spec.key === 'tsquic-jumbo' || spec.key === 'tsquic-tsx' || unavailable.has(spec.key)) continue;
        try {
          const t0 = performance.now();
          const f = await idleMemory(spec, count, pki, log);
          record(result.rows, `idle-rss-${count}`, spec.key, f.rss);
          record(result.rows, `idle-heap-${count}`, spec.key, f.heap);
          if (f.eld !== undefined) record(result.rows, `idle-eld-${count}`, spec.key, f.eld);
          log(
            `  idle ${count} ${spec.label}: ${f.open} open in ${((performance.now() - t0) / 1000).toFixed(0)} s; ` +
              `${f.rss.toFixed(1)} KiB RSS, ${f.heap.toFixed(1)} KiB heap per connection` +
              (f.eld !== undefined ? `, event-loop p99 ${f.eld.toFixed(1)} ms` : ''),
          );
          if (f.open < count)
            result.notes.push(`${spec.label}: only ${f.open} of ${count} idle connections opened`);
        } catch (e) {
          const msg = (e as Error).message;
          log(`  idle ${count} ${spec.label}: failed: ${msg}`);
          record(result.rows, `idle-rss-${count}`, spec.key, undefined, msg);
        }
      }
    }
  } finally {
    rmSync(pki.dir, { recursive: true, force: true });
  }
  for (const row of result.rows) {
    for (const cell of Object.values(row.cells)) cell.median = median(cell.values);
    const ratio = ratioOf(row);
    if (ratio !== undefined) row.ratio = ratio;
    if (row.unit === 'Mbit/s') {
      row.packetBytes = Object.fromEntries(specs.map((s) => [s.key, s.maxDatagramBytes]));
      const averages: Partial<Record<ColumnKey, number>> = {};
      for (const s of specs) {
        const m = median(packetSizes.get(`${row.key} ${s.key}`) ?? []);
        if (m !== undefined) averages[s.key] = Math.round(m);
      }
      if (Object.keys(averages).length > 0) row.averagePacketBytes = averages;
    }
  }
  for (const [key, reason] of unavailable) {
    const c = result.columns.find((col) => col.key === key);
    if (c) c.unavailable = reason;
  }
  result.notes.push(
    'Both compared columns send datagrams of at most 1452 bytes (tsquic: pmtuDiscoveryMax 1452 on both sides; quic-go 0.29 never discovers more). The loopback-jumbo column lets tsquic discover up to 16383 bytes, which no real path with a 1500-byte MTU carries, and is not part of the ratios.',
    'Ratios are oriented so that > 1 means tsquic is better (for times, CPU and memory: quic-go / tsquic).',
    `tsquic runs as compiled JavaScript, what the npm package ships (src/ compiled with tsconfig.build.json, as npm run build does; bench/tsconfig.dist.json), not through tsx${specs.some((c) => c.key === 'tsquic-tsx') ? '; the "tsquic via tsx" column runs the TypeScript sources through tsx and is not part of the ratios' : ''}.`,
    `Handshake rows: every server first did ${settings.warmupMs === 0 && serverWarmupMs === 0 ? 'no' : `${serverWarmupMs} ms of`} unmeasured handshakes of each kind; each client process did ${settings.warmupMs} ms of unmeasured handshakes before the ${settings.durationMs} ms counted (warm). The cold rows are fresh client processes counted from ${COLD_WARMUP_MS} ms after their first dial, while V8 still compiles; quic-go is compiled ahead of time. Both stacks are treated alike.`,
    `Transfer rows: ${settings.transferWarmupBytes > 0 ? `each client process first did the same transfer of ${settings.transferWarmupBytes / MiB} MiB, unmeasured, split over ${settings.transferWarmupConnections} connections one after another (warm: a process's second connection re-optimizes much of what V8 compiled on its first); the CPU rows are those warm transfers' (a client's over its counted transfer; a server's over the whole client run, divided by both transfers' bytes). The cold transfer rows are fresh client processes, timed from their first transfer` : 'each client process is fresh (no warm-up transfer)'}; the servers run for long (every transfer row of every run goes to the same server process). Both stacks are treated alike.`,
  );
  if (idleCounts.length > 0)
    result.notes.push(
      'Idle memory: measured once per count (not a median); the same quic-go client opens the connections to both servers. quic-go has no event loop: its p99 is n/a.',
    );
  writeResults(result, opts.outDir ?? join(REPO_ROOT, 'bench', 'results'));
  return result;
}

// ------------------------------------------------------------------------- output

function fmt(v: number | undefined): string {
  if (v === undefined) return '-';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function formatCompare(r: CompareResult): string {
  const cols = r.columns;
  const labelOf = (row: Row) => `${row.label}, ${row.unit}`;
  const width = Math.max(...r.rows.map((row) => labelOf(row).length)) + 2;
  const lines = [
    `compare: tsquic vs quic-go 0.29 on ${r.settings.address}, client and server in separate processes, ` +
      `datagrams <= ${r.settings.packetCap} B; median of ${r.settings.runs} run(s), alternating; handshakes counted over ${r.settings.durationMs} ms ` +
      `after ${r.settings.warmupMs} ms of client warm-up (cold rows: ${r.settings.coldWarmupMs} ms), transfers after a ${r.settings.transferWarmupMiB} MiB warm-up over ${r.settings.transferWarmupConnections} connections (cold rows: none); tsquic as compiled JavaScript`,
    `  machine: nproc ${r.machine.nproc}, ${r.machine.cpu}, ${r.machine.memoryGiB} GiB, load average ${r.machine.loadAverageAtStart.join(' ')} at start`,
    `  versions: node ${r.versions.node}${r.versions.go ? `, ${r.versions.go}` : ''}${r.versions.quicGo ? `, quic-go ${r.versions.quicGo}` : ''}`,
    `${''.padEnd(width + 2)}${cols.map((c) => c.label.padStart(24)).join('')}${'tsquic/quic-go'.padStart(16)}`,
  ];
  for (const row of r.rows) {
    const cells = cols.map((c) => {
      if (c.unavailable) return 'n/a'.padStart(24);
      const cell = row.cells[c.key];
      if (!cell) return '-'.padStart(24);
      if (cell.median === undefined) return (cell.errors.length > 0 ? 'failed' : '-').padStart(24);
      return fmt(cell.median).padStart(24);
    });
    lines.push(
      `  ${labelOf(row).padEnd(width)}${cells.join('')}${(row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}x`).padStart(16)}`,
    );
  }
  lines.push(
    `  every row: datagrams <= ${r.settings.packetCap} B in the compared columns (and via tsx), <= 16383 B in the jumbo column`,
  );
  for (const row of r.rows) {
    if (!row.averagePacketBytes) continue;
    const parts = Object.entries(row.averagePacketBytes).map(([k, v]) => `${k} ${v} B`);
    lines.push(`  ${row.label}: average datagram the tsquic client sent: ${parts.join(', ')}`);
  }
  for (const c of cols) if (c.unavailable) lines.push(`  ${c.label}: ${c.unavailable}`);
  for (const row of r.rows) {
    for (const [k, cell] of Object.entries(row.cells)) {
      if (cell.errors.length > 0)
        lines.push(`  ${row.label} (${k}): ${cell.errors.length} failed: ${cell.errors[0]}`);
    }
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

/** Writes compare.json and compare.svg into `dir`. */
export function writeResults(r: CompareResult, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'compare.json'), `${JSON.stringify(r, null, 2)}\n`);
  const bars = r.rows.map((row) => ({
    label: row.unit === 'Mbit/s' ? `${row.label} @<=${r.settings.packetCap} B` : row.label,
    ratio: row.ratio,
  }));
  const subtitle =
    `tsquic / quic-go 0.29, same run, 127.0.0.1, datagrams <= ${r.settings.packetCap} B, median of ${r.settings.runs}; ` +
    `> 1 = tsquic better. ${r.date.slice(0, 10)}, nproc ${r.machine.nproc}, load ${r.machine.loadAverageAtStart[0]}, node ${r.versions.node}`;
  writeFileSync(join(dir, 'compare.svg'), barChart('tsquic relative to quic-go 0.29', subtitle, bars));
}

function numberArg(argv: readonly string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} needs a number >= 0`);
  return v;
}

/** The options of a command line (also used by bench/index.ts). */
export function compareOptions(argv: readonly string[]): CompareOptions {
  const quick = argv.includes('--quick');
  const idleIndex = argv.indexOf('--idle');
  const idleCounts =
    idleIndex >= 0
      ? (argv[idleIndex + 1] ?? '')
          .split(',')
          .filter((s) => s.trim() !== '' && s.trim() !== '0')
          .map((s) => {
            const n = Number(s);
            if (!Number.isInteger(n) || n < 1) throw new RangeError('--idle needs counts like 1000,10000');
            return n;
          })
      : quick
        ? [200]
        : undefined;
  const outIndex = argv.indexOf('--out');
  return {
    sizeMiB: numberArg(argv, '--size') ?? (quick ? 10 : undefined),
    runs: numberArg(argv, '--runs') ?? (quick ? 1 : undefined),
    durationMs: numberArg(argv, '--duration') ?? (quick ? 1000 : undefined),
    warmupMs: numberArg(argv, '--warmup') ?? (quick ? 1000 : undefined),
    serverWarmupMs: numberArg(argv, '--server-warmup') ?? (quick ? 500 : undefined),
    transferWarmupMiB: numberArg(argv, '--transfer-warmup') ?? (quick ? 2 : undefined),
    transferWarmupConnections: numberArg(argv, '--transfer-warmup-connections'),
    handshakesOnly: argv.includes('--handshakes-only'),
    tsx: argv.includes('--tsx'),
    ...(idleCounts !== undefined ? { idleCounts } : {}),
    jumbo: !argv.includes('--no-jumbo'),
    ...(outIndex >= 0 && argv[outIndex + 1] !== undefined ? { outDir: argv[outIndex + 1]! } : {}),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  console.log(formatMachine());
  const result = await run({ ...compareOptions(argv), log: (line) => console.error(line) });
  console.log(formatCompare(result));
}
