/**
 * The CLI's output helpers: sizes, durations, rates, the progress bar and the summary line.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { summary } from '../../src/cli/client.js';
import { formatBytes, formatDuration, formatRate, oneLine } from '../../src/cli/format.js';
import { ProgressBar } from '../../src/cli/progress.js';

describe('format', () => {
  test('bytes', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(10 * 1024 * 1024), '10.0 MiB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
  });

  test('durations and rates', () => {
    assert.equal(formatDuration(1.234), '1.23 ms');
    assert.equal(formatDuration(52.34), '52.3 ms');
    assert.equal(formatDuration(1234), '1.23 s');
    assert.equal(formatRate(125_000, 1000), '1.0 Mbit/s');
    assert.equal(formatRate(125, 1000), '1.0 kbit/s');
    assert.equal(formatRate(250_000_000, 1000), '2.00 Gbit/s');
    assert.equal(formatRate(1, 0), 'n/a');
  });

  test('oneLine keeps the first line of a message', () => {
    assert.equal(oneLine(new Error('first\nsecond')), 'first');
    assert.equal(oneLine('plain'), 'plain');
    assert.equal(oneLine(new TypeError('')), 'TypeError');
  });

  test('summary line', () => {
    assert.equal(
      summary(2, 10 * 1024 * 1024, 400, '0-RTT accepted'),
      '2 files, 10.0 MiB in 400.0 ms, 209.7 Mbit/s goodput, handshake: 0-RTT accepted',
    );
    assert.equal(summary(1, 5, 2000, 'full'), '1 file, 5 B in 2.00 s, 0.0 kbit/s goodput, handshake: full');
  });
});

describe('ProgressBar', () => {
  function fake(columns = 80) {
    let t = 0;
    const out = { text: '', columns, write: (s: string) => (out.text += s) };
    return { out, clock: () => t, advance: (ms: number) => (t += ms) };
  }

  test('draws files done, bytes and rate; throttles redraws; clears its line', () => {
    const { out, clock, advance } = fake();
    const bar = new ProgressBar(out, 4, clock);
    advance(1000);
    bar.add(1024 * 1024);
    assert.equal(out.text, `\r[${'.'.repeat(40)}] 0/4 files  1.00 MiB  8.4 Mbit/s\x1b[K`);
    out.text = '';
    bar.add(1); // within 100 ms of the last draw: no output
    assert.equal(out.text, '');
    bar.fileDone(); // a file completing always redraws
    assert.match(out.text, /^\r\[#{10}\.{30}\] 1\/4 files /);
    bar.fileDone();
    bar.fileDone();
    bar.fileDone();
    assert.match(out.text, /\[#{40}\] 4\/4 files {2}1\.00 MiB/);
    out.text = '';
    bar.clear();
    assert.equal(out.text, '\r\x1b[K');
    out.text = '';
    bar.clear();
    assert.equal(out.text, '', 'nothing to clear twice');
  });

  test('fits a narrow terminal', () => {
    const { out, clock } = fake(30);
    const bar = new ProgressBar(out, 2, clock);
    bar.fileDone();
    const line = out.text.replace('\r', '').replace('\x1b[K', '');
    assert.ok(line.length <= 29, line);
    assert.ok(line.startsWith('[#####.....]'), line);
  });

  test('a terminal that reports 0 columns gets 80', () => {
    const { out, clock } = fake(0);
    new ProgressBar(out, 1, clock).fileDone();
    assert.match(out.text, /^\r\[#{40}\] 1\/1 files /);
  });
});
