/**
 * CI part of the fuzzing (issue 10): every target replays its regressions and corpus, then fuzzes
 * for a short bounded time (FUZZ_MS, default 2500 ms per target, 10 targets). `npm run fuzz`
 * runs the same targets for minutes. A failure names the saved input (test/fuzz/findings/).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fuzz } from './engine.js';
import { TARGETS } from './targets.js';

const MS = Number(process.env.FUZZ_MS ?? 2500);
// A fixed seed in CI (the same inputs every run); FUZZ_SEED explores others.
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);

describe('fuzz targets: any input gives a value or the RFC-typed error', () => {
  for (const target of TARGETS) {
    test(`${target.name}: ${target.description}`, () => {
      const report = fuzz(target, { ms: MS, seed: SEED });
      assert.equal(
        report.failure,
        undefined,
        report.failure && `${report.failure.file}\n${report.failure.error}`,
      );
      assert.ok(report.corpus > 0, 'the target has a seed corpus');
      assert.ok(report.executions > report.corpus, `${report.executions} executions`);
    });
  }
});
