/**
 * Check 5 (client mode): a ticket past its lifetime is not accepted for 0-RTT (RFC 8446 §4.6.1: the
 * server must not use a ticket beyond ticket_lifetime; RFC 8446 §8.3 bounds early data by the ticket
 * age). The auditor keeps a ticket until its lifetime has passed and offers it with early data. It
 * can only wait for short lifetimes (`--max-ticket-wait`): otherwise the check is not exercised.
 */
import type { CheckResult } from '../check-result.js';
import type { ServerTrace } from '../server-trace.js';

export const EXPIRED_TICKET_REFUSED = {
  id: 5,
  name: 'expired-ticket-refused',
  title: 'a ticket past its lifetime is not accepted for 0-RTT',
};

export function checkExpiredTicketRefused(t: ServerTrace): CheckResult {
  const base = EXPIRED_TICKET_REFUSED;
  const e = t.expired;
  if (!e || e.skipped !== undefined || !e.attempt) {
    return {
      ...base,
      verdict: 'NOT-EXERCISED',
      summary: e?.skipped ?? 'no ticket to let expire',
      evidence: [],
    };
  }
  const note = {
    note: `ticket lifetime ${e.lifetime} s, offered ${Math.round(e.ageMs / 100) / 10} s after it arrived`,
  };
  if (e.attempt.earlyData === 'accepted') {
    return {
      ...base,
      verdict: 'FAIL',
      summary: 'the server accepted 0-RTT with an expired ticket',
      evidence: [note],
    };
  }
  return {
    ...base,
    verdict: 'PASS',
    summary: `the server refused 0-RTT with the expired ticket (${e.attempt.resumed ? 'yet resumed' : 'full handshake'})`,
    evidence: [note],
  };
}
