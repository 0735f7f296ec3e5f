/**
 * Runs benchmarks in one process, prints each one's figures as it finishes, then a compact summary
 * table of the headline figures. Every figure is the median over --runs runs; figures are printed,
 * never asserted. See bench/README.md for what each figure means and how to compare them.
 * Without --only or --all it runs `compare` (tsquic vs quic-go 0.29 at <= 1452-byte packets, which
 * also writes bench/results/compare.json and compare.svg).
 *
 *   npm run bench [-- options]
 *   node --import tsx [--single-threaded-gc] bench/index.ts [options]
 *
 * Options:
 *   --only name[,name]   run only these benchmarks (repeatable): compare, wire, qpack, crypto, tls, core, udp,
 *                        zero-rtt, http3, faults, floor, handshake-floor
 *   --all                run all of them
 *   --runs N             runs per figure, median taken (default 3)
 *   --size MiB           core and udp: bytes per transfer (default 200)
 *   --sim-size MiB       core: bytes of the simulator transfer (default: --size)
 *   --duration ms        wire, qpack, crypto, tls: time per measurement (defaults 500, 500, 1000, 1000); udp: time
 *                        each handshake rate is counted (default 3000); zero-rtt: the same (default 1000)
 *   --quick              smoke run: --runs 1 --size 20, short measurements
 *   --json               also print every figure as one JSON document at the end
 *   compare only: --idle N[,N] (idle connections for the memory figures, default 1000,10000; --quick: 200),
 *             --no-jumbo (no loopback-jumbo tsquic column), --out DIR (default bench/results),
 *             --warmup ms (client warm-up of the handshake rows, default 10000; the cold rows: 500),
 *             --server-warmup ms (each handshake kind against each server before run 1, default 3000),
 *             --handshakes-only (no transfers, no idle connections), --tsx (add tsquic through tsx)
 *   floor only: --datagrams N (per UDP measurement, default 200000), --ack-ratio r (default 0.1),
 *             --compare-json FILE (quic-go's figures from a compare JSON instead of a run of --size MiB),
 *             --no-quic-go; --duration is its CPU time per micro-measurement (default 1000)
 *   handshake-floor only: --connections N (counted, default 50), --compare-json FILE (tsquic's and
 *             quic-go's CPU per connection, default bench/results/compare.json); --duration: CPU time
 *             per call measured (default 300)
 *   http3 only: --h3-size MiB (download size, default 100; --quick: 20); --tsx runs its tsquic server
 *                        through tsx instead of compiled; 5 runs unless --runs is given
 *   udp only: --stacks tsquic,quic-go,tls (default all), --no-stgc (no single-threaded-GC column),
 *             --warmup ms (default 500), --tsquic-max-datagram-size N (diagnosis; see bench/README.md)
 */
import { pathToFileURL } from 'node:url';
import { compareOptions, formatCompare, run as runCompare } from './compare.js';
import { formatCore, formatMachine, machineInfo, numberFlag, run as runCore } from './core.js';
import { run as runCrypto } from './crypto.js';
import { PAIRS as FAULT_PAIRS, formatFaults, run as runFaults } from './faults.js';
import { floorOptions, formatFloor, run as runFloor } from './floor.js';
import { formatHandshakeFloor, run as runHandshakeFloor } from './handshake-floor.js';
import { formatHttp3, CONCURRENCY as H3_CONCURRENCY, run as runHttp3 } from './http3.js';
import { run as runQpack } from './qpack.js';
import { run as runTls } from './tls.js';
import { formatUdp, parseStacks, run as runUdp, ROWS as UDP_ROWS, ratio as udpRatio } from './udp.js';
import { run as runWire } from './wire.js';
import { formatZeroRtt, run as runZeroRtt, KINDS as ZERO_RTT_KINDS } from './zero-rtt.js';

/** One measured figure. `headline` figures go to the summary table. */
export interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  /** Decimals when printed. */
  digits: number;
  headline: boolean;
  /** The runs this figure is the median of, when a bench sets its own (default: --runs). */
  runs?: number;
}

export interface IndexOptions {
  runs: number;
  sizeMiB: number;
  simSizeMiB: number | undefined;
  /** Per-measurement time of the micro-benchmarks; undefined: each one's default. */
  durationMs: number | undefined;
  quick: boolean;
  /** The whole command line, for the options of one bench (udp). */
  argv: readonly string[];
}

