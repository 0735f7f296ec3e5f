/**
 * `tsquic audit-0rtt server|client`: the 0-RTT rejection conformance checker (docs/audit-0rtt.md).
 * Server mode audits the clients that connect to it; client mode audits a server. The auditors are
 * sans-IO (src/audit); this file parses the command line and runs them over UDP.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditServer } from '../audit/audit-server.js';
import type { ClientTrace } from '../audit/audit-trace.js';
import { buildReport, formatReport, type PeerReport } from '../audit/report.js';
import type { FileSource } from '../audit/server-app.js';
import { runServerChecks } from '../audit/server-checks.js';
import { now } from '../node/clock.js';
import { pooledRandomBytes } from '../node/random-pool.js';
import { EXIT_FAILURE, type HostPort, parseHostPort, parseOrUsage, required, UsageError } from './args.js';
import { UdpDriver } from './audit-udp.js';
import { oneLine } from './format.js';

export const AUDIT_HELP = `Usage: tsquic audit-0rtt server --listen HOST:PORT --cert FILE --key FILE [options]
       tsquic audit-0rtt client URL [options]

Checks how another QUIC stack handles a rejected 0-RTT attempt (docs/audit-0rtt.md).

server: audit the clients that connect. Each client's first connection gets a session ticket that
  allows 0-RTT; its next connection's 0-RTT is rejected on purpose, with smaller limits than the
  ticket remembered, and everything the client sends afterwards is checked against what the dead
  attempt held (the auditor decrypts the rejected 0-RTT packets with the ticket it issued).
  --listen HOST:PORT   address to bind (port 0: a free port)
  --cert FILE, --key FILE
                       PEM certificate chain and private key
  --alpn LIST          ALPN protocols, comma-separated (default: hq-interop,echo). hq-interop serves
                       files; any other ALPN echoes each bidirectional stream
  --root DIR           hq-interop: serve files from DIR (default: a built-in 4 KiB file for any path)
  --clients N          clients to audit before reporting (default 1)
  --timeout SECONDS    report what was seen after this long (default: wait for the clients)
  --linger MS          after a client's connections end, wait this long for more (default 500)

Common options:
  --json               print the report as JSON
  --trace FILE         write what was recorded (JSON) to FILE, e.g. to replay it into the checks
  -h, --help           show this help

Prints "listening on HOST:PORT" (server mode) and progress on stderr, the report on stdout. Exit
status: 0 if no exercised check failed, 1 if one did (or on an error), 2 on a usage error.
`;

interface ServerModeArgs {
  listen: HostPort;
  certFile: string;
  keyFile: string;
  alpn: string[];
  root: string | undefined;
  clients: number;
  timeoutMs: number | undefined;
  lingerMs: number;
  json: boolean;
  trace: string | undefined;
}

function positiveInt(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || (n === 0 && flag === '--clients')) {
    throw new UsageError(
      `${flag} must be a whole number${flag === '--clients' ? ' >= 1' : ''}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

function parseServerMode(argv: string[]): ServerModeArgs | 'help' {
  const { values } = parseOrUsage(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        alpn: { type: 'string' },
        root: { type: 'string' },
        clients: { type: 'string' },
        timeout: { type: 'string' },
        linger: { type: 'string' },
        json: { type: 'boolean' },
        trace: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return 'help';
  const alpn = (values.alpn ?? 'hq-interop,echo').split(',').map((a) => a.trim());
  if (alpn.some((a) => a === '' || a.length > 255))
    throw new UsageError('--alpn must list protocol names, comma-separated');
  const timeout = values.timeout === undefined ? undefined : positiveInt(values.timeout, '--timeout', 0);
  return {
    listen: parseHostPort(required(values.listen, '--listen'), '--listen'),
    certFile: required(values.cert, '--cert'),
    keyFile: required(values.key, '--key'),
    alpn,
    root: values.root === undefined ? undefined : resolve(values.root),
    clients: positiveInt(values.clients, '--clients', 1),
    timeoutMs: timeout === undefined || timeout === 0 ? undefined : timeout * 1000,
    lingerMs: positiveInt(values.linger, '--linger', 500),
    json: values.json === true,
    trace: values.trace,
  };
}

export async function runAudit0Rtt(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  if (mode === undefined || mode === '-h' || mode === '--help') {
    process[mode === undefined ? 'stderr' : 'stdout'].write(AUDIT_HELP);
    return mode === undefined ? 2 : 0;
  }
  if (mode === 'server') return runServerMode(rest);
  throw new UsageError(`unknown mode ${JSON.stringify(mode)}: use "server" or "client"`);
}

/** Files under `root`, never outside it (no `..`, no symbolic link leading out), read when asked. */
export function fileSourceFor(root: string): FileSource {
  const real = realpathSync(root);
  return (path) => {
    if (path.includes('\0')) return undefined;
    const candidate = join(real, path);
    const inside = (p: string) => {
      const rel = relative(real, p);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    };
    if (!inside(candidate)) return undefined;
    try {
      const file = realpathSync(candidate);
      if (!inside(file) || !statSync(file).isFile()) return undefined;
      return readFileSyncBounded(file);
    } catch {
      return undefined;
    }
  };
}

