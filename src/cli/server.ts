/**
 * `tsquic server`: serve the files under a root directory over HTTP/0.9 (hq-interop). Connections
 * are handed out early (listenEarly), so requests that arrive as 0-RTT are answered before the
 * handshake completes.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  HQ_BAD_REQUEST,
  HQ_INTERNAL_ERROR,
  HQ_NOT_FOUND,
  type HqRequestInfo,
  serveHq,
} from '../hq/hq-server.js';
import { createServer, type Http3Server } from '../http3/index.js';
import { listenEarly, type QuicConnection, type QuicServer, type ServerOptions } from '../index.js';
import { EXIT_FAILURE, type HostPort, parseHostPort, parseOrUsage, required, UsageError } from './args.js';
import { oneLine } from './format.js';
import { fileHandler } from './h3-files.js';

export const SERVER_HELP = `Usage: tsquic server --listen HOST:PORT --cert FILE --key FILE --root DIR [options]

Serve the files under --root over HTTP/0.9 on QUIC (ALPN hq-interop: a request is "GET /path"
on a bidirectional stream, the response is the file's bytes) or over HTTP/3 (--alpn h3: GET and
HEAD, content-type from the extension, 404, 405, a directory's index.html). Nothing outside --root
is served. 0-RTT is accepted (each ticket at most once) unless --no-0rtt. Stops cleanly on
SIGINT/SIGTERM.

Options:
  --listen HOST:PORT   address to bind, e.g. 0.0.0.0:4433 or [::]:4433 (port 0: a free port)
  --cert FILE          PEM certificate chain, leaf first
  --key FILE           PEM private key of the certificate
  --root DIR           directory to serve
  --alpn LIST          ALPN protocols, comma-separated: hq-interop (default), h3, or h3,hq-interop
                       (both offered; each connection is served in the protocol it negotiated)
  --retry              validate every client address with a Retry round trip
  --no-0rtt            issue session tickets without early data: clients resume, but never send 0-RTT
  --keylog FILE        append TLS secrets to FILE (NSS key log format, for Wireshark)
  --qlog-dir DIR       write a qlog file (JSON-SEQ) per connection into DIR (created if missing)
  --quiet              log only errors
  -h, --help           show this help

Prints "listening on HOST:PORT" once ready, then one line per connection and per request.
`;

interface ServerArgs {
  listen: HostPort;
  certFile: string;
  keyFile: string;
  root: string;
  alpn: string[];
  retry: boolean;
  allow0RTT: boolean;
  keylog: string | undefined;
  qlogDir: string | undefined;
  quiet: boolean;
}

function parseServerArgs(argv: string[]): ServerArgs | 'help' {
  const { values } = parseOrUsage(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        root: { type: 'string' },
        alpn: { type: 'string' },
        retry: { type: 'boolean' },
        'no-0rtt': { type: 'boolean' },
        keylog: { type: 'string' },
        'qlog-dir': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return 'help';
  return {
    listen: parseHostPort(required(values.listen, '--listen'), '--listen'),
    certFile: required(values.cert, '--cert'),
    keyFile: required(values.key, '--key'),
    root: resolve(required(values.root, '--root')),
    alpn: parseAlpnList(values.alpn),
    retry: values.retry === true,
    allow0RTT: values['no-0rtt'] !== true,
    keylog: values.keylog,
    qlogDir: values['qlog-dir'],
    quiet: values.quiet === true,
  };
}

export async function runServer(argv: string[]): Promise<number> {
  const args = parseServerArgs(argv);
  if (args === 'help') {
    process.stdout.write(SERVER_HELP);
    return 0;
  }
  let server: QuicServer;
  try {
    server = await startServer(args);
  } catch (err) {
    process.stderr.write(`tsquic server: error: ${oneLine(err)}\n`);
    return EXIT_FAILURE;
  }
  const log = (line: string) => {
    if (!args.quiet) process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
  const a = server.address();
  process.stdout.write(
    `listening on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port} ` +
      `(ALPN ${args.alpn.join(',')}, root ${args.root}, 0-RTT ${args.allow0RTT ? 'on' : 'off'}, retry ${args.retry ? 'on' : 'off'})\n`,
  );

  const h3 = args.alpn.includes('h3') ? await h3Server(args, log) : undefined;
  const accepting = (async () => {
    for await (const conn of server) handleConnection(conn, args, log, h3);
  })();

  // Stop on the first SIGINT/SIGTERM: close every connection, then the socket.
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  log(`${signal}: shutting down`);
  // A second signal while closing ends the process at once.
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await h3?.close();
  await server.close();
  await accepting;
  log('stopped');
  return 0;
}

async function startServer(args: ServerArgs): Promise<QuicServer> {
  const rootStat = await stat(args.root).catch(() => undefined);
  if (!rootStat?.isDirectory()) throw new Error(`--root ${args.root} is not a directory`);
  const [cert, key] = await Promise.all([
    readFile(args.certFile, 'utf8').catch((e: unknown) => {
      throw new Error(`cannot read --cert ${args.certFile}: ${oneLine(e)}`);
    }),
    readFile(args.keyFile, 'utf8').catch((e: unknown) => {
      throw new Error(`cannot read --key ${args.keyFile}: ${oneLine(e)}`);
    }),
  ]);
  const options: ServerOptions = {
    host: args.listen.host,
    port: args.listen.port,
    cert,
    key,
    alpn: args.alpn,
    // RFC 9114 §6.2: HTTP/3 peers open control and QPACK streams (and may open reserved ones).
    ...(args.alpn.includes('h3') ? { maxStreamsUni: 100 } : {}),
    allow0RTT: args.allow0RTT,
    retry: args.retry,
    ...(args.keylog !== undefined ? { keylog: args.keylog } : {}),
    ...(args.qlogDir !== undefined ? { qlogDir: args.qlogDir } : {}),
  };
  return listenEarly(options);
}

const KNOWN_ALPN = new Set(['hq-interop', 'h3']);

function parseAlpnList(value: string | undefined): string[] {
  const list = (value ?? 'hq-interop').split(',').map((p) => p.trim());
  for (const p of list) {
    if (!KNOWN_ALPN.has(p))
      throw new UsageError(`--alpn: unknown protocol ${JSON.stringify(p)} (hq-interop, h3)`);
  }
  if (new Set(list).size !== list.length) throw new UsageError('--alpn: a protocol is listed twice');
  return list;
}

/** The HTTP/3 side of the server: connections that negotiated h3 are handed to it. */
async function h3Server(args: ServerArgs, log: (line: string) => void): Promise<Http3Server> {
  const handler = await fileHandler(args.root, (e) =>
    log(
      `${e.peer} ${e.method} ${e.path} -> ${e.status}${e.method === 'GET' && e.status === 200 ? `, ${e.bytes} bytes` : ''}` +
        `${e.aborted ? ', aborted' : ''} (${e.early ? '0-RTT' : '1-RTT'})`,
    ),
  );
  const [cert, key] = await Promise.all([readFile(args.certFile, 'utf8'), readFile(args.keyFile, 'utf8')]);
  const h3 = createServer({ cert, key }, handler);
  h3.on('handlerError', (err: unknown) => log(`request handler failed: ${oneLine(err)}`));
  return h3;
}

