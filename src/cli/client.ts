/**
 * `tsquic client`: fetch files over HTTP/0.9 (hq-interop) on one QUIC connection, in parallel
 * streams, optionally resuming from a session file and sending the requests as 0-RTT.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fetchHq } from '../hq/hq-client.js';
import { HQ_BAD_REQUEST, HQ_INTERNAL_ERROR, HQ_NOT_FOUND } from '../hq/hq-server.js';
import { type ClientOptions, type QuicConnection, SessionCache, StreamResetError } from '../index.js';
import {
  EXIT_FAILURE,
  type FetchPlan,
  type FetchTarget,
  parseAlpn,
  parseOrUsage,
  parseUrls,
  UsageError,
} from './args.js';
import { connectAndRun, type HandshakeKind } from './connect.js';
import { formatBytes, formatDuration, formatRate, oneLine } from './format.js';
import { fetchH3 } from './h3-client.js';
import { ProgressBar } from './progress.js';
import { TicketWatch } from './ticket-watch.js';

export const CLIENT_HELP = `Usage: tsquic client [options] URL...

Fetch every https://HOST:PORT/PATH URL over HTTP/0.9 (ALPN hq-interop) or HTTP/3 (--alpn h3) on
one QUIC connection, in parallel streams. All URLs must name the same HOST:PORT. Each file is saved
in the output directory under the last segment of its path. Exits 0 only when every file arrived
whole (and, over HTTP/3, every status was 2xx).

Options:
  --ca FILE            trust the CA certificate(s) in this PEM file (default: Node's root store)
  --insecure           do not verify the server's certificate (testing only)
  --session-file FILE  load session tickets from FILE if it exists, save them to it afterwards
                       (mode 0600: it holds secrets)
  --0rtt               send the requests as 0-RTT when a saved ticket allows it; reports whether
                       the server accepted or rejected them (rejected requests are repeated)
  --output DIR         where to save the files (default: .)
  --alpn PROTO         hq-interop (default) or h3 (HTTP/3: prints the status of every URL)
  --keylog FILE        append TLS secrets to FILE (NSS key log format, for Wireshark)
  --qlog-dir DIR       write a qlog file (JSON-SEQ) per connection into DIR (created if missing)
  -h, --help           show this help

The last line printed is a summary: files, bytes, time, goodput and the kind of handshake
(full, resumed, 0-RTT accepted or 0-RTT rejected).
`;

/** How long to wait for a session ticket after the transfers, when there is a session file to fill. */
const TICKET_WAIT = 200;

interface ClientArgs {
  plan: FetchPlan;
  options: ClientOptions;
  early: boolean;
  sessionFile: string | undefined;
  outDir: string;
  /** PEM file of trusted CAs (read when the command runs). */
  caFile: string | undefined;
  urls: string[];
}

function parseClientArgs(argv: string[]): ClientArgs | 'help' {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ca: { type: 'string' },
        insecure: { type: 'boolean' },
        'session-file': { type: 'string' },
        '0rtt': { type: 'boolean' },
        keylog: { type: 'string' },
        'qlog-dir': { type: 'string' },
        output: { type: 'string' },
        alpn: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return 'help';
  if (values.ca !== undefined && values.insecure) throw new UsageError('--ca and --insecure are exclusive');
  const plan = parseUrls(positionals);
  if (values.alpn !== undefined && values.alpn !== 'hq-interop' && values.alpn !== 'h3') {
    throw new UsageError(`--alpn: hq-interop or h3, got ${JSON.stringify(values.alpn)}`);
  }
  const options: ClientOptions = {
    alpn: [parseAlpn(values.alpn, 'hq-interop')],
    serverName: plan.serverName,
    ...(values.insecure ? { insecureSkipVerify: true } : {}),
    ...(values.keylog !== undefined ? { keylog: values.keylog } : {}),
    ...(values['qlog-dir'] !== undefined ? { qlogDir: values['qlog-dir'] } : {}),
  };
  return {
    plan,
    options,
    early: values['0rtt'] === true,
    sessionFile: values['session-file'],
    outDir: resolve(values.output ?? '.'),
    caFile: values.ca,
    urls: positionals,
  };
}

export async function runClient(argv: string[]): Promise<number> {
  const parsed = parseClientArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(CLIENT_HELP);
    return 0;
  }
  const { plan, options, early, sessionFile, outDir, caFile, urls } = parsed;
  try {
    if (caFile !== undefined) options.ca = await readInput(caFile, '--ca');
    await mkdir(outDir, { recursive: true });
    const cache = sessionFile !== undefined ? await loadSessions(sessionFile) : new SessionCache();
    const watch = new TicketWatch(cache);
    options.sessionCache = watch;
    try {
      if (options.alpn[0] === 'h3') {
        const { alpn: _a, serverName: _n, sessionCache: _c, ...client } = options;
        return await fetchH3({
          plan,
          urls,
          client,
          early,
          outDir,
          watch,
          wantTicket: sessionFile !== undefined,
        });
      }
      return await fetchPlan(plan, options, early, outDir, watch, sessionFile !== undefined);
    } finally {
      if (sessionFile !== undefined) await saveSessions(sessionFile, cache);
    }
  } catch (err) {
    process.stderr.write(`tsquic client: error: ${oneLine(err)}\n`);
    return EXIT_FAILURE;
  }
}

