/**
 * Runs `tsquic audit-0rtt` as a child process (node --import tsx src/cli/main.ts) for the interop
 * tests: server mode, waiting for its "listening on" line, then for its report. Every child is killed
 * by `killAudits()` and when this process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AuditReport } from '../../src/audit/report.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function killAudits(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

export interface AuditRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The --json report. */
  report: AuditReport;
}

export interface RunningAudit {
  port: number;
  /** The exit and report (bounded by `timeoutMs`: the child is killed and this rejects). */
  result(timeoutMs?: number): Promise<AuditRun>;
}

/** Starts `tsquic audit-0rtt ARGS... --json` and waits (bounded) until it listens. */
export async function startAudit(args: string[], timeoutMs = 30_000): Promise<RunningAudit> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'audit-0rtt', ...args, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`audit-0rtt did not start: ${stderr}`));
    }, timeoutMs);
    const check = () => {
      const m = /listening on \S+:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stderr!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`audit-0rtt exited before listening: ${stderr}`));
    });
  });
  return {
    port,
    async result(limit = 60_000) {
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`audit-0rtt did not finish within ${limit} ms: ${stderr}`));
          }, limit);
        }),
      ]).finally(() => clearTimeout(timer));
      let report: AuditReport;
      try {
        report = JSON.parse(stdout) as AuditReport;
      } catch {
        throw new Error(`audit-0rtt printed no JSON report (exit ${code}): ${stdout}\n${stderr}`);
      }
      return { code, stdout, stderr, report };
    },
  };
}
