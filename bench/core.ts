/**
 * Connection-core benchmark: a single-stream upload (200 MiB by default) from a client core to a
 * server core, with real TLS, packet protection, loss recovery, congestion control and flow control,
 * but no sockets.
 *
 *  (a) back to back: both endpoints in one loop that hands every datagram from one side's transmit()
 *      straight to the other's receive(). A virtual clock stands still while datagrams move and jumps
 *      to the earliest nextTimeout() only when both sides are idle, so pacing and ACK delays never
 *      sleep. This is the CPU ceiling of the core: goodput per CPU second, CPU time per MiB, packets
 *      per CPU second.
 *  (b) the same transfer over the deterministic simulator (test/sim) at 1% random loss and 10 ms
 *      one-way delay in both directions: goodput per CPU second (the cost of recovery and of the
 *      simulator itself) and the virtual-time goodput (what the congestion controller achieves).
 *
 * CPU time is process.cpuUsage() (user + system, every thread of the process, so a parallel GC counts);
 * wall time is performance.now(). Figures are medians over --runs runs, printed and never asserted.
 *
 *   npx tsx bench/core.ts [--size MiB] [--runs N (default 3)] [--sim-size MiB] [--no-sim]
 *   node --import tsx --single-threaded-gc bench/core.ts --size 50
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Connection } from '../src/connection/connection.js';
import { Endpoint } from '../src/endpoint/endpoint.js';
import type { Millis } from '../src/util/time.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../test/sim/network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from '../test/sim/quic-harness.js';

const MiB = 1024 * 1024;
/** Size of each application write; every write but the last is this whole chunk. */
const CHUNK_SIZE = 64 * 1024;

export interface CoreBenchOptions {
  /** Bytes uploaded per transfer, in MiB (default 200). */
  sizeMiB?: number;
  /** Transfers per scenario; figures are medians (default 1; the command line's default is 3). */
  runs?: number;
  /** Size of the simulator transfer in MiB (default: sizeMiB). */
  simSizeMiB?: number;
  /** Skip the simulator scenario. */
  skipSim?: boolean;
  /** Simulator link: random loss probability per datagram (default 0.01) and one-way delay (default 10 ms). */
  simLoss?: number;
  simDelay?: Millis;
  /** First seed (run i uses seed + i); default 1. */
  seed?: number;
  /** Progress lines (one per finished run); default: none. */
  log?: (line: string) => void;
}

/** One transfer, measured. Rates are per second of the named clock. */
export interface TransferFigures {
  bytes: number;
  cpuMs: number;
  wallMs: number;
  /** Application bytes delivered per CPU second, in Mbit/s (10^6 bits). */
  goodputMbpsCpu: number;
  /** Application bytes delivered per wall-clock second, in Mbit/s. */
  goodputMbpsWall: number;
  cpuMsPerMiB: number;
  /** Datagrams in both directions. */
  datagrams: number;
  /** Datagrams from the client (data) and from the server (mostly ACKs). */
  clientDatagrams: number;
  serverDatagrams: number;
  /** Datagrams (both directions) per CPU second. */
  packetsPerCpuSecond: number;
  /** Packets the client declared lost. */
  packetsLost: number;
}

export interface SimFigures extends TransferFigures {
  /** Virtual time from the first byte written to the last byte read. */
  virtualMs: number;
  /** Application bytes per virtual second, in Mbit/s: what the congestion controller achieved. */
  goodputMbpsVirtual: number;
  /** Datagrams the links dropped. */
  linkLost: number;
}

export interface CoreBenchResult {
  sizeMiB: number;
  simSizeMiB: number;
  runs: number;
  simLoss: number;
  simDelay: Millis;
  backToBack: TransferFigures;
  sim: SimFigures | undefined;
}

export interface MachineInfo {
  nproc: number;
  node: string;
  cpu: string;
  /** 'single-threaded' when node runs with --single-threaded-gc. */
  gc: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return {
    nproc: list.length,
    node: process.version,
    cpu: list[0]?.model.trim() ?? 'unknown',
    gc: flags.includes('--single-threaded-gc') ? 'single-threaded' : 'default (parallel)',
  };
}

export function formatMachine(m: MachineInfo = machineInfo()): string {
  return `machine: nproc ${m.nproc}, node ${m.node}, ${m.cpu}, gc ${m.gc}`;
}

