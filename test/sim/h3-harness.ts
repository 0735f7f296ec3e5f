/**
 * HTTP/3 over the simulator: tsquic's sans-IO HTTP/3 sessions (src/http3) on core connections over
 * the simulated network, through CoreH3Transport. The server runs an H3ServerSession per connection
 * with the test's request handler; the client gets one H3ClientSession per stream epoch (a 0-RTT
 * attempt the server rejects gets a fresh session on the next epoch, as the Node Client does).
 */
import type { ClientTlsOptions, Connection } from '../../src/connection/connection.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import { ZeroRTTRejectedError } from '../../src/errors/public-errors.js';
import { ClientExchange, type ClientExchangeEvents } from '../../src/http3/client-exchange.js';
import { type ClientSessionOptions, H3ClientSession } from '../../src/http3/client-session.js';
import { Http3ConnectionError } from '../../src/http3/errors.js';
import type { FieldCodec, FieldLine } from '../../src/http3/field-codec.js';
import type { LocalSettings } from '../../src/http3/h3-connection.js';
import type { ResponseHead } from '../../src/http3/message-validation.js';
import { qpackCodec } from '../../src/http3/qpack-codec.js';
import type { ServerExchange } from '../../src/http3/server-exchange.js';
import { H3ServerSession } from '../../src/http3/server-session.js';
import { decodeRememberedSettings, encodeRememberedSettings } from '../../src/http3/settings.js';
import type { ResumptionSession } from '../../src/tls/types.js';
import { CoreH3Transport } from './h3-transport.js';
import { seededRandomBytes } from './network.js';
import { QuicSim, type QuicSimOptions } from './quic-harness.js';

export interface H3SimOptions extends Omit<QuicSimOptions, 'server'> {
  codec?: FieldCodec;
  serverSettings?: Partial<LocalSettings>;
  clientSettings?: Partial<LocalSettings>;
  /** Handles each request (default: 404). */
  onRequest?: (ex: ServerExchange) => void;
  server?: QuicSimOptions['server'];
}

export interface ServerSide {
  conn: Connection;
  transport: CoreH3Transport;
  session: H3ServerSession;
}

/** What a test sees of one request. */
export interface ResponseRecord {
  interim: ResponseHead[];
  head: ResponseHead | undefined;
  body: Buffer;
  trailers: FieldLine[] | undefined;
  ended: boolean;
  error: Error | undefined;
}

export class H3Sim {
  readonly sim: QuicSim;
  readonly codec: FieldCodec;
  readonly servers: ServerSide[] = [];
  client: Connection | undefined;
  /** Client transports and sessions, one per stream epoch of the client connection. */
  readonly clientTransports: CoreH3Transport[] = [];
  readonly clientSessions: H3ClientSession[] = [];
  clientSessionOptions: Partial<ClientSessionOptions> = {};
  /** Session tickets the client received, with the server's SETTINGS of that connection kept in them. */
  readonly tickets: ResumptionSession[] = [];
  /** Requests of a rejected 0-RTT attempt waiting for the next epoch's session (see requestWithResend). */
  private readonly resendQueue: Array<(s: H3ClientSession) => void> = [];
  private readonly random: ReturnType<typeof seededRandomBytes>;

  constructor(readonly opts: H3SimOptions) {
    this.sim = new QuicSim({
      ...opts,
      server: { ...opts.server, tls: { alpn: ['h3'], ...opts.server?.tls } },
    });
    this.codec = opts.codec ?? qpackCodec;
    this.random = seededRandomBytes(this.sim.net.prng.fork('h3'));
    this.sim.appHooks.push(() => this.pump());
  }

  /** The session ticket the current connection was dialled with. */
  private dialSession: ResumptionSession | undefined;

  /** Dial; sessions are created as the connection's epochs appear. */
  dial(tls?: Partial<ClientTlsOptions>, transport?: Partial<TransportOptions>): Connection {
    this.dialSession = tls?.session;
    this.client = this.sim.dial({ alpn: ['h3'], ...tls }, transport);
    this.pump();
    return this.client;
  }

  /** Dial and run until the client has a session (the handshake completed, or 0-RTT is possible). */
  connect(tls?: Partial<ClientTlsOptions>, transport?: Partial<TransportOptions>): Connection {
    const c = this.dial(tls, transport);
    this.run(() => this.clientSessions.length > 0 || c.isClosed);
    if (this.clientSessions.length === 0) throw new Error(`no session: ${c.closeInfo?.reason}`);
    return c;
  }

  /** The client session of the current (last) epoch. */
  get session(): H3ClientSession {
    const s = this.clientSessions[this.clientSessions.length - 1];
    if (!s) throw new Error('no client session yet');
    return s;
  }

