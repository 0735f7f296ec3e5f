#!/usr/bin/env node
// Runs every test file under test/ (or the files/directories given as arguments) through node:test,
// with tsx as the TypeScript loader, one `node --test` child per file (TEST_CONCURRENCY at a time,
// default 2), and prints one TAP stream and one summary that counts every test of every file.
//
// Why a child per file rather than one `node --test` over all of them: on Node 20 a test file's
// process now and then deadlocks while loading, before its first test (the main thread waits on the
// module-hooks thread for an answer that never comes; seen in two full runs out of about a dozen,
// on different files, each passing when run again). Inside one `node --test` run such a file only
// fails after the 600 s test timeout. Here a file that has printed nothing for LOAD_HANG_MS is
// stopped and run once more, and the log says so; a second silent hang is a failure.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOAD_HANG_MS = Number(process.env.TEST_LOAD_HANG_MS ?? 240_000);

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
const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY ?? '2'));
const nodeArgs = [
  '--import',
  'tsx',
  // fast-check generates inputs up to its 'large' size in every test (test/support/fast-check-size.ts).
  '--import',
  fileURLToPath(new URL('../test/support/fast-check-size.ts', import.meta.url)),
  '--test',
  '--test-timeout=600000',
];

/** One file's run: its TAP output, or undefined when it printed nothing for LOAD_HANG_MS. */
function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk.toString('utf8');
    });
    let hung = false;
    const watchdog = setTimeout(() => {
      // `node --test` prints its TAP header at once; a file's own output is what counts.
      if (output.replace('TAP version 13\n', '').length > 0) return;
      hung = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, LOAD_HANG_MS);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve(hung ? undefined : { output, code, signal });
    });
  });
}

// --- TAP output: the files' streams one after another, top-level tests numbered across files, one
// plan and one summary at the end (node:test's own multi-file output has the same shape).
const totals = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
let topLevel = 0;
const started = performance.now();
process.stdout.write('TAP version 13\n');

/** Failures, collected from the TAP lines and repeated after the summary (CI logs keep the tail). */
const failures = [];
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

/** Passes a file's TAP through, renumbered, with its counts added to the totals. */
function emit(file, run) {
  const out = [];
  let counted = false;
  for (const line of run.output.split('\n')) {
    if (line === 'TAP version 13' || /^1\.\.\d+$/.test(line)) continue;
    const summary = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(line);
    if (summary) {
      if (summary[1] !== 'duration_ms') totals[summary[1]] += Number(summary[2]);
      counted = true;
      continue;
    }
    const top = /^(not ok|ok) \d+ (- .*)$/.exec(line);
    const renumbered = top ? `${top[1]} ${++topLevel} ${top[2]}` : line;
    out.push(renumbered);
    onLine(renumbered);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
  if (!counted || (run.code !== 0 && !out.some((l) => /^\s*not ok /.test(l)))) {
    // A file that ended without its summary or failed without a failing test (a crash at load).
    const why = run.signal ? `killed by ${run.signal}` : `exit code ${run.code}`;
    const line = `not ok ${++topLevel} - ${file}`;
    process.stdout.write(`${line}\n  ---\n  error: 'the file did not complete (${why})'\n  ...\n`);
    onLine(line);
    onLine(`  error: 'the file did not complete (${why})'`);
    totals.tests++;
    totals.fail++;
  }
}

/** A file that stays silent twice is a failure. */
function emitHung(file) {
  const line = `not ok ${++topLevel} - ${file}`;
  const error = `  error: 'printed nothing in ${LOAD_HANG_MS / 1000} s, twice (a hang while loading)'`;
  process.stdout.write(`${line}\n  ---\n${error}\n  ...\n`);
  onLine(line);
  onLine(error);
  totals.tests++;
  totals.fail++;
}

const queue = [...files];
async function worker() {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    let run = await runFile(file);
    if (run === undefined) {
      console.error(
        `run-tests: ${file} printed nothing in ${LOAD_HANG_MS / 1000} s (a hang while loading?); running it again`,
      );
      run = await runFile(file);
    }
    if (run === undefined) emitHung(file);
    else emit(file, run);
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));

process.stdout.write(`1..${topLevel}\n`);
for (const [k, v] of Object.entries(totals)) process.stdout.write(`# ${k} ${v}\n`);
process.stdout.write(`# duration_ms ${(performance.now() - started).toFixed(3)}\n`);
// Only the innermost failures: a failed suite repeats its failed subtests' verdict.
const leaves = failures.filter((f) => !f.details.some((d) => d === "failureType: 'subtestsFailed'"));
if (leaves.length > 0) {
  console.log(`\n# ${leaves.length} failed test(s):`);
  for (const f of leaves) {
    console.log(`#   not ok - ${f.name}`);
    for (const d of f.details) console.log(`#       ${d.slice(0, 400)}`);
  }
}
process.exit(totals.fail > 0 || totals.cancelled > 0 ? 1 : 0);
