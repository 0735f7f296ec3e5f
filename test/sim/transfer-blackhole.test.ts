import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONDITIONS, runTransfer, SIZES, specFor } from './transfer-matrix.js';

const condition = CONDITIONS[7]!; // blackhole

describe(`transfers over ${condition.name}`, () => {
  for (const size of SIZES) {
    for (const streams of [1, 100]) {
      test(`${size.label} on ${streams === 1 ? 'one stream' : '100 concurrent streams'}, both directions`, () => {
        const r = runTransfer(1000 + 7 * 10 + streams, condition, specFor(size.total, streams));
        if (size.total >= 50 * 1024 * 1024) {
          // The blackhole must have hit the transfer, and the transfer outlived it.
          assert.ok(r.network.blackholed > 0, 'datagrams were blackholed');
          assert.ok(r.virtualMs > 5300, `finished at ${r.virtualMs} ms, after the blackhole`);
        }
      });
    }
  }
});
