#!/usr/bin/env node
/**
 * The `tsquic` command: `server`, `client`, `demo`. Exit status: 0 success, 1 failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './args.js';
import { AUDIT_HELP } from './audit-help.js';
import { CLIENT_HELP, runClient } from './client.js';
import { DEMO_HELP, runDemo } from './demo.js';
import { oneLine } from './format.js';
import { runServer, SERVER_HELP } from './server.js';

const HELP = `Usage: tsquic <command> [options]

QUIC (RFC 9000/9001/9002) with 0-RTT, in TypeScript for Node.js.

Commands:
  server   serve a directory over HTTP/0.9 (hq-interop) or HTTP/3 (h3) on QUIC
  client   fetch https:// URLs from such a server, with resumption and 0-RTT
  demo     a tour on loopback: full handshake, 0-RTT accepted, 0-RTT rejected and recovered
  audit-0rtt
           check how another QUIC client or server handles a rejected 0-RTT attempt

Options:
  -h, --help      show this help (or: tsquic <command> --help)
  -v, --version   print the version

Exit status: 0 on success, 1 on failure, 2 on a usage error.
`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  server: { run: runServer, help: SERVER_HELP },
  client: { run: runClient, help: CLIENT_HELP },
  demo: { run: runDemo, help: DEMO_HELP },
  // Loaded only when used: the other commands do not need the auditor.
  'audit-0rtt': {
    run: async (argv) => (await import('./audit-0rtt.js')).runAudit0Rtt(argv),
    help: AUDIT_HELP,
  },
};

/** package.json sits two levels up from both src/cli/main.ts and dist/cli/main.js. */
function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const v = (pkg as { version?: unknown }).version;
  return typeof v === 'string' ? v : 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(HELP);
    return EXIT_USAGE;
  }
  if (first === '-h' || first === '--help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (first === 'help') {
    const cmd = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    process.stdout.write(cmd?.help ?? HELP);
    return 0;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`tsquic ${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!command) {
    const what = first.startsWith('-') ? `unknown option ${first}` : `unknown command ${first}`;
    process.stderr.write(`tsquic: ${what}\nRun 'tsquic --help' for usage.\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tsquic ${first}: ${err.message}\nRun 'tsquic ${first} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`tsquic ${first}: error: ${oneLine(err)}\n`);
    return EXIT_FAILURE;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let pending output (key logs, stdout) drain and the sockets close; if some handle still keeps the
// process alive after that, end it anyway.
setTimeout(() => process.exit(code), 3000).unref();
