/**
 * Child processes of the HTTP/3 interop tests: quic-go 0.29's http3 peers (interop/h3server,
 * interop/h3client) and ngtcp2 0.12's examples over nghttp3 (gtlsserver, gtlsclient, Debian packages
 * ngtcp2-server and ngtcp2-client). Every wait is bounded; every child is killed when its test ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureGoPeers } from './go-peers.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INTEROP_DIR = join(REPO_ROOT, 'interop');

export interface Peer {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  stderr(): string;
  /** Resolves with the first stdout (or stderr) line matching `re` (bounded). */
  waitLine(re: RegExp, ms?: number): Promise<string>;
  /** Resolves with the exit code (bounded; SIGKILL on timeout). */
  exited(ms?: number): Promise<number | null>;
  stop(): Promise<void>;
}

export function startPeer(t: TestContext, bin: string, args: string[], opts: { cwd?: string } = {}): Peer {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  const lines: string[] = [];
  let err = '';
  let partial = '';
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (err.length > 1_000_000) err = err.slice(-500_000);
    for (const w of [...waiters]) {
      const line = d.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const peer: Peer = {
    child,
    lines,
    stderr: () => err,
    waitLine(re, ms = 20_000) {
      const found = lines.find((l) => re.test(l)) ?? err.split('\n').find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${bin}: no line matching ${re} within ${ms} ms; stderr: ${err.slice(-2000)}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolvePromise(l);
          },
        });
      });
    },
    async exited(ms = 60_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t2 = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exit;
        clearTimeout(t2);
      }
    },
  };
  t.after(() => peer.stop());
  return peer;
}

/** JSON events a peer printed (one object per line; other lines ignored). */
/**
 * The JSON events of `p` that `match`, once there are at least `count` of them (or `ms` have passed):
 * a peer writes its log line while it answers, and the line can reach us after the answer does.
 */
export async function waitForEvents(
  p: Peer,
  match: (e: Record<string, unknown>) => boolean,
  count: number,
  ms = 10_000,
): Promise<Array<Record<string, unknown>>> {
  const end = performance.now() + ms;
  for (;;) {
    const found = jsonEvents(p).filter(match);
    if (found.length >= count || performance.now() >= end) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function jsonEvents(p: Peer): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of p.lines) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not JSON
    }
  }
  return out;
}

/** The .go files of interop/`dir`, relative to interop/. */
function goFiles(dir: string): string[] {
  return readdirSync(join(INTEROP_DIR, dir))
    .filter((f) => f.endsWith('.go'))
    .map((f) => join(dir, f));
}

/** The quic-go HTTP/3 peers, built with interop/build.sh (with the other Go peers). */
export async function ensureH3GoPeers(): Promise<{ server: string; client: string }> {
  await ensureGoPeers();
  const bins = { server: join(INTEROP_DIR, 'bin', 'h3server'), client: join(INTEROP_DIR, 'bin', 'h3client') };
  const sources = ['h3server/main.go', 'h3client/main.go', 'build.sh', ...goFiles('peerkit')].map((s) =>
    join(INTEROP_DIR, s),
  );
  const fresh = Object.values(bins).every(
    (b) => existsSync(b) && sources.every((s) => statSync(s).mtimeMs < statSync(b).mtimeMs),
  );
  if (!fresh) {
    const build = spawn('bash', [join(INTEROP_DIR, 'build.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    build.stdout.on('data', (d) => (log += d));
    build.stderr.on('data', (d) => (log += d));
    const [code] = (await once(build, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`interop/build.sh failed: ${log}`);
  }
  return bins;
}

/** ngtcp2's example programs (Debian ngtcp2-server / ngtcp2-client); a clear error when missing. */
export function ngtcp2Bin(name: 'gtlsserver' | 'gtlsclient'): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(
    `${name} not found: install the Debian packages ngtcp2-server and ngtcp2-client (.ci/run does)`,
  );
}

/** A UDP port free right now on 127.0.0.1 (for peers that cannot bind port 0 and report it). */
/**
 * Resolves once a UDP socket is bound to `port` on this machine (/proc/net/udp): gtlsserver prints
 * its "Using document root" line before it binds, and a datagram sent in between is refused.
 */
export async function waitUdpBound(port: number, timeoutMs = 5000): Promise<void> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
      const rows = existsSync(table) ? readFileSync(table, 'utf8').split('\n').slice(1) : [];
      // Column 2 is local_address (hex address:port).
      if (rows.some((r) => `${r.trim().split(/\s+/)[1] ?? ''} `.endsWith(suffix))) return;
    }
    if (performance.now() > deadline)
      throw new Error(`nothing bound UDP port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  s.close();
  return port;
}
