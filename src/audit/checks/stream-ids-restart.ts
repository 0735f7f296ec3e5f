/**
 * Check 2 (server mode): stream IDs restart at 0 after the rejection. The rejected attempt's streams
 * never existed for the server (RFC 9001 §4.6.2), so the client's first bidirectional stream on the
 * connection is 0 and its first unidirectional one is 2 (RFC 9000 §2.1). A client that goes on
 * numbering after the dead attempt's streams still holds that attempt's stream state.
 */
import { attemptOf, type ClientTrace } from '../audit-trace.js';
import { type CheckResult, frameEvidence } from '../check-result.js';
import { streamPayloads } from './stream-payloads.js';

export const STREAM_IDS_RESTART = {
  id: 2,
  name: 'stream-ids-restart',
  title: 'stream IDs restart at 0 after the rejection',
};

const KINDS = [
  { base: 0, name: 'bidirectional' },
  { base: 2, name: 'unidirectional' },
] as const;

export function checkStreamIdsRestart(t: ClientTrace): CheckResult {
  const base = STREAM_IDS_RESTART;
  const attempt = attemptOf(t);
  if (!attempt)
    return { ...base, verdict: 'NOT-EXERCISED', summary: 'the client did not attempt 0-RTT', evidence: [] };
  const dead = streamPayloads(attempt.dead);
  const fresh = streamPayloads(attempt.log.filter((l) => l.dir === 'recv'));
  const evidence = [];
  const checked: string[] = [];
  for (const kind of KINDS) {
    const deadIds = [...dead.keys()].filter((id) => id % 4 === kind.base).sort((a, b) => a - b);
    const newIds = [...fresh.keys()].filter((id) => id % 4 === kind.base).sort((a, b) => a - b);
    if (deadIds.length === 0 || newIds.length === 0) continue;
    const lowest = newIds[0]!;
    if (lowest === kind.base) {
      checked.push(
        `${kind.name} streams start at ${kind.base} again (the dead attempt used ${deadIds.join(', ')})`,
      );
      continue;
    }
    const continued =
      lowest > deadIds[deadIds.length - 1]! ? ", continuing the dead attempt's numbering" : '';
    evidence.push(
      frameEvidence(
        fresh.get(lowest)!.first,
        `the first ${kind.name} stream after the rejection is ${lowest}, not ${kind.base}${continued} (the dead attempt used ${deadIds.join(', ')})`,
      ),
    );
  }
  if (evidence.length > 0) {
    return { ...base, verdict: 'FAIL', summary: evidence[0]!.note, evidence };
  }
  if (checked.length === 0) {
    const why =
      dead.size === 0
        ? 'the rejected 0-RTT attempt opened no stream'
        : "the client opened no stream of the dead attempt's kinds after the rejection";
    return { ...base, verdict: 'NOT-EXERCISED', summary: why, evidence: [] };
  }
  return { ...base, verdict: 'PASS', summary: checked.join('; '), evidence: [] };
}
