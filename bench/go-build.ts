/**
 * Builds the quic-go 0.29 peers of the benchmarks (bench/peers/<name>) in GOPATH mode against
 * Debian's quic-go sources, offline, as interop/build.sh does for the interop peers. A binary is rebuilt
 * only when a source of its directory or of interop/peerkit (the Go code the peers share) is newer.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The Go package every Go peer imports by relative path. */
const SHARED_GO = join(REPO_ROOT, 'interop', 'peerkit');

function newestGoSource(dirs: readonly string[]): number {
  let newest = 0;
  for (const dir of dirs) {
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.go')) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
    }
  }
  return newest;
}

/** The environment of a GOPATH-mode, offline `go build` (GOCACHE falls back to .bench/gocache). */
export function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: process.env.TSQUIC_GOPATH ?? '/usr/share/gocode',
    GOFLAGS: '',
    GOPROXY: 'off',
  };
  let cache = env.GOCACHE ?? '';
  if (cache === '') cache = execFileSync('go', ['env', 'GOCACHE'], { encoding: 'utf8', env }).trim();
  if (cache === '' || cache === 'off') cache = join(REPO_ROOT, '.bench', 'gocache');
  env.GOCACHE = cache;
  return env;
}

/**
 * Builds bench/peers/`name` into `out` unless `out` is newer than every source. Throws what `go build`
 * printed (its stderr on the error's `stderr`) when Go or quic-go is missing.
 */
export function buildGoPeer(name: string, out: string): void {
  const source = join(REPO_ROOT, 'bench', 'peers', name);
  try {
    if (statSync(out).mtimeMs > newestGoSource([source, SHARED_GO])) return;
  } catch {
    // not built yet
  }
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}`;
  execFileSync('go', ['build', '-o', tmp, '.'], {
    cwd: source,
    env: goEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  renameSync(tmp, out);
}
