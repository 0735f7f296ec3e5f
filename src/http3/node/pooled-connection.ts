/**
 * One pooled HTTP/3 connection to an origin, with 0-RTT done at the HTTP level:
 *
 * - It dials with dialEarly(). With a ticket allowing early data, the first session runs on the
 *   early (0-RTT) connection under the SETTINGS remembered with that ticket (RFC 9114 §7.2.4.2), and
 *   requests allowed to go early are sent on it at once.
 * - If the server accepts 0-RTT, that session simply continues. If it rejects, the early session is
 *   dropped whole (its transport is killed, its streams, QPACK state and everything else with it)
 *   and a fresh session starts on nextConnection(), with default SETTINGS until the server's
 *   arrive; requests of the dead attempt are sent again by their callers on that session.
 * - Idle for `keepAliveTimeout` ms, the connection closes gracefully.
 */
import { randomBytes } from 'node:crypto';
import { ZeroRTTRejectedError } from '../../errors/public-errors.js';
import { dial, dialEarly } from '../../node/api.js';
import type { ClientOptions } from '../../node/options.js';
import type { EarlyConnection, QuicConnection } from '../../node/quic-connection.js';
import type { SessionStore } from '../../node/session-cache.js';
import { H3ClientSession } from '../client-session.js';
import type { FieldCodec } from '../field-codec.js';
import type { LocalSettings } from '../h3-connection.js';
import type { H3Settings } from '../settings.js';
import { DirectH3Transport } from './direct-transport.js';
import { QuicH3Transport } from './quic-transport.js';
import { RememberingStore } from './remembering-store.js';
import type { ZeroRttOutcome } from './response.js';

export interface PoolOptions {
  quic: Omit<ClientOptions, 'alpn' | 'sessionCache'>;
  sessionCache: SessionStore | undefined;
  codec: FieldCodec;
  settings: Partial<LocalSettings> | undefined;
  keepAliveTimeout: number;
  /** Offer 0-RTT when a ticket allows it (dialEarly), or always complete the handshake first (dial). */
  earlyData: boolean;
}

const NO_STORE: SessionStore = {
  saveSession() {},
  takeSession: () => undefined,
};

export class PooledConnection {
  /** The session of the 0-RTT attempt, while it may still be used. */
  private earlySession: H3ClientSession | undefined;
  private current: H3ClientSession | undefined;
  private readonly final: Promise<H3ClientSession>;
  private resolveFinal!: (s: H3ClientSession) => void;
  private rejectFinal!: (e: Error) => void;
  /** How the 0-RTT attempt went ('not-attempted' without one). */
  private _zeroRtt: ZeroRttOutcome | 'pending' = 'not-attempted';
  get zeroRtt(): ZeroRttOutcome | 'pending' {
    return this._zeroRtt;
  }
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The QUIC connections of this pool entry (the early one, and the next one after a rejection). */
  private readonly _connections: QuicConnection[] = [];
  get connections(): readonly QuicConnection[] {
    return this._connections;
  }

  private constructor(
    private readonly opts: PoolOptions,
    private readonly onGone: (p: PooledConnection) => void,
  ) {
    this.final = new Promise((resolve, reject) => {
      this.resolveFinal = resolve;
      this.rejectFinal = reject;
    });
    this.final.catch(() => {});
  }

  static async dial(
    target: { host: string; port: number; serverName: string },
    opts: PoolOptions,
    onGone: (p: PooledConnection) => void,
  ): Promise<PooledConnection> {
    const p = new PooledConnection(opts, onGone);
    const store = new RememberingStore(opts.sessionCache ?? NO_STORE);
    const quic = { ...opts.quic, alpn: ['h3'], serverName: target.serverName, sessionCache: store };
    const where = { host: target.host, port: target.port };
    if (opts.earlyData) p.start(await dialEarly(where, quic), store);
    else p.startComplete(await dial(where, quic), store);
    return p;
  }

  /** A connection whose handshake completed (no 0-RTT). */
  private startComplete(conn: QuicConnection, store: RememberingStore): void {
    this._connections.push(conn);
    const s = this.session(conn, store, undefined);
    this.current = s;
    this.resolveFinal(s);
  }

