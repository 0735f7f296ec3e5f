#!/usr/bin/env node
// Runs every test file under test/ (or the files/directories given as arguments) through node:test,
// with tsx as the TypeScript loader, so that node:test's summary counts every test.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function collect(path, out) {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (/\.test\.ts$/.test(path)) {
    out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const roots = args.length > 0 ? args : ['test'];
const files = roots.flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found under', roots.join(' '));
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    // fast-check generates inputs up to its 'large' size in every test (test/support/fast-check-size.ts).
    '--import',
    fileURLToPath(new URL('../test/support/fast-check-size.ts', import.meta.url)),
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=600000',
    ...files,
  ],
  { stdio: ['inherit', 'pipe', 'inherit'] },
);

// The output passes through unchanged. Failures are also collected, and repeated after node:test's
// summary: CI logs often keep only the tail, and the tail should say which test failed and why.
const failures = [];
let pending = '';
let current;
function onLine(line) {
  const failed = /^(\s*)not ok \d+ - (.*)$/.exec(line);
  if (failed) {
    current = { indent: failed[1].length, name: failed[2], details: [] };
    failures.push(current);
    return;
  }
  if (!current) return;
  if (/^\s*\.\.\.$/.test(line)) {
    current = undefined;
    return;
  }
  const detail = /^\s*([a-z][A-Za-z]*):\s*(.*)$/.exec(line);
  if (detail) {
    const [, key, value] = detail;
    current.block = value === '|-' || value === '|' ? key : undefined;
    if (['location', 'error', 'failureType'].includes(key) && !current.block)
      current.details.push(`${key}: ${value}`);
    if (current.block === 'error') current.errorLines = 0;
  } else if (current.block === 'error' && current.errorLines < 8 && line.trim()) {
    current.errorLines++;
    current.details.push(`  ${line.trim()}`);
  }
}
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) onLine(line);
});
child.on('close', (code, signal) => {
  if (pending) onLine(pending);
  // Only the innermost failures: a failed suite repeats its failed subtests' verdict.
  const leaves = failures.filter((f) => !f.details.some((d) => d === "failureType: 'subtestsFailed'"));
  if (leaves.length > 0) {
    console.log(`\n# ${leaves.length} failed test(s):`);
    for (const f of leaves) {
      console.log(`#   not ok - ${f.name}`);
      for (const d of f.details) console.log(`#       ${d.slice(0, 400)}`);
    }
  }
  process.exit(code ?? (signal ? 1 : 0));
});
