/**
 * The outcome of one audit check: PASS, FAIL or NOT-EXERCISED (the peer never did what the check
 * looks at), with a one-line summary and the evidence (packet, frame, stream) behind it.
 */
import { describePacket, describeRecord, type LoggedFrame } from './frame-record.js';

export type Verdict = 'PASS' | 'FAIL' | 'NOT-EXERCISED';

export interface Evidence {
  /** "1-RTT pn 3", "0-RTT pn 1" (the dead attempt), or absent for a fact about the connection. */
  packet?: string;
  /** The frame, as text. */
  frame?: string;
  stream?: number;
  note: string;
}

export interface CheckResult {
  /** 1-6, and 7 for h3 (server mode, auditing a client), or 1-5 (client mode, auditing a server). */
  id: number;
  /** Stable machine name, e.g. `no-dead-stream-frames`. */
  name: string;
  title: string;
  verdict: Verdict;
  summary: string;
  evidence: Evidence[];
}

/** Evidence for a logged frame. */
export function frameEvidence(l: LoggedFrame, note: string): Evidence {
  const stream = 'stream' in l.frame ? l.frame.stream : undefined;
  return {
    packet: describePacket(l),
    frame: describeRecord(l.frame),
    ...(stream !== undefined ? { stream } : {}),
    note,
  };
}

/** Evidence lists stay readable: the first few items and a count of the rest. */
export const MAX_EVIDENCE = 8;

export function capEvidence(items: Evidence[]): Evidence[] {
  if (items.length <= MAX_EVIDENCE) return items;
  return [...items.slice(0, MAX_EVIDENCE), { note: `... and ${items.length - MAX_EVIDENCE} more` }];
}

/** Exit status of an audit: 0 only if every exercised check passed (NOT-EXERCISED does not fail). */
export function exitStatus(results: readonly CheckResult[]): number {
  return results.some((r) => r.verdict === 'FAIL') ? 1 : 0;
}
