/**
 * The server side of an HTTP/3 connection (RFC 9114): accepts request streams, hands each request
 * to the application once its head is valid, and shuts down gracefully with GOAWAY (§5.2): requests
 * on streams at or above the GOAWAY identifier are rejected with H3_REQUEST_REJECTED, requests
 * below it finish, then the connection closes with H3_NO_ERROR.
 */
import { H3ErrorCode } from './error-codes.js';
import { H3Connection, type H3ConnectionOptions } from './h3-connection.js';
import { ServerExchange, type ServerExchangeOwner } from './server-exchange.js';
import type { H3Transport } from './transport.js';

export interface ServerSessionOptions extends H3ConnectionOptions {
  /** A request whose head is valid; hand it its events (`exchange.deliverTo`) before returning. */
  onRequest(exchange: ServerExchange): void;
  /** The connection ended. */
  onClosed?(err: Error): void;
}

export class H3ServerSession implements ServerExchangeOwner {
  readonly conn: H3Connection;
  private readonly exchanges = new Set<ServerExchange>();
  /** The next client-initiated bidirectional stream ID we have not seen. */
  private nextRequestId = 0;
  private shuttingDown = false;

  constructor(
    transport: H3Transport,
    private readonly opts: ServerSessionOptions,
  ) {
    this.conn = new H3Connection(transport, opts, {
      onPeerBidiStream: (id, early) => this.onRequestStream(id, early),
      onGoaway: () => {
        // A client's GOAWAY carries a push ID (we never push): nothing to cancel.
      },
      onClosed: (err) => this.opts.onClosed?.(err),
    });
    this.conn.start();
  }

  /** Requests being served. */
  get activeRequests(): number {
    return this.exchanges.size;
  }

  get closed(): boolean {
    return this.conn.closedError !== undefined;
  }

  /**
   * Graceful shutdown (RFC 9114 §5.2): GOAWAY with the first stream not yet seen; the connection
   * closes with H3_NO_ERROR once the requests below it are done.
   */
  shutdown(): void {
    if (this.conn.closedError) return;
    this.shuttingDown = true;
    this.conn.sendGoaway(this.nextRequestId);
    this.closeIfDrained();
  }

  /** Close now (H3_NO_ERROR unless a code is given). */
  close(code: number = H3ErrorCode.H3_NO_ERROR, reason = ''): void {
    this.conn.close(code, reason);
  }

  private onRequestStream(id: number, early: boolean): void {
    const goaway = this.conn.goawaySent;
    if (goaway !== undefined && id >= goaway) {
      // RFC 9114 §5.2: after GOAWAY, later requests are rejected, unprocessed (§4.1.1).
      this.conn.transport.resetStream(id, H3ErrorCode.H3_REQUEST_REJECTED);
      this.conn.transport.stopSending(id, H3ErrorCode.H3_REQUEST_REJECTED);
      return;
    }
    this.nextRequestId = Math.max(this.nextRequestId, id + 4);
    const ex = new ServerExchange(this.conn, id, early, this);
    this.exchanges.add(ex);
    ex.begin();
  }

  /** @internal ServerExchangeOwner */
  onRequestHead(ex: ServerExchange): void {
    this.opts.onRequest(ex);
  }

  /** @internal ServerExchangeOwner */
  onExchangeDone(ex: ServerExchange): void {
    this.exchanges.delete(ex);
    this.closeIfDrained();
  }

  private closeIfDrained(): void {
    if (this.shuttingDown && this.exchanges.size === 0) this.conn.closeGracefully('shutdown');
  }
}
