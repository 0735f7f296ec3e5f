/**
 * Fault injection over real UDP (issue 10, issue 16): tsquic client <-> tsquic server through the
 * project's fault proxy on loopback, in the interop runner's scenarios plus burst loss. Every file
 * arrives whole (SHA-256); each run is bounded in time (no timing assertion beyond that bound).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, removeDir, type TestPkiFiles, writeTestPki } from '../interop/go-peers.js';
import { runScenario, scenarios } from './fault-runs.js';

let work = '';
let pki: TestPkiFiles;
before(() => {
  work = makeTempDir('tsquic-faults-');
  pki = writeTestPki(work);
});
after(() => removeDir(work));

describe('tsquic <-> tsquic through the fault proxy', () => {
  for (const s of scenarios()) {
    test(s.name, { timeout: 90_000 }, async () => {
      const r = await runScenario(s, 'tsquic', 'tsquic', { work, pki, seed: 10, timeoutMs: 60_000 });
      // The faults really happened.
      if (s.name.endsWith('loss')) assert.ok(r.lost > 0, 'datagrams lost');
      if (s.up.corrupt !== undefined) assert.ok(r.corrupted > 0, 'datagrams corrupted');
    });
  }
});
