/**
 * Errors thrown by the simulator. Each names the seed, so a failing test says how to rerun it.
 */
import type { Millis } from '../../src/util/time.js';
import { formatSeedHint } from './seed.js';

/** The run did not reach its `until` condition within `maxTime` (virtual) or `maxEvents`. */
export class SimTimeoutError extends Error {
  override readonly name = 'SimTimeoutError';
  constructor(
    readonly seed: number,
    /** Virtual time (epoch ms) when the limit was hit. */
    readonly time: Millis,
    /** Events processed by the failing `run` call. */
    readonly events: number,
    detail: string,
  ) {
    super(`simulation timed out: ${detail}; ${formatSeedHint(seed)}`);
  }
}

/**
 * A node (or the whole simulation) made no progress: `transmit` never returned undefined, a timer kept
 * firing at the same instant, or virtual time stopped advancing.
 */
export class SimLivelockError extends Error {
  override readonly name = 'SimLivelockError';
  constructor(
    readonly seed: number,
    /** The offending node's address, when one node is to blame. */
    readonly address: string | undefined,
    detail: string,
  ) {
    super(`simulation livelock: ${detail}; ${formatSeedHint(seed)}`);
  }
}
