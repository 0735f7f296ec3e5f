/**
 * `tsquic audit-0rtt server|client`: the 0-RTT rejection conformance checker (docs/audit-0rtt.md).
 * Server mode audits the clients that connect to it; client mode audits a server. The auditors are
 * sans-IO (src/audit); this file parses the command line and runs them over UDP.
 */

import { lookup } from 'node:dns/promises';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditClient } from '../audit/audit-client.js';
import { AuditServer } from '../audit/audit-server.js';
import type { ClientTrace } from '../audit/audit-trace.js';
import { runClientChecks } from '../audit/client-checks.js';
import { buildReport, formatReport, type PeerReport } from '../audit/report.js';
import type { FileSource } from '../audit/server-app.js';
import { runServerChecks } from '../audit/server-checks.js';
import type { ServerTrace } from '../audit/server-trace.js';
import { formatAddress } from '../node/address.js';
import { now } from '../node/clock.js';
import { pooledRandomBytes } from '../node/random-pool.js';
import { EXIT_FAILURE, type HostPort, parseHostPort, parseOrUsage, required, UsageError } from './args.js';
import { AUDIT_HELP } from './audit-help.js';
import { UdpDriver } from './audit-udp.js';
import { oneLine } from './format.js';

interface ServerModeArgs {
  listen: HostPort;
  certFile: string;
  keyFile: string;
  alpn: string[];
  root: string | undefined;
  keepLimits: boolean;
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
        'keep-limits': { type: 'boolean' },
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
    keepLimits: values['keep-limits'] === true,
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
  if (mode === 'client') return runClientMode(rest);
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
    keepLimits: args.keepLimits,
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

interface ClientModeArgs {
  url: URL;
  host: string;
  port: number;
  path: string;
  alpn: string;
  ca: string | undefined;
  insecure: boolean;
  replayDelayMs: number;
  maxTicketWaitMs: number;
  timeoutMs: number;
  json: boolean;
  trace: string | undefined;
}

function parseClientMode(argv: string[]): ClientModeArgs | 'help' {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        alpn: { type: 'string' },
        ca: { type: 'string' },
        insecure: { type: 'boolean' },
        'replay-delay': { type: 'string' },
        'max-ticket-wait': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        trace: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError('give exactly one URL, https://HOST:PORT/PATH');
  let url: URL;
  try {
    url = new URL(positionals[0]!);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(positionals[0])}`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`only https:// URLs are supported, got ${url.href}`);
  if (values.ca !== undefined && values.insecure)
    throw new UsageError('--ca and --insecure exclude each other');
  const alpn = values.alpn ?? 'hq-interop';
  if (alpn === '' || alpn.includes(',')) throw new UsageError('--alpn takes one protocol name');
  return {
    url,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 443 : Number(url.port),
    path: decodeURIComponent(url.pathname) || '/',
    alpn,
    ca: values.ca,
    insecure: values.insecure === true,
    replayDelayMs: positiveInt(values['replay-delay'], '--replay-delay', 6000),
    maxTicketWaitMs: positiveInt(values['max-ticket-wait'], '--max-ticket-wait', 10) * 1000,
    timeoutMs: positiveInt(values.timeout, '--timeout', 120) * 1000,
    json: values.json === true,
    trace: values.trace,
  };
}

async function runClientMode(argv: string[]): Promise<number> {
  const args = parseClientMode(argv);
  if (args === 'help') {
    process.stdout.write(AUDIT_HELP);
    return 0;
  }
  let ca: string | undefined;
  let address: string;
  try {
    if (args.ca !== undefined) ca = await readFile(args.ca, 'utf8');
    address = isIP(args.host) ? args.host : (await lookup(args.host)).address;
  } catch (err) {
    process.stderr.write(`tsquic audit-0rtt: error: ${oneLine(err)}\n`);
    return EXIT_FAILURE;
  }
  const v6 = isIP(address) === 6;
  const audit = new AuditClient({
    server: formatAddress(address, args.port),
    serverName: args.host,
    alpn: args.alpn,
    path: args.path,
    ...(ca !== undefined ? { ca: [ca] } : {}),
    ...(args.insecure ? { insecureSkipVerify: true } : {}),
    random: pooledRandomBytes,
    now: now(),
    replayDelayMs: args.replayDelayMs,
    maxTicketWaitMs: args.maxTicketWaitMs,
  });
  const local = v6 ? '::' : '0.0.0.0';
  const driver = await UdpDriver.bind(local, 0, audit);
  await driver.addSocket(local);
  audit.onWork = () => driver.schedule();
  process.stderr.write(
    `auditing ${args.url.href} (${formatAddress(address, args.port)}, ALPN ${args.alpn})\n`,
  );
  let timer: NodeJS.Timeout | undefined;
  const trace = await Promise.race([
    audit.run(),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), args.timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  await driver.close();
  if (!trace) {
    process.stderr.write(
      `tsquic audit-0rtt: error: the audit did not finish within ${args.timeoutMs / 1000} s\n`,
    );
    return EXIT_FAILURE;
  }
  return report('client', [serverReportOf(trace, args.url.href)], args, trace);
}

/** The report of one audited server. */
export function serverReportOf(t: ServerTrace, target: string): PeerReport {
  const notes = [...t.notes];
  if (t.ticket.received) {
    notes.push(
      `ticket: ${t.ticket.allowsEarlyData ? 'allows 0-RTT' : 'no 0-RTT'}, lifetime ${t.ticket.lifetime} s`,
    );
  }
  for (const a of t.attempts) {
    notes.push(
      `${a.kind}: ${a.zeroRttPackets} 0-RTT packets, 0-RTT ${a.earlyData}, ${a.resumed ? 'resumed' : 'full handshake'}${a.handshakeComplete ? '' : ', handshake incomplete'}`,
    );
  }
  return { peer: 'server', target, alpn: t.alpn, checks: runClientChecks(t), notes };
}
