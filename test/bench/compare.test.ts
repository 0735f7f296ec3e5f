/**
 * `npm run bench` (bench/index.ts -> bench/compare.ts) in a tiny bounded mode: it runs tsquic and
 * quic-go 0.29 side by side and writes compare.json and compare.svg of the right shape. The figures
 * themselves are not checked (no timed assertions); only that every promised figure is there, that
 * goodput rows carry the packet size, and that the compared columns are capped at 1452 bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CompareResult } from '../../bench/compare.js';
import { type ProcessResult, runTsx } from '../support/child-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = mkdtempSync(join(tmpdir(), 'tsquic-bench-test-'));
after(() => rmSync(out, { recursive: true, force: true }));

function runBench(args: string[], timeoutMs: number): Promise<ProcessResult> {
  return runTsx([join(ROOT, 'bench/index.ts'), ...args], { cwd: ROOT, timeoutMs });
}

const EXPECTED_ROWS = [
  'upload-goodput',
  'download-goodput',
  'streams-goodput',
  'full-sequential',
  'resumed-sequential',
  '0rtt-sequential',
  'full-parallel16',
  'resumed-parallel16',
  '0rtt-parallel16',
  'upload-goodput-cold',
  'download-goodput-cold',
  'streams-goodput-cold',
  'full-sequential-cold',
  'resumed-sequential-cold',
  '0rtt-sequential-cold',
  'ttfb-full',
  'ttfb-0rtt',
  'cpu-hs-full-client',
  'cpu-hs-full-server',
  'cpu-hs-resumed-client',
  'cpu-hs-resumed-server',
  'cpu-hs-0rtt-client',
  'cpu-hs-0rtt-server',
  'cpu-hs-full-parallel16-client',
  'cpu-hs-full-parallel16-server',
  'cpu-hs-resumed-parallel16-client',
  'cpu-hs-resumed-parallel16-server',
  'cpu-hs-0rtt-parallel16-client',
  'cpu-hs-0rtt-parallel16-server',
  'cpu-upload-client',
  'cpu-upload-server',
  'cpu-download-client',
  'cpu-download-server',
  'idle-rss-4',
  'idle-heap-4',
  'idle-eld-4',
];

test('npm run bench -- --quick (tiny): tsquic and quic-go side by side, JSON and SVG of the right shape', async () => {
  const args = [
    '--quick',
    '--size',
    '0.25',
    '--duration',
    '300',
    '--warmup',
    '0',
    '--transfer-warmup',
    '0.5',
    '--idle',
    '4',
    '--out',
    out,
  ];
  const r = await runBench(args, 540_000);
  assert.equal(r.code, 0, `bench failed:\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /machine: nproc \d+, node v\d+/);
  assert.match(r.stdout, /tsquic vs quic-go 0\.29 on 127\.0\.0\.1.*datagrams <= 1452 B/);
  assert.match(r.stdout, /versions: node v\d+.*go1\.\d+.*quic-go 0\.29/);

  const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareResult;
  assert.equal(json.settings.address, '127.0.0.1');
  assert.equal(json.settings.packetCap, 1452);
  assert.equal(json.settings.parallel, 16);
  assert.equal(json.settings.streams, 10);
  // tsquic runs as users of the package run it (compiled JavaScript); the cold rows are fresh clients.
  assert.equal(json.settings.tsquicBuild, 'dist');
  assert.equal(json.settings.coldWarmupMs, 500);
  // Warm transfer rows: each client first did a 0.5 MiB transfer (compare.ts checks each client's
  // report of it); the cold transfer rows' clients did none.
  assert.equal(json.settings.transferWarmupMiB, 0.5);
  assert.equal(json.settings.transferWarmupConnections, 8);
  assert.ok(json.machine.nproc >= 1 && typeof json.machine.cpu === 'string');
  assert.match(json.versions.node, /^v\d+/);
  assert.match(json.versions.quicGo ?? '', /^0\.29/);
  assert.deepEqual(
    json.columns.map((c) => [c.key, c.maxDatagramBytes, c.unavailable]),
    [
      ['tsquic', 1452, undefined],
      ['quic-go', 1452, undefined],
      ['tsquic-jumbo', 16383, undefined],
    ],
  );
  assert.match(json.columns[2]!.label, /jumbo/);
  assert.deepEqual(
    json.rows.map((row) => row.key),
    EXPECTED_ROWS,
  );
  for (const row of json.rows) {
    assert.ok(row.better === 'higher' || row.better === 'lower', row.key);
    assert.ok(row.unit.length > 0 && row.label.length > 0, row.key);
    if (row.unit === 'Mbit/s') {
      assert.deepEqual(row.packetBytes, { tsquic: 1452, 'quic-go': 1452, 'tsquic-jumbo': 16383 }, row.key);
    }
    // The figures every stack has: measured (a number) in every column that runs it.
    const columns = row.key.startsWith('idle-eld')
      ? ['tsquic']
      : row.key.startsWith('idle')
        ? ['tsquic', 'quic-go']
        : ['tsquic', 'quic-go', 'tsquic-jumbo'];
    for (const c of columns) {
      const cell = row.cells[c as keyof typeof row.cells];
      assert.ok(cell, `${row.key}: no ${c} cell`);
      // quic-go 0.29's client now and then fails to resume one connection of a few hundred (CI,
      // session 44: '1 of 193 connections did not resume' in its cold resumed row; compare runs saw
      // it too): its own client and server, nothing of tsquic's. The bench reports that run as
      // failed, which is what this checks for quic-go; tsquic's columns must have no error at all.
      if (c === 'quic-go' && cell.errors.length > 0) {
        for (const e of cell.errors) assert.match(e, /^1 of \d+ connections did not resume$/, row.key);
        continue;
      }
      assert.deepEqual(cell.errors, [], `${row.key} ${c}`);
      // A tiny run's 16 parallel loops may finish no connection: no CPU per connection then.
      if (row.key.startsWith('cpu-hs-') && row.key.includes('parallel') && cell.values.length === 0) continue;
      assert.equal(cell.values.length, 1, `${row.key} ${c}`);
      assert.ok(typeof cell.median === 'number' && Number.isFinite(cell.median), `${row.key} ${c}`);
    }
    // (Tiny runs: 16 parallel handshakes may complete none in 300 ms, and a server may use less CPU
    // than /proc's 10 ms resolution, so those ratios can be missing.)
    const quicGoFailed = (row.cells['quic-go']?.errors.length ?? 0) > 0;
    if (
      !quicGoFailed &&
      !row.key.startsWith('idle') &&
      !row.key.includes('parallel') &&
      !row.key.startsWith('cpu-')
    ) {
      assert.ok(typeof row.ratio === 'number' && row.ratio > 0, `${row.key}: ratio ${row.ratio}`);
    }
  }
  assert.equal(json.rows.find((r) => r.key === 'idle-eld-4')?.cells['quic-go'], undefined);
  // Measured, not only declared: tsquic's upload datagrams stay within the cap.
  for (const key of ['upload-goodput', 'streams-goodput']) {
    const avg = json.rows.find((r) => r.key === key)?.averagePacketBytes?.tsquic;
    assert.ok(avg !== undefined && avg > 1000 && avg <= 1452, `${key}: tsquic's average datagram ${avg} B`);
  }

  const svg = readFileSync(join(out, 'compare.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.match(svg, /1\.0x = quic-go 0\.29/);
  assert.match(svg, /upload goodput \(0\.25 MiB\) @&lt;=1452 B/);
  const bars = svg.match(/<rect class="bar"/g)?.length ?? 0;
  const na = svg.match(/class="na"/g)?.length ?? 0;
  assert.equal(bars, json.rows.filter((r) => r.ratio !== undefined).length);
  assert.equal(bars + na, json.rows.length);
});
