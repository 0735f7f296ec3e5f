/**
 * Check 3 (client mode): a replayed 0-RTT first flight is not processed a second time (RFC 9001 §9.2,
 * RFC 8446 §8: single-use tickets or another anti-replay mechanism). The auditor sends the datagrams
 * of an earlier 0-RTT attempt again, byte for byte, from a new source port, once the original
 * connection is gone. A twin of the original client (same randomness, same clock, so the same
 * bytes) follows the server's answer: it learns whether the server accepted the replayed early data
 * and answered the replayed request.
 */
import type { CheckResult } from '../check-result.js';
import type { ServerTrace } from '../server-trace.js';

export const REPLAY_REFUSED = {
  id: 3,
  name: 'replay-refused',
  title: 'a replayed 0-RTT flight is not processed a second time',
};

export function checkReplayRefused(t: ServerTrace): CheckResult {
  const base = REPLAY_REFUSED;
  const r = t.replay;
  if (!r || r.skipped !== undefined) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: r?.skipped ?? 'no 0-RTT flight to replay',
      evidence: [],
    };
  }
  const sent = `${r.datagrams} datagram${r.datagrams > 1 ? 's' : ''} replayed ${Math.round(r.delayMs / 100) / 10} s later from a new port`;
  if (r.earlyData === 'accepted') {
    const answered =
      r.responseBytes > 0 ? ` and answered the replayed request with ${r.responseBytes} bytes` : '';
    return {
      ...base,
      verdict: 'FAIL',
      summary: `the server accepted the replayed 0-RTT data${answered}`,
      evidence: [{ note: sent }],
    };
  }
  if (r.ticketAgeMs >= r.ticketLifetime * 1000) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: `the replayed ticket had expired (lifetime ${r.ticketLifetime} s): use a shorter --replay-delay`,
      evidence: [{ note: sent }],
    };
  }
  if (!r.twinIdentical) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the twin connection could not reproduce the first flight, so the answer could not be read',
      evidence: [{ note: sent }],
    };
  }
  const how = !r.answered
    ? 'the server did not answer the replayed flight'
    : r.earlyData === 'rejected'
      ? `the server rejected the replayed 0-RTT data (${r.resumed ? 'resumed' : 'full'} handshake)`
      : 'the server did not resume the replayed ticket';
  return { ...base, verdict: 'PASS', summary: how, evidence: [{ note: sent }] };
}
