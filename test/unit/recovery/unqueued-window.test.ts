import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unqueuedWindow } from '../../../src/recovery/unqueued-window.js';

test('unqueuedWindow: the congestion window scaled by min_rtt / smoothed_rtt', () => {
  // A queue that stretched the RTT tenfold: a tenth of the window is the path's.
  assert.equal(unqueuedWindow(2_000_000, 1, 10), 200_000);
  assert.equal(unqueuedWindow(1_200_000, 20, 30), 800_000);
  // No queue: the whole window.
  assert.equal(unqueuedWindow(500_000, 25, 25), 500_000);
});

test('unqueuedWindow: the whole window without usable RTTs, never more than the window', () => {
  assert.equal(unqueuedWindow(500_000, 0, 30), 500_000, 'no min_rtt sample yet');
  assert.equal(unqueuedWindow(500_000, 30, 0), 500_000);
  assert.equal(unqueuedWindow(500_000, 30, 20), 500_000, 'smoothed below min (it lags)');
  assert.equal(unqueuedWindow(500_000, Number.NaN, 20), 500_000);
  assert.equal(unqueuedWindow(500_000, 5, Number.NaN), 500_000);
});
