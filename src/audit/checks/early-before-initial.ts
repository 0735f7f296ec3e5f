/**
 * Check 4 (client mode): a 0-RTT packet that arrives before its Initial is buffered or dropped, never
 * fatal (RFC 9001 §4.6.2, RFC 9000 §5.2). The auditor sends the 0-RTT packets of a first flight alone,
 * ahead of the datagram carrying the Initial (and then the flight as it was): the connection must
 * still complete and the request be answered.
 */
import type { CheckResult } from '../check-result.js';
import type { ServerTrace } from '../server-trace.js';

export const EARLY_BEFORE_INITIAL = {
  id: 4,
  name: 'early-before-initial',
  title: 'a 0-RTT packet before its Initial is buffered or dropped, never fatal',
};

export function checkEarlyBeforeInitial(t: ServerTrace): CheckResult {
  const base = EARLY_BEFORE_INITIAL;
  const a = t.attempts.find((x) => x.kind === 'reorder');
  if (!a || a.zeroRttPackets === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'no ticket allowing 0-RTT was left for this attempt',
      evidence: [],
    };
  }
  const note = {
    note: `${a.zeroRttPackets} 0-RTT packet${a.zeroRttPackets > 1 ? 's' : ''} sent ahead of the Initial`,
  };
  const answered =
    (a.early.fin && a.early.reset === undefined) || (a.fresh.fin && a.fresh.reset === undefined);
  const badClose = a.close && a.close.by !== 'client' && String(a.close.code) !== '0';
  if (!a.handshakeComplete || badClose || !answered) {
    const why = !a.handshakeComplete
      ? 'the handshake did not complete'
      : badClose
        ? `the server closed the connection with ${a.close!.application ? 'application' : 'transport'} code ${a.close!.code}${a.close!.reason ? ` "${a.close!.reason}"` : ''}`
        : 'the request was not answered';
    return { ...base, verdict: 'FAIL', summary: why, evidence: [note] };
  }
  return {
    ...base,
    verdict: 'PASS',
    summary: `the connection completed and the request was answered (0-RTT ${a.earlyData})`,
    evidence: [note],
  };
}