// ------------------------------------------------------------------------- the applications

/** The bytes every write comes from: pseudo-random, so misplaced data is caught by the checks. */
function makeChunk(): Uint8Array {
  const prng = new Prng(0xc0de);
  return new Uint8Array(prng.bytes(CHUNK_SIZE));
}

/** Client application: opens one unidirectional stream, writes `total` bytes as the window allows, FIN. */
class BulkSender {
  written = 0;
  ended = false;
  /** Set by the driver when the measured transfer begins; until then the sender only drains events. */
  started = false;
  failure: string | undefined;
  private id: number | undefined;
  private blocked = false;

  constructor(
    private readonly conn: Connection,
    private readonly total: number,
    private readonly chunk: Uint8Array,
  ) {}

  pump(): void {
    const conn = this.conn;
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      if (e.type === 'stream') {
        if (e.event.type === 'writable' && e.event.id === this.id) this.blocked = false;
      } else if (e.type === 'closed') {
        this.failure ??= `client connection closed: ${e.info.reason}`;
      }
    }
    const epoch = conn.epoch;
    if (!this.started || this.ended || epoch === undefined || epoch.rejected || conn.isClosed) return;
    const streams = epoch.streams;
    if (this.id === undefined) {
      this.id = streams.openStream(false);
      if (this.id === undefined) return;
    }
    while (!this.blocked && this.written < this.total) {
      const n = Math.min(CHUNK_SIZE, this.total - this.written);
      const more = streams.write(this.id, n === CHUNK_SIZE ? this.chunk : this.chunk.subarray(0, n));
      this.written += n;
      if (!more) this.blocked = true;
    }
    if (this.written === this.total) {
      streams.end(this.id);
      this.ended = true;
    }
  }
}

/** Server application: reads every stream, counts bytes, spot-checks them against the chunk. */
class BulkReceiver {
  received = 0;
  finished = false;
  failure: string | undefined;
  conn: Connection | undefined;

  constructor(
    private readonly total: number,
    private readonly chunk: Uint8Array,
  ) {}

  pump(): void {
    const conn = this.conn;
    if (conn === undefined) return;
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      if (e.type === 'closed') {
        this.failure ??= `server connection closed: ${e.info.reason}`;
        continue;
      }
      if (e.type !== 'stream') continue;
      const ev = e.event;
      if (ev.type === 'reset') this.failure ??= `stream ${ev.id} reset`;
      if (ev.type !== 'readable') continue;
      const streams = e.epoch.streams;
      for (let r = streams.read(ev.id); r; r = streams.read(ev.id)) {
        const d = r.data;
        if (d.length > 0) {
          // First, middle and last byte of every read: cheap, and catches misplaced or stale data.
          const last = d.length - 1;
          const mid = last >>> 1;
          const base = this.received;
          if (
            d[0] !== this.chunk[base % CHUNK_SIZE] ||
            d[mid] !== this.chunk[(base + mid) % CHUNK_SIZE] ||
            d[last] !== this.chunk[(base + last) % CHUNK_SIZE]
          ) {
            this.failure ??= `data mismatch in [${base}, ${base + d.length})`;
          }
          this.received += d.length;
        }
        if (r.fin) {
          this.finished = true;
          if (this.received !== this.total) {
            this.failure ??= `received ${this.received} bytes, expected ${this.total}`;
          }
        }
      }
    }
  }
}

function endpointsFor(seed: number): { client: Endpoint; server: Endpoint; now: Millis } {
  const pki = simPki();
  const random = seededRandomBytes(new Prng(seed));
  const server = new Endpoint({
    random,
    server: {
      tls: {
        alpn: ['hq-interop'],
        identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
      },
    },
  });
  const client = new Endpoint({ random });
  return { client, server, now: DEFAULT_START_TIME };
}

function clientTls() {
  return { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] };
}

interface Clocks {
  cpu: NodeJS.CpuUsage;
  wall: number;
}

function startClocks(): Clocks {
  return { cpu: process.cpuUsage(), wall: performance.now() };
}

function stopClocks(c: Clocks): { cpuMs: number; wallMs: number } {
  const wallMs = performance.now() - c.wall;
  const used = process.cpuUsage(c.cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs };
}

