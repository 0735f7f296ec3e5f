/**
 * Harness for the quic-go 0.29 interop peers in interop/ (see interop/README.md): builds them once per
 * process, runs the Go server and client as child processes and parses what they report (one JSON
 * object per stdout line). Every wait is bounded, and every child is killed when its test ends (the
 * caller's `stop()` / `t.after`), when `killAllGoPeers()` runs, or at the latest when this process exits;
 * the server also exits by itself when its stdin (a pipe from this process) closes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestPki } from '../../src/tls/x509-builder.js';
import { type ProcessResult, runProcess as runChild } from '../support/child-process.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INTEROP_DIR = join(REPO_ROOT, 'interop');
const BUILD_TIMEOUT_MS = 300_000;

/** One line of a Go peer's JSON output: `event` names it; the other fields depend on it (README.md). */
export interface GoEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface GoPeers {
  server: string;
  client: string;
}

// ---------------------------------------------------------------------------------------------------
// Building

let peers: Promise<GoPeers> | undefined;

/**
 * Builds interop/bin/{server,client} with interop/build.sh, once per process; skipped when both binaries
 * are newer than every source file. Rejects with build.sh's explanation when `go` or the quic-go
 * sources are missing, so that interop tests fail (never skip) on a machine without them.
 */
export function ensureGoPeers(): Promise<GoPeers> {
  peers ??= buildGoPeers();
  return peers;
}

async function buildGoPeers(): Promise<GoPeers> {
  const bins = { server: join(INTEROP_DIR, 'bin', 'server'), client: join(INTEROP_DIR, 'bin', 'client') };
  if (await binariesUpToDate([bins.server, bins.client])) return bins;
  const run = await runProcess('bash', [join(INTEROP_DIR, 'build.sh')], BUILD_TIMEOUT_MS);
  if (run.code !== 0) {
    const why = run.timedOut ? `timed out after ${BUILD_TIMEOUT_MS} ms` : `exit code ${run.code}`;
    throw new Error(
      `The quic-go interop peers could not be built (interop/build.sh: ${why}). The interop tests need ` +
        `the Debian packages golang-go and golang-github-lucas-clemente-quic-go-dev.\n${run.stderr}${run.stdout}`,
    );
  }
  return bins;
}

async function binariesUpToDate(binaries: string[]): Promise<boolean> {
  let oldestBinary = Number.POSITIVE_INFINITY;
  for (const bin of binaries) {
    const st = await stat(bin).catch(() => undefined);
    if (!st) return false;
    oldestBinary = Math.min(oldestBinary, st.mtimeMs);
  }
  const sources = [join(INTEROP_DIR, 'build.sh')];
  for (const dir of ['server', 'client', 'peerkit']) {
    for (const name of await readdir(join(INTEROP_DIR, dir))) {
      if (name.endsWith('.go')) sources.push(join(INTEROP_DIR, dir, name));
    }
  }
  for (const src of sources) {
    if ((await stat(src)).mtimeMs >= oldestBinary) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Child processes

const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** Kills every Go peer this process started that is still running (SIGKILL) and waits for them. */
export async function killAllGoPeers(): Promise<void> {
  await Promise.all([...liveChildren].map((child) => killAndWait(child, 0)));
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited (or, should even SIGKILL
 * not be reported, 5 s later: a stop never hangs).
 */
function killAndWait(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((done) => {
    const timers = [setTimeout(() => child.kill('SIGKILL'), graceMs), setTimeout(finish, graceMs + 5000)];
    function finish(): void {
      for (const t of timers) clearTimeout(t);
      done();
    }
    child.once('exit', finish);
    child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  });
}

function runProcess(command: string, args: string[], timeoutMs: number): Promise<ProcessResult> {
  return runChild(command, args, { timeoutMs, track });
}

/** Splits a stream into lines and hands each complete line to `onLine`. */
function onLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  });
}

/** Parses one output line; undefined when it is not a JSON event. */
export function parseGoEvent(line: string): GoEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && typeof (value as GoEvent).event === 'string') {
      return value as GoEvent;
    }
  } catch {
    // not JSON: ignored like any other text
  }
  return undefined;
}

function parseGoEvents(stdout: string): GoEvent[] {
  const events: GoEvent[] = [];
  for (const line of stdout.split('\n')) {
    const event = parseGoEvent(line);
    if (event) events.push(event);
  }
  return events;
}

// ---------------------------------------------------------------------------------------------------
// Certificates and files

export interface TestPkiFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export const DEFAULT_CERT_NAMES = ['localhost', '127.0.0.1', '::1'];

/** A test CA and a server certificate for `names` (createTestPki), written as PEM files into `dir`. */
export function writeTestPki(dir: string, names: string[] = DEFAULT_CERT_NAMES): TestPkiFiles {
  const { ca, leaf } = createTestPki({ names, now: Date.now() });
  const files = {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    caPem: ca.certPem,
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
  };
  writeFileSync(files.caFile, files.caPem);
  writeFileSync(files.certFile, files.certPem);
  writeFileSync(files.keyFile, files.keyPem, { mode: 0o600 });
  return files;
}

