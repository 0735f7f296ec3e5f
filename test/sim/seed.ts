/**
 * Seeds and reproducibility: every simulation failure must say how to rerun it.
 *
 *   const seed = simSeed(42);              // SIM_SEED=1234 node scripts/run-tests.mjs ... overrides it
 *   await withSimSeed(seed, async () => { ... assertions ... });   // failures then name the seed
 */

/** The hint appended to simulator failures: which seed ran and how to rerun exactly that run. */
export function formatSeedHint(seed: number): string {
  return `seed ${seed} (rerun with SIM_SEED=${seed})`;
}

/** The seed for a simulation test: `process.env.SIM_SEED` when set, else `defaultSeed`. */
export function simSeed(defaultSeed: number): number {
  const raw = process.env.SIM_SEED;
  if (raw === undefined || raw.trim() === '') return defaultSeed;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`SIM_SEED must be an integer, got '${raw}'`);
  return seed;
}

/** Appends the seed hint to an error's message (and stack) unless it already names the seed. */
export function annotateWithSeed(error: unknown, seed: number): unknown {
  if (!(error instanceof Error)) return error;
  const marker = `SIM_SEED=${seed}`;
  if (error.message.includes(marker)) return error;
  const oldMessage = error.message;
  const newMessage = `${oldMessage}\n${formatSeedHint(seed)}`;
  error.message = newMessage;
  if (typeof error.stack === 'string') {
    const at = error.stack.indexOf(oldMessage);
    error.stack =
      at >= 0 && oldMessage.length > 0
        ? error.stack.slice(0, at) + newMessage + error.stack.slice(at + oldMessage.length)
        : `${error.stack}\n${formatSeedHint(seed)}`;
  }
  return error;
}

/**
 * Runs `fn(seed)`; if it throws (or its promise rejects), the error's message is extended with the
 * seed hint so that the test output says how to reproduce the failure.
 */
export function withSimSeed<T>(seed: number, fn: (seed: number) => T): T {
  let result: T;
  try {
    result = fn(seed);
  } catch (e) {
    throw annotateWithSeed(e, seed);
  }
  if (result instanceof Promise) {
    return result.catch((e: unknown) => {
      throw annotateWithSeed(e, seed);
    }) as T;
  }
  return result;
}