async function fetchPlan(
  plan: FetchPlan,
  options: ClientOptions,
  early: boolean,
  outDir: string,
  watch: TicketWatch,
  wantTicket: boolean,
): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  options.signal = abort.signal;
  const progress = process.stdout.isTTY
    ? new ProgressBar(process.stdout, plan.targets.length, () => performance.now())
    : undefined;
  const start = performance.now();
  try {
    const { conn, kind, result } = await connectAndRun(
      { host: plan.host, port: plan.port },
      options,
      early,
      (c) => fetchAll(c, plan.targets, outDir, progress),
      {
        onHandshake: (k) => {
          if (!early) return;
          progress?.clear();
          process.stdout.write(`${verdict(k, plan.targets.length)}\n`);
        },
      },
    );
    const elapsed = performance.now() - start;
    progress?.clear();
    if (wantTicket) await watch.waitForTicket(TICKET_WAIT);
    await conn.close();
    process.stdout.write(`${summary(plan.targets.length, result, elapsed, kind)}\n`);
    return 0;
  } catch (err) {
    progress?.clear();
    if (abort.signal.aborted) throw new Error('interrupted');
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

function verdict(kind: HandshakeKind, n: number): string {
  switch (kind) {
    case '0-RTT accepted':
      return '0-RTT accepted: the requests went out with the first flight';
    case '0-RTT rejected':
      return `0-RTT rejected: repeating ${n} request${n === 1 ? '' : 's'} on a new connection`;
    default:
      return `0-RTT not attempted (no session ticket allowing early data): ${kind} handshake`;
  }
}

export function summary(files: number, bytes: number, ms: number, kind: HandshakeKind): string {
  return (
    `${files} file${files === 1 ? '' : 's'}, ${formatBytes(bytes)} in ${formatDuration(ms)}, ` +
    `${formatRate(bytes, ms)} goodput, handshake: ${kind}`
  );
}

/** Fetch every target on `conn`, in parallel; resolves with the total bytes, or rejects with the first failure. */
async function fetchAll(
  conn: QuicConnection,
  targets: FetchTarget[],
  outDir: string,
  progress: ProgressBar | undefined,
): Promise<number> {
  // allSettled: every stream of this run is finished before a failure is reported (and before a
  // rejected 0-RTT run is repeated), so no two runs write the same file at once.
  const results = await Promise.allSettled(targets.map((t) => fetchFile(conn, t, outDir, progress)));
  let total = 0;
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    total += r.value;
  }
  return total;
}

/** Fetch one file into `outDir` through a .part file, renamed only when the stream ended with FIN. */
async function fetchFile(
  conn: QuicConnection,
  target: FetchTarget,
  outDir: string,
  progress: ProgressBar | undefined,
): Promise<number> {
  const file = join(outDir, target.name);
  const part = `${file}.part`;
  let seen = 0;
  try {
    const bytes = await fetchHq(conn, target.path, createWriteStream(part), (n) => {
      progress?.add(n - seen);
      seen = n;
    });
    await rename(part, file);
    progress?.fileDone();
    return bytes;
  } catch (err) {
    await rm(part, { force: true });
    throw new FetchError(target.path, err);
  }
}

/** A failed request, named by its path, with the hq error code spelled out. */
class FetchError extends Error {
  constructor(
    path: string,
    override readonly cause: unknown,
  ) {
    super(`${path}: ${describeFailure(cause)}`);
  }
}

function describeFailure(err: unknown): string {
  if (err instanceof StreamResetError && err.kind === 'reset') {
    const what: Record<number, string> = {
      [HQ_NOT_FOUND]: 'not found (or outside the server root)',
      [HQ_BAD_REQUEST]: 'bad request',
      [HQ_INTERNAL_ERROR]: 'server error',
    };
    return `refused by the server: ${what[err.errorCode] ?? 'stream reset'} (code 0x${err.errorCode.toString(16)})`;
  }
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE') return 'the response ended before the server finished it';
  return oneLine(err);
}

async function readInput(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${flag} ${file}: ${oneLine(err)}`);
  }
}

/** The session cache stored in `file`, or an empty one when the file does not exist yet. */
async function loadSessions(file: string): Promise<SessionCache> {
  try {
    return SessionCache.import(await readFile(file));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return new SessionCache();
    throw new Error(`cannot read --session-file ${file}: ${oneLine(err)}`);
  }
}

/** Replace `file` atomically with the cache's content, readable by the owner only (it holds secrets). */
async function saveSessions(file: string, cache: SessionCache): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, cache.export(), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
