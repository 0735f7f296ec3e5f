/**
 * `tsquic demo` (what `npm start` runs): a server and a client on loopback, with a certificate made
 * in memory, showing (1) a full handshake and a transfer, (2) a resumed connection whose request
 * goes out as 0-RTT and is accepted, (3) a 0-RTT attempt the server rejects, recovered through
 * nextConnection(). A relay adds a simulated round-trip time so the savings are visible.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { fetchHq } from '../hq/hq-client.js';
import { serveHq } from '../hq/hq-server.js';
import {
  type ClientOptions,
  createTestPki,
  listenEarly,
  type QuicConnection,
  type QuicServer,
  SessionCache,
} from '../index.js';
import { EXIT_FAILURE, parseOrUsage, UsageError } from './args.js';
import { connectAndRun, type HandshakeKind } from './connect.js';
import { DelayRelay } from './delay-relay.js';
import { H3Demo } from './demo-h3.js';
import { formatBytes, formatDuration, formatRate, oneLine } from './format.js';
import { TicketWatch } from './ticket-watch.js';

export const DEMO_HELP = `Usage: tsquic demo [--rtt MS]

A two-second tour of tsquic on loopback: a server with a certificate generated in memory, and a
client that connects three times:
  1. full handshake, then a file transfer
  2. resumed with a session ticket, the request sent as 0-RTT (accepted): one round trip saved
  3. a 0-RTT attempt the server rejects, recovered on nextConnection()
  4. HTTP/3: fetch() with a request in 0-RTT accepted, then one rejected and sent again

Options:
  --rtt MS     simulated round-trip time added by a relay between client and server (default 50;
               0 talks to the server directly)
  -h, --help   show this help
`;

const SMALL = 'hello.txt';
const BIG = 'big.bin';
const BIG_SIZE = 2 * 1024 * 1024;
/** How long to wait for the session ticket the next scenario needs. */
const TICKET_WAIT = 2000;

interface Fetched {
  bytes: number;
  sha256: string;
  /** From the start of the connection attempt to the first response byte, ms. */
  firstByte: number;
  /** From the start of the connection attempt to the end of the response, ms. */
  done: number;
}

/** Fetch `path` on `conn`, hashing the response; times are measured from `t0`. */
async function fetchMeasured(conn: QuicConnection, path: string, t0: number): Promise<Fetched> {
  const hash = createHash('sha256');
  let firstByte = Number.NaN;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, cb) {
      hash.update(chunk);
      cb();
    },
  });
  const bytes = await fetchHq(conn, path, sink, () => {
    if (Number.isNaN(firstByte)) firstByte = performance.now() - t0;
  });
  return { bytes, sha256: hash.digest('hex'), firstByte, done: performance.now() - t0 };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseOrUsage(() =>
    parseArgs({
      args: argv,
      strict: true,
      options: { rtt: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }),
  );
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const rtt = Number(values.rtt ?? 50);
  if (!Number.isFinite(rtt) || rtt < 0 || rtt > 2000)
    throw new UsageError('--rtt must be between 0 and 2000 ms');
  const demo = new Demo(rtt);
  try {
    return await demo.run();
  } catch (err) {
    process.stderr.write(`tsquic demo: error: ${oneLine(err)}\n`);
    return EXIT_FAILURE;
  } finally {
    await demo.cleanup();
  }
}

class Demo {
  private root: string | undefined;
  private server: QuicServer | undefined;
  private relay: DelayRelay | undefined;
  private readonly open = new Set<QuicConnection>();
  private readonly cache = new SessionCache();
  /** The server's 0-RTT policy; scenario 3 turns it off. */
  private allowEarly = true;
  private readonly expected = new Map<string, string>();
  private caPem = '';
  private pki: ReturnType<typeof createTestPki> | undefined;
  private h3: H3Demo | undefined;

  constructor(private readonly rtt: number) {}

  private say(line = ''): void {
    process.stdout.write(`${line}\n`);
  }

  /** "52.3 ms (~1.0 RTT)" */
  private time(ms: number): string {
    const t = formatDuration(ms).padStart(9);
    return this.rtt > 0 ? `${t}  (~${(ms / this.rtt).toFixed(1)} RTT)` : t;
  }

