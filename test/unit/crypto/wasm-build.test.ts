import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BYTES_PATH, buildChaCha20Poly1305, WAT_PATH } from '../../../scripts/wasm/build.js';

test('the committed WebAssembly module and its text are what scripts/wasm/build.ts makes of its generator', async () => {
  const { wat, bytes } = await buildChaCha20Poly1305();
  assert.equal(readFileSync(WAT_PATH, 'utf8'), wat, 'run `npx tsx scripts/wasm/build.ts`');
  assert.equal(readFileSync(BYTES_PATH, 'utf8'), bytes, 'run `npx tsx scripts/wasm/build.ts`');
});