function handleConnection(
  conn: QuicConnection,
  args: ServerArgs,
  log: (line: string) => void,
  h3: Http3Server | undefined,
): void {
  const root = args.root;
  const a = conn.remoteAddress;
  const peer = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  conn.handshakeComplete.then(
    () => {
      const kind = conn.used0RTT ? 'resumed, 0-RTT accepted' : conn.resumed ? 'resumed' : 'full handshake';
      log(`${peer} connected (${kind}, ALPN ${conn.alpn ?? '?'})`);
    },
    (err: unknown) => log(`${peer} handshake failed: ${oneLine(err)}`),
  );
  // The server chose the protocol from the ClientHello (RFC 7301 §3.2), before the connection was
  // handed out: 0-RTT requests are served as they arrive, whichever protocol was negotiated.
  const known = conn.alpn ?? (args.alpn.length === 1 ? args.alpn[0] : undefined);
  const protocol =
    known !== undefined ? Promise.resolve(known) : conn.handshakeComplete.then(() => conn.alpn);
  protocol.then(
    (p) => {
      if (p === 'h3' && h3) h3.serveConnection(conn);
      else serveHqConnection(conn, root, log, peer);
    },
    () => {},
  );
}

function serveHqConnection(
  conn: QuicConnection,
  root: string,
  log: (line: string) => void,
  peer: string,
): void {
  serveHq(conn, {
    root,
    onRequest: (info) => log(`${peer} GET ${info.path} ${describeRequest(info)}`),
  }).catch((err: unknown) => log(`${peer} error: ${oneLine(err)}`));
}

function describeRequest(info: HqRequestInfo): string {
  if (info.aborted !== undefined) return `-> aborted by the client (${info.aborted})`;
  if (info.error === undefined) return `-> ${info.bytes ?? 0} bytes`;
  const reason: Record<number, string> = {
    [HQ_NOT_FOUND]: 'not found',
    [HQ_BAD_REQUEST]: 'bad request',
    [HQ_INTERNAL_ERROR]: 'failed',
  };
  return `-> refused: ${reason[info.error] ?? 'error'} (code 0x${info.error.toString(16)})`;
}
