/**
 * The simulator is deterministic as documented (docs/testing.md): a seed alone fixes every byte of a
 * run, in this process and in another one, and SIM_SEED replaces the seed of any simulation.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { transferTraceHash } from './determinism.js';

const SCRIPT = fileURLToPath(new URL('./determinism.ts', import.meta.url));

function inChild(seed: number, env: NodeJS.ProcessEnv = {}): ReturnType<typeof transferTraceHash> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', SCRIPT, String(seed)], {
    env: { ...process.env, SIM_SEED: '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out) as ReturnType<typeof transferTraceHash>;
}

test('the same seed gives byte-identical datagrams, in this process and in another', () => {
  const a = transferTraceHash(1234);
  const b = transferTraceHash(1234);
  assert.ok(a.datagrams > 100, `only ${a.datagrams} datagrams`);
  assert.deepEqual(b, a);
  // A fresh process has its own certificate objects, OpenSSL state and module caches: nothing of
  // that may show in the bytes (ECDSA's random nonce once did, through the CRYPTO frame lengths).
  assert.deepEqual(inChild(1234), a);
  assert.notEqual(transferTraceHash(1235).hash, a.hash, 'another seed gives another run');
});

test('SIM_SEED replaces the seed of a simulation, whatever seed the test chose', () => {
  const wanted = transferTraceHash(77);
  const replaced = inChild(5, { SIM_SEED: '77' });
  assert.equal(replaced.seed, 77);
  assert.equal(replaced.hash, wanted.hash);
});
