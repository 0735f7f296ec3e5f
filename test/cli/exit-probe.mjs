// Loaded with --import into a `tsquic` child process by test/cli/errors.test.ts: when the process
// exits, it reports the resources that were still keeping the event loop alive (ref'd sockets,
// timers). A command that finished cleanly exits because nothing is left; one that needed the CLI's
// fallback process.exit() still had something open.
process.on('exit', () => {
  const alive = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
  process.stderr.write(`exit-probe: ${JSON.stringify(alive)}\n`);
});