/** Files the auditor serves are test files: at most 64 MiB. */
function readFileSyncBounded(file: string): Uint8Array | undefined {
  const size = statSync(file).size;
  if (size > 64 * 1024 * 1024) return undefined;
  return new Uint8Array(readFileSync(file));
}

async function runServerMode(argv: string[]): Promise<number> {
  const args = parseServerMode(argv);
  if (args === 'help') {
    process.stdout.write(AUDIT_HELP);
    return 0;
  }
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(args.certFile, 'utf8'), readFile(args.keyFile, 'utf8')]);
    if (args.root !== undefined && !statSync(args.root).isDirectory())
      throw new Error(`--root ${args.root} is not a directory`);
  } catch (err) {
    process.stderr.write(`tsquic audit-0rtt: error: ${oneLine(err)}\n`);
    return EXIT_FAILURE;
  }
  const audit = new AuditServer({
    identity: { certificateChain: cert, privateKey: key },
    alpn: args.alpn,
    ...(args.root !== undefined ? { files: fileSourceFor(args.root) } : {}),
    clients: args.clients,
    lingerMs: args.lingerMs,
    random: pooledRandomBytes,
    now: now(),
    onClientDone: (t) =>
      process.stderr.write(`audited client ${t.client} (${t.connections.length} connections)\n`),
  });
  const driver = await UdpDriver.bind(args.listen.host, args.listen.port, audit);
  const a = driver.address();
  process.stderr.write(
    `listening on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port} (ALPN ${args.alpn.join(',')}, auditing ${args.clients} client${args.clients > 1 ? 's' : ''})\n`,
  );
  const traces = await new Promise<ClientTrace[]>((done) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      done(audit.finishAll());
    };
    driver.afterFlush = () => {
      if (audit.done) finish();
    };
    if (args.timeoutMs !== undefined) timer = setTimeout(finish, args.timeoutMs);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
  await driver.close();
  return report('server', traces.map(peerReportOf), args, traces);
}

/** The report of one audited client. */
export function peerReportOf(t: ClientTrace): PeerReport {
  const notes: string[] = [];
  const attempt = t.connections.find((c) => c.role === 'attempt');
  if (attempt) {
    notes.push(
      `0-RTT attempt from ${attempt.remote}: ${attempt.deadPns.length} rejected 0-RTT packets decrypted` +
        (attempt.deadUndecryptable > 0 ? `, ${attempt.deadUndecryptable} not decryptable` : '') +
        `, ${attempt.resumed ? 'resumed' : 'full'} handshake`,
    );
  } else {
    notes.push(
      `no 0-RTT attempt after the first connection (${t.connections.length} connection${t.connections.length > 1 ? 's' : ''})`,
    );
  }
  return { peer: 'client', target: t.client, alpn: t.alpn, checks: runServerChecks(t), notes };
}

async function report(
  mode: 'server' | 'client',
  peers: PeerReport[],
  args: { json: boolean; trace: string | undefined },
  trace: unknown,
): Promise<number> {
  const r = buildReport(mode, peers);
  if (args.trace !== undefined) await writeFile(args.trace, `${JSON.stringify(trace, null, 1)}\n`);
  process.stdout.write(args.json ? `${JSON.stringify(r, null, 2)}\n` : formatReport(r));
  return r.exitStatus;
}
