/**
 * Check 2 (client mode): a server that rejects 0-RTT does not act on the early data (RFC 9001 §4.6.2:
 * it discards the 0-RTT packets). After a rejection the auditor waits before it opens any stream on
 * the connection: a response, or any other frame, for a stream only the dead attempt had opened means
 * the server processed the rejected request.
 */
import { type CheckResult, capEvidence, type Evidence, frameEvidence } from '../check-result.js';
import type { ServerTrace } from '../server-trace.js';

export const REJECTED_EARLY_DATA_IGNORED = {
  id: 2,
  name: 'rejected-early-data-ignored',
  title: 'a server rejecting 0-RTT does not act on the early data',
};

export function checkRejectedEarlyDataIgnored(t: ServerTrace): CheckResult {
  const base = REJECTED_EARLY_DATA_IGNORED;
  const rejected = t.attempts.filter((a) => a.earlyData === 'rejected' && a.zeroRttPackets > 0);
  if (rejected.length === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the server rejected no 0-RTT attempt that carried a request',
      evidence: [],
    };
  }
  const evidence: Evidence[] = [];
  for (const a of rejected) {
    const opened = new Set<number>();
    for (const l of a.log) {
      const f = l.frame;
      if (!('stream' in f) || f.stream % 2 !== 0) continue;
      if (l.dir === 'sent') {
        opened.add(f.stream);
        continue;
      }
      if (!opened.has(f.stream) && a.early.stream === f.stream) {
        evidence.push(
          frameEvidence(
            l,
            `${a.kind} connection: the server answered the rejected early request on stream ${f.stream} before the client opened that stream again`,
          ),
        );
      } else if (!opened.has(f.stream)) {
        evidence.push(
          frameEvidence(
            l,
            `${a.kind} connection: a frame for stream ${f.stream}, which the client had not opened on this connection`,
          ),
        );
      }
    }
  }
  if (evidence.length > 0) {
    return { ...base, verdict: 'FAIL', summary: evidence[0]!.note, evidence: capEvidence(evidence) };
  }
  return {
    ...base,
    verdict: 'PASS',
    summary: `rejected ${rejected.map((a) => a.kind).join(' and ')} 0-RTT and sent nothing for the early request`,
    evidence: [],
  };
}
