/** The cached `date` field value of responses (src/http3/node/http-date.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpDate } from '../../../src/http3/node/http-date.js';

test('httpDate: an IMF-fixdate (RFC 9110 §5.6.7) of the current second, recomputed when the second changes', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37);
  assert.equal(httpDate(t), 'Sun, 06 Nov 1994 08:49:37 GMT');
  // Within the same second: the same text, whatever the milliseconds.
  assert.equal(httpDate(t + 999), 'Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(httpDate(t + 1000), 'Sun, 06 Nov 1994 08:49:38 GMT');
  // Time going back (a clock step) is not hidden by the cache either.
  assert.equal(httpDate(t - 1), 'Sun, 06 Nov 1994 08:49:36 GMT');
  const now = Date.now();
  assert.match(httpDate(now), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.equal(httpDate(now), new Date(Math.floor(now / 1000) * 1000).toUTCString());
});
