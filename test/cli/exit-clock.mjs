// Loaded with --import into a `tsquic` child process by test/cli/closing.test.ts: when the process
// exits, it reports the time on the shell's clock (performance.timeOrigin + performance.now(), the
// clock of the qlog's reference_time) and what still kept the event loop alive.
import { performance } from 'node:perf_hooks';

process.on('exit', () => {
  const alive = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
  process.stderr.write(
    `exit-clock: ${JSON.stringify({ at: performance.timeOrigin + performance.now(), alive })}\n`,
  );
});
