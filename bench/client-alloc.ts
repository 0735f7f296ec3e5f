/**
 * What a warm tsquic CLIENT makes per connection (issue 13), counted, not timed: V8 heap bytes
 * allocated, async resources created (promises, timers, immediates, sockets) and, optionally, which
 * functions allocate most. Each build (a git ref compiled like bench/handshake-ab.ts does, and the
 * working tree) runs in fresh client processes against one quic-go 0.29 server over real UDP on
 * 127.0.0.1 (every datagram <= 1452 bytes), dialling the way bench/peers/quic-client.ts does: one
 * 32-byte request per connection; resumed and 0-RTT connections wait for the next ticket.
 *
 *   npx tsx bench/client-alloc.ts [--base REF] [--modes full,resumed,0rtt] [--warm N (600)]
 *        [--dials N (200)] [--rounds N (1)] [--top K (0)] [--server go|tsquic]
 *
 * Heap bytes are exact: the child runs with a 256 MiB new space (--min/max-semi-space-size) and a
 * forced GC before the counted dials, so no garbage collection runs while they are counted (the child
 * checks: a GC during the count is reported and the figure dropped) and the growth of V8's used heap
 * is what they allocated. ArrayBuffer backing stores (Buffer contents) live outside the V8 heap and
 * are counted apart (`arrayBuffers`, which only grows without a GC). Async resources come from an
 * async_hooks init hook over a separate set of dials (the hook slows promises, not their number).
 * `--top K` adds a sampling heap profile (objects collected by GC included) of the counted dials and
 * prints the K functions that allocate most, bytes per connection (sampled: indicative).
 *
 * The numbers do not depend on the machine's load: use them to see what a change removes per
 * connection. Printed, never asserted. See bench/README.md.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer } from './compare.js';
import { buildBase } from './handshake-ab.js';
import { buildTsquicJs } from './tsquic-build.js';
import { buildGoPeer, GO_BINARY, REPO_ROOT, writePki } from './udp.js';

type Mode = 'full' | 'resumed' | '0rtt';
type Tsquic = typeof import('../src/index.js');

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** What one child reports for one mode. */
interface ChildReport {
  mode: Mode;
  dials: number;
  heapBytes: number | undefined;
  arrayBufferBytes: number;
  gcsDuringCount: number;
  asyncResources: Record<string, number>;
  /** Per connection, over the async-resource dials: UDP datagrams sent (socket.send calls), and from stats(). */
  datagramsSent: number;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  top: Array<{ fn: string; bytes: number }>;
}

// ------------------------------------------------------------------------------------------ child

/** A session store that can wait for the next ticket (as bench/peers/quic-client.ts's). */
function signallingCache(q: Tsquic) {
  const inner = new q.SessionCache();
  let waiting: (() => void) | undefined;
  let arrived = false;
  return {
    saveSession(s: import('../src/index.js').ResumptionSession) {
      inner.saveSession(s);
      arrived = true;
      waiting?.();
    },
    takeSession: (name: string, now: number) => inner.takeSession(name, now as never),
    saveToken: (server: string, token: Uint8Array) => inner.saveToken(server, token),
    takeToken: (server: string) => inner.takeToken(server),
    reset() {
      arrived = false;
    },
    ticket(): Promise<void> {
      if (arrived) return Promise.resolve();
      return new Promise((resolve) => {
        waiting = () => {
          waiting = undefined;
          resolve();
        };
      });
    },
  };
}