  /** Send a request on the current client session and record what comes back (into `into` if given). */
  request(
    path: string,
    init: { method?: string; fields?: FieldLine[]; body?: Uint8Array; trailers?: FieldLine[] } = {},
    into?: ResponseRecord,
    onError?: (err: Error) => void,
  ): { ex: ClientExchange; rec: ResponseRecord } {
    const rec: ResponseRecord = into ?? {
      interim: [],
      head: undefined,
      body: Buffer.alloc(0),
      trailers: undefined,
      ended: false,
      error: undefined,
    };
    const events: ClientExchangeEvents = {
      onInterim: (h) => rec.interim.push(h),
      onResponse: (h) => {
        rec.head = h;
      },
      onData: (c) => {
        rec.body = Buffer.concat([rec.body, c]);
      },
      onTrailers: (t) => {
        rec.trailers = t;
      },
      onEnd: () => {
        rec.ended = true;
      },
      onError: (e) => {
        if (onError) onError(e);
        else rec.error = e;
      },
      onWritable: () => {},
    };
    const ex = this.session.request(
      {
        method: init.method ?? 'GET',
        scheme: 'https',
        authority: 'quic.test',
        path,
        fields: init.fields ?? [],
      },
      events,
    );
    if (init.body) ex.write(init.body);
    if (
      init.body !== undefined ||
      init.method === undefined ||
      init.method === 'GET' ||
      init.method === 'HEAD'
    ) {
      ex.end(init.trailers);
    }
    this.pump();
    return { ex, rec };
  }

  /**
   * A request as the Node Client sends it: on the current session (the early one during 0-RTT);
   * if 0-RTT is rejected, it is sent again, once, on the next epoch's session, into the same record.
   * `attempts` has every exchange used, the dead one first.
   */
  requestWithResend(path: string): { rec: ResponseRecord; attempts: ClientExchange[] } {
    const attempts: ClientExchange[] = [];
    const rec: ResponseRecord = {
      interim: [],
      head: undefined,
      body: Buffer.alloc(0),
      trailers: undefined,
      ended: false,
      error: undefined,
    };
    const onFirstError = (err: Error) => {
      if (!isZeroRttRejection(err)) {
        rec.error = err;
        return;
      }
      this.resendQueue.push(() => attempts.push(this.request(path, {}, rec).ex));
    };
    attempts.push(this.request(path, {}, rec, onFirstError).ex);
    return { rec, attempts };
  }

  run(until: () => boolean, maxTime = 60_000): void {
    this.sim.run(until, maxTime);
  }

  /** Route every pending connection event to the transports; create sessions for new epochs. */
  pump(): void {
    const c = this.client;
    if (c) {
      for (let e = c.pollEvent(); e; e = c.pollEvent()) {
        if (e.type === 'epoch') {
          const t = new CoreH3Transport(c, e.epoch, () => this.sim.now);
          this.clientTransports.push(t);
          // RFC 9114 §7.2.4.2: an early epoch complies with the SETTINGS remembered with the ticket.
          const remembered = e.epoch.early
            ? decodeRememberedSettings(this.dialSession?.applicationData)
            : undefined;
          const s = new H3ClientSession(t, {
            codec: this.codec,
            random: this.random,
            settings: this.opts.clientSettings,
            ...(remembered ? { rememberedPeerSettings: remembered } : {}),
            ...this.clientSessionOptions,
          });
          t.deliverTo(s.conn);
          this.clientSessions.push(s);
          if (!e.epoch.early) for (const resend of this.resendQueue.splice(0)) resend(s);
          continue;
        }
        if (e.type === 'session-ticket') {
          const settings = this.clientSessions[this.clientSessions.length - 1]?.conn.peerSettings;
          this.tickets.push(
            settings ? { ...e.session, applicationData: encodeRememberedSettings(settings) } : e.session,
          );
          continue;
        }
        if (e.type === 'early-data' && !e.accepted) {
          for (const t of this.clientTransports) if (t.epoch.rejected) t.kill(new ZeroRTTRejectedError());
          continue;
        }
        for (const t of this.clientTransports) t.dispatch(e);
      }
    }
    for (const conn of this.sim.serverConnections) {
      let side = this.servers.find((s) => s.conn === conn);
      for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
        if (e.type === 'epoch') {
          const t = new CoreH3Transport(conn, e.epoch, () => this.sim.now);
          const session = new H3ServerSession(t, {
            codec: this.codec,
            random: this.random,
            settings: this.opts.serverSettings,
            onRequest: (ex) => (this.opts.onRequest ?? notFound)(ex),
          });
          t.deliverTo(session.conn);
          side = { conn, transport: t, session };
          this.servers.push(side);
          continue;
        }
        side?.transport.dispatch(e);
      }
    }
  }
}

function isZeroRttRejection(err: Error): boolean {
  return (
    err instanceof ZeroRTTRejectedError ||
    (err instanceof Http3ConnectionError && err.cause instanceof ZeroRTTRejectedError)
  );
}

function notFound(ex: ServerExchange): void {
  ex.deliverTo({ onData() {}, onTrailers() {}, onEnd() {}, onAborted() {}, onWritable() {} });
  ex.respond(404, [{ name: 'content-length', value: '0' }], true);
}

/** A server handler that answers every request with `body` (and reads the request body into `seen`). */
export function respondWith(
  body: (
    ex: ServerExchange,
    requestBody: Buffer,
  ) => { status?: number; fields?: FieldLine[]; body?: Uint8Array; trailers?: FieldLine[] },
): (ex: ServerExchange) => void {
  return (ex) => {
    const chunks: Buffer[] = [];
    ex.deliverTo({
      onData: (c) => chunks.push(Buffer.from(c)),
      onTrailers() {},
      onEnd: () => {
        const r = body(ex, Buffer.concat(chunks));
        const payload = r.body ?? new Uint8Array(0);
        ex.respond(r.status ?? 200, [
          ...(r.fields ?? []),
          { name: 'content-length', value: String(payload.length) },
        ]);
        if (payload.length > 0) ex.write(payload);
        ex.end(r.trailers);
      },
      onAborted() {},
      onWritable() {},
    });
  };
}

export { ClientExchange };
