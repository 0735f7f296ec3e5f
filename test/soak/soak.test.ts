/**
 * A short soak in the suite (issue 10): 35 s of mixed traffic against one server over real UDP
 * (soak.ts): full handshakes, 0-RTT accepted and rejected, bulk both ways, STOP_SENDING and
 * RESET_STREAM, HTTP/3, clients killed mid-transfer. `npm run soak -- --minutes N` runs it long.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak, summary } from './soak.js';

const DURATION = 35_000;

test('soak: 35 s of mixed traffic, every byte checked, no internal error, memory flat', async () => {
  const lines: string[] = [];
  const r = await runSoak({ durationMs: DURATION, sampleEveryMs: 3_000, log: (l) => lines.push(l) });
  const report = `${r.table}\n${summary(r, DURATION)}`;
  for (const l of report.split('\n')) console.log(`# ${l}`);
  assert.deepEqual(r.failures, [], report);
  assert.ok(r.ok);
});