async function child(argv: readonly string[]): Promise<void> {
  const src = option(argv, '--src')!;
  const mode = option(argv, '--mode') as Mode;
  const warm = Number(option(argv, '--warm') ?? 600);
  const dials = Number(option(argv, '--dials') ?? 200);
  const top = Number(option(argv, '--top') ?? 0);
  const [host, port] = option(argv, '--addr')!.split(':') as [string, string];
  // Datagrams sent, counted at the socket (before tsquic is imported, so every socket has it).
  const dgram = await import('node:dgram');
  const proto = dgram.Socket.prototype as unknown as { send: (...a: unknown[]) => unknown };
  const send = proto.send;
  let sends = 0;
  proto.send = function counted(this: unknown, ...a: unknown[]) {
    sends++;
    return send.apply(this, a);
  };
  // --calls: how often some methods of the core and the shell run per connection.
  const calls = new Map<string, number>();
  const countCalls = argv.includes('--calls');
  if (countCalls) {
    const wrap: Array<[string, string, string[]]> = [
      [
        'node/udp-endpoint.js',
        'UdpEndpoint',
        ['flush', 'sendPending', 'armTimer', 'onTimer', 'onMessage', 'scheduleFlush', 'kick'],
      ],
      [
        'endpoint/endpoint.js',
        'Endpoint',
        ['transmit', 'receive', 'nextTimeout', 'handleTimeout', 'markActive'],
      ],
      [
        'connection/connection.js',
        'Connection',
        ['transmitTo', 'receive', 'nextTimeout', 'handleTimeout', 'rearmTimers'],
      ],
      ['connection/connection-sender.js', 'ConnectionSender', ['buildDatagram', 'fillSpace']],
      ['node/connection-handle.js', 'ConnectionHandle', ['drainEvents']],
    ];
    for (const [file, cls, methods] of wrap) {
      const m = (await import(pathToFileURL(join(src, file)).href)) as Record<
        string,
        { prototype: Record<string, unknown> }
      >;
      const proto = m[cls]!.prototype;
      for (const name of methods) {
        const f = proto[name] as ((...a: unknown[]) => unknown) | undefined;
        if (typeof f !== 'function') continue;
        const key = `${cls}.${name}`;
        proto[name] = function counted(this: unknown, ...a: unknown[]) {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return f.apply(this, a);
        };
      }
    }
  }
  // --calls also classifies the UDP driver's timer callbacks: what the earliest connection timer was
  // when it fired, and whether anything was due.
  if (countCalls) {
    const m = (await import(pathToFileURL(join(src, 'node/udp-endpoint.js')).href)) as Record<
      string,
      { prototype: Record<string, unknown> }
    >;
    const proto = m.UdpEndpoint!.prototype;
    const onTimer = proto.onTimer as (this: unknown) => void;
    const TIMERS = [
      'Close',
      'Idle',
      'Handshake',
      'KeyDiscard',
      'PathValidation',
      'LossDetection',
      'KeepAlive',
      'AckDelay',
      'Pacing',
    ];
    proto.onTimer = function classified(this: {
      endpoint: { connections: Set<{ timers: { deadlines: Array<number | undefined> } }> };
      timerAt: number;
    }) {
      const t = performance.timeOrigin + performance.now();
      for (const conn of this.endpoint.connections) {
        const d = conn.timers.deadlines;
        let k = -1;
        for (let i = 0; i < d.length; i++) if (d[i] !== undefined && (k < 0 || d[i]! < d[k]!)) k = i;
        const key =
          k < 0
            ? 'timer fired: no deadline'
            : `timer fired: earliest ${TIMERS[k]} ${d[k]! <= t ? 'due' : 'not due'}`;
        calls.set(key, (calls.get(key) ?? 0) + 1);
      }
      onTimer.call(this);
    };
  }
  const q = (await import(pathToFileURL(join(src, 'index.js')).href)) as Tsquic;
  const target = { host, port: Number(port) };
  const request = Buffer.alloc(32, 'a');
  const cache = signallingCache(q);
  const base = {
    alpn: ['tsquic-bench'],
    serverName: 'localhost',
    ca: readFileSync(option(argv, '--ca')!),
    maxDatagramSize: 1452,
    pmtuDiscoveryMax: 1452,
  };
  const options = mode === 'full' ? base : { ...base, sessionCache: cache };

  const exchange = async (conn: import('../src/index.js').QuicConnection): Promise<void> => {
    const stream = await conn.openStream();
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', () => {});
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.end(request);
    await done;
  };
  const one = async (m: Mode, first = false): Promise<void> => {
    cache.reset();
    let conn: import('../src/index.js').QuicConnection;
    if (m === '0rtt') {
      const early = await q.dialEarly(target, options);
      conn = early;
      await exchange(early);
      await early.handshakeComplete;
      if (!early.used0RTT) throw new Error('0-RTT not used');
    } else {
      conn = await q.dial(target, options);
      await exchange(conn);
      if (m === 'resumed' && !first && !conn.resumed) throw new Error('not resumed');
    }
    if (m !== 'full') await cache.ticket();
    await conn.close();
    const st = conn.stats();
    traffic.packetsSent += st.packetsSent;
    traffic.packetsReceived += st.packetsReceived;
    traffic.packetsLost += st.packetsLost;
  };
  const traffic = { packetsSent: 0, packetsReceived: 0, packetsLost: 0 };
  const loop = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await one(mode);
  };
  // The first ticket comes from a full handshake (with the cache, so the ticket is kept).
  if (mode !== 'full') await one('resumed', true);
  await loop(warm);

  // Async resources by type.
  const { createHook } = await import('node:async_hooks');
  const asyncResources: Record<string, number> = {};
  // --where TYPE: also where resources of TYPE are made (the innermost frame of src/ and its caller).
  const where = option(argv, '--where');
  const sites = new Map<string, number>();
  const hook = createHook({
    init(_id, type) {
      asyncResources[type] = (asyncResources[type] ?? 0) + 1;
      if (type === where) {
        const frames = (new Error().stack ?? '').split('\n').slice(1);
        const i = frames.findIndex((f) => /\/(src|bench)\//.test(f) && !f.includes('client-alloc'));
        const key =
          i < 0
            ? frames.slice(0, 3).join(' <')
            : frames
                .slice(Math.max(0, i - 1), i + 2)
                .map((f) =>
                  f
                    .trim()
                    .replace(/^at /, '')
                    .replace(/\(?file:.*\/(src|bench)\//, '$1/'),
                )
                .join(' < ');
        sites.set(key, (sites.get(key) ?? 0) + 1);
      }
    },
  });
  calls.clear();
  sends = 0;
  traffic.packetsSent = 0;
  traffic.packetsReceived = 0;
  traffic.packetsLost = 0;
  hook.enable();
  await loop(dials);
  hook.disable();
  const datagramsSent = sends / dials;
  for (const [k, v] of calls) process.stderr.write(`${(v / dials).toFixed(2).padStart(7)}  calls of ${k}\n`);
  const packets = { ...traffic };
  for (const k of Object.keys(asyncResources)) asyncResources[k] = asyncResources[k]! / dials;
  for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    process.stderr.write(`${(v / dials).toFixed(2).padStart(6)}  ${k}\n`);
  }

  // Heap bytes, no GC while counting.
  const v8 = await import('node:v8');
  const { PerformanceObserver } = await import('node:perf_hooks');
  let gcs = 0;
  const obs = new PerformanceObserver((l) => {
    gcs += l.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gcs = 0;
  const h0 = v8.getHeapStatistics().used_heap_size;
  const ab0 = process.memoryUsage().arrayBuffers;
  await loop(dials);
  const h1 = v8.getHeapStatistics().used_heap_size;
  const ab1 = process.memoryUsage().arrayBuffers;
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  const gcsDuringCount = gcs;

  // Which functions allocate (sampled, objects collected by GC included).
  const topList: Array<{ fn: string; bytes: number }> = [];
  if (top > 0) {
    const { Session } = await import('node:inspector/promises');
    const s = new Session();
    s.connect();
    await s.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
    await loop(dials);
    const { profile } = (await s.post('HeapProfiler.stopSampling')) as {
      profile: { head: ProfNode };
    };
    const byFn = new Map<string, number>();
    const name = (n: ProfNode): string => {
      const f = n.callFrame;
      const file = f.url.replace(/^.*\/(src|bench)\//, '$1/');
      return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    };
    // Builtins and Node internals are charged to the nearest caller of ours (src/ or bench/), shown
    // as "builtin < caller".
    const walk = (n: ProfNode, ours: string | undefined): void => {
      const own = /(^|\/)(src|bench)\//.test(n.callFrame.url);
      const here = name(n);
      const key = own || ours === undefined ? here : `${here} < ${ours}`;
      if (n.selfSize > 0) byFn.set(key, (byFn.get(key) ?? 0) + n.selfSize);
      for (const c of n.children) walk(c, own ? here : ours);
    };
    walk(profile.head, undefined);
    for (const [fn, bytes] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      topList.push({ fn, bytes: bytes / dials });
    }
  }
  const report: ChildReport = {
    mode,
    dials,
    heapBytes: gcsDuringCount === 0 ? (h1 - h0) / dials : undefined,
    arrayBufferBytes: (ab1 - ab0) / dials,
    gcsDuringCount,
    asyncResources,
    datagramsSent,
    packetsSent: packets.packetsSent / dials,
    packetsReceived: packets.packetsReceived / dials,
    packetsLost: packets.packetsLost / dials,
    top: topList,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

interface ProfNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfNode[];
}

// ------------------------------------------------------------------------------------------ parent

function runChild(args: string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--min-semi-space-size=256',
        '--max-semi-space-size=256',
        '--import',
        'tsx',
        join(REPO_ROOT, 'bench', 'client-alloc.ts'),
        '--child',
        ...args,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), 300_000);
    c.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`child failed (${code}): ${err.trim()}`));
      else {
        if (err.trim()) console.log(err.trimEnd());
        resolve(JSON.parse(line) as ChildReport);
      }
    });
  });
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined ? 'GC!' : n.toFixed(digits);
}