function figures(
  bytes: number,
  t: { cpuMs: number; wallMs: number },
  clientDatagrams: number,
  serverDatagrams: number,
  packetsLost: number,
): TransferFigures {
  const datagrams = clientDatagrams + serverDatagrams;
  return {
    bytes,
    cpuMs: t.cpuMs,
    wallMs: t.wallMs,
    goodputMbpsCpu: (bytes * 8) / 1e3 / t.cpuMs,
    goodputMbpsWall: (bytes * 8) / 1e3 / t.wallMs,
    cpuMsPerMiB: t.cpuMs / (bytes / MiB),
    datagrams,
    clientDatagrams,
    serverDatagrams,
    packetsPerCpuSecond: (datagrams * 1000) / t.cpuMs,
    packetsLost,
  };
}

// ------------------------------------------------------------------------- (a) back to back

/** Consecutive idle steps that leave virtual time where it was before the loop gives up. */
const MAX_IDLE_STEPS_AT_ONE_INSTANT = 10_000;
/** Virtual time a back-to-back transfer may take (only timers advance it). */
const MAX_VIRTUAL_MS = 10 * 60_000;

/** Runs one back-to-back upload of `bytes`; throws if it does not complete byte-exact. */
export function runBackToBack(bytes: number, seed: number): TransferFigures {
  const { client, server, now: start } = endpointsFor(seed);
  let now = start;
  const chunk = makeChunk();
  const conn = client.connect({ remoteAddress: SERVER_ADDRESS, tls: clientTls() }, now);
  const sender = new BulkSender(conn, bytes, chunk);
  const receiver = new BulkReceiver(bytes, chunk);
  let clientDatagrams = 0;
  let serverDatagrams = 0;
  let idleSteps = 0;

  const pumpApps = (): void => {
    if (receiver.conn === undefined) {
      const e = server.pollEvent();
      if (e) receiver.conn = e.connection;
    }
    sender.pump();
    receiver.pump();
    client.markActive(conn);
    if (receiver.conn) server.markActive(receiver.conn);
    if (sender.failure ?? receiver.failure)
      throw new Error(`back-to-back: ${sender.failure ?? receiver.failure}`);
  };

  /** Everything the server has now, to the client (ACKs, mostly). */
  const drainServer = (): number => {
    let n = 0;
    for (let out = server.transmit(now); out; out = server.transmit(now)) {
      client.receive(out.datagram, SERVER_ADDRESS, now);
      n++;
    }
    // Endpoint.receive does not mark the connection active; a datagram in may mean a datagram out.
    if (n > 0) client.markActive(conn);
    serverDatagrams += n;
    return n;
  };

  /**
   * One step: the applications' turn, then every datagram the client has now, each handed to the
   * server at once, and the server's answers handed back after each one (so ACKs flow at the ratio
   * the server's ACK policy chooses). False when nothing moved.
   */
  const step = (): boolean => {
    pumpApps();
    let moved = drainServer();
    for (let out = client.transmit(now); out; out = client.transmit(now)) {
      server.receive(out.datagram, CLIENT_ADDRESS, now);
      if (receiver.conn) server.markActive(receiver.conn);
      clientDatagrams++;
      moved += 1 + drainServer();
    }
    return moved > 0;
  };

  /** Both sides idle: jump the virtual clock to the earliest timer and fire it. */
  const advance = (): void => {
    const a = client.nextTimeout();
    const b = server.nextTimeout();
    const t = a === undefined ? b : b === undefined ? a : Math.min(a, b);
    if (t === undefined) throw new Error('back-to-back: stalled with no timer pending');
    if (t > now) {
      now = t;
      idleSteps = 0;
    } else if (++idleSteps > MAX_IDLE_STEPS_AT_ONE_INSTANT) {
      throw new Error(`back-to-back: livelock at +${now - start} ms`);
    }
    if (now - start > MAX_VIRTUAL_MS) throw new Error('back-to-back: virtual time limit exceeded');
    client.handleTimeout(now);
    server.handleTimeout(now);
  };

  // The handshake is not part of the measurement. The step may finish it (the server connection is
  // picked up inside the step), so check again before jumping the clock to the next timer.
  const handshakeDone = () => conn.handshakeConfirmed && receiver.conn?.handshakeComplete === true;
  while (!handshakeDone()) {
    if (conn.isClosed) throw new Error(`back-to-back: handshake failed: ${conn.closeInfo?.reason}`);
    if (!step() && !handshakeDone()) advance();
  }
  clientDatagrams = 0;
  serverDatagrams = 0;
  const lostBefore = conn.counters.snapshot().packetsLost;

  const clocks = startClocks();
  sender.started = true;
  while (!receiver.finished) {
    if (!step()) advance();
  }
  const t = stopClocks(clocks);
  if (receiver.failure) throw new Error(`back-to-back: ${receiver.failure}`);
  return figures(
    bytes,
    t,
    clientDatagrams,
    serverDatagrams,
    conn.counters.snapshot().packetsLost - lostBefore,
  );
}