  async run(): Promise<number> {
    const target = await this.setUp();
    const options: ClientOptions = { alpn: ['hq-interop'], serverName: 'localhost', ca: this.caPem };
    await this.warmUp(options);

    this.say('1) First visit: a full handshake, then a transfer');
    const one = await this.visit(target, options, false, async (conn, t0) => {
      const small = await fetchMeasured(conn, `/${SMALL}`, t0);
      const big = await fetchMeasured(conn, `/${BIG}`, performance.now());
      return { small, big };
    });
    this.check(SMALL, one.result.small);
    this.check(BIG, one.result.big);
    this.say(`   handshake complete       ${this.time(one.handshake)}`);
    this.say(`   first byte of ${SMALL}  ${this.time(one.result.small.firstByte)}`);
    const b = one.result.big;
    this.say(
      `   ${BIG}: ${formatBytes(b.bytes)} in ${formatDuration(b.done)} (${formatRate(b.bytes, b.done)}), byte-exact`,
    );
    this.say(
      `   the server sent a session ticket: the next visit can resume${one.ticket ? '' : ' (not received!)'}`,
    );
    this.say();

    this.say('2) Second visit: resumed, and the request rides in the very first packets (0-RTT)');
    const two = await this.visit(target, options, true, (conn, t0) => fetchMeasured(conn, `/${SMALL}`, t0));
    this.check(SMALL, two.result);
    this.say(`   server's verdict: ${two.kind}`);
    const saved = one.result.small.firstByte - two.result.firstByte;
    this.say(
      `   first byte of ${SMALL}  ${this.time(two.result.firstByte)}   ` +
        `${formatDuration(Math.abs(saved))} ${saved >= 0 ? 'sooner' : 'later'} than visit 1`,
    );
    this.say();

    this.say("3) Third visit: 0-RTT again, but now the server's allow0RTT policy says no");
    this.allowEarly = false;
    let earlyError = '';
    const three = await this.visit(
      target,
      options,
      true,
      (conn, t0) => fetchMeasured(conn, `/${SMALL}`, t0),
      (err) => {
        earlyError =
          (err as { code?: unknown }).code === undefined
            ? oneLine(err)
            : String((err as { code: unknown }).code);
      },
    );
    this.check(SMALL, three.result);
    this.say(`   server's verdict: ${three.kind}`);
    this.say(
      `   the early request failed with ${earlyError || 'no error'}: nothing of it reaches the next connection`,
    );
    this.say(`   nextConnection() -> a fresh connection; the request repeated there`);
    this.say(
      `   first byte of ${SMALL}  ${this.time(three.result.firstByte)}   (like a visit without 0-RTT)`,
    );
    this.say();

    const ok = one.kind === 'full' && two.kind === '0-RTT accepted' && three.kind === '0-RTT rejected';
    if (!ok) {
      process.stderr.write(`tsquic demo: unexpected handshakes: ${one.kind}, ${two.kind}, ${three.kind}\n`);
      return EXIT_FAILURE;
    }
    this.h3 = new H3Demo(
      { cert: this.pki!.leaf.certPem, key: this.pki!.leaf.keyPem, ca: this.caPem },
      this.rtt,
      (line) => this.say(line),
      (ms) => this.time(ms),
    );
    if (!(await this.h3.run())) {
      process.stderr.write('tsquic demo: the HTTP/3 0-RTT scenario did not go as expected\n');
      return EXIT_FAILURE;
    }
    this.say('Done: every file byte-exact. Next: tsquic server --help, tsquic client --help');
    return 0;
  }

  /** Files, certificate, server and (with a simulated RTT) the relay; returns where the client dials. */
  private async setUp(): Promise<{ host: string; port: number }> {
    const pki = createTestPki({ names: ['localhost'], now: Date.now() });
    this.pki = pki;
    this.caPem = pki.ca.certPem;
    this.root = await mkdtemp(join(tmpdir(), 'tsquic-demo-'));
    const small = Buffer.from('Hello from tsquic, over QUIC and HTTP/0.9!\n');
    const big = randomBytes(BIG_SIZE);
    await writeFile(join(this.root, SMALL), small);
    await writeFile(join(this.root, BIG), big);
    this.expected.set(SMALL, sha256(small));
    this.expected.set(BIG, sha256(big));

    const server = await listenEarly({
      host: '127.0.0.1',
      port: 0,
      cert: pki.leaf.certPem,
      key: pki.leaf.keyPem,
      alpn: ['hq-interop'],
      allow0RTT: () => this.allowEarly,
    });
    this.server = server;
    const root = this.root;
    void (async () => {
      for await (const conn of server) serveHq(conn, { root }).catch(() => {});
    })();
    const port = server.address().port;
    this.say(`tsquic demo: an HTTP/0.9-over-QUIC server on 127.0.0.1:${port}, certificate made in memory`);
    this.say(`  it serves ${SMALL} (${small.length} B) and ${BIG} (${formatBytes(BIG_SIZE)})`);
    if (this.rtt === 0) {
      this.say('  the client talks to it directly over loopback (round trips take ~0.1 ms)');
      this.say();
      return { host: '127.0.0.1', port };
    }
    this.relay = await DelayRelay.start({ host: '127.0.0.1', port }, this.rtt / 2);
    this.say(
      `  the client goes through a relay that delays each packet ${this.rtt / 2} ms: RTT ${this.rtt} ms`,
    );
    this.say();
    return { host: '127.0.0.1', port: this.relay.port };
  }

  /**
   * One unreported connection straight to the server, so that the timings below measure round trips
   * rather than the first-use cost of the code and the crypto (JIT compilation, key setup).
   */
  private async warmUp(options: ClientOptions): Promise<void> {
    const port = this.server!.address().port;
    const opts = { ...options, sessionCache: new SessionCache() };
    const { conn } = await connectAndRun({ host: '127.0.0.1', port }, opts, false, (c) =>
      fetchMeasured(c, `/${SMALL}`, performance.now()),
    );
    await conn.close();
  }

  /** One connection: run `work`, wait for the next session ticket, close. */
  private async visit<T>(
    target: { host: string; port: number },
    options: ClientOptions,
    early: boolean,
    work: (conn: QuicConnection, t0: number) => Promise<T>,
    onRejected?: (err: unknown) => void,
  ): Promise<{ kind: HandshakeKind; result: T; handshake: number; ticket: boolean }> {
    const watch = new TicketWatch(this.cache);
    const t0 = performance.now();
    let handshake = Number.NaN;
    const { conn, kind, result } = await connectAndRun(
      target,
      { ...options, sessionCache: watch },
      early,
      (c) => {
        this.open.add(c);
        return work(c, t0);
      },
      {
        onHandshake: (_kind, err) => {
          handshake = performance.now() - t0;
          if (err !== undefined) onRejected?.(err);
        },
      },
    );
    const ticket = await watch.waitForTicket(TICKET_WAIT);
    await conn.close();
    this.open.delete(conn);
    return { kind, result, handshake, ticket };
  }

  private check(name: string, got: Fetched): void {
    if (got.sha256 !== this.expected.get(name)) throw new Error(`${name} arrived corrupted`);
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.open].map((c) => c.close().catch(() => undefined)));
    this.relay?.close();
    await this.h3?.cleanup();
    await this.server?.close();
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }
}