async function parent(argv: readonly string[]): Promise<void> {
  const modes = (option(argv, '--modes') ?? 'full,resumed,0rtt').split(',') as Mode[];
  const warm = option(argv, '--warm') ?? '600';
  const dials = option(argv, '--dials') ?? '200';
  const rounds = Number(option(argv, '--rounds') ?? 1);
  const top = option(argv, '--top') ?? '0';
  const where = option(argv, '--where');
  const baseRef = option(argv, '--base');
  const serverKind = option(argv, '--server') ?? 'go';
  const pki = writePki();
  if (serverKind === 'go') {
    const problem = buildGoPeer();
    if (problem) throw new Error(problem);
  }
  const builds: Array<[string, string]> = [];
  if (baseRef) builds.push([`A ${baseRef}`, join(buildBase(baseRef).dir, 'src')]);
  builds.push(['B tree', join(buildTsquicJs(), 'src')]);
  const server = await startServer(
    serverKind === 'go'
      ? { file: GO_BINARY, args: ['server', '-cert', pki.cert, '-key', pki.key, '-idle-timeout', '600000ms'] }
      : {
          file: process.execPath,
          args: [
            join(buildTsquicJs(), 'bench', 'peers', 'quic-server.js'),
            '--cert',
            pki.cert,
            '--key',
            pki.key,
            '--max-datagram-size',
            '1452',
          ],
        },
  );
  try {
    console.log(
      `server ${serverKind} at ${server.address}; ${warm} warm-up dials, ${dials} counted per figure`,
    );
    for (let r = 0; r < rounds; r++) {
      for (const mode of modes) {
        for (const [label, src] of builds) {
          const rep = await runChild([
            '--src',
            src,
            '--mode',
            mode,
            '--warm',
            warm,
            '--dials',
            dials,
            '--top',
            top,
            '--addr',
            server.address,
            '--ca',
            pki.ca,
            ...(where ? ['--where', where] : []),
            ...(argv.includes('--calls') ? ['--calls'] : []),
          ]);
          const asyncs = Object.entries(rep.asyncResources)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${v.toFixed(2)}`)
            .join(', ');
          console.log(
            `${mode.padEnd(7)} ${label.padEnd(14)} heap ${fmt(rep.heapBytes)} B/conn, arrayBuffers ${fmt(
              rep.arrayBufferBytes,
            )} B/conn; async per conn: ${asyncs}  (load ${loadavg()[0]!.toFixed(2)})`,
          );
          console.log(
            `${''.padEnd(22)} datagrams sent ${rep.datagramsSent.toFixed(2)}, packets sent ${rep.packetsSent.toFixed(2)}, received ${rep.packetsReceived.toFixed(2)}, lost ${rep.packetsLost.toFixed(3)} per conn`,
          );
          for (const t of rep.top) console.log(`    ${t.bytes.toFixed(0).padStart(7)} B  ${t.fn}`);
        }
      }
    }
  } finally {
    await server.stop();
  }
}

const argv = process.argv.slice(2);
if (argv.includes('--child')) await child(argv);
else await parent(argv);
