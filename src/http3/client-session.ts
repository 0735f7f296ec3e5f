/**
 * The client side of an HTTP/3 connection (RFC 9114): sends requests on new bidirectional streams,
 * obeys the server's GOAWAY (§5.2: no new requests; requests at or above its identifier are
 * rejected and safe to retry), and closes gracefully (GOAWAY with push ID 0, since we never allow
 * push, then CONNECTION_CLOSE with H3_NO_ERROR once idle).
 */

import { ClientExchange, type ClientExchangeEvents, type OutgoingRequest } from './client-exchange.js';
import { H3ErrorCode } from './error-codes.js';
import { Http3ConnectionError, Http3RequestRejectedError } from './errors.js';
import { H3Connection, type H3ConnectionOptions } from './h3-connection.js';
import { h3ConnectionError } from './h3-protocol-error.js';
import type { H3Settings } from './settings.js';
import type { H3Transport } from './transport.js';

export interface ClientSessionOptions extends H3ConnectionOptions {
  onGoaway?(id: number): void;
  onSettings?(settings: H3Settings): void;
  onHandshakeComplete?(): void;
  onClosed?(err: Error): void;
  /** Called whenever the session becomes idle (no request in flight). */
  onIdle?(): void;
}

export class H3ClientSession {
  readonly conn: H3Connection;
  private readonly exchanges = new Set<ClientExchange>();
  private closing = false;

  constructor(
    transport: H3Transport,
    private readonly opts: ClientSessionOptions,
  ) {
    this.conn = new H3Connection(transport, opts, {
      onPeerBidiStream: () => {
        throw h3ConnectionError(
          H3ErrorCode.H3_STREAM_CREATION_ERROR,
          'server-initiated bidirectional stream',
        );
      },
      onGoaway: (id) => this.onGoaway(id),
      onSettings: (s) => this.opts.onSettings?.(s),
      onHandshakeComplete: () => this.opts.onHandshakeComplete?.(),
      onClosed: (err) => {
        for (const ex of [...this.exchanges]) ex.failUnopened(asConnectionError(err));
        this.exchanges.clear();
        this.opts.onClosed?.(err);
      },
    });
    this.conn.start();
  }

  /** New requests may go on this connection: not closed, no GOAWAY received or sent. */
  get available(): boolean {
    return !this.conn.closedError && this.conn.goawayReceived === undefined && !this.closing;
  }

  get activeRequests(): number {
    return this.exchanges.size;
  }

  /** Send a request. Throws Http3UsageError for an invalid header (before anything is sent). */
  request(req: OutgoingRequest, events: ClientExchangeEvents): ClientExchange {
    const ex = new ClientExchange(this.conn, req, events, (e) => this.onExchangeDone(e));
    if (this.conn.closedError) {
      ex.failUnopened(asConnectionError(this.conn.closedError));
      return ex;
    }
    if (!this.available) {
      ex.failUnopened(new Http3RequestRejectedError('goaway'));
      return ex;
    }
    this.exchanges.add(ex);
    return ex;
  }

  /** Graceful close: GOAWAY (push ID 0), then CONNECTION_CLOSE H3_NO_ERROR once no request is in flight. */
  close(): void {
    if (this.conn.closedError) return;
    this.closing = true;
    this.conn.sendGoaway(0);
    if (this.exchanges.size === 0) this.conn.closeGracefully('client closing');
  }

  private onGoaway(id: number): void {
    for (const ex of [...this.exchanges]) {
      // RFC 9114 §5.2: requests at or above the identifier were not processed; streams not yet
      // opened never will be.
      if (ex.streamId === undefined || ex.streamId >= id) ex.rejectByGoaway();
    }
    this.opts.onGoaway?.(id);
  }

  private onExchangeDone(ex: ClientExchange): void {
    if (!this.exchanges.delete(ex)) return;
    if (this.exchanges.size === 0) {
      if (this.closing) this.conn.closeGracefully('client closing');
      else this.opts.onIdle?.();
    }
  }
}

function asConnectionError(err: Error): Error {
  return err instanceof Http3ConnectionError
    ? err
    : new Http3ConnectionError(undefined, err.message, false, { cause: err });
}
