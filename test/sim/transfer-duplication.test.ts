import { describe, test } from 'node:test';
import { CONDITIONS, runTransfer, SIZES, specFor } from './transfer-matrix.js';

const condition = CONDITIONS[5]!; // duplication

describe(`transfers over ${condition.name}`, () => {
  for (const size of SIZES) {
    for (const streams of [1, 100]) {
      test(`${size.label} on ${streams === 1 ? 'one stream' : '100 concurrent streams'}, both directions`, () => {
        runTransfer(1000 + 5 * 10 + streams, condition, specFor(size.total, streams));
      });
    }
  }
});
