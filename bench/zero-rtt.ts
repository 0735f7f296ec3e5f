/**
 * 0-RTT benchmark, at the level of the sans-IO core (no sockets):
 *
 *  (a) time to first response byte over the simulator (test/sim) at 50 ms and 200 ms RTT, for a full
 *      handshake, a resumed handshake (session ticket, no early data) and a 0-RTT connection: the
 *      client sends one small request on a bidirectional stream as soon as it can (0-RTT: right after
 *      dialling, in the first flight), the server answers 1 KiB and FIN. Virtual time from dialling to
 *      the first response byte the client application reads, in ms and in RTTs: 0-RTT must save one
 *      RTT over the resumed handshake. No loss, no bandwidth limit: the figures are exact, not noisy.
 *  (b) handshakes per second, CPU-bound: client and server endpoints back to back in one thread (every
 *      datagram handed straight across, a virtual clock), connection after connection, each with the
 *      same request and answer; full, resumed and 0-RTT (each using the ticket of the one before, since
 *      tickets are single-use). Per CPU second (both endpoints together) and per wall-clock second.
 *
 *   npx tsx bench/zero-rtt.ts [--duration ms (per rate, default 1000)] [--runs N (default 3)]
 *
 * Figures are printed, never asserted. See bench/README.md.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Connection } from '../src/connection/connection.js';
import type { StreamEpoch } from '../src/connection/stream-epoch.js';
import { Endpoint } from '../src/endpoint/endpoint.js';
import { SessionTicketKeys } from '../src/tls/session-ticket-keys.js';
import type { ResumptionSession } from '../src/tls/types.js';
import type { Millis } from '../src/util/time.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../test/sim/network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from '../test/sim/quic-harness.js';
import { formatMachine, numberFlag } from './core.js';

export type ConnectionKind = 'full' | 'resumed' | '0rtt';
export const KINDS: readonly ConnectionKind[] = ['full', 'resumed', '0rtt'];

const REQUEST = new TextEncoder().encode('GET /index.html\r\n');
const RESPONSE_SIZE = 1024;
const ALPN = 'hq-interop';

export interface ZeroRttBenchOptions {
  /** Round-trip times of the simulated path (default [50, 200]). */
  rttsMs?: readonly number[];
  /** Measured wall-clock time per handshake rate, ms (default 1000). */
  durationMs?: number;
  /** Unmeasured connections before it, ms (default 300). */
  warmupMs?: number;
  /** Runs per rate; the median is reported (default 1; the command line's default is 3). */
  runs?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** Time to first response byte, per kind, at one RTT. */
export interface TtfbFigures {
  rttMs: number;
  /** Virtual ms from dialling to the first response byte read, per kind. */
  ms: Record<ConnectionKind, number>;
  /** The same in RTTs. */
  rtts: Record<ConnectionKind, number>;
  /** (resumed - 0-RTT) / RTT and (full - 0-RTT) / RTT. */
  savedVsResumed: number;
  savedVsFull: number;
}

export interface RateFigures {
  kind: ConnectionKind;
  connections: number;
  cpuMs: number;
  wallMs: number;
  perCpuSecond: number;
  perWallSecond: number;
}

export interface ZeroRttBenchResult {
  ttfb: TtfbFigures[];
  rates: RateFigures[];
  runs: number;
}

// ------------------------------------------------------------------------- the applications

/** Client application: one request on one bidirectional stream, reads the whole answer. */
class RequestClient {
  /** Time the first response byte was read, and when the whole answer (FIN) was. */
  firstByteAt: Millis | undefined;
  doneAt: Millis | undefined;
  received = 0;
  ticket: ResumptionSession | undefined;
  /** Time the first session ticket of this connection arrived. */
  ticketAt: Millis | undefined;
  failure: string | undefined;
  private epoch: StreamEpoch | undefined;
  private id: number | undefined;

  constructor(private readonly conn: Connection) {}

  /** Sends the request at once if the connection has an epoch already (0-RTT). */
  start(): void {
    const epoch = this.conn.epoch;
    if (epoch) this.send(epoch);
  }

  private send(epoch: StreamEpoch): void {
    const id = epoch.streams.openStream(true);
    if (id === undefined) {
      this.failure ??= 'no stream credit for the request';
      return;
    }
    this.epoch = epoch;
    this.id = id;
    epoch.streams.write(id, REQUEST);
    epoch.streams.end(id);
  }