interface Bench {
  name: string;
  run(o: IndexOptions): Promise<Figure[]>;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `once` `runs` times; each figure of the result is the median of its values over the runs. */
async function medianOfRuns(runs: number, once: () => Promise<Figure[]>): Promise<Figure[]> {
  const all: Figure[][] = [];
  for (let i = 0; i < runs; i++) all.push(await once());
  return all[0]!.map((f, k) => ({ ...f, value: median(all.map((r) => r[k]!.value)) }));
}

function duration(o: IndexOptions, normal: number, quick: number): number {
  return o.durationMs ?? (o.quick ? quick : normal);
}

const SHORT_SUITE: Record<string, string> = {
  TLS_AES_128_GCM_SHA256: 'AES-128-GCM',
  TLS_AES_256_GCM_SHA384: 'AES-256-GCM',
  TLS_CHACHA20_POLY1305_SHA256: 'ChaCha20-Poly1305',
};

const BENCHES: Bench[] = [
  {
    name: 'compare',
    run: async (o) => {
      const r = await runCompare({ ...compareOptions(o.argv), log: (line) => console.error(line) });
      console.log(formatCompare(r));
      const out: Figure[] = [];
      for (const row of r.rows) {
        const t = row.cells.tsquic?.median;
        const g = row.cells['quic-go']?.median;
        if (t !== undefined)
          out.push({
            bench: 'compare',
            name: `tsquic ${row.label}`,
            value: t,
            unit: row.unit,
            digits: 1,
            headline: false,
          });
        if (g !== undefined)
          out.push({
            bench: 'compare',
            name: `quic-go ${row.label}`,
            value: g,
            unit: row.unit,
            digits: 1,
            headline: false,
          });
        if (row.ratio !== undefined) {
          out.push({
            bench: 'compare',
            name: `tsquic/quic-go ${row.label}`,
            value: row.ratio,
            unit: 'x',
            digits: 2,
            headline: true,
          });
        }
      }
      return out;
    },
  },
  {
    name: 'wire',
    run: (o) =>
      medianOfRuns(o.runs, async () => {
        const out: Figure[] = [];
        for (const r of await runWire(duration(o, 500, 150))) {
          const headline = r.name.startsWith('STREAM') || r.name.startsWith('mix');
          const name = r.name.startsWith('mix') ? 'frame mix (7 kinds)' : r.name;
          for (const [op, v] of [
            ['encode', r.encodePerSecond],
            ['decode', r.decodePerSecond],
          ] as const) {
            out.push({
              bench: 'wire',
              name: `${name} ${op}`,
              value: v / 1e6,
              unit: 'M frames/s',
              digits: 2,
              headline,
            });
          }
        }
        return out;
      }),
  },
  {
    name: 'qpack',
    run: (o) =>
      medianOfRuns(o.runs, async () => {
        const out: Figure[] = [];
        for (const r of await runQpack(duration(o, 500, 150))) {
          const headline = r.name.includes('dynamic');
          for (const [op, v] of [
            ['encode', r.encodeFieldsPerSecond],
            ['decode', r.decodeFieldsPerSecond],
          ] as const) {
            out.push({
              bench: 'qpack',
              name: `${r.name} ${op}`,
              value: v / 1e6,
              unit: 'M fields/CPU s',
              digits: 2,
              headline,
            });
          }
          out.push({
            bench: 'qpack',
            name: `${r.name} section size (${r.fieldsPerSection} fields)`,
            value: r.bytesPerSection,
            unit: `bytes (HTTP/1.1 text: ${r.plainBytesPerSection.toFixed(0)})`,
            digits: 0,
            headline: false,
          });
        }
        return out;
      }),
  },
  {
    name: 'crypto',
    run: (o) =>
      medianOfRuns(o.runs, async () => {
        const out: Figure[] = [];
        for (const r of runCrypto({ durationMs: duration(o, 1000, 250) })) {
          const suite = SHORT_SUITE[r.suite] ?? r.suite;
          const headline = r.operation !== 'hp-mask' && suite !== 'AES-256-GCM';
          const what =
            r.operation === 'hp-mask'
              ? 'header-protection mask'
              : `${r.packetSize}-byte packet ${r.operation}`;
          out.push({
            bench: 'crypto',
            name: `${suite} ${what}`,
            value: r.packetsPerSecond / 1e3,
            unit: r.operation === 'hp-mask' ? 'k masks/s' : 'k packets/s',
            digits: 0,
            headline,
          });
          if (r.operation !== 'hp-mask') {
            out.push({
              bench: 'crypto',
              name: `${suite} ${r.packetSize}-byte ${r.operation} throughput`,
              value: r.mbitPerSecond,
              unit: 'Mbit/s',
              digits: 0,
              headline: false,
            });
          }
        }
        return out;
      }),
  },
  {
    name: 'tls',
    run: (o) =>
      medianOfRuns(o.runs, async () => {
        const out: Figure[] = [];
        for (const r of await runTls(duration(o, 1000, 250))) {
          const headline = r.keyType === 'ec-p256';
          out.push(
            {
              bench: 'tls',
              name: `${r.keyType} full handshake`,
              value: r.fullPerSecond,
              unit: '/s',
              digits: 0,
              headline,
            },
            {
              bench: 'tls',
              name: `${r.keyType} resumed + 0-RTT handshake`,
              value: r.resumedPerSecond,
              unit: '/s',
              digits: 0,
              headline,
            },
          );
        }
        return out;
      }),
  },
  {
    name: 'core',
    run: async (o) => {
      const r = await runCore({
        sizeMiB: o.sizeMiB,
        runs: o.runs,
        ...(o.simSizeMiB !== undefined ? { simSizeMiB: o.simSizeMiB } : {}),
        log: (line) => console.error(line),
      });
      console.log(formatCore(r));
      const b = r.backToBack;
      const f = (name: string, value: number, unit: string, digits: number, headline: boolean): Figure => ({
        bench: 'core',
        name,
        value,
        unit,
        digits,
        headline,
      });
      const out = [
        f(`back-to-back ${r.sizeMiB} MiB goodput`, b.goodputMbpsCpu, 'Mbit/s per CPU s', 0, true),
        f('back-to-back goodput, wall clock', b.goodputMbpsWall, 'Mbit/s', 0, false),
        f('back-to-back CPU per MiB', b.cpuMsPerMiB, 'ms', 1, true),
        f('back-to-back datagrams (both ways)', b.packetsPerCpuSecond / 1e3, 'k per CPU s', 1, true),
      ];
      const s = r.sim;
      if (s) {
        const label = `sim ${r.simSizeMiB} MiB ${(r.simLoss * 100).toFixed(0)}% loss`;
        out.push(
          f(`${label} goodput`, s.goodputMbpsCpu, 'Mbit/s per CPU s', 0, true),
          f(`${label} goodput, virtual time`, s.goodputMbpsVirtual, 'Mbit/s', 1, true),
          f(`${label} CPU per MiB`, s.cpuMsPerMiB, 'ms', 1, false),
          f(`${label} datagrams (both ways)`, s.packetsPerCpuSecond / 1e3, 'k per CPU s', 1, false),
        );
      }
      return out;
    },
  },
  {
    name: 'udp',
    run: async (o) => {
      const r = await runUdp({
        sizeMiB: o.sizeMiB,
        runs: o.runs,
        durationMs: duration(o, 3000, 1000),
        warmupMs: numberFlag(o.argv, '--warmup') ?? (o.quick ? 200 : 500),
        singleThreadedGc: !o.argv.includes('--no-stgc'),
        stacks: parseStacks(o.argv),
        tsquicMaxDatagramSize: numberFlag(o.argv, '--tsquic-max-datagram-size'),
        log: (line) => console.error(line),
      });
      console.log(formatUdp(r));
      const out: Figure[] = [];
      const f = (
        name: string,
        value: number | undefined,
        unit: string,
        digits: number,
        headline: boolean,
      ) => {
        if (value !== undefined) out.push({ bench: 'udp', name, value, unit, digits, headline });
      };
      for (const row of UDP_ROWS) {
        const label = row.label(r);
        for (const c of r.columns) {
          f(`${c.label} ${label}`, c.cells[row.mode]?.median, row.unit, 0, c.key === 'tsquic');
        }
        f(`tsquic/quic-go ${label}`, udpRatio(r, 'tsquic', 'quic-go', row.mode), 'x', 2, true);
        f(`tsquic/tls ${label}`, udpRatio(r, 'tsquic', 'tls', row.mode), 'x', 2, true);
      }
      return out;
    },
  },
  {
    name: 'http3',
    run: async (o) => {
      const r = await runHttp3({
        // Five runs unless --runs says otherwise: this bench's pairs are short, and its ratios are
        // the ones closest to 1.
        runs: numberFlag(o.argv, '--runs') ?? (o.quick ? 1 : 5),
        build: o.argv.includes('--tsx') ? 'tsx' : 'dist',
        durationMs: duration(o, 3000, 1000),
        sizeMiB: numberFlag(o.argv, '--h3-size') ?? (o.quick ? 20 : 100),
        log: (line) => console.error(line),
      });
      console.log(formatHttp3(r));
      const out: Figure[] = [];
      const f = (name: string, value: number, unit: string, digits: number, headline: boolean) =>
        out.push({ bench: 'http3', name, value, unit, digits, headline, runs: r.runs });
      for (const c of H3_CONCURRENCY) {
        f(`tsquic small GETs, ${c} in flight`, r.rps.tsquic[c]!, 'requests/s', 0, false);
        f(`quic-go small GETs, ${c} in flight`, r.rps['quic-go'][c]!, 'requests/s', 0, false);
        f(`tsquic/quic-go small GETs, ${c} in flight`, r.rps.tsquic[c]! / r.rps['quic-go'][c]!, 'x', 2, true);
      }
      f(`tsquic ${r.sizeMiB} MiB download (packets up to 1452 B)`, r.goodput.tsquic, 'Mbit/s', 0, false);
      f(`quic-go ${r.sizeMiB} MiB download (packets up to 1452 B)`, r.goodput['quic-go'], 'Mbit/s', 0, false);
      f(`tsquic/quic-go ${r.sizeMiB} MiB download`, r.goodput.tsquic / r.goodput['quic-go'], 'x', 2, true);
      return out;
    },
  },
  {
    name: 'zero-rtt',
    run: async (o) => {
      const r = await runZeroRtt({
        runs: o.runs,
        durationMs: duration(o, 1000, 250),
        log: (line) => console.error(line),
      });
      console.log(formatZeroRtt(r));
      const out: Figure[] = [];
      const f = (name: string, value: number, unit: string, digits: number, headline: boolean) =>
        out.push({ bench: 'zero-rtt', name, value, unit, digits, headline });
      const label = { full: 'full', resumed: 'resumed', '0rtt': '0-RTT' } as const;
      for (const t of r.ttfb) {
        for (const k of ZERO_RTT_KINDS) {
          f(`first byte at ${t.rttMs} ms RTT, ${label[k]}`, t.ms[k], 'ms', 1, false);
        }
        f(`0-RTT saves at ${t.rttMs} ms RTT (vs resumed)`, t.savedVsResumed, 'RTT', 2, true);
      }
      for (const rate of r.rates) {
        f(`${label[rate.kind]} handshakes, core back to back`, rate.perCpuSecond, '/CPU s', 0, true);
      }
      return out;
    },
  },
  {
    name: 'faults',
    run: async (o) => {
      const runs = o.quick ? 1 : o.runs;
      const rows = await runFaults({ runs, quick: o.quick, log: (line) => console.error(line) });
      console.log(formatFaults(rows, runs));
      const out: Figure[] = [];
      for (const r of rows) {
        for (const [c, s] of FAULT_PAIRS) {
          const v = r.ms.get(`${c}>${s}`);
          if (v === undefined) continue;
          out.push({
            bench: 'faults',
            name: `${r.scenario} ${c} client, ${s} server`,
            value: v,
            unit: 'ms',
            digits: 0,
            headline: r.scenario === 'burstloss',
          });
        }
      }
      return out;
    },
  },
  {
    name: 'floor',
    run: async (o) => {
      const r = await runFloor({
        ...floorOptions(o.argv),
        durationMs: duration(o, 1000, 250),
        sizeMiB: numberFlag(o.argv, '--size') ?? (o.quick ? 20 : 100),
        ...(o.quick && numberFlag(o.argv, '--datagrams') === undefined ? { datagrams: 20_000 } : {}),
        log: (line) => console.error(line),
      });
      console.log(formatFloor(r));
      const out: Figure[] = [];
      const f = (name: string, value: number, unit: string, digits: number, headline: boolean) =>
        out.push({ bench: 'floor', name, value, unit, digits, headline });
      f('sender floor (seal + hp + send, its ACKs opened)', r.senderSPerGiB, 'CPU s/GiB', 2, true);
      f('receiver floor (recv + open + hp, its ACKs sent)', r.receiverSPerGiB, 'CPU s/GiB', 2, true);
      f('sender floor, WebAssembly ChaCha20-Poly1305', r.wasmSenderSPerGiB, 'CPU s/GiB', 2, true);
      f('receiver floor, WebAssembly ChaCha20-Poly1305', r.wasmReceiverSPerGiB, 'CPU s/GiB', 2, true);
      if (r.quicGo) {
        f('quic-go 0.29 sender, whole process', r.quicGo.senderSPerGiB, 'CPU s/GiB', 2, false);
        f('quic-go 0.29 receiver, whole process', r.quicGo.receiverSPerGiB, 'CPU s/GiB', 2, false);
      }
      return out;
    },
  },
  {
    name: 'handshake-floor',
    run: async (o) => {
      const i = o.argv.indexOf('--compare-json');
      const r = await runHandshakeFloor({
        durationMs: duration(o, 300, 50),
        connections: numberFlag(o.argv, '--connections') ?? (o.quick ? 10 : 50),
        ...(o.quick ? { datagrams: 5000 } : {}),
        ...(i >= 0 && o.argv[i + 1] ? { compareJson: o.argv[i + 1]! } : {}),
      });
      console.log(formatHandshakeFloor(r));
      return r.rows.map((row) => ({
        bench: 'handshake-floor',
        name: `${row.kind} connection, ${row.side}: node:crypto + socket calls`,
        value: row.floorMs,
        unit: 'ms CPU',
        digits: 3,
        headline: true,
      }));
    },
  },
];

/** Benches that print their own side-by-side output instead of the generic table. */
const SELF_PRINTING = new Set(['compare', 'core', 'udp', 'zero-rtt', 'floor', 'handshake-floor']);

function formatValue(f: Figure): string {
  return f.value.toLocaleString('en-US', {
    minimumFractionDigits: f.digits,
    maximumFractionDigits: f.digits,
  });
}

function table(figures: readonly Figure[]): string {
  const nameWidth = Math.max(...figures.map((f) => f.name.length));
  const benchWidth = Math.max(8, ...figures.map((f) => f.bench.length)) + 1;
  return figures
    .map(
      (f) =>
        `  ${f.bench.padEnd(benchWidth)}${f.name.padEnd(nameWidth + 2)}${formatValue(f).padStart(10)} ${f.unit}`,
    )
    .join('\n');
}

/**
 * How many runs the figures are medians of, for the summary's title: one count when they share it,
 * else the count of each bench (http3 runs 5 by default where the others run --runs).
 */
export function runsNote(figures: readonly Figure[], defaultRuns: number): string {
  const byBench = new Map<string, number>();
  for (const f of figures) byBench.set(f.bench, f.runs ?? defaultRuns);
  const counts = new Set(byBench.values());
  if (counts.size <= 1) return `median of ${counts.size === 1 ? [...counts][0] : defaultRuns} run(s)`;
  return `medians of ${[...byBench].map(([bench, n]) => `${n} run(s) for ${bench}`).join(', ')}`;
}

/** Every value of `--name` (repeatable, comma-separated). */
function listFlag(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === name && argv[i + 1] !== undefined) out.push(...argv[i + 1]!.split(','));
    else if (a.startsWith(`${name}=`)) out.push(...a.slice(name.length + 1).split(','));
  });
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

