/**
 * Same-run A/B of tsquic's CPU per handshake: an older build (a git ref) against the working tree,
 * alternating within one run, each against quic-go 0.29's peer over real UDP on 127.0.0.1, every
 * datagram <= 1452 bytes.
 *
 *   npx tsx bench/handshake-ab.ts [--base REF (main)] [--rounds N (4)] [--modes full,resumed,0rtt]
 *        [--sides server,client] [--parallel N (1)] [--warmup MS (3000)] [--duration MS (3000)]
 *        [--server-warmup MS (2000)] [--cpu-prof DIR] [--allocs] [--packets] [--rates]
 *
 * Server side: a tsquic server of each build runs for the whole script (warmed with every mode first,
 * as a server runs for long); per round and mode quic-go's client dials it for warmup + duration ms, and
 * the server's CPU over that client run (/proc/PID/stat, 1/100 s ticks) is divided by the connections
 * the client completed. Client side: a tsquic client of each build against one quic-go server, its own
 * CPU (process.cpuUsage over the counted time) per connection. The builds alternate A B B A ... so a
 * load that drifts during the run falls on both. Each round prints the load average beside its figures:
 * on a shared machine only the ratios of one run mean anything, and CPU time moves less than rates.
 *
 * Both builds are compiled like bench/tsquic-build.ts does (tsc with the package's settings): the
 * working tree into .bench/js, the base (`git archive REF`) into .bench/ab/<sha>/.bench/js.
 * --cpu-prof DIR starts the servers and clients under `node --cpu-prof` (profiles named by build).
 * --rates (server side) also prints quic-go's client's handshakes per second in each run.
 * --packets (server side) also prints the packets the server received and sent per connection.
 * --allocs (server side only) measures bytes allocated per connection instead of CPU: the growth of
 * new space and the large-object spaces between GCs over the client run (v8.GCProfiler, STATS of
 * bench/peers/quic-server.ts), what the whole server process allocated, its Node shell included: a
 * figure the load moves little (retransmissions aside).
 *
 * Figures are printed, never asserted. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { processCpuSeconds, type Server, startServer } from './compare.js';
import { median, type PeerResult } from './peers/protocol.js';
import { buildTsquicJs } from './tsquic-build.js';
import { buildGoPeer, type Command, GO_BINARY, REPO_ROOT, runClient, writePki } from './udp.js';

const CAP = 1452;
type Mode = 'full' | 'resumed' | '0rtt';
type Side = 'server' | 'client';

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Compiles `ref`'s src/ and bench/peers/ (once per commit); returns its JavaScript directory. */
export function buildBase(ref: string): { dir: string; sha: string } {
  const sha = execFileSync('git', ['rev-parse', ref], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const tree = join(REPO_ROOT, '.bench', 'ab', sha.slice(0, 12));
  const js = join(tree, '.bench', 'js');
  if (!existsSync(join(js, 'bench', 'peers', 'quic-server.js'))) {
    mkdirSync(tree, { recursive: true });
    const files = ['src', 'bench/peers', 'bench/tsconfig.dist.json', 'tsconfig.json', 'tsconfig.build.json'];
    const tar = execFileSync('git', ['archive', '--format=tar', sha, ...files], {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 28,
    });
    execFileSync('tar', ['-x', '-C', tree], { input: tar });
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(tree, 'bench', 'tsconfig.dist.json')], { cwd: tree });
  }
  return { dir: js, sha };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const base = option(argv, '--base') ?? 'main';
  const rounds = Number(option(argv, '--rounds') ?? 4);
  const modes = (option(argv, '--modes') ?? 'full,resumed,0rtt').split(',') as Mode[];
  const sides = (option(argv, '--sides') ?? 'server,client').split(',') as Side[];
  const parallel = Number(option(argv, '--parallel') ?? 1);
  const warmupMs = Number(option(argv, '--warmup') ?? 3000);
  const durationMs = Number(option(argv, '--duration') ?? 3000);
  const serverWarmupMs = Number(option(argv, '--server-warmup') ?? 2000);
  const profDir = option(argv, '--cpu-prof');
  // Bytes the server allocates per connection instead of its CPU (bench/peers/quic-server.ts STATS:
  // new-space growth between GCs, from V8's GC profiler).
  const allocs = argv.includes('--allocs');
  // Packets the server received and sent per connection (its STATS; e.g. ClientHellos sent again).
  const packets = argv.includes('--packets');
  // The client's handshakes per second beside the server's CPU (server side; moves with the load).
  const rates = argv.includes('--rates');
  if (allocs && sides.includes('client')) throw new Error('--allocs measures servers: use --sides server');

  const goProblem = buildGoPeer();
  if (goProblem) throw new Error(goProblem);
  const a = buildBase(base);
  const builds = { A: a.dir, B: buildTsquicJs() } as const;
  const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  console.log(`A = ${base} (${a.sha.slice(0, 12)}), B = working tree (HEAD ${head.trim()} + changes)`);
  console.log(
    `modes ${modes.join(',')}, sides ${sides.join(',')}, ${parallel} in parallel, warm-up ${warmupMs} ms,`,
  );
  console.log(
    `counted ${durationMs} ms, datagrams <= ${CAP} B, ${rounds} rounds (order A B B A, B A A B, ...)`,
  );
  const pki = writePki();
  const node = (build: 'A' | 'B', script: string, args: string[]): Command => {
    const prof = profDir
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          profDir,
          '--cpu-prof-name',
          `${build}-${script}-${Date.now()}.cpuprofile`,
        ]
      : [];
    return {
      file: process.execPath,
      args: [...prof, join(builds[build], 'bench', 'peers', script), ...args],
    };
  };
  const ms = (v: number) => `${v}ms`;
  const goClient = (mode: Mode, address: string, warm: number): Command => ({
    file: GO_BINARY,
    args: [
      'client',
      '-addr',
      address,
      '-ca',
      pki.ca,
      '-mode',
      mode,
      '-warmup',
      ms(warm),
      '-duration',
      ms(durationMs),
      '-parallel',
      String(parallel),
    ],
  });
  const tsClient = (build: 'A' | 'B', mode: Mode, address: string): Command =>
    node(build, 'quic-client.js', [
      '--addr',
      address,
      '--ca',
      pki.ca,
      '--mode',
      mode,
      '--warmup',
      String(warmupMs),
      '--duration',
      String(durationMs),
      '--parallel',
      String(parallel),
      '--pmtu-max',
      String(CAP),
    ]);

  const servers: Partial<Record<'A' | 'B', Server>> = {};
  let goServer: Server | undefined;
  try {
    if (sides.includes('server')) {
      for (const b of ['A', 'B'] as const) {
        servers[b] = await startServer(
          node(b, 'quic-server.js', [
            '--cert',
            pki.cert,
            '--key',
            pki.key,
            '--idle-timeout',
            '600000',
            '--pmtu-max',
            String(CAP),
          ]),
        );
        for (const mode of modes)
          await runClient(goClient(mode, servers[b]!.address, 0), serverWarmupMs + durationMs + 60_000);
      }
    }
    if (sides.includes('client')) {
      goServer = await startServer({
        file: GO_BINARY,
        args: ['server', '-cert', pki.cert, '-key', pki.key, '-idle-timeout', '600000ms'],
      });
    }
    const ratios = new Map<string, number[]>();
    const figures = new Map<string, { A: number[]; B: number[] }>();
    for (let round = 0; round < rounds; round++) {
      const order: Array<'A' | 'B'> = round % 2 === 0 ? ['A', 'B', 'B', 'A'] : ['B', 'A', 'A', 'B'];
      for (const side of sides) {
        for (const mode of modes) {
          const got: { A: number[]; B: number[] } = { A: [], B: [] };
          const rateOf: { A: number[]; B: number[] } = { A: [], B: [] };
          let lastRate = 0;
          const load = loadavg()[0]!.toFixed(1);
          for (const b of order) {
            let perConn: number;
            if (side === 'server') {
              const s = servers[b]!;
              const s0 = allocs || packets ? await s.stats() : undefined;
              const c0 = processCpuSeconds(s.pid)!;
              const r: PeerResult = await runClient(
                goClient(mode, s.address, warmupMs),
                warmupMs + durationMs + 60_000,
              );
              const c1 = processCpuSeconds(s.pid)!;
              lastRate = r.count / r.seconds;
              const s1 = s0 ? await s.stats() : undefined;
              if (s0 && s1) {
                const n = r.total ?? r.count;
                const rx = (s1.packetsReceived! - s0.packetsReceived!) / n;
                const tx = (s1.packetsSent! - s0.packetsSent!) / n;
                if (packets)
                  console.log(
                    `  ${b} ${mode}: packets per connection received ${rx.toFixed(2)}, sent ${tx.toFixed(2)}`,
                  );
              }
              if (allocs && s0 && s1) {
                perConn = (s1.allocated! - s0.allocated!) / (r.total ?? r.count);
              } else {
                perConn = ((c1 - c0) * 1000) / (r.total ?? r.count);
              }
            } else {
              const r = await runClient(tsClient(b, mode, goServer!.address), warmupMs + durationMs + 60_000);
              perConn = (r.cpuSeconds * 1000) / r.count;
            }
            got[b].push(perConn);
            if (side === 'server' && rates) rateOf[b].push(lastRate);
          }
          const key = `${side} ${mode}`;
          const f = figures.get(key) ?? { A: [], B: [] };
          f.A.push(...got.A);
          f.B.push(...got.B);
          figures.set(key, f);
          const ratio = median(got.B)! / median(got.A)!;
          if (rates && rateOf.A.length > 0) {
            console.log(
              `  handshakes/s (quic-go's client, counted time)  A ${rateOf.A.map((v) => v.toFixed(0)).join(' ')}  B ${rateOf.B.map((v) => v.toFixed(0)).join(' ')}  B/A ${(median(rateOf.B)! / median(rateOf.A)!).toFixed(3)}`,
            );
          }
          ratios.set(key, [...(ratios.get(key) ?? []), ratio]);
          console.log(
            `round ${round + 1} load ${load}  ${key.padEnd(14)} ${allocs ? 'B/conn' : 'ms CPU/conn'}  A ${got.A.map((v) => v.toFixed(3)).join(' ')}  B ${got.B.map((v) => v.toFixed(3)).join(' ')}  B/A ${ratio.toFixed(3)}`,
          );
        }
      }
    }
    console.log(
      `\nsummary (load average now ${loadavg()
        .map((v) => v.toFixed(1))
        .join(' ')}): median ${allocs ? 'bytes allocated' : 'ms CPU'} per connection, B/A per round`,
    );
    for (const [key, f] of figures) {
      const r = ratios.get(key)!;
      console.log(
        `${key.padEnd(14)} A ${median(f.A)!.toFixed(3)}  B ${median(f.B)!.toFixed(3)}  B/A per round ${r.map((v) => v.toFixed(2)).join(' ')}  median ${median(r)!.toFixed(3)}`,
      );
    }
  } finally {
    await Promise.all([servers.A?.stop(), servers.B?.stop(), goServer?.stop()]);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
