/**
 * bench/http3.ts's bookkeeping (the measurements themselves need the Go peers and minutes, and their
 * figures are never asserted): which pairs of measurements are taken again because the hypervisor
 * stole CPU during them, and what the printed table says about steal, retries and the tsquic build.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHttp3, type Http3BenchResult, measureAgain, STEAL_LIMIT } from '../../bench/http3.js';

test('http3 bench: a pair is measured again when either half lost more than the steal limit', () => {
  assert.equal(measureAgain([0, 0.01], 0), false);
  assert.equal(measureAgain([STEAL_LIMIT, STEAL_LIMIT], 0), false);
  assert.equal(measureAgain([0, STEAL_LIMIT + 0.01], 0), true);
  assert.equal(measureAgain([0.5, 0], 2), true);
  // The fourth attempt is kept whatever its steal.
  assert.equal(measureAgain([0.5, 0.5], 3), false);
  // Where /proc/stat is unreadable nothing is retried.
  assert.equal(measureAgain([undefined, undefined], 0), false);
});

test('http3 bench: the table states the steal, the pairs measured again and how tsquic ran', () => {
  const r: Http3BenchResult = {
    rps: { tsquic: { 1: 2000, 10: 8000, 100: 10000 }, 'quic-go': { 1: 1000, 10: 4000, 100: 5000 } },
    cpuPerRequestUs: { tsquic: { 1: 300, 10: 100, 100: 90 }, 'quic-go': { 1: 400, 10: 120, 100: 100 } },
    goodput: { tsquic: 200, 'quic-go': 400 },
    tsquicAveragePacket: { rps: 350, download: 1440 },
    loadAverage: { start: 0.5, end: 2 },
    steal: { median: 0.023, max: 0.5 },
    retried: 4,
    build: 'dist',
    sizeMiB: 100,
    runs: 5,
  };
  const text = formatHttp3(r);
  assert.match(text, /\| small GETs\/s, 100 in flight \| 10000 \| 5000 \| 2\.00 \|/);
  assert.match(
    text,
    /steal\) during the small-GET measurements kept: median 2\.3%, largest 50\.0% of a core; 4 pair\(s\) measured again/,
  );
  assert.match(text, /tsquic server: compiled JavaScript/);
  assert.match(
    formatHttp3({ ...r, build: 'tsx', steal: undefined }),
    /tsquic server: TypeScript sources through tsx/,
  );
  assert.doesNotMatch(formatHttp3({ ...r, steal: undefined }), /steal/);
});
