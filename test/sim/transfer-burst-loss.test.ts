/**
 * Burst loss (issue 16): transfers in both directions over many seeds under the fault proxy's burst
 * pattern, a Gilbert-Elliott channel and a run of lost ACKs. Every transfer completes byte-exact and
 * no endpoint with packets in flight stays silent longer than the bound RFC 9002 gives (see
 * silenceBound), read from the simulator's send trace in virtual time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACK_LOSS_MS,
  CONDITIONS,
  MiB,
  runTransfer,
  silenceBound,
  specFor,
  type TransferResult,
} from './transfer-matrix.js';

const byName = (prefix: string) => {
  const c = CONDITIONS.find((x) => x.name.startsWith(prefix));
  assert.ok(c, prefix);
  return c;
};

function worstSilence(r: TransferResult): { gap: number; who: string; at: number } {
  let worst = { gap: 0, who: '', at: 0 };
  for (const [who, s] of r.maxSilence) if (s.gap > worst.gap) worst = { gap: s.gap, who, at: s.at };
  return worst;
}

describe('transfers under burst loss', () => {
  const runs = byName('burst loss');
  test('fixed runs of 8 lost datagrams: 2 MiB each way, 16 seeds, silence within PTO * 2^ceil(run/2)', () => {
    let bursts = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const r = runTransfer(16_000 + seed, runs, specFor(2 * MiB, seed % 4 === 0 ? 100 : 1));
      assert.ok(r.longestLossRun >= 8, `seed ${seed}: the bursts happened`);
      bursts += r.network.lost;
      const w = worstSilence(r);
      const bound = silenceBound(r.maxPtoPeriod, r.longestLossRun);
      assert.ok(
        w.gap <= bound,
        `seed ${16_000 + seed}: ${w.who} silent ${w.gap} ms from t=${w.at} ms with packets in flight (bound ${bound} ms, run ${r.longestLossRun}, PTO ${r.maxPtoPeriod} ms)`,
      );
    }
    assert.ok(bursts > 1000, `datagrams lost in bursts: ${bursts}`);
  });

  const ge = byName('Gilbert-Elliott');
  test('Gilbert-Elliott channel: 2 MiB each way, 12 seeds, silence within the bound', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = runTransfer(16_100 + seed, ge, specFor(2 * MiB, 1));
      assert.ok(r.network.lost > 0);
      const w = worstSilence(r);
      const bound = silenceBound(r.maxPtoPeriod, r.longestLossRun);
      assert.ok(
        w.gap <= bound,
        `seed ${16_100 + seed}: ${w.who} silent ${w.gap} ms from t=${w.at} ms (bound ${bound} ms, run ${r.longestLossRun})`,
      );
    }
  });

  const acks = byName('every ACK lost');
  test('every ACK lost for 1 s: 2 MiB each way, 6 seeds, the sender keeps probing', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const r = runTransfer(16_200 + seed, acks, specFor(2 * MiB, 1));
      assert.ok(r.network.lost > 0, 'ACKs were lost');
      const w = worstSilence(r);
      // The backoff doubles at each PTO (RFC 9002 §6.2.1): the gap that spans the end of the ACK
      // outage is at most twice the time since the stall began, i.e. 2 * (outage + PTO).
      const bound = 2 * (ACK_LOSS_MS + r.maxPtoPeriod);
      assert.ok(w.gap <= bound, `seed ${16_200 + seed}: ${w.who} silent ${w.gap} ms (bound ${bound} ms)`);
    }
  });
});
