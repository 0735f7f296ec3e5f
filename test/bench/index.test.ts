/**
 * bench/index.ts: the summary's title says how many runs its medians are of, per bench when the
 * benches differ (the http3 bench runs 5 by default where the others run --runs, 3).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Figure, runsNote } from '../../bench/index.js';

const figure = (bench: string, runs?: number): Figure => ({
  bench,
  name: `${bench} ratio`,
  value: 1,
  unit: 'x',
  digits: 2,
  headline: true,
  ...(runs !== undefined ? { runs } : {}),
});

test('bench summary: one run count when every figure shares it', () => {
  assert.equal(runsNote([figure('compare'), figure('udp')], 3), 'median of 3 run(s)');
  assert.equal(runsNote([figure('http3', 5)], 3), 'median of 5 run(s)');
  assert.equal(runsNote([], 3), 'median of 3 run(s)');
});

test('bench summary: the run count of each bench when they differ', () => {
  assert.equal(
    runsNote([figure('compare'), figure('http3', 5), figure('http3', 5)], 3),
    'medians of 3 run(s) for compare, 5 run(s) for http3',
  );
});
