/**
 * Bytes the server allocates per accepted connection, by handshake kind: the client and server cores
 * back to back (bench/zero-rtt.ts BackToBack, one small request per connection), every call into the
 * server endpoint (receive, transmit, timers, events, the responder answering on its connections)
 * bracketed by V8's used-heap figure. The process runs with semi-spaces large enough that no garbage
 * collection happens while it counts (checked: a run with a GC is reported as such), so the sum of the
 * brackets is what the server's code allocated, whatever the load of the machine (issue 13). Also
 * counted: the server's datagrams and calls per connection.
 *
 *   npx tsx bench/server-allocs.ts [--connections N (default 200)] [--sites N (top allocation sites)]
 *
 * It re-runs itself under node with --min-semi-space-size / --max-semi-space-size when started
 * without them. `--sites N` also samples the server's allocations with V8's sampling heap profiler
 * (objects collected by GC included) and prints the N functions that allocated the most bytes.
 * Figures are printed, never asserted. See bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { numberFlag } from './core.js';
import type { BackToBack, ConnectionKind } from './zero-rtt.js';

const SEMI_SPACE_MB = 1024;
const KINDS: readonly ConnectionKind[] = ['full', 'resumed', '0rtt'];

export interface ServerAllocs {
  /** Bytes the server's calls allocated, per connection. */
  bytes: number;
  /** Datagrams the server sent, per connection. */
  datagrams: number;
  /** Calls into the server endpoint, per connection. */
  calls: number;
  /** Garbage collections while counting (the byte figure is only exact at 0). */
  gcs: number;
}

/**
 * Bytes in the heap spaces that objects are allocated in (new space, and the large-object spaces);
 * old space, code and maps are left out: they also grow when V8 compiles or tiers up code, which
 * varies from run to run, while objects the code allocates start in new space (or, large, in a
 * large-object space).
 */
function allocatedSpaces(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) {
    if (
      s.space_name === 'new_space' ||
      s.space_name === 'new_large_object_space' ||
      s.space_name === 'large_object_space'
    )
      n += s.space_used_size;
  }
  return n;
}

/** Bracketing of one endpoint's calls: bytes allocated inside them (outermost calls only). */
class Meter {
  bytes = 0;
  calls = 0;
  private depth = 0;
  private start = 0;
  /** What reading the heap figure itself allocates (measured, subtracted per bracket). */
  private readonly overhead: number;

  constructor() {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 50; i++) {
      const a = allocatedSpaces();
      const b = allocatedSpaces();
      min = Math.min(min, b - a);
    }
    this.overhead = min;
  }

  /** False while only the sampling profiler counts: the brackets' own reads would show in it. */
  measuring = true;

  enter(): void {
    if (this.depth++ === 0 && this.measuring) this.start = allocatedSpaces();
  }

  leave(): void {
    if (--this.depth === 0 && this.measuring) {
      this.bytes += allocatedSpaces() - this.start - this.overhead;
      this.calls++;
    }
  }

  wrap<T extends object>(target: T, method: keyof T & string): void {
    const original = target[method] as unknown as (...args: unknown[]) => unknown;
    const meter = this;
    (target as Record<string, unknown>)[method] = function serverCall(this: unknown, ...args: unknown[]) {
      meter.enter();
      try {
        return original.apply(this, args);
      } finally {
        meter.leave();
      }
    };
  }
}

function meterServer(pair: BackToBack): { meter: Meter; datagrams: () => number } {
  const meter = new Meter();
  const server = pair.server;
  let datagrams = 0;
  const transmit = server.transmit.bind(server);
  server.transmit = (now) => {
    const out = transmit(now);
    if (out) datagrams++;
    return out;
  };
  for (const m of ['receive', 'transmit', 'pollEvent', 'handleTimeout', 'nextTimeout', 'markActive'] as const)
    meter.wrap(server, m);
  meter.wrap(pair.responder, 'pump');
  return { meter, datagrams: () => datagrams };
}

