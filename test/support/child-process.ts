/**
 * Child processes for tests: spawn, collect stdout and stderr as text, and never let a child outlive
 * its bound (SIGKILL after `timeoutMs`, noted in stderr and in `timedOut`). One place for what the
 * CLI, docs, bench, interop and integration tests all need.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Absolute, so that children may run in any directory. */
export const TSX_LOADER = import.meta.resolve('tsx');

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The child was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
  /** Called with the child once spawned (e.g. to kill it from a test's `after`). */
  track?: (child: ChildProcess) => void;
}

/** The text a child writes, so far. */
export interface CollectedOutput {
  stdout(): string;
  stderr(): string;
}

/** Accumulate a child's stdout and stderr (both must be pipes). */
export function collectOutput(child: ChildProcess): CollectedOutput {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  return { stdout: () => out, stderr: () => err };
}

/**
 * Wait for `child` to close; SIGKILL it after `timeoutMs`. Resolves either way (a spawn error, such as
 * a missing binary, ends up in the result's stderr with code null).
 */
export function waitForExit(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; error?: Error }> {
  return new Promise((resolve) => {
    let timedOut = false;
    let error: Error | undefined;
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, timedOut });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      error = err;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, ...(error ? { error } : {}) });
    });
  });
}

/** Run `command args...` to completion, bounded by `timeoutMs`, and collect its output. */
export async function runProcess(
  command: string,
  args: string[],
  opts: RunOptions = {},
): Promise<ProcessResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  opts.track?.(child);
  const output = collectOutput(child);
  const exit = await waitForExit(child, timeoutMs);
  let stderr = output.stderr();
  if (exit.error) stderr += exit.error.message;
  if (exit.timedOut) stderr += `\n(killed after ${timeoutMs} ms: the process did not exit by itself)`;
  return { code: exit.code, signal: exit.signal, stdout: output.stdout(), stderr, timedOut: exit.timedOut };
}

/** Run a TypeScript file (or node arguments) with the tsx loader, like `node --import tsx ARGS...`. */
export function runTsx(args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', TSX_LOADER, ...args], opts);
}
