/**
 * The reference documentation stays complete:
 * - docs/errors.md's table names every error class the package exports and every error code the
 *   public API can throw (QuicUsageError codes, the public classes' codes, the Node codes of
 *   argument validation);
 * - `npm run docs` (TypeDoc, typedoc.json) builds the API reference with no warning: nothing exported
 *   refers to a type that is not exported, and no comment links to nothing.
 */
import assert from 'node:assert/strict';

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tsquic from '../../src/index.js';
import { runProcess } from '../support/child-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The (class, code) rows of the table in docs/errors.md. */
function errorTable(): Array<{ cls: string; code: string }> {
  const rows: Array<{ cls: string; code: string }> = [];
  for (const line of readFileSync(join(ROOT, 'docs/errors.md'), 'utf8').split('\n')) {
    const m = /^\| `(\w+)` \| `(\w+)` \|/.exec(line);
    if (m) rows.push({ cls: m[1]!, code: m[2]! });
  }
  return rows;
}

test('docs/errors.md lists every exported error class', () => {
  const documented = new Set(errorTable().map((r) => r.cls));
  const exported = Object.entries(tsquic)
    .filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error)
    .map(([name]) => name)
    .filter((name) => name !== 'QuicError');
  assert.ok(exported.length >= 12, `found ${exported.length} error classes`);
  for (const name of exported)
    assert.ok(documented.has(name), `${name} is exported but not in docs/errors.md`);
});

test('docs/errors.md lists every code the public API throws', () => {
  const documented = new Set(errorTable().map((r) => r.code));
  const codes = new Set<string>();
  const files = [
    ...sourceFiles(join(ROOT, 'src/node')),
    ...sourceFiles(join(ROOT, 'src/errors')),
    join(ROOT, 'src/index.ts'),
  ];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new QuicUsageError\(\s*'([A-Z0-9_]+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/readonly code = '([A-Z0-9_]+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/'(ERR_(?:INVALID_ARG_TYPE|INVALID_ARG_VALUE|OUT_OF_RANGE))'/g))
      codes.add(m[1]!);
  }
  assert.ok(codes.size >= 15, `found ${codes.size} codes`);
  for (const code of codes) assert.ok(documented.has(code), `${code} is thrown but not in docs/errors.md`);
});

const out = mkdtempSync(join(tmpdir(), 'tsquic-typedoc-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('npm run docs: the API reference builds without a warning', { timeout: 300_000 }, async () => {
  const typedoc = join(ROOT, 'node_modules/typedoc/bin/typedoc');
  const run = await runProcess(process.execPath, [typedoc, '--out', out, '--treatWarningsAsErrors'], {
    cwd: ROOT,
    timeoutMs: 280_000,
  });
  const r = { code: run.code, output: run.stdout + run.stderr };
  assert.equal(r.code, 0, r.output);
  const index = readFileSync(join(out, 'index.html'), 'utf8');
  for (const name of ['dial', 'listen', 'QuicConnection', 'ServerOptions', 'ConnectionStats']) {
    assert.ok(index.includes(name), `the reference has ${name}`);
  }
});
