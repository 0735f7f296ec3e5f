import assert from 'node:assert/strict';
import { QpackError } from '../../../../src/http3/qpack/errors.js';

/** Bytes from hex with optional spaces (the RFC's notation). */
export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array | undefined): string {
  return b === undefined ? '' : Buffer.from(b).toString('hex');
}

/** Asserts that `fn` throws a QpackError with `h3Code` (and a reason matching `reason`, if given). */
export function assertQpackError(fn: () => unknown, h3Code: number, reason?: RegExp): QpackError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof QpackError, `expected a QpackError, got ${String(caught)}`);
  assert.equal(caught.h3Code, h3Code, caught.message);
  if (reason) assert.match(caught.reason, reason);
  return caught;
}
