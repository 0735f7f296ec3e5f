/**
 * The TypeScript examples in the documentation run as written: every ```ts block of the files below is
 * extracted, its `from 'tsquic'` (and 'tsquic/http3') imports pointed at this checkout's sources, and run as its own
 * process (tsx). A block must finish by itself (closing what it opened) with exit status 0.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ProcessResult, runTsx } from '../support/child-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Documents whose every ```ts block is a complete program. */
const DOCUMENTS = [
  'README.md',
  'docs/streams.md',
  'docs/datagrams.md',
  'docs/errors.md',
  'docs/certificates.md',
  'docs/api.md',
];
const EXAMPLE_TIMEOUT = 30_000;

const work = mkdtempSync(join(tmpdir(), 'tsquic-doc-examples-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The ```ts blocks of a Markdown file, with the line each starts on. */
export function tsBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

function run(file: string): Promise<ProcessResult> {
  return runTsx([file], { cwd: ROOT, timeoutMs: EXAMPLE_TIMEOUT });
}

const entry = pathToFileURL(join(ROOT, 'src/index.ts')).href;
const http3Entry = pathToFileURL(join(ROOT, 'src/http3/index.ts')).href;

for (const doc of DOCUMENTS) {
  describe(doc, () => {
    const blocks = tsBlocks(readFileSync(join(ROOT, doc), 'utf8'));
    test('has examples', () => assert.ok(blocks.length > 0));
    for (const { line, code } of blocks) {
      test(`the example at line ${line} runs and exits 0`, { timeout: EXAMPLE_TIMEOUT + 5_000 }, async () => {
        assert.match(code, /from 'tsquic'/, 'examples import the package by its name');
        const file = join(work, `${doc.replace(/\W/g, '_')}_${line}.mts`);
        writeFileSync(
          file,
          code
            .replaceAll("from 'tsquic'", `from '${entry}'`)
            .replaceAll("from 'tsquic/http3'", `from '${http3Entry}'`),
        );
        const r = await run(file);
        assert.equal(
          r.code,
          0,
          `${doc}:${line} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
        );
      });
    }
  });
}