  private start(conn: EarlyConnection, store: RememberingStore): void {
    this._connections.push(conn);
    // The early (0-RTT) epoch is current: dialEarly returned before the handshake completed.
    const attempted = conn.epoch.early;
    const first = this.session(conn, store, attempted ? store.rememberedSettings : undefined);
    this.current = first;
    if (!attempted) {
      this.resolveFinal(first);
      return;
    }
    this._zeroRtt = 'pending';
    this.earlySession = first;
    conn.nextConnection().then(
      (next) => {
        this.earlySession = undefined;
        if (next === conn) {
          this._zeroRtt = 'accepted';
          this.resolveFinal(first);
          return;
        }
        // 0-RTT rejected: the early session dies whole; a fresh one runs on the next connection.
        this._zeroRtt = 'rejected';
        this._connections.push(next);
        const fresh = this.session(next, store, undefined);
        this.current = fresh;
        (first.conn.transport as DirectH3Transport | QuicH3Transport).kill(new ZeroRTTRejectedError());
        this.resolveFinal(fresh);
      },
      (err: Error) => {
        this.earlySession = undefined;
        this.rejectFinal(err);
        this.gone();
      },
    );
  }

  private session(
    conn: QuicConnection,
    store: RememberingStore,
    remembered: H3Settings | undefined,
  ): H3ClientSession {
    // Straight on the core's streams when nobody holds one of them (no stream object per request).
    const transport =
      DirectH3Transport.attach(conn, 'client') ?? new QuicH3Transport(conn, 'client', { acceptBidi: true });
    const session: H3ClientSession = new H3ClientSession(transport, {
      codec: this.opts.codec,
      random: randomBytes,
      ...(this.opts.settings ? { settings: this.opts.settings } : {}),
      ...(remembered ? { rememberedPeerSettings: remembered } : {}),
      onSettings: (s) => store.onSettings(s),
      onIdle: () => this.armIdle(),
      onClosed: () => {
        store.flush();
        // The early session dies of a rejection before nextConnection() says so: the entry
        // lives on with the next connection (retiring it would repeat the requests on a new QUIC
        // connection and leave the one that goes on after the rejection open; found by
        // `tsquic audit-0rtt`). A failed attempt as a whole ends it through nextConnection().
        if (session === this.current && this._zeroRtt !== 'pending') this.gone();
      },
    });
    transport.deliverTo(session.conn);
    return session;
  }

  /** The session for a request now: the early one (0-RTT) when allowed and still possible. */
  sessionNow(allowEarly: boolean): { session: H3ClientSession; early: boolean } | undefined {
    this.disarmIdle();
    if (allowEarly && this.earlySession?.available) return { session: this.earlySession, early: true };
    if (this._zeroRtt !== 'pending' && this.current?.available)
      return { session: this.current, early: false };
    return undefined;
  }

  /** The session once the handshake has completed (after a rejection: the fresh one). */
  finalSession(): Promise<H3ClientSession> {
    this.disarmIdle();
    return this.final;
  }

  /** New requests may use this connection. */
  get available(): boolean {
    if (this.closed) return false;
    // Pending: the early session, or (once it died of a rejection) the next connection's, soon.
    if (this._zeroRtt === 'pending') return true;
    return this.current?.available ?? false;
  }

  /** Graceful close: GOAWAY, then close once the requests in flight are done. */
  close(): Promise<void> {
    this.disarmIdle();
    this.closed = true;
    const conns = [...this.connections];
    this.current?.close();
    this.earlySession?.close();
    for (const c of conns) c.ref();
    return Promise.all(conns.map((c) => c.closed)).then(() => {});
  }

  private armIdle(): void {
    this.disarmIdle();
    if (this.closed) return;
    this.idleTimer = setTimeout(() => {
      if (this.current && this.current.activeRequests === 0) {
        this.closed = true;
        this.gone();
        this.current.close();
      }
    }, this.opts.keepAliveTimeout);
    // An idle pooled connection must not keep the process alive (like http.Agent's free sockets):
    // neither the keep-alive timer nor the connection's socket and timers hold it.
    this.idleTimer.unref();
    for (const c of this.connections) c.unref();
  }

  private disarmIdle(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      for (const c of this.connections) c.ref();
    }
    this.idleTimer = undefined;
  }

  private gone(): void {
    this.disarmIdle();
    this.closed = true;
    this.onGone(this);
  }
}
