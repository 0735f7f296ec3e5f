/**
 * Check 4 (server mode): nothing connection-level of the rejected attempt reaches the live connection.
 *
 * - No DATAGRAM frame when the new connection does not allow them: the auditor announced
 *   max_datagram_frame_size on the first connection and omits it on the rejected one (RFC 9221 §3: a
 *   DATAGRAM frame without it is a PROTOCOL_VIOLATION).
 * - No more connection IDs than the new active_connection_id_limit (RFC 9000 §5.1.1: the auditor
 *   announces a smaller limit; a client that resends the NEW_CONNECTION_ID frames of its 0-RTT packets
 *   exceeds it, quic-go #3060).
 * - No control frame that repeats one of the dead attempt's frames (MAX_DATA, MAX_STREAMS,
 *   DATA_BLOCKED, STREAMS_BLOCKED, NEW_CONNECTION_ID, RETIRE_CONNECTION_ID, DATAGRAM): a frame sent
 *   again unchanged was queued by the dead attempt (quic-go #5717 for stream control frames, which
 *   check 1 covers).
 */
import { attemptOf, type ClientTrace } from '../audit-trace.js';
import { type CheckResult, capEvidence, type Evidence, frameEvidence } from '../check-result.js';
import { describePacket, type FrameRecord, type LoggedFrame } from '../frame-record.js';

export const NO_STALE_CONTROL_FRAMES = {
  id: 4,
  name: 'no-stale-control-frames',
  title: 'no DATAGRAM the new connection forbids, no stale connection-level control frames',
};

const CONNECTION_LEVEL = new Set([
  'MAX_DATA',
  'MAX_STREAMS',
  'DATA_BLOCKED',
  'STREAMS_BLOCKED',
  'NEW_CONNECTION_ID',
  'RETIRE_CONNECTION_ID',
  'DATAGRAM',
]);

function key(f: FrameRecord): string {
  return JSON.stringify(f);
}

export function checkNoStaleControlFrames(t: ClientTrace): CheckResult {
  const base = NO_STALE_CONTROL_FRAMES;
  const c = attemptOf(t);
  if (!c)
    return { ...base, verdict: 'NOT-EXERCISED', summary: 'the client did not attempt 0-RTT', evidence: [] };
  const deadControl = new Map<string, LoggedFrame>();
  for (const l of c.dead) if (CONNECTION_LEVEL.has(l.frame.type)) deadControl.set(key(l.frame), l);
  const violations: Evidence[] = [];
  let datagrams = 0;
  let cidFrames = 0;
  // The client's connection IDs: sequence 0 from the handshake, then NEW_CONNECTION_ID (RFC 9000 §5.1.1).
  const active = new Set([0]);
  let retireBelow = 0;
  for (const l of c.log) {
    if (l.dir !== 'recv') continue;
    const f = l.frame;
    if (f.type === 'DATAGRAM') {
      datagrams++;
      if (c.announced.maxDatagramFrameSize === null) {
        const was = t.remembered.maxDatagramFrameSize;
        violations.push(
          frameEvidence(
            l,
            `DATAGRAM on a connection that does not allow them (the ticket remembered max_datagram_frame_size ${was ?? 'absent'})`,
          ),
        );
      }
    }
    if (f.type === 'NEW_CONNECTION_ID') {
      cidFrames++;
      retireBelow = Math.max(retireBelow, f.retirePriorTo);
      active.add(f.seq);
      for (const s of [...active]) if (s < retireBelow) active.delete(s);
      if (active.size > c.announced.activeConnectionIdLimit) {
        violations.push(
          frameEvidence(
            l,
            `${active.size} active connection IDs, above the new active_connection_id_limit of ${c.announced.activeConnectionIdLimit} (the ticket remembered ${t.remembered.activeConnectionIdLimit})`,
          ),
        );
      }
    }
    if (CONNECTION_LEVEL.has(f.type)) {
      const same = deadControl.get(key(f));
      if (same)
        violations.push(frameEvidence(l, `repeats the dead attempt's frame of ${describePacket(same)}`));
    }
  }
  if (violations.length > 0) {
    return { ...base, verdict: 'FAIL', summary: violations[0]!.note, evidence: capEvidence(violations) };
  }
  if (deadControl.size === 0 && datagrams === 0 && cidFrames === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary:
        'neither the dead attempt nor the live connection carried DATAGRAM or connection-level control frames',
      evidence: [],
    };
  }
  const parts = [];
  if (deadControl.size > 0)
    parts.push(`none of the dead attempt's ${deadControl.size} connection-level frames came back`);
  if (cidFrames > 0)
    parts.push(`connection IDs within the new limit of ${c.announced.activeConnectionIdLimit}`);
  if (datagrams > 0) parts.push(`${datagrams} DATAGRAM frames, allowed on this connection`);
  return { ...base, verdict: 'PASS', summary: parts.join('; '), evidence: [] };
}
