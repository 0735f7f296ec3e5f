/**
 * The 0-RTT auditor's server mode (src/audit/audit-server.ts) on the deterministic simulator, with
 * tsquic clients at core level: a client that fetches hq-interop paths (or echoes) on whatever stream
 * epoch is current, and does it all again on the fresh epoch after a rejection, as a correct client
 * does. Tests can hook into the client to make it misbehave.
 */

import { AuditClient } from '../../src/audit/audit-client.js';
import { AuditServer, type AuditServerOptions } from '../../src/audit/audit-server.js';
import type { ClientTrace } from '../../src/audit/audit-trace.js';
import { AuditServerApp } from '../../src/audit/server-app.js';
import type { ServerTrace } from '../../src/audit/server-trace.js';
import type { Connection } from '../../src/connection/connection.js';
import { flowLimitsOf, type StreamEpoch } from '../../src/connection/stream-epoch.js';
import type { EarlyDataReplayStore } from '../../src/endpoint/anti-replay.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import type { ResumptionSession } from '../../src/tls/types.js';
import type { Millis } from '../../src/util/time.js';
import { decodeTransportParameters } from '../../src/wire/transport-parameters.js';
import { DEFAULT_START_TIME, Prng, SimNetwork, seededRandomBytes } from './network.js';
import { CLIENT_ADDRESS, EndpointNode, SERVER_ADDRESS, SERVER_NAME, simPki } from './quic-harness.js';

export { CLIENT_ADDRESS, SERVER_ADDRESS };

export class AuditSim {
  readonly net: SimNetwork;
  readonly audit: AuditServer;
  readonly client: Endpoint;
  /** Run after every event (the client applications' turn). */
  readonly hooks: Array<() => void> = [];
  readonly done: ClientTrace[] = [];

  constructor(seed: number, opts: Partial<Omit<AuditServerOptions, 'random' | 'now' | 'identity'>> = {}) {
    this.net = new SimNetwork({ seed });
    const random = seededRandomBytes(this.net.prng.fork('audit'));
    const pki = simPki();
    this.audit = new AuditServer({
      identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
      alpn: ['hq-interop', 'echo'],
      random,
      now: DEFAULT_START_TIME,
      onClientDone: (t) => this.done.push(t),
      ...opts,
    });
    this.client = new Endpoint({ random: seededRandomBytes(new Prng(seed + 1)) });
    const after = () => {
      for (const h of this.hooks) h();
      for (const c of this.client.connections) this.client.markActive(c);
    };
    this.net.addNode(SERVER_ADDRESS, {
      receive: (d, from, now) => {
        this.audit.receive(d, from, now);
        after();
      },
      transmit: (now) => this.audit.transmit(now),
      nextTimeout: () => this.audit.nextTimeout(),
      handleTimeout: (now) => {
        this.audit.handleTimeout(now);
        after();
      },
    });
    this.net.addNode(CLIENT_ADDRESS, new EndpointNode(this.client, after));
    this.net.setPath(CLIENT_ADDRESS, SERVER_ADDRESS, { mtu: 1472 });
  }

  dial(alpn: string, session?: ResumptionSession): Connection {
    return this.client.connect(
      {
        remoteAddress: SERVER_ADDRESS,
        tls: {
          alpn: [alpn],
          serverName: SERVER_NAME,
          ca: [simPki().ca.certPem],
          ...(session ? { session, offerEarlyData: true } : {}),
        },
      },
      this.net.now,
    );
  }

  run(until: () => boolean, maxTime: Millis = 60_000): void {
    this.net.run({ until, maxTime });
  }
}

/** What a CoreClient got on one stream. */
export interface Fetched {
  epoch: number;
  stream: number;
  request: string;
  bytes: number;
  fin: boolean;
  reset?: number;
}

/**
 * A client application at core level: on each stream epoch that becomes current (the early one, and
 * the fresh one after a rejection) it sends each request on its own bidirectional stream, with FIN,
 * and reads the answers. `onEpoch` runs first, so a test can add misbehaviour.
 */
export class CoreClient {
  readonly fetched: Fetched[] = [];
  session: ResumptionSession | undefined;
  rejected = false;
  closed = false;
  onEpoch: ((epoch: StreamEpoch, conn: Connection) => void) | undefined;
  onRejected: ((dead: StreamEpoch) => void) | undefined;
  private readonly started = new Set<StreamEpoch>();
  private readonly pending = new Map<StreamEpoch, string[]>();

  constructor(
    sim: AuditSim,
    readonly conn: Connection,
    readonly requests: string[],
  ) {
    sim.hooks.push(() => this.turn());
  }

  /** Writes the requests on the current epoch now: for a 0-RTT attempt, before anything is sent. */
  start(): this {
    this.turn();
    return this;
  }

  /** Every request answered with FIN on the current (live) epoch. */
  get done(): boolean {
    const epoch = this.conn.epoch;
    if (!epoch || epoch.rejected) return false;
    const got = this.fetched.filter((f) => f.epoch === epoch.id && f.fin);
    return got.length === this.requests.length;
  }

