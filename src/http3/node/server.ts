/**
 * `createServer()`: an HTTP/3 server with node:http's handler shape, over a tsquic QUIC server
 * (listenEarly, so requests sent as 0-RTT are served before the handshake completes and marked
 * `req.early`).
 *
 * - A handler that throws (or whose promise rejects) gets a 500 if nothing was sent yet, or a reset
 *   stream otherwise; the error is logged (or emitted as 'handlerError'); other requests go on.
 * - Early requests with unsafe methods are answered 425 Too Early (RFC 8470 §5.2) unless
 *   `allowUnsafeEarly` is set: the client repeats them after the handshake.
 * - close() sends GOAWAY on every connection (RFC 9114 §5.2), lets requests in flight finish (up to
 *   `shutdownTimeout`), then closes.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SocketAddress } from '../../node/address.js';
import { listenEarly } from '../../node/api.js';
import type { ServerOptions } from '../../node/options.js';
import type { QuicConnection } from '../../node/quic-connection.js';
import type { QuicServer } from '../../node/quic-server.js';
import { H3ErrorCode } from '../error-codes.js';
import { Http3UsageError } from '../errors.js';
import type { FieldCodec, FieldLine } from '../field-codec.js';
import type { LocalSettings } from '../h3-connection.js';
import type { ServerExchange, ServerExchangeEvents } from '../server-exchange.js';
import { H3ServerSession } from '../server-session.js';
import { defaultCodec } from './codec.js';
import { DirectH3Transport } from './direct-transport.js';
import { PeerSocket } from './peer-socket.js';
import { QuicH3Transport } from './quic-transport.js';
import { Http3ServerRequest } from './server-request.js';
import { Http3ServerResponse } from './server-response.js';

export type RequestListener = (req: Http3ServerRequest, res: Http3ServerResponse) => void | Promise<void>;

export interface Http3ServerOptions extends Omit<ServerOptions, 'alpn' | 'host' | 'port'> {
  /** ALPN protocols besides 'h3' are not served by this server; default ['h3']. */
  alpn?: ['h3'];
  /** Our HTTP/3 and QPACK settings. */
  settings?: Partial<LocalSettings>;
  /** Serve early (0-RTT) requests with unsafe methods instead of answering 425 (default false). */
  allowUnsafeEarly?: boolean;
  /** How long close() waits for requests in flight before closing connections (default 5000 ms). */
  shutdownTimeout?: number;
  /** @internal Field compression (tests). */
  codec?: FieldCodec;
}

