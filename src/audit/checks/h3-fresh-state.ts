/**
 * Check 7 (server mode, ALPN h3): nothing of the rejected attempt's HTTP/3 state reaches the
 * connection after the rejection. For HTTP/3 the rejected 0-RTT attempt held more than streams: a
 * control stream with SETTINGS, QPACK encoder and decoder streams and the dynamic table they built
 * (RFC 9114 §6.2, RFC 9204 §4.2). After the rejection none of it exists for the server
 * (RFC 9001 §4.6.2), so on each later connection (the one that goes on after the rejection, and any
 * after it) the client must:
 *
 * - open its control stream again, starting with SETTINGS (RFC 9114 §6.2.1, §7.2.4);
 * - encode its field sections and encoder instructions against the table of *this* connection: a
 *   reference to an entry only the dead attempt inserted is QPACK_DECOMPRESSION_FAILED or
 *   QPACK_ENCODER_STREAM_ERROR (RFC 9204 §2.2.3, §4.5.1);
 * - send decoder instructions only about this connection's streams: a Section Acknowledgment or
 *   Stream Cancellation for a request stream it has not opened on this connection is the dead
 *   attempt's (RFC 9204 §4.4.1, §4.4.2): the HTTP/3 form of quic-go #4706.
 *
 * Not exercised for other ALPNs, or when the dead attempt carried no HTTP/3 stream.
 */
import { afterRejection, attemptOf, type ClientTrace } from '../audit-trace.js';
import { type CheckResult, capEvidence, type Evidence, frameEvidence } from '../check-result.js';
import { H3_STREAM_TYPES, h3View, isSettings } from './h3-view.js';

export const H3_FRESH_STATE = {
  id: 7,
  name: 'h3-fresh-state',
  title: 'no HTTP/3 state of the dead attempt (control stream, QPACK) reaches the new connection',
};

export function checkH3FreshState(t: ClientTrace): CheckResult {
  const base = H3_FRESH_STATE;
  const attempt = attemptOf(t);
  if (t.alpn !== 'h3')
    return { ...base, verdict: 'NOT-EXERCISED', summary: `ALPN ${t.alpn || 'none'}, not h3`, evidence: [] };
  if (!attempt)
    return { ...base, verdict: 'NOT-EXERCISED', summary: 'the client did not attempt 0-RTT', evidence: [] };
  const dead = h3View(attempt.dead);
  if (dead.uni.length === 0 && dead.requests.size === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the rejected 0-RTT attempt carried no HTTP/3 stream',
      evidence: [],
    };
  }
  const deadRequests = [...dead.requests.keys()];
  const violations: Evidence[] = [];
  const fine: string[] = [];
  for (const [i, c] of afterRejection(t).entries()) {
    const name = i === 0 ? 'the connection after the rejection' : `later connection ${i}`;
    const view = h3View(c.log.filter((l) => l.dir === 'recv'));
    if (view.uni.length === 0 && view.requests.size === 0) continue;
    // The control stream, again, with SETTINGS first.
    if (dead.control) {
      const ctl = view.control;
      if (!ctl && view.requests.size > 0) {
        const why = view.uni.some((u) => u.type === undefined)
          ? 'no control stream whose type was seen'
          : 'no control stream';
        violations.push({
          note: `${name}: requests but ${why} (the dead attempt's control stream was ${dead.control.stream}; RFC 9114 §6.2.1)`,
        });
      } else if (ctl && ctl.frames.length > 0 && !isSettings(ctl.frames[0])) {
        violations.push(
          frameEvidence(
            ctl.first,
            `${name}: the control stream ${ctl.stream} starts with frame type 0x${ctl.frames[0]!.toString(16)}, not SETTINGS (RFC 9114 §6.2.1)`,
          ),
        );
      } else if (ctl && ctl.frames.length > 0) {
        fine.push(`${name}: control stream ${ctl.stream} starts with SETTINGS again`);
      }
    }
    // QPACK against this connection's table.
    if (view.encoderError) {
      violations.push(
        frameEvidence(
          view.encoderError.first,
          `${name}: an encoder instruction fails on this connection's table: ${view.encoderError.message} (the dead attempt inserted ${dead.inserts} entries)`,
        ),
      );
    }
    let decoded = 0;
    for (const r of view.requests.values()) {
      if (r.error === undefined) {
        if (r.key !== undefined) decoded++;
        continue;
      }
      violations.push(
        frameEvidence(
          r.first,
          `${name}: the request on stream ${r.stream} cannot be decoded with this connection's QPACK state: ${r.error} (the dead attempt inserted ${dead.inserts} entries)`,
        ),
      );
    }
    if (decoded > 0)
      fine.push(
        `${decoded} field section${decoded > 1 ? 's' : ''} decoded with this connection's table (${view.inserts} inserted)`,
      );
    // Decoder instructions about this connection's request streams only.
    const opened = new Set(view.requests.keys());
    for (const d of view.decoderInstructions) {
      if (d.kind === 'Insert Count Increment' || opened.has(d.value)) continue;
      const wasDead = deadRequests.includes(d.value) ? `, a request stream of the dead attempt` : '';
      violations.push(
        frameEvidence(
          d.first,
          `${name}: decoder stream ${d.kind} for stream ${d.value}, which the client has not opened on this connection${wasDead} (RFC 9204 §4.4)`,
        ),
      );
    }
    if (view.decoderError) {
      violations.push(
        frameEvidence(
          view.decoderError.first,
          `${name}: the decoder stream is malformed: ${view.decoderError.message}`,
        ),
      );
    }
  }
  if (violations.length > 0)
    return { ...base, verdict: 'FAIL', summary: violations[0]!.note, evidence: capEvidence(violations) };
  if (fine.length === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the client sent no HTTP/3 stream after the rejection',
      evidence: [],
    };
  }
  const deadTypes = dead.uni
    .map(
      (u) =>
        `${u.stream}${u.type === H3_STREAM_TYPES.CONTROL ? ' control' : u.type === H3_STREAM_TYPES.QPACK_ENCODER ? ' QPACK encoder' : u.type === H3_STREAM_TYPES.QPACK_DECODER ? ' QPACK decoder' : ''}`,
    )
    .join(', ');
  return {
    ...base,
    verdict: 'PASS',
    summary: `${fine.join('; ')} (the dead attempt held unidirectional streams ${deadTypes || 'none'}, ${dead.inserts} QPACK inserts)`,
    evidence: [],
  };
}