export async function main(argv: readonly string[]): Promise<Figure[]> {
  const all = argv.includes('--all');
  const listed = listFlag(argv, '--only');
  const only = listed.length > 0 || all ? listed : ['compare'];
  const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new RangeError(
      `unknown bench ${unknown.join(', ')}; have ${BENCHES.map((b) => b.name).join(', ')}`,
    );
  }
  const quick = argv.includes('--quick');
  const o: IndexOptions = {
    runs: Math.floor(numberFlag(argv, '--runs') ?? (quick ? 1 : 3)),
    sizeMiB: numberFlag(argv, '--size') ?? (quick ? 20 : 200),
    simSizeMiB: numberFlag(argv, '--sim-size'),
    durationMs: numberFlag(argv, '--duration'),
    quick,
    argv,
  };
  console.log(formatMachine(machineInfo()));
  console.log(
    `median of ${o.runs} run(s) per figure unless a bench says otherwise; compare figures within one run only\n`,
  );
  const figures: Figure[] = [];
  for (const bench of BENCHES) {
    if (only.length > 0 && !only.includes(bench.name)) continue;
    console.error(`running ${bench.name} ...`);
    const got = await bench.run(o);
    if (!SELF_PRINTING.has(bench.name)) console.log(`${bench.name}\n${table(got)}\n`);
    else console.log('');
    figures.push(...got);
  }
  const headline = figures.filter((f) => f.headline);
  console.log(`summary (headline figures, ${runsNote(headline, o.runs)})`);
  console.log(table(headline));
  if (argv.includes('--json')) {
    console.log(JSON.stringify({ machine: machineInfo(), runs: o.runs, figures }, null, 2));
  }
  return figures;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    // Bad options: a one-line message, not a stack trace.
    if (!(e instanceof RangeError)) throw e;
    console.error(`bench: ${e.message}`);
    process.exitCode = 2;
  }
}
