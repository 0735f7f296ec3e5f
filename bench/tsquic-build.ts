/**
 * The tsquic side of the benchmarks as a user of the npm package runs it: compiled JavaScript, not the
 * TypeScript sources through tsx.
 *
 * `npm run build` compiles src/ with tsconfig.build.json into dist/, which is what the package ships
 * ("exports" points there). The bench peers (bench/peers/*.ts) are TypeScript too and import
 * ../../src/index.js, so both are compiled together with bench/tsconfig.dist.json, which extends
 * tsconfig.build.json and changes only where the output goes (.bench/js, keeping the src/ and
 * bench/peers/ layout so the peers' relative imports still work) and that no declarations are written.
 * The JavaScript of every src/ module is byte for byte what `npm run build` writes to dist/.
 *
 * Why it matters: tsx compiles each module with esbuild's `keepNames`, which wraps every function
 * expression and arrow function in a `__name(fn, "name")` call (a property redefinition each time the
 * closure is created), and runs an ESM loader. Neither is in what users run.
 *
 * The output is rebuilt only when a source or a tsconfig is newer than the stamp of the last build.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where bench/tsconfig.dist.json writes: .bench/js/src/... and .bench/js/bench/peers/... */
export const TSQUIC_JS_DIR = join(REPO_ROOT, '.bench', 'js');
const STAMP = join(TSQUIC_JS_DIR, '.built');
const CONFIG = join(REPO_ROOT, 'bench', 'tsconfig.dist.json');

/** How the tsquic peers run: compiled (`dist`, what package users run) or from the sources via tsx. */
export type TsquicBuild = 'dist' | 'tsx';

function newestSource(dir: string, newest = 0): number {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = newestSource(path, newest);
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function stale(): boolean {
  let built: number;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return true;
  }
  const configs = ['tsconfig.json', 'tsconfig.build.json', 'bench/tsconfig.dist.json'].map(
    (f) => statSync(join(REPO_ROOT, f)).mtimeMs,
  );
  const newest = Math.max(
    ...configs,
    newestSource(join(REPO_ROOT, 'src')),
    newestSource(join(REPO_ROOT, 'bench', 'peers')),
  );
  return newest >= built;
}

/** Compiles src/ and bench/peers/ into .bench/js unless it is up to date; returns the directory. */
export function buildTsquicJs(): string {
  if (!stale()) return TSQUIC_JS_DIR;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  mkdirSync(TSQUIC_JS_DIR, { recursive: true });
  const started = Date.now();
  execFileSync(process.execPath, [tsc, '-p', CONFIG], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  // The stamp carries the time the build started: a source saved during the build makes it stale.
  writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
  utimesSync(STAMP, started / 1000, started / 1000);
  return TSQUIC_JS_DIR;
}

/**
 * The command line of a bench peer (a file of bench/peers/, named by its .ts name) under `build`:
 * `node [flags] .bench/js/bench/peers/x.js` or `node --import tsx [flags] bench/peers/x.ts`.
 */
export function peerCommand(
  build: TsquicBuild,
  script: string,
  args: readonly string[],
  flags: readonly string[] = [],
): { file: string; args: string[] } {
  if (build === 'tsx') {
    return {
      file: process.execPath,
      args: ['--import', 'tsx', ...flags, join(REPO_ROOT, 'bench', 'peers', script), ...args],
    };
  }
  const js = join(TSQUIC_JS_DIR, 'bench', 'peers', script.replace(/\.ts$/, '.js'));
  return { file: process.execPath, args: [...flags, js, ...args] };
}
