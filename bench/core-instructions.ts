/**
 * Instructions per MiB of the cores back to back (bench/core.ts `runBackToBack`: a client and a server
 * connection core, no sockets, 1452-byte packets), counted by valgrind, for one or more checkouts: an
 * A/B that the machine's load and the hypervisor cannot move (issue 13: on the shared VM, CPU-time
 * A/Bs of the same code scattered 10-23 ms per MiB within one run).
 *
 * Each `--root` runs in its own process under `valgrind --tool=cachegrind --cache-sim=no`, with
 * `node --predictable` (V8 single-threaded and deterministic: without it, JIT and GC timing move the
 * count of the same code by up to 7%): first --warmup MiB of transfers (default 32: V8 compiles the
 * hot paths during the first ~24 MiB, at 2-10 times the steady cost per MiB), then --size MiB. A
 * second run with the warm-up alone is subtracted, so the figure is the instructions of the measured
 * MiB only. Two processes run at a time. Repeated runs of one checkout agree within ~1% at --size 64.
 *
 * Instructions are not time (memory stalls, the cost of each instruction), but a change that removes
 * work shows here when a CPU-time A/B cannot tell it from noise. WebAssembly and JIT code are counted
 * like any other. Needs valgrind (Debian `valgrind`); a run takes 1-3 minutes.
 *
 *   npx tsx bench/core-instructions.ts --root OLD --root NEW [--size 64] [--warmup 32]
 *
 * Figures are printed, never asserted.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatMachine, numberFlag, rootFlags } from './core.js';

interface CoreModule {
  runBackToBack(bytes: number, seed: number): { cpuMsPerMiB: number };
}

const MiB = 1024 * 1024;
const WARMUP_STEP_MiB = 8;

/** The child: `warmupMiB` of warm-up transfers, then `sizeMiB` (0: none) of `root`'s cores. */
async function child(root: string, sizeMiB: number, warmupMiB: number): Promise<void> {
  const mod = (await import(pathToFileURL(join(root, 'bench', 'core.ts')).href)) as CoreModule;
  for (let w = 0; w < warmupMiB; w += WARMUP_STEP_MiB) mod.runBackToBack(WARMUP_STEP_MiB * MiB, 1);
  if (sizeMiB > 0) mod.runBackToBack(sizeMiB * MiB, 1);
}

/** Instructions valgrind counted for one child process. */
function countInstructions(root: string, sizeMiB: number, warmupMiB: number): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const args = [
    '--tool=cachegrind',
    '--cache-sim=no',
    '--cachegrind-out-file=/dev/null',
    process.execPath,
    '--predictable',
    '--import',
    'tsx',
    self,
    '--child',
    root,
    String(sizeMiB),
    String(warmupMiB),
  ];
  return new Promise((resolvePromise, reject) => {
    execFile('valgrind', args, { maxBuffer: 16 * MiB }, (err, _stdout, stderr) => {
      if (err) {
        reject(new Error(`valgrind on ${root} failed: ${err.message}\n${stderr.slice(-1000)}`));
        return;
      }
      const m = /I\s+refs:\s+([\d,]+)/.exec(stderr);
      if (!m) {
        reject(new Error(`no instruction count from valgrind on ${root}:\n${stderr.slice(-1000)}`));
        return;
      }
      resolvePromise(Number(m[1]!.replaceAll(',', '')));
    });
  });
}

/** Runs `tasks` two at a time. */
async function inPairs<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < tasks.length; i += 2) {
    out.push(...(await Promise.all(tasks.slice(i, i + 2).map((t) => t()))));
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv[1]!, Number(argv[2]), Number(argv[3]));
  } else {
    const roots = rootFlags(argv);
    const sizeMiB = numberFlag(argv, '--size') ?? 64;
    const warmupMiB = numberFlag(argv, '--warmup') ?? 32;
    console.log(formatMachine());
    const counts = await inPairs(
      roots.flatMap((root) => [
        () => countInstructions(root, 0, warmupMiB),
        () => countInstructions(root, sizeMiB, warmupMiB),
      ]),
    );
    console.log(
      `\ninstructions per MiB of the cores back to back (valgrind, node --predictable), ${sizeMiB} MiB after ${warmupMiB} MiB of warm-up, 1452-byte packets, both sides:`,
    );
    let first: number | undefined;
    roots.forEach((root, i) => {
      const perMiB = (counts[2 * i + 1]! - counts[2 * i]!) / sizeMiB;
      first ??= perMiB;
      console.log(
        `${root}: ${(perMiB / 1e6).toFixed(1)} M instructions/MiB, x${(perMiB / first).toFixed(4)} of the first root (warm-up alone: ${(counts[2 * i]! / 1e9).toFixed(2)} G)`,
      );
    });
  }
}
