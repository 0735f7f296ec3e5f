/**
 * Check 1 (client mode): a server that accepts 0-RTT does not lower any transport parameter the
 * client remembered with the ticket (RFC 9000 §7.4.1: initial_max_data, the three
 * initial_max_stream_data_*, both initial_max_streams_*, active_connection_id_limit; RFC 9221 §3:
 * max_datagram_frame_size). The client sent its 0-RTT data under the remembered limits; lowering them
 * after accepting that data makes the client's sending a violation after the fact. Over HTTP/3 the same
 * holds for the SETTINGS the client remembered (RFC 9114 §7.2.4.2): the server's SETTINGS on an
 * accepting connection may not reduce a limit or withdraw a feature of those of the ticket's connection.
 */
import type { SettingEntry } from '../../http3/frames.js';
import { type H3Settings, incompatibleWithRemembered, settingsFromEntries } from '../../http3/settings.js';
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
  let settingsCompared = 0;
  for (const a of accepted) {
    if (!a.h3Remembered || !a.h3Announced) continue;
    settingsCompared++;
    const why = settingsChange(a.h3Remembered, a.h3Announced);
    if (why) evidence.push({ note: `${a.kind} connection: HTTP/3 SETTINGS ${why}` });
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
  const h3 = settingsCompared > 0 ? ' and the remembered HTTP/3 SETTINGS' : '';
  return {
    ...base,
    verdict: 'PASS',
    summary: `accepted 0-RTT ${accepted.length} time${accepted.length > 1 ? 's' : ''}, every one of the ${n} remembered limits${h3} kept or raised`,
    evidence: [],
  };
}

/** Why SETTINGS `now` break the remembered ones (RFC 9114 §7.2.4.2), or undefined. */
function settingsChange(remembered: SettingEntry[], now: SettingEntry[]): string | undefined {
  let was: H3Settings;
  let is: H3Settings;
  try {
    was = settingsFromEntries(remembered);
    is = settingsFromEntries(now);
  } catch (err) {
    return `not valid: ${err instanceof Error ? err.message : String(err)}`;
  }
  const why = incompatibleWithRemembered(was, is);
  if (!why) return undefined;
  const show = (v: H3Settings) =>
    `QPACK_MAX_TABLE_CAPACITY ${v.qpackMaxTableCapacity}, QPACK_BLOCKED_STREAMS ${v.qpackBlockedStreams}, MAX_FIELD_SECTION_SIZE ${v.maxFieldSectionSize}`;
  return `${why} (remembered: ${show(was)}; now: ${show(is)})`;
}
