/**
 * Check 6 (server mode): a client whose 0-RTT was rejected keeps working: a request made after the
 * rejection is answered on that connection (the whole response went out, FIN included, and the client
 * neither reset nor stopped the stream), and the connection ends without an error. quic-go #4706 fails here too: the stale
 * STOP_SENDING of the dead stream 0 makes the auditor reset the new stream 0's response.
 */
import { afterRejection, attemptOf, type ClientTrace, isNoError } from '../audit-trace.js';
import type { CheckResult, Evidence } from '../check-result.js';

export const CLIENT_RECOVERS = {
  id: 6,
  name: 'client-recovers',
  title: 'the client keeps working: its request is answered on the new connection',
};

function describeClose(c: NonNullable<ReturnType<typeof attemptOf>>['close']): string {
  if (!c) return 'still open';
  const space = c.application ? 'application' : 'transport';
  return `closed by ${c.by} with ${space} code ${c.code}${c.reason ? ` "${c.reason}"` : ''}`;
}

export function checkClientRecovers(t: ClientTrace): CheckResult {
  const base = CLIENT_RECOVERS;
  const c = attemptOf(t);
  if (!c)
    return { ...base, verdict: 'NOT-EXERCISED', summary: 'the client did not attempt 0-RTT', evidence: [] };
  const evidence: Evidence[] = c.app.map((s) => ({
    stream: s.stream,
    note: `stream ${s.stream}: ${s.request ? `${s.request}, ` : ''}${s.requestBytes} bytes in, ${s.responseBytes} bytes out${s.answered ? `, answered${s.acknowledged ? ' and acknowledged' : ''}` : ''}${s.refused ? `, refused: ${s.refused}` : ''}${s.error ? `, ${s.error}` : ''}`,
  }));
  const answered = c.app.filter((s) => s.answered);
  const close = c.close;
  // A clean end: the client closed with code 0 (transport NO_ERROR or application 0), or went idle.
  const cleanClose =
    !close ||
    (close.by === 'client' && isNoError(close, t.alpn)) ||
    close.by === 'idle-timeout' ||
    (close.by === 'auditor' && close.application);
  const failed = c.app.filter((s) => s.error !== undefined);
  if (!c.handshakeComplete) {
    return {
      ...base,
      verdict: 'FAIL',
      summary: `the handshake after the rejection never completed (${describeClose(close)})`,
      evidence,
    };
  }
  const later = afterRejection(t)
    .slice(1)
    .flatMap((x) => x.app)
    .filter((s) => s.answered);
  if (answered.length === 0 && later.length > 0) {
    // The client started a new connection instead of going on with this one (an HTTP/3 client may
    // restart its session so): fine if it closed this one, a leak if it left it open.
    const closedByClient = close?.by === 'client' && isNoError(close, t.alpn);
    const what = `${later.length} request${later.length > 1 ? 's' : ''} answered on a later connection`;
    return closedByClient
      ? {
          ...base,
          verdict: 'PASS',
          summary: `${what}; the client closed the connection after the rejection`,
          evidence,
        }
      : {
          ...base,
          verdict: 'FAIL',
          summary: `the client abandoned the connection that goes on after the rejection (nothing asked on it; ${describeClose(close)}) and asked again on a new connection: ${what}`,
          evidence,
        };
  }
  if (answered.length === 0) {
    const why =
      c.app.length === 0
        ? 'no request arrived after the rejection'
        : 'no request after the rejection was answered';
    return {
      ...base,
      verdict: 'FAIL',
      summary: `${why}; the connection was ${describeClose(close)}`,
      evidence,
    };
  }
  if (!cleanClose) {
    return { ...base, verdict: 'FAIL', summary: `the connection was ${describeClose(close)}`, evidence };
  }
  if (failed.length > 0) {
    return {
      ...base,
      verdict: 'FAIL',
      summary: `stream ${failed[0]!.stream} failed: ${failed[0]!.error}`,
      evidence,
    };
  }
  return {
    ...base,
    verdict: 'PASS',
    summary: `${answered.length} request${answered.length > 1 ? 's' : ''} answered after the rejection; the connection was ${describeClose(close)}`,
    evidence,
  };
}