  pump(now: Millis): void {
    const conn = this.conn;
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      switch (e.type) {
        case 'epoch':
          // The first epoch of a connection without 0-RTT, or a fresh one after a rejection: the
          // request goes (again) on it.
          if (this.epoch !== e.epoch && this.doneAt === undefined) {
            this.firstByteAt = undefined;
            this.received = 0;
            this.send(e.epoch);
          }
          break;
        case 'stream': {
          const ev = e.event;
          if (e.epoch !== this.epoch || ev.type === 'streams-available' || ev.id !== this.id) break;
          if (ev.type === 'reset') this.failure ??= `request stream reset (${ev.errorCode})`;
          if (ev.type !== 'readable') break;
          const streams = e.epoch.streams;
          for (let r = streams.read(ev.id); r; r = streams.read(ev.id)) {
            if (r.data.length > 0) {
              this.firstByteAt ??= now;
              this.received += r.data.length;
            }
            if (r.fin) {
              this.doneAt = now;
              if (this.received !== RESPONSE_SIZE) {
                this.failure ??= `response of ${this.received} bytes, expected ${RESPONSE_SIZE}`;
              }
            }
          }
          break;
        }
        case 'session-ticket':
          this.ticket = e.session;
          this.ticketAt ??= now;
          break;
        case 'closed':
          if (this.doneAt === undefined) this.failure ??= `connection closed: ${e.info.reason}`;
          break;
        default:
          break;
      }
    }
  }
}

/** Server application: reads every request to its FIN, answers RESPONSE_SIZE bytes and FIN. */
class Responder {
  private readonly conns = new Set<Connection>();
  private readonly response = new Uint8Array(RESPONSE_SIZE).fill(0x72);
  failure: string | undefined;

  add(conn: Connection): void {
    this.conns.add(conn);
  }

  /** Answers what can be answered; returns the connections that wrote something. */
  pump(onWrite: (conn: Connection) => void): void {
    for (const conn of this.conns) {
      for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
        if (e.type === 'closed' || e.type === 'terminated') {
          this.conns.delete(conn);
          continue;
        }
        if (e.type !== 'stream' || e.event.type !== 'readable') continue;
        const id = e.event.id;
        const streams = e.epoch.streams;
        for (let r = streams.read(id); r; r = streams.read(id)) {
          if (!r.fin) continue;
          streams.write(id, this.response);
          streams.end(id);
          onWrite(conn);
        }
      }
    }
  }
}

function serverTls(random: ReturnType<typeof seededRandomBytes>) {
  const pki = simPki();
  return {
    alpn: [ALPN],
    identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
    ticketKeys: new SessionTicketKeys({ random, now: DEFAULT_START_TIME }),
    issueEarlyDataTickets: true,
  };
}

function clientTls(kind: ConnectionKind, session: ResumptionSession | undefined) {
  return {
    alpn: [ALPN],
    serverName: SERVER_NAME,
    ca: [simPki().ca.certPem],
    ...(kind !== 'full' && session ? { session, offerEarlyData: kind === '0rtt' } : {}),
  };
}

/** Throws unless the connection is what `kind` says (resumed; 0-RTT accepted). */
function checkKind(kind: ConnectionKind, conn: Connection): void {
  if (kind !== 'full' && !conn.resumed) throw new Error(`${kind}: the connection did not resume`);
  if (kind === '0rtt' && !conn.used0RTT) throw new Error('0rtt: the server did not accept 0-RTT');
  if (kind !== '0rtt' && conn.used0RTT) throw new Error(`${kind}: unexpected 0-RTT`);
}

// ------------------------------------------------------------------------- (a) over the simulator

/** One connection of `kind` over a simulated path of `rttMs`; returns ms to the first response byte. */
/** Virtual ms from the dial of one connection to its answer's first byte, its end, and its first ticket. */
export interface ConnectionTimeline {
  firstByte: Millis;
  answered: Millis;
  ticket: Millis | undefined;
}

export function timeToFirstByte(kind: ConnectionKind, rttMs: number, seed: number): number {
  return connectionTimeline(kind, rttMs, seed).firstByte;
}

/**
 * One connection of `kind` over the simulator (after a first connection for the ticket when resuming):
 * the request, the answer and the server's next session ticket, in virtual time.
 */