// ------------------------------------------------------------------------- (b) over the simulator

/** Runs one upload of `bytes` over the simulator with random loss and delay in both directions. */
export function runOverSim(bytes: number, seed: number, loss: number, delay: Millis): SimFigures {
  const sim = new QuicSim({ seed, link: { delay, loss } });
  const chunk = makeChunk();
  const conn = sim.dial();
  const sender = new BulkSender(conn, bytes, chunk);
  const receiver = new BulkReceiver(bytes, chunk);
  sim.onServerConnection = (c) => {
    receiver.conn ??= c;
  };
  sim.appHooks.push(() => {
    receiver.pump();
    sender.pump();
  });
  const fail = () => sender.failure ?? receiver.failure;
  // The handshake is not part of the measurement.
  sim.run(
    () => fail() !== undefined || (conn.handshakeConfirmed && receiver.conn?.handshakeComplete === true),
  );
  if (fail() !== undefined || !conn.handshakeConfirmed) {
    throw new Error(`sim: handshake failed: ${fail() ?? conn.closeInfo?.reason ?? 'timeout'}`);
  }
  const before = sim.net.stats();
  const upBefore = sim.net.linkStats(CLIENT_ADDRESS, SERVER_ADDRESS).sent;
  const lostBefore = conn.counters.snapshot().packetsLost;
  const virtualStart = sim.now;

  const clocks = startClocks();
  sender.started = true;
  // A timer at "now" gives the sender its first turn; the hook then runs after every event.
  sim.net.at(sim.now, () => {
    sender.pump();
    sim.client.markActive(conn);
  });
  const end = sim.run(() => receiver.finished || fail() !== undefined, 60 * 60_000);
  const t = stopClocks(clocks);
  if (fail() !== undefined) throw new Error(`sim (seed ${seed}): ${fail()}`);

  const after = sim.net.stats();
  const clientDatagrams = sim.net.linkStats(CLIENT_ADDRESS, SERVER_ADDRESS).sent - upBefore;
  const serverDatagrams = after.sent - before.sent - clientDatagrams;
  const virtualMs = end - virtualStart;
  return {
    ...figures(bytes, t, clientDatagrams, serverDatagrams, conn.counters.snapshot().packetsLost - lostBefore),
    virtualMs,
    goodputMbpsVirtual: (bytes * 8) / 1e3 / virtualMs,
    linkLost: after.lost - before.lost,
  };
}

// ------------------------------------------------------------------------- medians and the driver

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median of every numeric field, taken field by field. */
function medianOf<T extends object>(runs: readonly T[]): T {
  const first = runs[0]!;
  const out: Record<string, number> = {};
  for (const key of Object.keys(first)) {
    out[key] = median(runs.map((r) => (r as Record<string, number>)[key]!));
  }
  return out as T;
}

