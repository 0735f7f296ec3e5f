/**
 * Check 1 (server mode), the quic-go #4706 symptom: after the rejection, no frame refers to a stream
 * the client has not opened on this connection.
 *
 * A client-initiated stream is opened by its STREAM frames (RFC 9000 §3.2). A RESET_STREAM,
 * STOP_SENDING, MAX_STREAM_DATA or STREAM_DATA_BLOCKED that arrives before any STREAM frame of its
 * stream, or a stream whose data starts beyond offset 0 and never gets its first bytes, points at a
 * stream that exists only in the client's memory: typically one of the rejected 0-RTT attempt, whose
 * cancels or window updates leaked into the live connection (RFC 9001 §4.6.2 requires the client to
 * reset all stream state). A RESET_STREAM whose final size contradicts the bytes the new stream
 * carried, but equals the dead stream's, is the same leak arriving later. The evidence names the dead
 * stream the frame matches (the auditor decrypted the rejected 0-RTT packets with the ticket it issued).
 *
 * A frame could also precede its stream's first STREAM frame because the packet carrying that frame
 * was lost: the check then needs the match with the dead attempt. It is conclusive when every earlier
 * application packet number arrived (or was a rejected 0-RTT packet).
 */
import { afterRejection, type ClientTrace, type ConnectionTrace } from '../audit-trace.js';
import { type CheckResult, capEvidence, type Evidence, frameEvidence } from '../check-result.js';
import { describePacket, describeRecord, type LoggedFrame } from '../frame-record.js';
import { streamPayloads } from './stream-payloads.js';

export const NO_DEAD_STREAM_FRAMES = {
  id: 1,
  name: 'no-dead-stream-frames',
  title: 'no frame refers to a stream not opened on this connection (the #4706 symptom)',
};

/** What the dead attempt held for each stream: its frames (for evidence) and final size if known. */
interface DeadStream {
  frames: LoggedFrame[];
  finalSize: number | undefined;
  end: number;
}

function deadStreams(dead: readonly LoggedFrame[]): Map<number, DeadStream> {
  const out = new Map<number, DeadStream>();
  for (const l of dead) {
    const f = l.frame;
    if (!('stream' in f)) continue;
    let d = out.get(f.stream);
    if (!d) {
      d = { frames: [], finalSize: undefined, end: 0 };
      out.set(f.stream, d);
    }
    d.frames.push(l);
    if (f.type === 'STREAM') {
      d.end = Math.max(d.end, f.offset + f.length);
      if (f.fin) d.finalSize = f.offset + f.length;
    }
    if (f.type === 'RESET_STREAM') d.finalSize = f.finalSize;
  }
  for (const d of out.values()) d.finalSize ??= d.end;
  return out;
}

/** How the frame matches the dead attempt, as evidence text; undefined when it does not. */
function deadMatch(l: LoggedFrame, dead: Map<number, DeadStream>): string | undefined {
  const f = l.frame;
  if (!('stream' in f)) return undefined;
  const d = dead.get(f.stream);
  if (!d) return undefined;
  const held = d.frames
    .slice(0, 2)
    .map((x) => `${describePacket(x)}: ${describeRecord(x.frame)}`)
    .join('; ');
  const size =
    f.type === 'RESET_STREAM' && f.finalSize === d.finalSize
      ? ` with the same final size ${f.finalSize}`
      : '';
  return `the rejected 0-RTT attempt held stream ${f.stream}${size} (${held})`;
}

const OPENING_NOT = new Set(['RESET_STREAM', 'STOP_SENDING', 'MAX_STREAM_DATA', 'STREAM_DATA_BLOCKED']);

function isClientStream(id: number): boolean {
  return id % 2 === 0;
}