  private turn(): void {
    const conn = this.conn;
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      if (e.type === 'session-ticket') this.session = e.session;
      if (e.type === 'early-data' && !e.accepted) {
        this.rejected = true;
        for (const ep of this.started) if (ep.rejected) this.onRejected?.(ep);
      }
      if (e.type === 'closed') this.closed = true;
      if (e.type === 'stream' && e.event.type === 'readable') this.read(e.epoch, e.event.id);
      if (e.type === 'stream' && e.event.type === 'reset') {
        const f = this.fetchedOf(e.epoch, e.event.id);
        if (f) f.reset = e.event.errorCode;
      }
    }
    const epoch = conn.epoch;
    if (!epoch || epoch.rejected || conn.isClosed) return;
    if (!this.started.has(epoch)) {
      this.started.add(epoch);
      this.onEpoch?.(epoch, conn);
      this.pending.set(epoch, [...this.requests]);
    }
    const todo = this.pending.get(epoch)!;
    while (todo.length > 0) {
      const id = epoch.streams.openStream(true);
      if (id === undefined) break;
      const request = todo.shift()!;
      this.fetched.push({ epoch: epoch.id, stream: id, request, bytes: 0, fin: false });
      epoch.streams.write(id, Buffer.from(request, 'latin1'));
      epoch.streams.end(id);
    }
  }

  private fetchedOf(epoch: StreamEpoch, id: number): Fetched | undefined {
    return this.fetched.find((f) => f.epoch === epoch.id && f.stream === id);
  }

  private read(epoch: StreamEpoch, id: number): void {
    const f = this.fetchedOf(epoch, id);
    for (let r = epoch.streams.read(id); r; r = epoch.streams.read(id)) {
      if (f) {
        f.bytes += r.data.length;
        if (r.fin) f.fin = true;
      }
    }
  }
}

/**
 * One audited client, well behaved: a first connection fetches `requests` and keeps its ticket, then
 * a 0-RTT attempt sends them early, is rejected, and sends them again on the fresh epoch. Returns the
 * clients for inspection; the audit is in `sim.done`.
 */
export function auditWellBehavedClient(
  sim: AuditSim,
  alpn: string,
  requests: string[],
  tweak?: Tweak,
): { first: CoreClient; attempt: CoreClient } {
  const first = new CoreClient(sim, sim.dial(alpn), requests);
  sim.run(() => first.done && first.session !== undefined && first.conn.handshakeConfirmed);
  first.conn.close(0, 'ticket received', sim.net.now);
  sim.client.markActive(first.conn);
  sim.run(() => first.conn.isTerminated);
  const session = first.session!;
  const attempt = new CoreClient(sim, sim.dial(alpn, session), [...requests]);
  tweak?.(attempt, { session, sim });
  attempt.start();
  sim.run(() => attempt.done || attempt.closed);
  attempt.conn.close(0, 'done', sim.net.now);
  sim.client.markActive(attempt.conn);
  sim.run(() => sim.done.length > 0);
  return { first, attempt };
}

/** Changes what the 0-RTT attempt's client does (it is well behaved otherwise). */
export type Tweak = (attempt: CoreClient, ctx: { session: ResumptionSession; sim: AuditSim }) => void;

/** The requests the scenarios make (hq-interop). */
export const SCENARIO_REQUESTS = ['GET /index.html\r\n', 'GET /other.txt\r\n'];

/**
 * Clients misbehaving the ways real stacks did after a rejection, made from the core's own calls on
 * the fresh stream epoch. Each fails the check named in its comment.
 */
export const MISBEHAVIOURS: Record<string, Tweak> = {
  /** Check 1, quic-go #4706: the dead stream 0's cancels go out on the live connection first. */
  'cancel-dead-stream': (attempt) => {
    attempt.onEpoch = (epoch) => {
      if (epoch.early) return;
      const id = epoch.streams.openStream(true)!;
      epoch.streams.resetStream(id, 42);
      epoch.streams.stopSending(id, 42);
    };
  },
  /** Check 2 (and 3): stream numbering continues after the dead attempt's stream 0. */
  'continued-numbering': (attempt, { session }) => {
    attempt.onEpoch = (epoch) => {
      if (epoch.early) return;
      epoch.streams.updatePeerLimits(
        flowLimitsOf(decodeTransportParameters(session.transportParameters, 'server')),
      );
      epoch.streams.openStream(true);
    };
  },
  /** Check 3, the quic-go #4764 class: the new epoch trusts the limits the ticket remembered. */
  'remembered-limits': (attempt, { session }) => {
    attempt.onEpoch = (epoch) => {
      if (epoch.early) return;
      epoch.streams.updatePeerLimits(
        flowLimitsOf(decodeTransportParameters(session.transportParameters, 'server')),
      );
    };
  },
  /** Check 4: a DATAGRAM on the new connection, which does not allow them. */
  'forbidden-datagram': (attempt) => {
    attempt.onEpoch = (epoch) => {
      if (!epoch.early) epoch.queueDatagram(new Uint8Array([1, 2, 3]));
    };
  },
  /** Check 5: the early request is not sent again (the client asks for something else). */
  'not-resent': (attempt) => {
    attempt.onEpoch = (epoch) => {
      if (!epoch.early) attempt.requests.splice(0, attempt.requests.length, 'GET /else\r\n');
    };
  },
  /** Check 5: the early request is sent twice after the rejection. */
  'sent-twice': (attempt) => {
    attempt.onEpoch = (epoch) => {
      if (!epoch.early) {
        attempt.requests.splice(
          0,
          attempt.requests.length,
          SCENARIO_REQUESTS[0]!,
          SCENARIO_REQUESTS[0]!,
          SCENARIO_REQUESTS[1]!,
        );
      }
    };
  },
  /** Check 6: the client gives up when it learns of the rejection. */
  'gives-up': (attempt, { sim }) => {
    attempt.onRejected = () => attempt.conn.close(0x99, 'giving up', sim.net.now);
  },
};

