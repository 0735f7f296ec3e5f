/**
 * `npm run soak -- --minutes N` (or `--seconds N`): mixed traffic against one tsquic server over real
 * UDP (soak.ts), a table of the server's memory samples and a verdict; exit code 1 on failure.
 */
import { loadavg } from 'node:os';
import { runSoak, summary } from './soak.js';

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) {
    console.error(`--${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

const minutes = arg('minutes');
const seconds = arg('seconds');
const durationMs = Math.round(seconds !== undefined ? seconds * 1000 : (minutes ?? 1) * 60_000);
const every = arg('sample-seconds');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(
  `soak: ${(durationMs / 1000).toFixed(0)} s, node ${process.version}, load average at start ${load()}`,
);
const result = await runSoak({
  durationMs,
  ...(every !== undefined ? { sampleEveryMs: every * 1000 } : {}),
  log: (line) => console.log(line),
});
console.log(`load average at end ${load()}`);
console.log(summary(result, durationMs));
process.exit(result.ok ? 0 : 1);