/** Methods that may be replayed without harm (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface Session {
  session: H3ServerSession;
  conn: QuicConnection;
  socket: PeerSocket;
}

export class Http3Server extends EventEmitter {
  private quic: QuicServer | undefined;
  private readonly sessions = new Set<Session>();
  private readonly openConnections = new Set<QuicConnection>();
  private closing: Promise<void> | undefined;
  private readonly codec: FieldCodec;

  /** @internal */
  constructor(
    private readonly options: Http3ServerOptions,
    listener?: RequestListener,
  ) {
    super();
    if (listener) this.on('request', listener);
    this.codec = options.codec ?? defaultCodec();
  }

  /** Bind and start serving; resolves once bound. Port 0 picks a free port. */
  async listen(opts: { host?: string; port?: number } = {}): Promise<this> {
    if (this.quic) throw new Http3UsageError('ERR_HTTP3_SERVER_LISTENING', 'the server is already listening');
    const {
      settings: _s,
      allowUnsafeEarly: _a,
      shutdownTimeout: _t,
      codec: _c,
      ...quicOptions
    } = this.options;
    this.quic = await listenEarly({
      ...quicOptions,
      alpn: ['h3'],
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      // RFC 9114 §6.2: the peer must be able to open its control and QPACK streams (and GREASE).
      maxStreamsUni: Math.max(quicOptions.maxStreamsUni ?? 100, 8),
    });
    this.quic.on('connection', (conn: QuicConnection) => this.onConnection(conn));
    return this;
  }

  address(): SocketAddress {
    if (!this.quic)
      throw new Http3UsageError('ERR_HTTP3_SERVER_NOT_LISTENING', 'the server is not listening');
    return this.quic.address();
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Graceful shutdown: GOAWAY, let requests in flight finish (bounded), close every connection and the socket. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const quic = this.quic;
    this.closing = (async () => {
      for (const s of this.sessions) s.session.shutdown();
      const deadline = this.options.shutdownTimeout ?? 5000;
      await new Promise<void>((resolve) => {
        // Done when every session ended and every QUIC connection finished closing (a graceful
        // close waits for the last responses to be acknowledged first).
        const check = () => {
          if (this.sessions.size === 0 && this.openConnections.size === 0) resolve();
        };
        const timer = setTimeout(() => {
          for (const s of this.sessions) s.session.close(H3ErrorCode.H3_NO_ERROR, 'server closing');
          resolve();
        }, deadline);
        timer.unref();
        this.on('sessionClosed', check);
        check();
      });
      await quic?.close();
      this.emit('close');
    })();
    return this.closing;
  }

  /**
   * Serve HTTP/3 on a QUIC connection accepted elsewhere (e.g. a QuicServer offering several ALPN
   * protocols, for the connections that negotiated 'h3'). Its peer must be allowed at least three
   * unidirectional streams (RFC 9114 §6.2).
   */
  serveConnection(conn: QuicConnection, local?: SocketAddress): void {
    this.onConnection(conn, local);
  }

  private onConnection(conn: QuicConnection, localAddress?: SocketAddress): void {
    if (this.closing) {
      void conn.close(H3ErrorCode.H3_NO_ERROR, 'server closing');
      return;
    }
    this.openConnections.add(conn);
    void conn.closed.then(() => {
      this.openConnections.delete(conn);
      this.emit('sessionClosed');
    });
    // Straight on the core's streams when nobody holds one of them (no stream object per request).
    const transport =
      DirectH3Transport.attach(conn, 'server') ?? new QuicH3Transport(conn, 'server', { acceptBidi: true });
    const local = localAddress ?? this.quic?.address();
    const socket = new PeerSocket(conn, local);
    let entry: Session | undefined;
    const session = new H3ServerSession(transport, {
      codec: this.codec,
      random: randomBytes,
      ...(this.options.settings ? { settings: this.options.settings } : {}),
      onRequest: (ex) => this.onRequest(ex, socket),
      onClosed: () => {
        socket._closed();
        if (entry) this.sessions.delete(entry);
        this.emit('sessionClosed');
      },
    });
    transport.deliverTo(session.conn);
    entry = { session, conn, socket };
    this.sessions.add(entry);
    if (this.closing) session.shutdown();
  }

  private onRequest(ex: ServerExchange, socket: PeerSocket): void {
    const req = new Http3ServerRequest(ex, socket);
    const res = new Http3ServerResponse(ex, req, socket);
    ex.deliverTo(new ExchangeEvents(req, res));
    // RFC 8470 §5.2: an early request that is not safe to replay waits for the handshake.
    if (ex.early && !this.options.allowUnsafeEarly && !SAFE_METHODS.has(req.method)) {
      res.writeHead(425, { 'content-length': '0' });
      res.end();
      return;
    }
    let result: unknown;
    try {
      const listeners = this.listeners('request') as RequestListener[];
      result = listeners.length > 0 ? this.emitRequest(listeners, req, res) : this.notFound(res);
    } catch (err) {
      this.onHandlerError(err, res);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.onHandlerError(err, res));
  }

  private emitRequest(
    listeners: RequestListener[],
    req: Http3ServerRequest,
    res: Http3ServerResponse,
  ): unknown {
    let result: unknown;
    for (const l of listeners) {
      const r = l(req, res);
      if (r instanceof Promise) result = r;
    }
    return result;
  }

  private notFound(res: Http3ServerResponse): void {
    res.writeHead(404, { 'content-length': '0' });
    res.end();
  }

  private onHandlerError(err: unknown, res: Http3ServerResponse): void {
    if (this.listenerCount('handlerError') > 0) this.emit('handlerError', err, res.req, res);
    else console.error('tsquic http3: request handler failed:', err);
    if (res.destroyed) return;
    if (!res.headersSent) {
      res.statusCode = 500;
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.setHeader('content-length', '0');
      res.end();
    } else {
      res.destroy();
    }
  }
}

/** What an exchange tells the request and response objects of the Node API (one object per request). */
class ExchangeEvents implements ServerExchangeEvents {
  constructor(
    private readonly req: Http3ServerRequest,
    private readonly res: Http3ServerResponse,
  ) {}

  onData(chunk: Uint8Array): void {
    this.req._onData(chunk);
  }

  onTrailers(fields: FieldLine[]): void {
    this.req._onTrailers(fields);
  }

  onEnd(): void {
    this.req._onEnd();
  }

  onAborted(err: Error): void {
    this.req._onAborted(err);
    this.res._onAborted(err);
  }

  onWritable(): void {
    this.res._onWritable();
  }
}

/** An HTTP/3 server calling `listener(req, res)` for each request. */
export function createServer(options: Http3ServerOptions, listener?: RequestListener): Http3Server {
  if (!options || typeof options !== 'object')
    throw new TypeError('createServer() needs options with cert and key');
  if ((options as { alpn?: unknown }).alpn !== undefined && JSON.stringify(options.alpn) !== '["h3"]') {
    throw new Http3UsageError('ERR_HTTP3_INVALID_OPTION', 'an HTTP/3 server speaks ALPN h3 only');
  }
  return new Http3Server(options, listener);
}
