/**
 * Helpers for the CLI tests: run `tsquic` as a child process (node --import tsx src/cli/main.ts),
 * make temporary directories with generated certificates, and a UDP tap that forwards datagrams
 * while recording their headers. Every child is killed if a test leaves it running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPki } from '../../src/index.js';
import { collectOutput, TSX_LOADER, waitForExit } from '../support/child-process.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = TSX_LOADER;

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** Kill every child still running and remove the temporary directories (call from `after`). */
export function cleanup(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[], cwd?: string, preload: string[] = []): ChildProcess {
  const imports = preload.flatMap((p) => ['--import', p]);
  const child = spawn(process.execPath, ['--import', TSX, ...imports, MAIN, ...args], {
    cwd: cwd ?? process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  const output = collectOutput(child);
  return { out: output.stdout, err: output.stderr };
}

/** Wait for a child to exit; SIGKILL it and reject after `timeoutMs`. */
async function waitExit(
  child: ChildProcess,
  timeoutMs: number,
  what: string,
): Promise<[number | null, NodeJS.Signals | null]> {
  const exit = await waitForExit(child, timeoutMs);
  if (exit.timedOut) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
  return [exit.code, exit.signal];
}

/** Run `tsquic ARGS...` to completion (bounded by `timeoutMs`). */
export async function runCli(
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; preload?: string[] } = {},
): Promise<CliResult> {
  const child = spawnCli(args, opts.cwd, opts.preload);
  const io = collect(child);
  const [code, signal] = await waitExit(child, opts.timeoutMs ?? 30_000, `tsquic ${args.join(' ')}`);
  return { code, signal, stdout: io.out(), stderr: io.err() };
}

export interface RunningServer {
  port: number;
  /** Output so far. */
  stdout(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<CliResult>;
}

/** Start `tsquic server ARGS...` and wait for its "listening on HOST:PORT" line. */
export async function startCliServer(args: string[], timeoutMs = 20_000): Promise<RunningServer> {
  const child = spawnCli(['server', ...args]);
  const io = collect(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${io.out()} ${io.err()}`));
    }, timeoutMs);
    const check = () => {
      const m = /listening on \S+:(\d+)/.exec(io.out());
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited: ${io.out()} ${io.err()}`));
    });
  });
  return {
    port,
    stdout: io.out,
    async stop() {
      child.kill('SIGTERM');
      const [code, signal] = await waitExit(child, 15_000, 'server shutdown');
      return { code, signal, stdout: io.out(), stderr: io.err() };
    },
  };
}

export interface Fixture {
  dir: string;
  cert: string;
  key: string;
  ca: string;
  root: string;
  /** Files written under root, by name. */
  files: Map<string, Buffer>;
  /** A fresh, empty output directory. */
  out(): string;
}

let pki: ReturnType<typeof createTestPki> | undefined;

/** A temporary directory with a certificate for localhost/127.0.0.1, its CA, and `files` under root/. */
export function makeFixture(files: Record<string, number>): Fixture {
  pki ??= createTestPki({ names: ['localhost', '127.0.0.1'], now: Date.now() });
  const dir = mkdtempSync(join(tmpdir(), 'tsquic-cli-'));
  dirs.push(dir);
  const f: Fixture = {
    dir,
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
    ca: join(dir, 'ca.pem'),
    root: join(dir, 'root'),
    files: new Map(),
    out: () => mkdtempSync(join(dir, 'out-')),
  };
  writeFileSync(f.cert, pki.leaf.certPem);
  writeFileSync(f.key, pki.leaf.keyPem, { mode: 0o600 });
  writeFileSync(f.ca, pki.ca.certPem);
  mkdirSync(f.root);
  for (const [name, size] of Object.entries(files)) {
    const data = randomBytes(size);
    writeFileSync(join(f.root, name), data);
    f.files.set(name, data);
  }
  return f;
}

export function serverArgs(f: Fixture, ...extra: string[]): string[] {
  return ['--listen', '127.0.0.1:0', '--cert', f.cert, '--key', f.key, '--root', f.root, ...extra];
}

export function urls(port: number, ...paths: string[]): string[] {
  return paths.map((p) => `https://127.0.0.1:${port}/${p}`);
}

/** A datagram seen by the tap. */
export interface TappedDatagram {
  fromClient: boolean;
  bytes: Buffer;
}

/** A UDP forwarder to 127.0.0.1:`targetPort` that records every datagram both ways (one client). */
export async function startTap(targetPort: number) {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  front.bind(0, '127.0.0.1');
  back.bind(0, '127.0.0.1');
  await Promise.all([once(front, 'listening'), once(back, 'listening')]);
  const seen: TappedDatagram[] = [];
  let client: RemoteInfo | undefined;
  front.on('message', (msg, from) => {
    client = from;
    seen.push({ fromClient: true, bytes: msg });
    back.send(msg, targetPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    seen.push({ fromClient: false, bytes: msg });
    if (client) front.send(msg, client.port, client.address);
  });
  return {
    port: front.address().port,
    seen,
    close() {
      front.close();
      back.close();
    },
  };
}

/** RFC 9000 §17.2.5: a QUIC v1 Retry packet (long header, type 3). */
export function isRetry(d: Buffer): boolean {
  return d.length > 5 && (d[0]! & 0x80) !== 0 && (d[0]! & 0x30) >> 4 === 3 && d.readUInt32BE(1) === 1;
}