/** A fresh temporary directory. */
export function makeTempDir(prefix = 'tsquic-interop-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a directory made by makeTempDir. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic bytes (xorshift32 from `seed`): the same size and seed always give the same file. */
export function patternBytes(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes `size` pattern bytes to dir/name and returns their SHA-256 (hex). */
export async function writeTestFile(dir: string, name: string, size: number, seed = 1): Promise<string> {
  const data = patternBytes(size, seed);
  await writeFile(join(dir, name), data);
  return sha256Hex(data);
}

// ---------------------------------------------------------------------------------------------------
// The Go server

export interface GoServerOptions {
  /** UDP address; default 127.0.0.1:0 (any free port). */
  listen?: string;
  /** Serve this directory over HTTP/0.9 (ALPN hq-interop). */
  root?: string;
  /** Echo every bidirectional stream (ALPN echo). With `root` too, both ALPNs are offered. */
  echo?: boolean;
  /** Send a Retry to every new client. */
  retry?: boolean;
  /** Early listener: 0-RTT accepted. */
  zeroRtt?: boolean;
  /** Early listener with a fresh ticket key per ClientHello: resumption and 0-RTT always fail. */
  reject0Rtt?: boolean;
  /** Fixed session ticket key (32 bytes or 64 hex digits), to share tickets between two servers. */
  ticketKey?: string | Uint8Array;
  maxStreams?: number;
  maxUniStreams?: number;
  /** Fixed stream / connection receive windows in bytes (initial = maximum, no auto-tuning). */
  streamWindow?: number;
  connWindow?: number;
  keylog?: string;
  /** Only TLS_CHACHA20_POLY1305_SHA256. */
  chacha?: boolean;
  /** Initiate a key update every N packets. */
  keyUpdate?: number;
  /** Received frame types to report (default RESET_STREAM and STOP_SENDING), or 'all'. */
  frames?: string[] | 'all';
  idleTimeoutMs?: number;
  /** Certificate files; default: a fresh test PKI in the server's temporary directory. */
  pki?: TestPkiFiles;
  /** Appended to the command line as is. */
  extraArgs?: string[];
  /** How long to wait for the LISTENING line; default 15 s. */
  startTimeoutMs?: number;
}

export interface GoServer {
  readonly address: { host: string; port: number };
  readonly pki: TestPkiFiles;
  /** Every JSON event so far, in order. */
  readonly events: readonly GoEvent[];
  /** https://host:port/path for this server (IPv6 hosts bracketed). */
  url(path?: string): string;
  /** The first event (past or future) matching `pred`; rejects after `timeoutMs` or if the server exits. */
  waitFor(pred: (e: GoEvent) => boolean, timeoutMs?: number): Promise<GoEvent>;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM (SIGKILL after 3 s), waits for the exit and removes the server's temporary directory. */
  stop(): Promise<void>;
}

function serverArgs(o: GoServerOptions, pki: TestPkiFiles): string[] {
  const args = ['-listen', o.listen ?? '127.0.0.1:0', '-cert', pki.certFile, '-key', pki.keyFile];
  args.push('-exit-on-stdin-close');
  if (o.root !== undefined) args.push('-root', o.root);
  if (o.echo) args.push('-echo');
  if (o.retry) args.push('-retry');
  if (o.zeroRtt) args.push('-0rtt');
  if (o.reject0Rtt) args.push('-reject-0rtt');
  if (o.ticketKey !== undefined) {
    const hex = typeof o.ticketKey === 'string' ? o.ticketKey : Buffer.from(o.ticketKey).toString('hex');
    args.push('-ticket-key', hex);
  }
  if (o.maxStreams !== undefined) args.push('-max-streams', String(o.maxStreams));
  if (o.maxUniStreams !== undefined) args.push('-max-uni-streams', String(o.maxUniStreams));
  if (o.streamWindow !== undefined) args.push('-stream-window', String(o.streamWindow));
  if (o.connWindow !== undefined) args.push('-conn-window', String(o.connWindow));
  if (o.keylog !== undefined) args.push('-keylog', o.keylog);
  if (o.chacha) args.push('-chacha');
  if (o.keyUpdate !== undefined) args.push('-key-update', String(o.keyUpdate));
  if (o.frames !== undefined) args.push('-frames', o.frames === 'all' ? 'all' : o.frames.join(','));
  if (o.idleTimeoutMs !== undefined) args.push('-idle-timeout', `${o.idleTimeoutMs}ms`);
  args.push(...(o.extraArgs ?? []));
  return args;
}

interface Waiter {
  pred: (e: GoEvent) => boolean;
  resolve: (e: GoEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class GoServerProcess implements GoServer {
  address = { host: '', port: 0 };
  readonly events: GoEvent[] = [];
  private stderrText = '';
  private readonly waiters = new Set<Waiter>();
  private exitInfo: string | undefined;
  private stopping: Promise<void> | undefined;
  private readonly ready: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    readonly pki: TestPkiFiles,
    private readonly tempDir: string | undefined,
    startTimeoutMs: number,
  ) {
    track(child);
    this.ready = new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(() => {
        rejectReady(
          new Error(`the Go server did not print LISTENING within ${startTimeoutMs} ms${this.tail()}`),
        );
        child.kill('SIGKILL');
      }, startTimeoutMs);
      if (child.stdout) {
        onLines(child.stdout, (line) => {
          const m = /^LISTENING (\S+):(\d+)$/.exec(line);
          if (m) {
            this.address = { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
            clearTimeout(timer);
            resolveReady();
            return;
          }
          const event = parseGoEvent(line);
          if (event) this.push(event);
        });
      }
      child.stderr?.setEncoding('utf8').on('data', (s: string) => {
        this.stderrText += s;
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        rejectReady(new Error(`the Go server could not be started: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        rejectReady(new Error(`the Go server exited (${this.exitInfo}) before listening${this.tail()}`));
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(new Error(`the Go server exited (${this.exitInfo})${this.tail()}`));
        }
        this.waiters.clear();
      });
    });
  }

  started(): Promise<void> {
    return this.ready;
  }

  url(path = '/'): string {
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `https://${host}:${this.address.port}${path.startsWith('/') ? path : `/${path}`}`;
  }

  stderr(): string {
    return this.stderrText;
  }

  waitFor(pred: (e: GoEvent) => boolean, timeoutMs = 10_000): Promise<GoEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    if (this.exitInfo)
      return Promise.reject(new Error(`the Go server exited (${this.exitInfo})${this.tail()}`));
    return new Promise((resolveWait, rejectWait) => {
      const waiter: Waiter = {
        pred,
        resolve: resolveWait,
        reject: rejectWait,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          rejectWait(new Error(`no matching event from the Go server within ${timeoutMs} ms${this.tail()}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  stop(): Promise<void> {
    this.stopping ??= killAndWait(this.child, 3000).then(() => {
      if (this.tempDir) removeDir(this.tempDir);
    });
    return this.stopping;
  }

  private push(event: GoEvent): void {
    this.events.push(event);
    for (const w of this.waiters) {
      if (w.pred(event)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(event);
      }
    }
  }

  /** The last events and stderr lines, for error messages. */
  private tail(): string {
    const events = this.events.slice(-10).map((e) => JSON.stringify(e));
    const stderr = this.stderrText.split('\n').slice(-10).join('\n');
    return `\n  last events:\n    ${events.join('\n    ') || '(none)'}\n  stderr:\n${stderr || '(empty)'}`;
  }
}

/** Waits until `count` events (past or future) have matched `pred`; resolves with the last one. */
export function waitForCount(
  server: GoServer,
  pred: (e: GoEvent) => boolean,
  count: number,
  timeoutMs = 10_000,
): Promise<GoEvent> {
  let matched = 0;
  return server.waitFor((e) => pred(e) && ++matched === count, timeoutMs);
}

/**
 * Starts interop/bin/server and waits until it listens. Call `stop()` when done (or use
 * `startGoServerFor(t, ...)`, which does it when the test ends, also on failure).
 */
export async function startGoServer(opts: GoServerOptions = {}): Promise<GoServer> {
  const { server: bin } = await ensureGoPeers();
  let tempDir: string | undefined;
  let pki = opts.pki;
  if (!pki) {
    tempDir = makeTempDir('tsquic-go-server-');
    pki = writeTestPki(tempDir);
  }
  // stdin stays an open pipe: the server exits when it closes (-exit-on-stdin-close), i.e. when this
  // process dies without having killed it.
  const child = spawn(bin, serverArgs(opts, pki), { stdio: ['pipe', 'pipe', 'pipe'] });
  const server = new GoServerProcess(child, pki, tempDir, opts.startTimeoutMs ?? 15_000);
  try {
    await server.started();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** startGoServer, stopped automatically when the test `t` ends. */
export async function startGoServerFor(t: TestContext, opts: GoServerOptions = {}): Promise<GoServer> {
  const server = await startGoServer(opts);
  t.after(() => server.stop());
  return server;
}

// ---------------------------------------------------------------------------------------------------
// The Go client

export interface GoClientResult {
  /** Exit code; null when killed. 0 means every file / echo arrived whole. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the harness had to kill the client at `timeoutMs`. */
  timedOut: boolean;
  events: GoEvent[];
  stdout: string;
  stderr: string;
}

/**
 * Runs interop/bin/client with `args` (flags first, then URLs) and collects its events. The client is
 * given its own -timeout a little below `timeoutMs` (so it reports the timeout itself); the harness
 * kills it at `timeoutMs` in any case.
 */
export async function runGoClient(args: string[], timeoutMs = 60_000): Promise<GoClientResult> {
  const { client: bin } = await ensureGoPeers();
  const ownTimeout = Math.max(1000, timeoutMs - 2000);
  const run = await runProcess(bin, ['-timeout', `${ownTimeout}ms`, ...args], timeoutMs);
  return { ...run, events: parseGoEvents(run.stdout) };
}

/** A one-paragraph account of a client run, for assertion messages. */
export function describeClientRun(r: GoClientResult): string {
  const how = r.timedOut ? 'killed after timeout' : r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
  return `Go client: ${how}\n  stdout:\n${r.stdout}\n  stderr:\n${r.stderr}`;
}
