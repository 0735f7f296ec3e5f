/**
 * The audit report: per audited peer, each check's verdict with its evidence, as a table for people
 * or JSON for machines (`--json`). Exit status: 0 only if no exercised check failed.
 */
import { type CheckResult, exitStatus } from './check-result.js';

export interface PeerReport {
  /** 'client' when a client was audited (server mode), 'server' when a server was (client mode). */
  peer: 'client' | 'server';
  /** The client's address or the server's URL. */
  target: string;
  alpn: string;
  checks: CheckResult[];
  /** Facts about the run worth knowing when reading the verdicts. */
  notes: string[];
}

export interface AuditReport {
  tool: 'tsquic audit-0rtt';
  mode: 'server' | 'client';
  peers: PeerReport[];
  /** PASS when nothing failed, FAIL otherwise (NOT-EXERCISED checks do not fail an audit). */
  result: 'PASS' | 'FAIL';
  exitStatus: number;
}

export function buildReport(mode: 'server' | 'client', peers: PeerReport[]): AuditReport {
  const status = exitStatus(peers.flatMap((p) => p.checks));
  return {
    tool: 'tsquic audit-0rtt',
    mode,
    peers,
    result: status === 0 ? 'PASS' : 'FAIL',
    exitStatus: status,
  };
}

const MARK: Record<CheckResult['verdict'], string> = {
  PASS: 'PASS         ',
  FAIL: 'FAIL         ',
  'NOT-EXERCISED': 'NOT-EXERCISED',
};

/** The report as text, one block per audited peer. */
export function formatReport(r: AuditReport): string {
  const lines: string[] = [];
  if (r.peers.length === 0) lines.push('no peer was audited');
  for (const p of r.peers) {
    lines.push(`${p.peer === 'client' ? 'client' : 'server'} ${p.target} (ALPN ${p.alpn || 'none'})`);
    for (const n of p.notes) lines.push(`  note: ${n}`);
    for (const c of p.checks) {
      lines.push(`  ${MARK[c.verdict]}  ${c.id}. ${c.name}: ${c.title}`);
      lines.push(`                   ${c.summary}`);
      for (const e of c.evidence) {
        const where = [e.packet, e.frame].filter(Boolean).join(': ');
        lines.push(`                   - ${where ? `${where} -- ` : ''}${e.note}`);
      }
    }
  }
  const all = r.peers.flatMap((p) => p.checks);
  const count = (v: CheckResult['verdict']) => all.filter((c) => c.verdict === v).length;
  lines.push(
    `result: ${r.result} (${count('FAIL')} failed, ${count('PASS')} passed, ${count('NOT-EXERCISED')} not exercised)`,
  );
  return `${lines.join('\n')}\n`;
}
