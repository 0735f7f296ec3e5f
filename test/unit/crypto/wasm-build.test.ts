import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildModule, MODULES, modulePaths } from '../../../scripts/wasm/build.js';

for (const m of MODULES) {
  test(`the committed ${m.name} WebAssembly module and its text are what scripts/wasm/build.ts makes of its generator`, async () => {
    const { wat, bytes } = await buildModule(m);
    const paths = modulePaths(m);
    assert.equal(readFileSync(paths.wat, 'utf8'), wat, 'run `npx tsx scripts/wasm/build.ts`');
    assert.equal(readFileSync(paths.bytes, 'utf8'), bytes, 'run `npx tsx scripts/wasm/build.ts`');
  });
}
