/**
 * Interop-runner-style scenarios through the fault proxy (test/fault/fault-proxy.ts), over real UDP on
 * loopback, for any pairing of tsquic and quic-go 0.29 (interop/): handshakeloss, transferloss,
 * handshakecorruption, transfercorruption, blackhole, longrtt, multiplexing, and the burst pattern of
 * issue 16. The client fetches files over hq-interop through the proxy; every file must arrive whole
 * (size and SHA-256). Used by test/fault/*.test.ts and by `npm run bench -- --only faults`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

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

async function startServer(stack: Stack, root: string, pki: TestPkiFiles): Promise<ServerHandle> {
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
): Promise<void> {
  const expected = fileHashes.get(scenario)!;
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
    return;
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
}

/**
 * Runs `scenario` with `client` fetching from `server` through a fresh fault proxy seeded `seed`.
 * Resolves with the wall time from the first dial to the last file (ms); rejects when a file does not
 * arrive whole within `timeoutMs`.
 */
export async function runScenario(
  scenario: Scenario,
  client: Stack,
  server: Stack,
  opts: { work: string; pki: TestPkiFiles; seed?: number; timeoutMs?: number },
): Promise<RunResult> {
  const root = join(opts.work, `www-${scenario.name}`);
  mkdirSync(root, { recursive: true });
  const paths = await writeFiles(root, scenario);
  const srv = await startServer(server, root, opts.pki);
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
    await runClient(
      client,
      proxy.port,
      paths,
      scenario.connections ?? 1,
      opts.pki,
      scenario.name,
      opts.timeoutMs ?? 60_000,
    );
    const ms = performance.now() - t0;
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
