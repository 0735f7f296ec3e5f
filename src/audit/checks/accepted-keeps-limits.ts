/**
 * Check 1 (client mode): a server that accepts 0-RTT does not lower any transport parameter the
 * client remembered with the ticket (RFC 9000 §7.4.1: initial_max_data, the three
 * initial_max_stream_data_*, both initial_max_streams_*, active_connection_id_limit; RFC 9221 §3:
 * max_datagram_frame_size). The client sent its 0-RTT data under the remembered limits; lowering them
 * after accepting that data makes the client's sending a violation after the fact.
 */
import type { CheckResult, Evidence } from '../check-result.js';
import type { ServerTrace } from '../server-trace.js';

export const ACCEPTED_KEEPS_LIMITS = {
  id: 1,
  name: 'accepted-keeps-limits',
  title: 'a server accepting 0-RTT lowers no remembered transport parameter',
};

export function checkAcceptedKeepsLimits(t: ServerTrace): CheckResult {
  const base = ACCEPTED_KEEPS_LIMITS;
  const accepted = t.attempts.filter((a) => a.earlyData === 'accepted' && a.remembered && a.announced);
  if (accepted.length === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the server accepted no 0-RTT attempt',
      evidence: [],
    };
  }
  const evidence: Evidence[] = [];
  for (const a of accepted) {
    for (const [name, was] of Object.entries(a.remembered!)) {
      const now = a.announced![name] ?? null;
      const before = was ?? 0;
      if ((now ?? 0) < before) {
        evidence.push({
          note: `${a.kind} connection: ${name} was ${before} in the ticket, ${now ?? 'absent'} now`,
        });
      }
    }
  }
  if (evidence.length > 0) {
    return {
      ...base,
      verdict: 'FAIL',
      summary: `accepted 0-RTT but lowered ${evidence[0]!.note.split(': ')[1]}`,
      evidence,
    };
  }
  const n = Object.keys(accepted[0]!.remembered!).length;
  return {
    ...base,
    verdict: 'PASS',
    summary: `accepted 0-RTT ${accepted.length} time${accepted.length > 1 ? 's' : ''}, every one of the ${n} remembered limits kept or raised`,
    evidence: [],
  };
}