/** Violations on one connection. `dead` is empty for connections after the attempt. */
function violations(c: ConnectionTrace, dead: Map<number, DeadStream>): Evidence[] {
  const out: Evidence[] = [];
  const received = new Set([...c.appPns, ...c.deadPns]);
  /** Is every application packet number below `pn` accounted for? */
  const noGapBelow = (pn: number) => {
    for (let i = 0; i < pn; i++) if (!received.has(i)) return false;
    return true;
  };
  const seen = new Set<number>();
  const serverOpened = new Set<number>();
  const newData = new Map<number, { end: number; fin?: number }>();
  const recv = c.log.filter((l) => l.dir === 'recv');
  const firstPn = c.appPns.length > 0 ? Math.min(...c.appPns) : -1;
  for (const l of c.log) {
    const f = l.frame;
    if (!('stream' in f)) continue;
    const id = f.stream;
    if (l.dir === 'sent') {
      if (f.type === 'STREAM') serverOpened.add(id);
      continue;
    }
    if (!isClientStream(id)) {
      // A stream the server initiates exists once the server opened it (RFC 9000 §19.5, §19.10).
      if (!serverOpened.has(id))
        out.push(frameEvidence(l, `stream ${id} is a server stream the auditor never opened`));
      continue;
    }
    if (f.type === 'STREAM') {
      seen.add(id);
      const d = newData.get(id) ?? { end: 0 };
      d.end = Math.max(d.end, f.offset + f.length);
      if (f.fin) d.fin = f.offset + f.length;
      newData.set(id, d);
      continue;
    }
    if (OPENING_NOT.has(f.type) && !seen.has(id)) {
      const match = deadMatch(l, dead);
      const conclusive = noGapBelow(l.pn);
      if (match || conclusive) {
        const where = l.pn === firstPn ? ' (in the first 1-RTT packet)' : '';
        const why = `stream ${id} was never opened on this connection before this frame${where}${conclusive ? '' : ' (some earlier packets were not received)'}`;
        out.push(frameEvidence(l, match ? `${why}; ${match}` : why));
      }
      continue;
    }
    if (f.type === 'RESET_STREAM') {
      const d = newData.get(id);
      const contradicts =
        d !== undefined && (f.finalSize < d.end || (d.fin !== undefined && d.fin !== f.finalSize));
      const match = deadMatch(l, dead);
      if (contradicts && match && dead.get(id)?.finalSize === f.finalSize) {
        out.push(
          frameEvidence(
            l,
            `its final size contradicts the ${d.fin ?? d.end} bytes stream ${id} carried on this connection; ${match}`,
          ),
        );
      }
    }
  }
  // STREAM frames whose first bytes never arrived: the data continues a stream of another attempt.
  for (const [id, p] of streamPayloads(recv)) {
    if (!isClientStream(id) || p.first.frame.type !== 'STREAM') continue;
    const starts = recv.some(
      (l) => l.frame.type === 'STREAM' && l.frame.stream === id && l.frame.offset === 0,
    );
    if (!starts) {
      const match = deadMatch(p.first, dead);
      out.push(
        frameEvidence(
          p.first,
          `stream ${id} never received its bytes from offset 0 on this connection${match ? `; ${match}` : ''}`,
        ),
      );
    }
  }
  return out;
}

export function checkNoDeadStreamFrames(t: ClientTrace): CheckResult {
  const conns = afterRejection(t);
  const attempt = conns[0];
  const base = NO_DEAD_STREAM_FRAMES;
  if (!attempt) {
    return { ...base, verdict: 'NOT-EXERCISED', summary: 'the client did not attempt 0-RTT', evidence: [] };
  }
  const dead = deadStreams(attempt.dead);
  const found: Evidence[] = [];
  for (const c of conns) {
    for (const e of violations(c, dead)) {
      found.push(c === attempt ? e : { ...e, note: `${c.role} connection from ${c.remote}: ${e.note}` });
    }
  }
  if (found.length > 0) {
    const first = found[0]!;
    return {
      ...base,
      verdict: 'FAIL',
      summary: `${first.packet ?? ''} ${first.frame ?? ''}: ${first.note}`.trim(),
      evidence: capEvidence(found),
    };
  }
  if (dead.size === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the rejected 0-RTT attempt held no stream, so there was nothing to leak',
      evidence: [],
    };
  }
  const ids = [...dead.keys()].sort((a, b) => a - b);
  return {
    ...base,
    verdict: 'PASS',
    summary: `nothing after the rejection referred to a stream before the client opened it (the dead attempt held stream${ids.length > 1 ? 's' : ''} ${ids.join(', ')})`,
    evidence: [],
  };
}
