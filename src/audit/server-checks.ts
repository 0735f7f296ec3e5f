/**
 * The checks of server mode (auditing a client), in report order. Each is a small function of the
 * recorded ClientTrace; see docs/audit-0rtt.md.
 */
import type { ClientTrace } from './audit-trace.js';
import type { CheckResult } from './check-result.js';
import { checkClientRecovers } from './checks/client-recovers.js';
import { checkDataResentOnce } from './checks/data-resent-once.js';
import { checkH3FreshState } from './checks/h3-fresh-state.js';
import { checkNewFlowLimits } from './checks/new-flow-limits.js';
import { checkNoDeadStreamFrames } from './checks/no-dead-stream-frames.js';
import { checkNoStaleControlFrames } from './checks/no-stale-control-frames.js';
import { checkStreamIdsRestart } from './checks/stream-ids-restart.js';

export const SERVER_CHECKS: ReadonlyArray<(t: ClientTrace) => CheckResult> = [
  checkNoDeadStreamFrames,
  checkStreamIdsRestart,
  checkNewFlowLimits,
  checkNoStaleControlFrames,
  checkDataResentOnce,
  checkClientRecovers,
];

/** Checks only an HTTP/3 client is judged by (ALPN h3). */
export const H3_SERVER_CHECKS: ReadonlyArray<(t: ClientTrace) => CheckResult> = [checkH3FreshState];

export function runServerChecks(t: ClientTrace): CheckResult[] {
  const checks = t.alpn === 'h3' ? [...SERVER_CHECKS, ...H3_SERVER_CHECKS] : SERVER_CHECKS;
  return checks.map((check) => check(t));
}
