/**
 * Interop-runner-style scenarios through the fault proxy (test/fault/fault-proxy.ts), over real UDP on
 * loopback, for any pairing of tsquic and quic-go 0.29 (interop/): handshakeloss, transferloss,
 * handshakecorruption, transfercorruption, blackhole, longrtt, multiplexing, and the burst pattern of
 * issue 16. The client fetches files over hq-interop through the proxy; every file must arrive whole
 * (size and SHA-256). Used by test/fault/*.test.ts and by `npm run bench -- --only faults`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { serveHq } from '../../src/hq/hq-server.js';
import { dial, listen, type QuicServer } from '../../src/index.js';
import {
  describeClientRun,
  runGoClient,
  startGoServer,
  type TestPkiFiles,
  writeTestFile,
} from '../interop/go-peers.js';
import { fetchAll } from '../interop/tsquic-peers.js';
import { FaultProxy, type LinkConditions } from './fault-proxy.js';

export type Stack = 'tsquic' | 'quic-go';

export interface Scenario {
  name: string;
  /** What the proxy does in each direction (the same unless `down` is given). */
  up: LinkConditions;
  down?: LinkConditions;
  /** Files fetched, by size in bytes, on each connection (in parallel on one connection). */
  files: number[];
  /** Connections made one after the other, each fetching every file (default 1). */
  connections?: number;
  /** Called once the proxy runs (e.g. to schedule a blackout or a NAT rebinding). */
  during?: (proxy: FaultProxy) => void;
  /** Server stacks the scenario applies to (default both). */
  servers?: Stack[];
}

/** The largest UDP payload the proxy passes (IPv6 + UDP headers in a 1500-byte Ethernet MTU). */
export const PATH_MTU = 1452;

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The scenarios. Sizes are kept small enough that a full matrix stays within CI's budget; the
 * benchmark can scale them (`scale`).
 */
export function scenarios(scale = 1): Scenario[] {
  return [
    // Interop runner "handshakeloss": 30% loss both ways, several short connections.
    { name: 'handshakeloss', up: { loss: 0.3 }, files: [KiB], connections: 5 },
    { name: 'transferloss', up: { loss: 0.02 }, files: [Math.round(2 * MiB * scale)] },
    { name: 'handshakecorruption', up: { corrupt: 0.3 }, files: [KiB], connections: 5 },
    { name: 'transfercorruption', up: { corrupt: 0.02 }, files: [Math.round(2 * MiB * scale)] },
    {
      // A 1.5 s blackout both ways shortly after the transfer starts, at a 40 Mbit/s rate limit so that
      // the transfer is still running then.
      name: 'blackhole',
      up: { bandwidth: 40e6, queueBytes: 256 * KiB },
      files: [Math.round(4 * MiB * scale)],
      during: (proxy) => {
        setTimeout(() => proxy.blackout(1500), 300).unref();
      },
    },
    // 750 ms RTT: far above the 100 ms initial RTT.
    { name: 'longrtt', up: { delay: 375 }, files: [KiB, 64 * KiB] },
    // Many streams on one connection (more than the 100 a server allows at once) over a mildly bad path.
    {
      name: 'multiplexing',
      up: { delay: 5, jitter: 5, reorder: 0.02, duplicate: 0.02, loss: 0.01 },
      files: Array.from({ length: 250 }, () => 32),
    },
    {
      // NAT rebinding mid-transfer: the client's datagrams suddenly come from a new port (RFC 9000 §9).
      name: 'natrebinding',
      // quic-go 0.29 servers keep answering the old address (no migration support: the tsquic client
      // then meets its idle timeout), so only tsquic servers are in this scenario.
      servers: ['tsquic'],
      up: { bandwidth: 40e6, queueBytes: 256 * KiB },
      files: [Math.round(4 * MiB * scale)],
      during: (proxy) => {
        setTimeout(() => proxy.rebind(), 300).unref();
      },
    },
    // Issue 16: each datagram starts a run of 8 lost datagrams with probability 0.5%.
    {
      name: 'burstloss',
      up: { burstRuns: { start: 0.005, length: 8 } },
      files: [Math.round(4 * MiB * scale)],
    },
  ];
}

export interface RunResult {
  ms: number;
  /** Datagrams lost (and corrupted) by the proxy, both directions. */
  lost: number;
  corrupted: number;
}

/** Files written once per root: `/f<size>-<i>` named paths. */
async function writeFiles(root: string, s: Scenario): Promise<string[]> {
  const paths: string[] = [];
  const hashes = new Map<string, string>();
  for (let i = 0; i < s.files.length; i++) {
    const name = `${s.name}-${i}.bin`;
    hashes.set(`/${name}`, await writeTestFile(root, name, s.files[i]!, i + 7));
    paths.push(`/${name}`);
  }
  fileHashes.set(s.name, hashes);
  return paths;
}

const fileHashes = new Map<string, Map<string, string>>();

interface ServerHandle {
  port: number;
  stop(): Promise<void>;
}

const HQ_PEER = fileURLToPath(new URL('./hq-peer.ts', import.meta.url));