// ---------------------------------------------------------------------------------------------------
// Client mode: the auditor's AuditClient against a tsquic server endpoint

const AUDITOR = '10.0.0.2:50000';
/** The auditor's second socket, for the replay from a new source port. */
const AUDITOR_REPLAY = '10.0.0.2:50001';

export interface ServerSetup {
  /** Replay protection; default the endpoint's own (single use per ticket). */
  replayStore?: EarlyDataReplayStore;
  ticketLifetime?: number;
}

/** A tsquic server endpoint serving hq-interop at core level, 0-RTT allowed. */
function serverNode(net: SimNetwork, seed: number, setup: ServerSetup) {
  const pki = simPki();
  const endpoint = new Endpoint({
    random: seededRandomBytes(new Prng(seed + 2)),
    server: {
      tls: {
        alpn: ['hq-interop'],
        identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
        ticketKeys: new SessionTicketKeys({
          random: seededRandomBytes(new Prng(seed + 3)),
          now: DEFAULT_START_TIME,
        }),
        issueEarlyDataTickets: true,
        ticketLifetime: setup.ticketLifetime ?? 3,
      },
      allowEarlyData: () => true,
      ...(setup.replayStore ? { replayStore: setup.replayStore } : {}),
    },
  });
  const apps = new Map<Connection, AuditServerApp>();
  const serve = () => {
    for (let e = endpoint.pollEvent(); e; e = endpoint.pollEvent())
      apps.set(e.connection, undefined as never);
    for (const conn of endpoint.connections) {
      for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
        // hq-interop is the only protocol offered: known before the handshake completes (0-RTT data).
        if (e.type === 'epoch') apps.set(conn, new AuditServerApp(e.epoch.streams, () => 'hq-interop'));
        if (e.type === 'stream') apps.get(conn)?.onStreamEvent(e.event);
      }
      endpoint.markActive(conn);
    }
  };
  net.addNode(SERVER_ADDRESS, {
    receive: (d, from, now) => {
      endpoint.receive(d, from, now);
      serve();
    },
    transmit: (now) => endpoint.transmit(now),
    nextTimeout: () => endpoint.nextTimeout(),
    handleTimeout: (now) => {
      endpoint.handleTimeout(now);
      serve();
    },
  });
}

/** Runs a client-mode audit against the simulated server; virtual time, bounded. */
export async function auditServer(
  seed: number,
  setup: ServerSetup = {},
  observe?: (net: SimNetwork) => void,
): Promise<ServerTrace> {
  const net = new SimNetwork({ seed });
  observe?.(net);
  serverNode(net, seed, setup);
  const audit = new AuditClient({
    server: SERVER_ADDRESS,
    serverName: SERVER_NAME,
    alpn: 'hq-interop',
    path: '/index.html',
    ca: [simPki().ca.certPem],
    random: seededRandomBytes(new Prng(seed + 1)),
    now: net.now,
    maxTicketWaitMs: 5000,
    // The simulated server forgets a closed connection within a second (3 PTO at 20 ms RTT).
    replayDelayMs: 1000,
  });
  // One sim node per socket: datagrams the auditor sends from socket 1 leave from CLIENT_REPLAY.
  const queues: Array<Array<{ datagram: Uint8Array; to: string }>> = [[], []];
  const pull = (via: number, now: number) => {
    for (let d = audit.transmit(now); d; d = audit.transmit(now)) queues[d.via]!.push(d);
    return queues[via]!.shift();
  };
  for (const [via, address] of [AUDITOR, AUDITOR_REPLAY].entries()) {
    net.addNode(address, {
      receive: (d, from, now) => audit.receive(d, from, now, via),
      transmit: (now) => pull(via, now),
      nextTimeout: () => (queues[via]!.length > 0 ? net.now : audit.nextTimeout()),
      handleTimeout: (now) => audit.handleTimeout(now),
    });
  }
  let trace: ServerTrace | undefined;
  let failure: unknown;
  audit.run().then(
    (t) => {
      trace = t;
    },
    (e: unknown) => {
      failure = e;
    },
  );
  // The audit's steps run in promise callbacks: advance virtual time in slices and let them run.
  for (let i = 0; i < 20_000 && !trace && failure === undefined; i++) {
    net.runFor(10);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (failure !== undefined) throw failure;
  if (!trace) throw new Error('the audit did not finish within 200 s of virtual time');
  return trace;
}