export async function run(connections = 200): Promise<Record<ConnectionKind, ServerAllocs>> {
  const { BackToBack } = await import('./zero-rtt.js');
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  const out = {} as Record<ConnectionKind, ServerAllocs>;
  for (const kind of KINDS) {
    const wantTicket = kind !== 'full';
    const pair = new BackToBack(1);
    let session = wantTicket ? pair.connection('full', undefined, true) : undefined;
    // Unmeasured: V8 compiles the paths (its code objects are heap too).
    for (let i = 0; i < 300; i++) session = pair.connection(kind, session, wantTicket);
    const { meter, datagrams } = meterServer(pair);
    // A GC now, so the counted connections start with empty semi-spaces.
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 10));
    const gcsBefore = gcs;
    for (let i = 0; i < connections; i++) session = pair.connection(kind, session, wantTicket);
    await new Promise((r) => setTimeout(r, 10));
    out[kind] = {
      bytes: meter.bytes / connections,
      datagrams: datagrams() / connections,
      calls: meter.calls / connections,
      gcs: gcs - gcsBefore - 0,
    };
  }
  obs.disconnect();
  return out;
}

/** The functions (with file and line) whose allocations inside server calls were largest. */
export async function sites(kind: ConnectionKind, connections: number, top: number): Promise<string[]> {
  const { BackToBack } = await import('./zero-rtt.js');
  const pair = new BackToBack(1);
  const wantTicket = kind !== 'full';
  let session = wantTicket ? pair.connection('full', undefined, true) : undefined;
  for (let i = 0; i < 300; i++) session = pair.connection(kind, session, wantTicket);
  meterServer(pair).meter.measuring = false;
  const inspector = new Session();
  inspector.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      inspector.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
    );
  await post('HeapProfiler.startSampling', {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < connections; i++) session = pair.connection(kind, session, wantTicket);
  const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
  inspector.disconnect();
  const bySite = new Map<string, number>();
  const name = (f: ProfileNode['callFrame']): string =>
    `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|bench|test)\//, '$1/')}`;
  // Allocations inside Node's or V8's own functions (Buffer#subarray, Array#push, ...) are named
  // with the nearest caller of tsquic's, which is what can change.
  const walk = (n: ProfileNode, server: boolean, caller: string): void => {
    const inServer = server || n.callFrame.functionName === 'serverCall';
    const ours = /\/(src|bench|test)\//.test(n.callFrame.url);
    if (inServer && n.selfSize > 0) {
      const key = ours ? name(n.callFrame) : `${name(n.callFrame)} <- ${caller}`;
      bySite.set(key, (bySite.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, inServer, ours ? name(n.callFrame) : caller);
  };
  walk(profile.head, false, '');
  return [...bySite.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${(v / connections).toFixed(0).padStart(8)} B  ${k}`);
}

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

export function format(r: Record<ConnectionKind, ServerAllocs>): string {
  const lines = [
    'server-allocs: per accepted connection, server side of the cores back to back, one small request',
    `  ${''.padEnd(26)}${KINDS.map((k) => k.padStart(10)).join('')}`,
    `  ${'bytes allocated'.padEnd(26)}${KINDS.map((k) => r[k].bytes.toFixed(0).padStart(10)).join('')}`,
    `  ${'datagrams sent'.padEnd(26)}${KINDS.map((k) => r[k].datagrams.toFixed(2).padStart(10)).join('')}`,
    `  ${'calls into the server'.padEnd(26)}${KINDS.map((k) => r[k].calls.toFixed(1).padStart(10)).join('')}`,
    `  ${'GCs while counting'.padEnd(26)}${KINDS.map((k) => String(r[k].gcs).padStart(10)).join('')}`,
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
    const r = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        `--min-semi-space-size=${SEMI_SPACE_MB}`,
        `--max-semi-space-size=${SEMI_SPACE_MB}`,
        '--expose-gc',
        process.argv[1],
        ...argv,
      ],
      { stdio: 'inherit' },
    );
    process.exit(r.status ?? 1);
  }
  const n = numberFlag(argv, '--connections') ?? 200;
  console.log(format(await run(n)));
  const top = numberFlag(argv, '--sites');
  if (top !== undefined) {
    for (const kind of KINDS) {
      console.log(`top allocation sites inside server calls, ${kind}, bytes per connection (sampled):`);
      for (const line of await sites(kind, Math.min(n, 100), top)) console.log(`  ${line}`);
    }
  }
}