/** The tsquic hq server of hq-peer.ts in a child process. */
async function startTsquicServerProcess(root: string, pki: TestPkiFiles): Promise<ServerHandle> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', HQ_PEER, 'server', root, pki.certFile, pki.keyFile],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the tsquic server process did not start')), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error('the tsquic server process exited')));
  });
  return {
    port,
    stop: async () => {
      child.stdin.end();
      const exited = once(child, 'exit');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** hq-peer.ts's client in a child process: the files it fetched whole. */
async function runTsquicClientProcess(
  port: number,
  paths: string[],
  connections: number,
  pki: TestPkiFiles,
  timeoutMs: number,
): Promise<{ files: Array<{ path: string; sha256: string }>; elapsedMs: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', HQ_PEER, 'client', String(port), pki.caFile, String(connections), ...paths],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`tsquic client process: exit ${code}\n${err}`);
  const lines = out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { path?: string; sha256?: string; elapsedMs?: number });
  const files = lines.flatMap((l) =>
    l.path !== undefined ? [{ path: l.path, sha256: String(l.sha256) }] : [],
  );
  const elapsedMs = lines.find((l) => l.elapsedMs !== undefined)?.elapsedMs ?? Number.NaN;
  return { files, elapsedMs };
}

async function startServer(
  stack: Stack,
  root: string,
  pki: TestPkiFiles,
  ownProcess: boolean,
): Promise<ServerHandle> {
  if (stack === 'tsquic' && ownProcess) return startTsquicServerProcess(root, pki);
  if (stack === 'quic-go') {
    const go = await startGoServer({ root, pki });
    return { port: go.address.port, stop: () => go.stop() };
  }
  const server: QuicServer = await listen({
    host: '127.0.0.1',
    port: 0,
    cert: pki.certPem,
    key: pki.keyPem,
    alpn: ['hq-interop'],
  });
  server.on('connection', (conn) => {
    serveHq(conn, { root }).catch(() => {});
  });
  void (async () => {
    for await (const _ of server) {
      // handled by the 'connection' listener
    }
  })();
  return { port: server.address().port, stop: () => server.close() };
}

async function runClient(
  stack: Stack,
  port: number,
  paths: string[],
  connections: number,
  pki: TestPkiFiles,
  scenario: string,
  timeoutMs: number,
  ownProcess: boolean,
): Promise<number | undefined> {
  const expected = fileHashes.get(scenario)!;
  if (stack === 'tsquic' && ownProcess) {
    const { files, elapsedMs } = await runTsquicClientProcess(port, paths, connections, pki, timeoutMs);
    if (files.length !== paths.length * connections) {
      throw new Error(`${scenario}: ${files.length} files of ${paths.length * connections}`);
    }
    for (const f of files) {
      if (f.sha256 !== expected.get(f.path)) throw new Error(`${scenario}: ${f.path} differs`);
    }
    return elapsedMs;
  }
  if (stack === 'quic-go') {
    const urls = paths.map((p) => `https://127.0.0.1:${port}${p}`);
    const r = await runGoClient(
      ['-ca', pki.caFile, '-sni', 'localhost', '-n', String(connections), ...urls],
      timeoutMs,
    );
    if (r.code !== 0) throw new Error(`${scenario}: ${describeClientRun(r)}`);
    const files = r.events.filter((e) => e.event === 'file');
    if (files.length !== paths.length * connections) {
      throw new Error(`${scenario}: ${files.length} files of ${paths.length * connections}`);
    }
    for (const f of files) {
      if (f.sha256 !== expected.get(String(f.path))) throw new Error(`${scenario}: ${f.path} differs`);
    }
    return undefined;
  }
  const signal = AbortSignal.timeout(timeoutMs);
  for (let i = 0; i < connections; i++) {
    const conn = await dial(
      { host: '127.0.0.1', port },
      { alpn: ['hq-interop'], ca: pki.caPem, serverName: 'localhost', signal },
    );
    try {
      const got = await Promise.race([
        fetchAll(conn, paths),
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error(`${scenario}: timed out`)), { once: true });
        }),
      ]);
      for (const [path, f] of got) {
        if (f.sha256 !== expected.get(path))
          throw new Error(`${scenario}: ${path} differs (${f.bytes} bytes)`);
      }
    } finally {
      await conn.close();
    }
  }
  return undefined;
}

/**
 * Runs `scenario` with `client` fetching from `server` through a fresh fault proxy seeded `seed`.
 * Resolves with the time from the first dial to the last file (ms); rejects when a file does not
 * arrive whole within `timeoutMs`.
 */
export async function runScenario(
  scenario: Scenario,
  client: Stack,
  server: Stack,
  opts: {
    work: string;
    pki: TestPkiFiles;
    seed?: number;
    timeoutMs?: number;
    /** Run tsquic peers in processes of their own (benchmarks), not in this one (tests). */
    ownProcesses?: boolean;
  },
): Promise<RunResult> {
  const root = join(opts.work, `www-${scenario.name}`);
  mkdirSync(root, { recursive: true });
  const paths = await writeFiles(root, scenario);
  const srv = await startServer(server, root, opts.pki, opts.ownProcesses === true);
  const proxy = await FaultProxy.start({
    target: { host: '127.0.0.1', port: srv.port },
    // A real path's MTU: datagrams above 1452 bytes are dropped, so PMTU discovery (which may go up
    // to 16383 bytes toward a loopback peer) settles at 1452 and every figure is at <= 1452 bytes.
    up: { mtu: PATH_MTU, ...scenario.up },
    down: { mtu: PATH_MTU, ...(scenario.down ?? scenario.up) },
    seed: opts.seed ?? 1,
  });
  try {
    const t0 = performance.now();
    scenario.during?.(proxy);
    const measured = await runClient(
      client,
      proxy.port,
      paths,
      scenario.connections ?? 1,
      opts.pki,
      scenario.name,
      opts.timeoutMs ?? 60_000,
      opts.ownProcesses === true,
    );
    // A tsquic client process times itself from its first dial; otherwise the wall time (a quic-go
    // client's includes its process start, a few milliseconds).
    const ms = measured ?? performance.now() - t0;
    const up = proxy.stats('up');
    const down = proxy.stats('down');
    return {
      ms,
      lost: up.lost + up.blackholed + down.lost + down.blackholed,
      corrupted: up.corrupted + down.corrupted,
    };
  } finally {
    proxy.close();
    await srv.stop();
  }
}
