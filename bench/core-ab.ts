/**
 * Same-process A/B of the cores back to back (bench/core.ts `runBackToBack`: a client and a server
 * connection core, no sockets, 1452-byte packets) between two or more checkouts: each `--root`'s own
 * bench/core.ts (and so its src/) is loaded into this one process, and the roots take turns, one
 * transfer each, the order rotated every round, so they share the machine's moods and the process's
 * heap. Printed per transfer: CPU ms per MiB (process.cpuUsage, user + system, both cores together)
 * and the load average; at the end the medians per root and the median of the per-round ratios
 * against the first root. Figures are printed, never asserted.
 *
 *   npx tsx bench/core-ab.ts --root OLD --root NEW [--rounds 9] [--size 50]
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatMachine, numberFlag, rootFlags } from './core.js';

interface CoreModule {
  runBackToBack(bytes: number, seed: number): { cpuMsPerMiB: number };
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const roots = rootFlags(argv);
  const rounds = numberFlag(argv, '--rounds') ?? 9;
  const sizeMiB = numberFlag(argv, '--size') ?? 50;
  console.log(formatMachine());
  const mods = new Map<string, CoreModule>();
  for (const root of roots) {
    mods.set(root, (await import(pathToFileURL(join(root, 'bench', 'core.ts')).href)) as CoreModule);
  }
  // One small unmeasured transfer per root first: module loading and the first JIT tiers.
  for (const root of roots) mods.get(root)!.runBackToBack(4 * 1024 * 1024, 1);
  const results = new Map<string, number[]>(roots.map((r) => [r, []]));
  for (let round = 0; round < rounds; round++) {
    const order = roots.map((_, i) => roots[(i + round) % roots.length]!);
    for (const root of order) {
      const load = loadavg()[0]!;
      const f = mods.get(root)!.runBackToBack(sizeMiB * 1024 * 1024, 1);
      results.get(root)!.push(f.cpuMsPerMiB);
      console.log(
        `round ${round + 1} ${root}: ${f.cpuMsPerMiB.toFixed(2)} CPU ms/MiB (load ${load.toFixed(2)})`,
      );
    }
  }
  const base = results.get(roots[0]!)!;
  console.log(`\nmedians over ${rounds} rounds, ${sizeMiB} MiB, 1452-byte packets, both cores' CPU:`);
  for (const root of roots) {
    const v = results.get(root)!;
    const ratios = v.map((x, i) => x / base[i]!);
    console.log(
      `${root}: ${median(v).toFixed(2)} ms/MiB (range ${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}), ` +
        `x${median(ratios).toFixed(3)} of the first root (per-round ratios ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
    );
  }
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
