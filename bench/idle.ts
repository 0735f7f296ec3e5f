/**
 * Server memory per idle connection and event-loop delay p99, alone (the idle rows of
 * bench/compare.ts, issue 13), for an A/B of two checkouts in one run: the tsquic server of each
 * `--root` takes turns, the same quic-go 0.29 client opens the connections.
 *
 *   npx tsx bench/idle.ts [--counts 1000,10000] [--rounds N] [--root DIR ...]
 *
 * Without --root it measures this checkout. Figures are printed, never asserted.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { idleMemory, tsquicColumn } from './compare.js';
import { formatMachine } from './core.js';
import { buildGoPeer, REPO_ROOT, writePki } from './udp.js';

function optionList(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++)
    if (argv[i] === name && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const counts = (optionList(argv, '--counts')[0] ?? '1000,10000').split(',').map(Number);
  const rounds = Number(optionList(argv, '--rounds')[0] ?? '1');
  const roots = optionList(argv, '--root').map((r) => resolve(r));
  if (roots.length === 0) roots.push(REPO_ROOT);
  console.log(formatMachine());
  buildGoPeer();
  const pki = writePki();
  const log = (line: string) => console.error(line);
  try {
    for (const count of counts) {
      for (let round = 0; round < rounds; round++) {
        for (const root of roots) {
          // Through tsx: the same server script runs from each checkout's sources, none needs a build.
          const base = tsquicColumn('tsx');
          // The same server script, from the other checkout.
          const spec = {
            ...base,
            label: root,
            server: (p: typeof pki, idle: boolean) => {
              const cmd = base.server(p, idle);
              return {
                ...cmd,
                args: cmd.args.map((a) => (a.startsWith(REPO_ROOT) ? root + a.slice(REPO_ROOT.length) : a)),
              };
            },
          };
          const t0 = performance.now();
          const f = await idleMemory(spec, count, pki, log);
          console.log(
            `${count} idle, ${root}: ${f.open} open; RSS ${f.rss.toFixed(1)} KiB/conn, heap ${f.heap.toFixed(1)} KiB/conn, ` +
              `event-loop p99 ${f.eld?.toFixed(1) ?? '-'} ms; load ${loadavg()[0]!.toFixed(2)}; ` +
              `${((performance.now() - t0) / 1000).toFixed(0)} s`,
          );
        }
      }
    }
  } finally {
    rmSync(pki.dir, { recursive: true, force: true });
  }
}
