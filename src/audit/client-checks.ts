/**
 * The five checks of client mode (auditing a server), in report order; see docs/audit-0rtt.md.
 */
import type { CheckResult } from './check-result.js';
import { checkAcceptedKeepsLimits } from './checks/accepted-keeps-limits.js';
import { checkEarlyBeforeInitial } from './checks/early-before-initial.js';
import { checkExpiredTicketRefused } from './checks/expired-ticket-refused.js';
import { checkRejectedEarlyDataIgnored } from './checks/rejected-early-data-ignored.js';
import { checkReplayRefused } from './checks/replay-refused.js';
import type { ServerTrace } from './server-trace.js';

export const CLIENT_CHECKS: ReadonlyArray<(t: ServerTrace) => CheckResult> = [
  checkAcceptedKeepsLimits,
  checkRejectedEarlyDataIgnored,
  checkReplayRefused,
  checkEarlyBeforeInitial,
  checkExpiredTicketRefused,
];

export function runClientChecks(t: ServerTrace): CheckResult[] {
  if (!t.ticket.received || !t.ticket.allowsEarlyData) {
    const why = !t.ticket.received
      ? 'the server sent no session ticket'
      : "the server's tickets do not allow 0-RTT";
    return CLIENT_CHECKS.map((check) => ({
      ...check(t),
      verdict: 'NOT-EXERCISED' as const,
      summary: why,
      evidence: [],
    }));
  }
  return CLIENT_CHECKS.map((check) => check(t));
}
