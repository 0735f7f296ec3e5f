/**
 * Check 5 (server mode): the application data of the rejected attempt is sent again in 1-RTT (the
 * request arrives again: RFC 9001 §4.6.2 leaves resending to the client, and a client that drops it
 * silently loses the request), and nothing is sent twice on the new connection: each request the dead
 * attempt carried arrives on as many new streams as the dead attempt used for it, not more (a client
 * that both retransmits the dead 0-RTT frames and repeats the request delivers it twice).
 *
 * Streams are compared by their recorded payload: complete ones (ended with FIN) must match exactly;
 * a dead stream cut short (no FIN in 0-RTT) must be the start of some new stream. When the connection
 * ended with an error before a resend could complete (another check says why), a missing resend is
 * not held against the client: the check is then not exercised for it.
 */
import { afterRejection, attemptOf, type ClientTrace, isNoError } from '../audit-trace.js';
import { type CheckResult, capEvidence, type Evidence, frameEvidence } from '../check-result.js';
import { type H3Request, h3View } from './h3-view.js';
import { payloadText, type StreamPayload, streamPayloads } from './stream-payloads.js';

export const DATA_RESENT_ONCE = {
  id: 5,
  name: 'data-resent-once',
  title: 'the early data is sent again in 1-RTT, and only once',
};

export function checkDataResentOnce(t: ClientTrace): CheckResult {
  const base = DATA_RESENT_ONCE;
  const c = attemptOf(t);
  if (!c)
    return { ...base, verdict: 'NOT-EXERCISED', summary: 'the client did not attempt 0-RTT', evidence: [] };
  if (t.alpn === 'h3') return checkH3RequestsResentOnce(t, c);
  const dead = [...streamPayloads(c.dead).values()].filter((p) => p.stream % 2 === 0 && p.prefix.length > 0);
  if (dead.length === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the rejected 0-RTT attempt carried no stream data',
      evidence: [],
    };
  }
  const fresh = [...streamPayloads(c.log.filter((l) => l.dir === 'recv')).values()].filter(
    (p) => p.stream % 2 === 0,
  );
  const violations: Evidence[] = [];
  const resent: string[] = [];
  const cut: string[] = [];
  const close = c.close;
  const endedInError = close !== undefined && !(isNoError(close, t.alpn) || close.by === 'idle-timeout');
  /** A new stream carries the dead stream's data: the same bytes, or (dead cut short) starts with them. */
  const carries = (n: StreamPayload, d: StreamPayload) =>
    d.complete
      ? n.complete && n.prefix.equals(d.prefix)
      : n.prefix.subarray(0, d.prefix.length).equals(d.prefix);
  // Each new stream stands for at most one dead one: whole dead streams are matched first.
  const free = new Set(fresh);
  const ordered = [...dead].sort((a, b) => Number(b.complete) - Number(a.complete) || a.stream - b.stream);
  for (const d of ordered) {
    const what = `${payloadText(d.prefix)} (dead stream ${d.stream})`;
    const match = [...free].find((n) => carries(n, d));
    if (match) {
      free.delete(match);
      resent.push(`${what} again on stream ${match.stream}`);
      continue;
    }
    if (endedInError) {
      const started = fresh.find(
        (n) => !n.complete && n.prefix.length > 0 && d.prefix.subarray(0, n.prefix.length).equals(n.prefix),
      );
      cut.push(`${what}${started ? `: its resend began on stream ${started.stream}` : ''}`);
      continue;
    }
    violations.push(frameEvidence(d.first, `the early data ${what} never arrived again after the rejection`));
  }
  // Twice: more new streams carry the same whole payload than dead streams account for.
  for (const n of free) {
    if (!n.complete || !dead.some((d) => carries(n, d))) continue;
    const same = fresh.filter((m) => m.complete && m.prefix.equals(n.prefix)).map((m) => m.stream);
    violations.push(
      frameEvidence(
        n.first,
        `the early data ${payloadText(n.prefix)} arrived ${same.length} times after the rejection (streams ${same.join(', ')}), more often than the dead attempt sent it`,
      ),
    );
  }
  if (violations.length > 0) {
    return { ...base, verdict: 'FAIL', summary: violations[0]!.note, evidence: capEvidence(violations) };
  }
  if (cut.length > 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: `the connection ended with an error (code ${close?.code}) before the early data could arrive again`,
      evidence: cut.map((note) => ({ note })),
    };
  }
  return { ...base, verdict: 'PASS', summary: resent.join('; '), evidence: [] };
}

/**
 * HTTP/3: the dead attempt's requests are compared by what they ask (method, scheme, authority,
 * path: the decoded head), not by their bytes, which legitimately differ (QPACK state, GREASE). Each
 * dead request must be asked again, on the connection after the rejection or, for a client that
 * starts a new connection instead, on a later one; on the connection after the rejection, not more
 * often than the dead attempt asked it.
 */
function checkH3RequestsResentOnce(
  t: ClientTrace,
  c: NonNullable<ReturnType<typeof attemptOf>>,
): CheckResult {
  const base = DATA_RESENT_ONCE;
  const dead = [...h3View(c.dead).requests.values()].filter((r) => r.key !== undefined);
  if (dead.length === 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: 'the rejected 0-RTT attempt carried no complete HTTP/3 request head',
      evidence: [],
    };
  }
  const conns = afterRejection(t).map((x) => [
    ...h3View(x.log.filter((l) => l.dir === 'recv')).requests.values(),
  ]);
  const count = (rs: H3Request[], key: string) => rs.filter((r) => r.key === key).length;
  const violations: Evidence[] = [];
  const resent: string[] = [];
  const cut: string[] = [];
  const close = c.close;
  const endedInError = close !== undefined && !(isNoError(close, t.alpn) || close.by === 'idle-timeout');
  for (const key of new Set(dead.map((r) => r.key!))) {
    const deadOnes = dead.filter((r) => r.key === key);
    const onNext = count(conns[0] ?? [], key);
    const what = `${key} (dead stream${deadOnes.length > 1 ? 's' : ''} ${deadOnes.map((r) => r.stream).join(', ')})`;
    if (onNext > deadOnes.length) {
      const streams = (conns[0] ?? []).filter((r) => r.key === key).map((r) => r.stream);
      violations.push(
        frameEvidence(
          (conns[0] ?? []).find((r) => r.key === key)!.first,
          `the early request ${what} was asked ${onNext} times after the rejection (streams ${streams.join(', ')}), more often than the dead attempt asked it`,
        ),
      );
      continue;
    }
    if (onNext > 0) {
      resent.push(`${what} again on the same connection`);
      continue;
    }
    const later = conns.slice(1).findIndex((rs) => count(rs, key) > 0);
    if (later >= 0) {
      resent.push(`${what} again on later connection ${later + 1}`);
      continue;
    }
    if (endedInError) {
      cut.push(what);
      continue;
    }
    violations.push(
      frameEvidence(
        deadOnes[0]!.first,
        `the early request ${what} was never asked again after the rejection`,
      ),
    );
  }
  if (violations.length > 0)
    return { ...base, verdict: 'FAIL', summary: violations[0]!.note, evidence: capEvidence(violations) };
  if (cut.length > 0) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: `the connection ended with an error (code ${close?.code}) before the early requests could be asked again`,
      evidence: cut.map((note) => ({ note })),
    };
  }
  return { ...base, verdict: 'PASS', summary: resent.join('; '), evidence: [] };
}