export async function run(opts: CoreBenchOptions = {}): Promise<CoreBenchResult> {
  const sizeMiB = opts.sizeMiB ?? 200;
  const simSizeMiB = opts.simSizeMiB ?? sizeMiB;
  const runs = Math.max(1, Math.floor(opts.runs ?? 1));
  const seed = opts.seed ?? 1;
  const simLoss = opts.simLoss ?? 0.01;
  const simDelay = opts.simDelay ?? 10;
  const log = opts.log ?? (() => {});
  if (!(sizeMiB > 0) || !(simSizeMiB > 0)) throw new RangeError('size must be > 0 MiB');

  const b2b: TransferFigures[] = [];
  for (let i = 0; i < runs; i++) {
    const f = runBackToBack(Math.round(sizeMiB * MiB), seed + i);
    log(`  back-to-back run ${i + 1}/${runs}: ${f.goodputMbpsCpu.toFixed(0)} Mbit/s per CPU s`);
    b2b.push(f);
  }
  const sim: SimFigures[] = [];
  if (!opts.skipSim) {
    for (let i = 0; i < runs; i++) {
      const f = runOverSim(Math.round(simSizeMiB * MiB), seed + i, simLoss, simDelay);
      log(
        `  simulator run ${i + 1}/${runs}: ${f.goodputMbpsCpu.toFixed(0)} Mbit/s per CPU s, ` +
          `${f.goodputMbpsVirtual.toFixed(1)} Mbit/s virtual`,
      );
      sim.push(f);
    }
  }
  return {
    sizeMiB,
    simSizeMiB,
    runs,
    simLoss,
    simDelay,
    backToBack: medianOf(b2b),
    sim: sim.length > 0 ? medianOf(sim) : undefined,
  };
}

export function formatCore(r: CoreBenchResult): string {
  const b = r.backToBack;
  const lines = [
    `core: ${r.sizeMiB} MiB single-stream upload, median of ${r.runs} run(s)`,
    `  (a) back to back, no sockets, virtual clock`,
    `      goodput        ${b.goodputMbpsCpu.toFixed(0).padStart(8)} Mbit/s per CPU s   ${b.goodputMbpsWall
      .toFixed(0)
      .padStart(6)} Mbit/s wall`,
    `      CPU per MiB    ${b.cpuMsPerMiB.toFixed(2).padStart(8)} ms               (${(b.cpuMs / 1000).toFixed(2)} s CPU, ${(
      b.wallMs / 1000
    ).toFixed(2)} s wall)`,
    `      packets        ${b.packetsPerCpuSecond.toFixed(0).padStart(8)} /CPU s (both directions; ${b.clientDatagrams.toFixed(
      0,
    )} client + ${b.serverDatagrams.toFixed(0)} server datagrams, ${b.packetsLost.toFixed(0)} lost)`,
  ];
  const s = r.sim;
  if (s) {
    lines.push(
      `  (b) simulator, ${r.simSizeMiB} MiB, ${(r.simLoss * 100).toFixed(1)}% loss, ${r.simDelay} ms one-way delay, both directions`,
      `      goodput        ${s.goodputMbpsCpu.toFixed(0).padStart(8)} Mbit/s per CPU s   ${s.goodputMbpsWall
        .toFixed(0)
        .padStart(6)} Mbit/s wall`,
      `      virtual        ${s.goodputMbpsVirtual.toFixed(1).padStart(8)} Mbit/s            (${(
        s.virtualMs / 1000
      ).toFixed(1)} s virtual)`,
      `      CPU per MiB    ${s.cpuMsPerMiB.toFixed(2).padStart(8)} ms               (${(s.cpuMs / 1000).toFixed(2)} s CPU, ${(
        s.wallMs / 1000
      ).toFixed(2)} s wall)`,
      `      packets        ${s.packetsPerCpuSecond.toFixed(0).padStart(8)} /CPU s (${s.clientDatagrams.toFixed(0)} client + ${s.serverDatagrams.toFixed(
        0,
      )} server datagrams; ${s.linkLost.toFixed(0)} dropped by the links, ${s.packetsLost.toFixed(0)} declared lost)`,
    );
  }
  return lines.join('\n');
}

/** Every `--root DIR` of argv, resolved (the A/B benches: core-ab, core-instructions); throws if none. */
export function rootFlags(argv: readonly string[]): string[] {
  const roots: string[] = [];
  argv.forEach((a, i) => {
    if (a === '--root' && argv[i + 1] !== undefined) roots.push(resolve(argv[i + 1]!));
  });
  if (roots.length === 0) throw new Error('give at least one --root');
  return roots;
}

/** `--name value` from argv as a positive number, or undefined. */
export function numberFlag(argv: readonly string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} needs a positive number`);
  return v;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  console.log(formatMachine());
  const result = await run({
    sizeMiB: numberFlag(argv, '--size'),
    runs: numberFlag(argv, '--runs') ?? 3,
    simSizeMiB: numberFlag(argv, '--sim-size'),
    skipSim: argv.includes('--no-sim'),
    log: (line) => console.error(line),
  });
  console.log(formatCore(result));
}
