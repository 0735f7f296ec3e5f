/**
 * Records what would crash or warn the process: uncaught exceptions (an 'error' event with no
 * listener ends up there) and unhandled promise rejections. Tests that must prove "nothing throws
 * into the process" watch for the whole test and assert the list is empty at the end.
 */
export interface ProcessErrorWatch {
  /** Everything seen since start(), in order. */
  readonly errors: Array<{ kind: 'uncaughtException' | 'unhandledRejection'; error: unknown }>;
  /** Stop listening; returns `errors`. */
  stop(): ProcessErrorWatch['errors'];
}

export function watchProcessErrors(): ProcessErrorWatch {
  const errors: ProcessErrorWatch['errors'] = [];
  const onException = (error: unknown) => errors.push({ kind: 'uncaughtException', error });
  const onRejection = (error: unknown) => errors.push({ kind: 'unhandledRejection', error });
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    errors,
    stop() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
      return errors;
    },
  };
}

/** Let pending nextTick/microtask/immediate work run (where 'error' events and rejections surface). */
export async function settleTicks(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