export function connectionTimeline(kind: ConnectionKind, rttMs: number, seed: number): ConnectionTimeline {
  const sim = new QuicSim({
    seed,
    link: { delay: rttMs / 2 },
    server: {
      tls: serverTls(seededRandomBytes(new Prng(seed))),
      allowEarlyData: () => true,
    },
  });
  const responder = new Responder();
  sim.onServerConnection = (c) => responder.add(c);
  const apps: RequestClient[] = [];
  sim.appHooks.push(() => {
    for (const a of apps) a.pump(sim.now);
    responder.pump((c) => sim.server.markActive(c));
  });

  // A first connection (full handshake) brings the ticket; then it closes and is forgotten.
  let session: ResumptionSession | undefined;
  if (kind !== 'full') {
    const first = sim.dial(clientTls('full', undefined));
    const app = new RequestClient(first);
    apps.push(app);
    sim.run(
      () => (app.ticket !== undefined && app.doneAt !== undefined) || app.failure !== undefined,
      60_000,
    );
    if (!app.ticket || app.failure) throw new Error(`sim: no ticket (${app.failure ?? 'timeout'})`);
    session = app.ticket;
    first.close(0, '', sim.now);
    sim.client.markActive(first);
    sim.net.runFor(10 * rttMs);
    apps.length = 0;
  }

  const start = sim.now;
  const conn = sim.dial(clientTls(kind, session));
  const app = new RequestClient(conn);
  apps.push(app);
  // 0-RTT: the request is written before the ClientHello leaves, so both go in the first flight.
  app.start();
  sim.run(
    () =>
      (app.doneAt !== undefined && app.ticketAt !== undefined) ||
      app.failure !== undefined ||
      responder.failure !== undefined,
    60_000,
  );
  if (app.failure ?? responder.failure) throw new Error(`sim ${kind}: ${app.failure ?? responder.failure}`);
  if (app.firstByteAt === undefined || app.doneAt === undefined) throw new Error(`sim ${kind}: no response`);
  checkKind(kind, conn);
  return {
    firstByte: app.firstByteAt - start,
    answered: app.doneAt - start,
    ticket: app.ticketAt === undefined ? undefined : app.ticketAt - start,
  };
}

export function ttfbAt(rttMs: number, seed: number): TtfbFigures {
  const ms = {
    full: timeToFirstByte('full', rttMs, seed),
    resumed: timeToFirstByte('resumed', rttMs, seed),
    '0rtt': timeToFirstByte('0rtt', rttMs, seed),
  };
  const rtts = { full: ms.full / rttMs, resumed: ms.resumed / rttMs, '0rtt': ms['0rtt'] / rttMs };
  return {
    rttMs,
    ms,
    rtts,
    savedVsResumed: (ms.resumed - ms['0rtt']) / rttMs,
    savedVsFull: (ms.full - ms['0rtt']) / rttMs,
  };
}

// ------------------------------------------------------------------------- (b) back to back, CPU-bound

/** Virtual time that passes between two connections, so that closed ones time out and go away. */
const GAP_MS = 2;
const MAX_STEPS_PER_CONNECTION = 100_000;

/** Client and server endpoints joined back to back, driven by a virtual clock. */
export class BackToBack {
  now: Millis = DEFAULT_START_TIME;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly responder = new Responder();

  constructor(seed: number) {
    const random = seededRandomBytes(new Prng(seed));
    this.server = new Endpoint({
      random,
      server: { tls: serverTls(random), allowEarlyData: () => true },
    });
    this.client = new Endpoint({ random });
  }

  /** Moves every datagram both ways until neither side has anything to send. False: nothing moved. */
  private exchange(app: RequestClient): boolean {
    let moved = false;
    for (;;) {
      let n = 0;
      for (let out = this.client.transmit(this.now); out; out = this.client.transmit(this.now)) {
        this.server.receive(out.datagram, CLIENT_ADDRESS, this.now);
        n++;
      }
      for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) this.responder.add(e.connection);
      this.responder.pump((c) => this.server.markActive(c));
      for (let out = this.server.transmit(this.now); out; out = this.server.transmit(this.now)) {
        this.client.receive(out.datagram, SERVER_ADDRESS, this.now);
        n++;
      }
      app.pump(this.now);
      for (const c of this.client.connections) this.client.markActive(c);
      if (n === 0) return moved;
      moved = true;
    }
  }

  /** Jumps the clock to the earliest timer of either side and fires it. */
  private advance(to?: Millis): void {
    const a = this.client.nextTimeout();
    const b = this.server.nextTimeout();
    const t = to ?? (a === undefined ? b : b === undefined ? a : Math.min(a, b));
    if (t !== undefined && t > this.now) this.now = t;
    this.client.handleTimeout(this.now);
    this.server.handleTimeout(this.now);
  }

  /** One whole connection of `kind`; returns the ticket it received. */
  connection(kind: ConnectionKind, session: ResumptionSession | undefined, wantTicket: boolean) {
    const conn = this.client.connect(
      { remoteAddress: SERVER_ADDRESS, tls: clientTls(kind, session) },
      this.now,
    );
    const app = new RequestClient(conn);
    app.start();
    for (let steps = 0; ; steps++) {
      if (app.failure ?? this.responder.failure)
        throw new Error(`${kind}: ${app.failure ?? this.responder.failure}`);
      if (app.doneAt !== undefined && (!wantTicket || app.ticket !== undefined)) break;
      if (steps > MAX_STEPS_PER_CONNECTION) throw new Error(`${kind}: the connection makes no progress`);
      if (!this.exchange(app)) this.advance();
    }
    checkKind(kind, conn);
    conn.close(0, '', this.now);
    this.client.markActive(conn);
    this.exchange(app);
    this.advance(this.now + GAP_MS);
    return app.ticket;
  }
}

function cpuMsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Connections of `kind` back to back for `durationMs` after `warmupMs`. */
export function handshakeRate(
  kind: ConnectionKind,
  durationMs: number,
  warmupMs: number,
  seed: number,
): RateFigures {
  const pair = new BackToBack(seed);
  const wantTicket = kind !== 'full';
  let session = wantTicket ? pair.connection('full', undefined, true) : undefined;
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) session = pair.connection(kind, session, wantTicket);
  const wall0 = performance.now();
  const cpu0 = cpuMsNow();
  let connections = 0;
  while (performance.now() - wall0 < durationMs) {
    session = pair.connection(kind, session, wantTicket);
    connections++;
  }
  const wallMs = performance.now() - wall0;
  const cpuMs = cpuMsNow() - cpu0;
  return {
    kind,
    connections,
    cpuMs,
    wallMs,
    perCpuSecond: (connections * 1000) / cpuMs,
    perWallSecond: (connections * 1000) / wallMs,
  };
}

// ------------------------------------------------------------------------- driver and output

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function run(opts: ZeroRttBenchOptions = {}): Promise<ZeroRttBenchResult> {
  const rtts = opts.rttsMs ?? [50, 200];
  const durationMs = opts.durationMs ?? 1000;
  const warmupMs = opts.warmupMs ?? 300;
  const runs = Math.max(1, Math.floor(opts.runs ?? 1));
  const seed = opts.seed ?? 1;
  const log = opts.log ?? (() => {});
  const ttfb = rtts.map((rtt) => ttfbAt(rtt, seed));
  const rates: RateFigures[] = [];
  for (const kind of KINDS) {
    const all: RateFigures[] = [];
    for (let i = 0; i < runs; i++) {
      const r = handshakeRate(kind, durationMs, warmupMs, seed + i);
      log(`  ${kind} run ${i + 1}/${runs}: ${r.perCpuSecond.toFixed(0)} per CPU s`);
      all.push(r);
    }
    const pick = (f: (r: RateFigures) => number) => median(all.map(f));
    rates.push({
      kind,
      connections: pick((r) => r.connections),
      cpuMs: pick((r) => r.cpuMs),
      wallMs: pick((r) => r.wallMs),
      perCpuSecond: pick((r) => r.perCpuSecond),
      perWallSecond: pick((r) => r.perWallSecond),
    });
  }
  return { ttfb, rates, runs };
}

const KIND_LABEL: Record<ConnectionKind, string> = { full: 'full', resumed: 'resumed', '0rtt': '0-RTT' };

export function formatZeroRtt(r: ZeroRttBenchResult): string {
  const lines = [
    `zero-rtt: (a) time to first response byte over the simulator (${REQUEST.length}-byte request, ` +
      `${RESPONSE_SIZE}-byte response, no loss)`,
    `      ${'RTT'.padEnd(8)}${KINDS.map((k) => KIND_LABEL[k].padStart(18)).join('')}   0-RTT saves`,
  ];
  for (const t of r.ttfb) {
    const cells = KINDS.map((k) => `${t.ms[k].toFixed(1)} ms (${t.rtts[k].toFixed(2)})`.padStart(18));
    lines.push(
      `      ${`${t.rttMs} ms`.padEnd(8)}${cells.join('')}   ${t.savedVsResumed.toFixed(2)} RTT vs resumed, ` +
        `${t.savedVsFull.toFixed(2)} vs full`,
    );
  }
  lines.push('      (in parentheses: RTTs)');
  lines.push(
    `  (b) handshakes per second, client and server cores back to back in one thread, median of ${r.runs} run(s)`,
  );
  for (const rate of r.rates) {
    lines.push(
      `      ${KIND_LABEL[rate.kind].padEnd(8)}${rate.perCpuSecond.toFixed(0).padStart(8)} per CPU s` +
        `${rate.perWallSecond.toFixed(0).padStart(8)} per wall s   (${rate.connections} connections)`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  console.log(formatMachine());
  const result = await run({
    durationMs: numberFlag(argv, '--duration'),
    runs: numberFlag(argv, '--runs') ?? 3,
    log: (line) => console.error(line),
  });
  console.log(formatZeroRtt(result));
}
