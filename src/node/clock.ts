/** The shell's clock: epoch milliseconds from a monotonic source, as the core expects (src/util/time.ts). */
import { performance } from 'node:perf_hooks';
import type { Millis } from '../util/time.js';

export function now(): Millis {
  return performance.timeOrigin + performance.now();
}
