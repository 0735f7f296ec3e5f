/**
 * Check 3 (server mode): after the rejection the client uses the new connection's flow control and
 * stream limits, not those the ticket remembered. The auditor announces smaller windows and stream
 * limits on the rejected connection than on the first one (RFC 9000 §7.4.1 lets it: 0-RTT is rejected,
 * so the client must take the new values, RFC 9001 §4.6.2). A client that keeps the remembered ones,
 * or counts the dead attempt's bytes against the new window (quic-go #4764), exceeds them: the check
 * replays the log against the announced limits and the auditor's MAX_DATA / MAX_STREAM_DATA /
 * MAX_STREAMS updates (the rules the auditor's core enforces, which then closes the connection with
 * FLOW_CONTROL_ERROR / STREAM_LIMIT_ERROR: shown with the evidence). Frames on a stream that was never
 * opened on the connection are check 1's: a stale RESET_STREAM of a dead stream would break the new
 * window too, but that is the leak, not the limits.
 *
 * Exercised only when the client needed more than the new initial limits (it reached one, or said it
 * was blocked): below them both answers look the same.
 */
import { attemptOf, type ClientTrace } from '../audit-trace.js';
import { type CheckResult, capEvidence, type Evidence, frameEvidence } from '../check-result.js';

export const NEW_FLOW_LIMITS = {
  id: 3,
  name: 'new-flow-limits',
  title: "flow control and stream limits are the new connection's, not the ticket's",
};

/** RFC 9000 §20.1. */
const FLOW_CONTROL_ERROR = 0x03;
const STREAM_LIMIT_ERROR = 0x04;

export function checkNewFlowLimits(t: ClientTrace): CheckResult {
  const base = NEW_FLOW_LIMITS;
  const c = attemptOf(t);
  if (!c)
    return { ...base, verdict: 'NOT-EXERCISED', summary: 'the client did not attempt 0-RTT', evidence: [] };
  const a = c.announced;
  const r = t.remembered;
  let maxData = a.maxData;
  const maxStreams = { bidi: a.maxStreamsBidi, uni: a.maxStreamsUni };
  const streamMax = new Map<number, number>();
  const streamEnd = new Map<number, number>();
  let total = 0;
  const violations: Evidence[] = [];
  const reached: Evidence[] = [];
  const reachedKinds = new Set<string>();
  const noteReached = (kind: string, e: Evidence) => {
    if (reachedKinds.has(kind)) return;
    reachedKinds.add(kind);
    reached.push(e);
  };

  const opened = new Set<number>();
  for (const l of c.log) {
    const f = l.frame;
    if (l.dir === 'sent') {
      if (f.type === 'MAX_DATA') maxData = Math.max(maxData, f.max);
      if (f.type === 'MAX_STREAM_DATA')
        streamMax.set(f.stream, Math.max(streamMax.get(f.stream) ?? 0, f.max));
      if (f.type === 'MAX_STREAMS') {
        if (f.bidi) maxStreams.bidi = Math.max(maxStreams.bidi, f.max);
        else maxStreams.uni = Math.max(maxStreams.uni, f.max);
      }
      continue;
    }
    if (f.type === 'DATA_BLOCKED' || f.type === 'STREAM_DATA_BLOCKED' || f.type === 'STREAMS_BLOCKED') {
      noteReached(f.type, frameEvidence(l, 'the client said it was blocked by the new limits'));
      continue;
    }
    if (!('stream' in f) || f.stream % 2 !== 0) continue;
    const id = f.stream;
    if (f.type === 'STREAM') opened.add(id);
    if (!opened.has(id)) continue;
    const bidi = id % 4 === 0;
    const index = Math.floor(id / 4);
    const limit = bidi ? maxStreams.bidi : maxStreams.uni;
    // RFC 9000 §4.6: a stream with an index at or above the limit exceeds it (STREAM_LIMIT_ERROR).
    if (index >= limit) {
      const was = bidi ? r.maxStreamsBidi : r.maxStreamsUni;
      violations.push(
        frameEvidence(
          l,
          `opens ${bidi ? 'bidirectional' : 'unidirectional'} stream ${id} beyond the new limit of ${limit} streams (the ticket remembered ${was})`,
        ),
      );
      continue;
    }
    const initialStreams = bidi ? a.maxStreamsBidi : a.maxStreamsUni;
    if (index >= initialStreams) {
      noteReached(
        `streams-${bidi}`,
        frameEvidence(
          l,
          `stream ${id} opened after the auditor raised the limit of ${initialStreams} streams`,
        ),
      );
    }
    const end =
      f.type === 'STREAM' ? f.offset + f.length : f.type === 'RESET_STREAM' ? f.finalSize : undefined;
    if (end === undefined) continue;
    const window = streamMax.get(id) ?? (bidi ? a.maxStreamDataBidiRemote : a.maxStreamDataUni);
    const before = streamEnd.get(id) ?? 0;
    if (end > before) {
      total += end - before;
      streamEnd.set(id, end);
    }
    // RFC 9000 §4.1: data beyond the advertised limits is FLOW_CONTROL_ERROR.
    if (end > window) {
      const was = bidi ? r.maxStreamDataBidiRemote : r.maxStreamDataUni;
      violations.push(
        frameEvidence(
          l,
          `stream ${id} reaches offset ${end}, beyond its window of ${window} bytes (the ticket remembered ${was})`,
        ),
      );
    } else if (end > (bidi ? a.maxStreamDataBidiRemote : a.maxStreamDataUni)) {
      noteReached(
        'stream-window',
        frameEvidence(
          l,
          `stream ${id} went beyond the initial window only after MAX_STREAM_DATA raised it to ${window}`,
        ),
      );
    }
    if (total > a.maxData && total <= maxData) {
      noteReached(
        'connection-window',
        frameEvidence(
          l,
          `the connection went beyond ${a.maxData} bytes only after MAX_DATA raised it to ${maxData}`,
        ),
      );
    }
    if (total > maxData) {
      violations.push(
        frameEvidence(
          l,
          `the connection reaches ${total} bytes, beyond its limit of ${maxData} (the ticket remembered ${r.maxData})`,
        ),
      );
      maxData = Number.POSITIVE_INFINITY; // report the connection limit once
    }
  }
  const close = c.close;
  if (violations.length > 0 && close && close.by === 'auditor' && !close.application) {
    const name =
      close.code === FLOW_CONTROL_ERROR
        ? 'FLOW_CONTROL_ERROR'
        : close.code === STREAM_LIMIT_ERROR
          ? 'STREAM_LIMIT_ERROR'
          : `error ${close.code}`;
    violations.push({ note: `the auditor's core closed the connection with ${name}: ${close.reason}` });
  }
  if (violations.length > 0) {
    return { ...base, verdict: 'FAIL', summary: violations[0]!.note, evidence: capEvidence(violations) };
  }
  if (reached.length === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: `the client never needed more than the new limits (${a.maxStreamDataBidiRemote}-byte stream windows, ${a.maxData} bytes, ${a.maxStreamsBidi} bidirectional streams)`,
      evidence: [],
    };
  }
  return {
    ...base,
    verdict: 'PASS',
    summary: `the client reached the new, smaller limits and stayed within them (stream window ${a.maxStreamDataBidiRemote} instead of ${r.maxStreamDataBidiRemote}, ${a.maxStreamsBidi} bidirectional streams instead of ${r.maxStreamsBidi})`,
    evidence: capEvidence(reached),
  };
}
