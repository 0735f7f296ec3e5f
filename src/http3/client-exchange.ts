/**
 * One request from the client (RFC 9114 §4.1): opens a request stream, sends the head, the body
 * and trailers, and reads interim responses, the final response, its content and trailers.
 *
 * - Writes before the stream is open (stream credit, RFC 9000 §4.6) wait in order.
 * - A server that completes its response before reading the whole request may ask us to stop
 *   sending with H3_NO_ERROR (RFC 9114 §4.1.1): the rest of the body is dropped, not an error.
 * - H3_REQUEST_REJECTED, or a GOAWAY below our stream ID, means the server never processed the
 *   request: Http3RequestRejectedError, safe to retry (§4.1.1, §5.2).
 * - Responses to HEAD, 204 and 304 carry no content (RFC 9110 §6.4.1).
 */
import { H3ErrorCode } from './error-codes.js';
import {
  Http3ConnectionError,
  Http3ProtocolError,
  Http3RequestRejectedError,
  Http3StreamResetError,
} from './errors.js';
import type { FieldLine } from './field-codec.js';
import type { H3Connection } from './h3-connection.js';
import type { H3ProtocolError } from './h3-protocol-error.js';
import { MessageReader } from './message-reader.js';
import { parseResponseHead, type ResponseHead } from './message-validation.js';
import { outgoingFields } from './outgoing-fields.js';
import { RequestStream } from './request-stream.js';

export interface OutgoingRequest {
  method: string;
  scheme: string;
  authority: string;
  /** Path and query, starting with '/' (or '*' for OPTIONS). */
  path: string;
  fields: Iterable<FieldLine>;
}

export interface ClientExchangeEvents {
  onInterim?(head: ResponseHead): void;
  onResponse(head: ResponseHead): void;
  onData(chunk: Uint8Array): void;
  onTrailers(fields: FieldLine[]): void;
  onEnd(): void;
  /** The exchange failed; nothing more is reported after this. */
  onError(err: Error): void;
  /** The request's send buffer has room again (or the server stopped reading the request). */
  onWritable(): void;
}

type Pending = { kind: 'data'; chunk: Uint8Array } | { kind: 'end'; trailers: FieldLine[] | undefined };

export class ClientExchange extends RequestStream<ResponseHead> {
  protected readonly reader: MessageReader<ResponseHead>;
  /** The stream was opened before the handshake completed: the request went as 0-RTT. */
  private _early = false;
  get early() {
    return this._early;
  }
  private _response: ResponseHead | undefined;
  get response(): ResponseHead | undefined {
    return this._response;
  }
  private readonly head: FieldLine[];
  private pending: Pending[] = [];
  private requestEnded = false;
  /** The server asked us to stop sending the request (STOP_SENDING); further body is dropped. */
  private _requestStopped = false;
  get requestStopped() {
    return this._requestStopped;
  }
  private done = false;

  constructor(
    conn: H3Connection,
    request: OutgoingRequest,
    private readonly events: ClientExchangeEvents,
    private readonly onDone: (ex: ClientExchange) => void,
  ) {
    super(conn);
    const method = request.method;
    // Validate everything before the stream exists: a bad header throws here, to the caller.
    this.head = [
      { name: ':method', value: method },
      { name: ':scheme', value: request.scheme },
      { name: ':authority', value: request.authority },
      { name: ':path', value: request.path },
      ...outgoingFields(request.fields, true),
    ];
    this.reader = new MessageReader<ResponseHead>(
      {
        decode: (section) => conn.decodeFields(this.streamId!, section),
        role: 'client',
        limits: conn.requestReaderLimits,
      },
      {
        parse: (fields) => {
          const head = parseResponseHead(fields);
          const interim = head.status < 200;
          const noContent = method === 'HEAD' || head.status === 204 || head.status === 304;
          return { head, fields: head.fields, interim, noContent };
        },
      },
      {
        onInterim: (head) => this.events.onInterim?.(head),
        onHead: (head) => {
          this._response = head;
          this.events.onResponse(head);
        },
        onData: (chunk) => this.events.onData(chunk),
        onTrailers: (fields) => this.events.onTrailers(fields),
        onEnd: () => {
          this.markReceiveDone();
          if (!this.done) {
            this.done = true;
            this.events.onEnd();
          }
        },
      },
    );
    conn.transport.openStream(true, (id) => this.onOpened(id));
  }

  private onOpened(id: number): void {
    if (this.done) {
      // Cancelled (or the connection failed) before the stream existed: it carries nothing.
      this.conn.transport.resetStream(id, H3ErrorCode.H3_REQUEST_CANCELLED);
      this.conn.transport.stopSending(id, H3ErrorCode.H3_REQUEST_CANCELLED);
      return;
    }
    this._early = !this.conn.transport.handshakeComplete;
    this.attach(id);
    this.conn.guard(id, () => {
      this.sendFields(this.head);
      const queued = this.pending;
      this.pending = [];
      for (const p of queued) {
        if (p.kind === 'data') this.sendData(p.chunk);
        else this.sendEnd(p.trailers);
      }
      this.pump();
    });
  }

  /** Request content; false when the caller should wait for onWritable. */
  write(chunk: Uint8Array): boolean {
    if (this.requestEnded || this.done || this._requestStopped || this.sendDone) return true;
    if (this.streamId === undefined) {
      this.pending.push({ kind: 'data', chunk });
      return this.pending.length < 64;
    }
    return this.sendData(chunk);
  }

  /** End the request (FIN), with trailers if any. */
  end(trailers?: Iterable<FieldLine>): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    const t = trailers ? outgoingFields(trailers, true) : undefined;
    if (this.done || this._requestStopped || this.sendDone) return;
    if (this.streamId === undefined) this.pending.push({ kind: 'end', trailers: t });
    else this.sendEnd(t);
  }

  /** Cancel the request (RFC 9114 §4.1.1): both directions with `code` (default H3_REQUEST_CANCELLED). */
  cancel(code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    if (this.done) return;
    this.done = true;
    this.abortStream(code);
    // Not opened yet: it is reset when it opens (onOpened); nothing else waits for it.
    if (this.streamId === undefined) this.onDone(this);
  }

  override onWritable(): void {
    this.events.onWritable();
  }

  override onReset(code: number): void {
    const wasDone = this.receiveDone;
    this.receiveDone = true;
    this.cancelDecoding();
    if (!wasDone) {
      this.abortStream(code);
      this.fail(
        code === H3ErrorCode.H3_REQUEST_REJECTED
          ? new Http3RequestRejectedError('reset')
          : new Http3StreamResetError(code, 'reset'),
      );
    }
    this.maybeFinished();
  }

  override onStopSending(code: number): void {
    this.sendReset = true;
    this.sendDone = true;
    this._requestStopped = true;
    if (code === H3ErrorCode.H3_REQUEST_REJECTED) {
      this.abortStream(code);
      this.fail(new Http3RequestRejectedError('reset'));
    } else if (code !== H3ErrorCode.H3_NO_ERROR && !this.receiveDone && !this.reader.headDelivered) {
      // The server refuses the request; its reset of the response normally follows.
      this.events.onWritable();
    } else {
      this.events.onWritable();
    }
    this.maybeFinished();
  }

  override onStreamError(err: H3ProtocolError): void {
    this.abortStream(err.errorCode);
    this.fail(new Http3ProtocolError(err.errorCode, err.reason));
  }

  override onConnectionClosed(err: Error): void {
    this.sendDone = true;
    this.receiveDone = true;
    this.fail(
      err instanceof Http3ConnectionError
        ? err
        : new Http3ConnectionError(undefined, err.message, false, { cause: err }),
    );
    this.onDone(this);
  }

  /** A GOAWAY at or below our stream ID: the server will not process this request (RFC 9114 §5.2). */
  rejectByGoaway(): void {
    if (this.done) return;
    this.abortStream(H3ErrorCode.H3_REQUEST_CANCELLED);
    this.fail(new Http3RequestRejectedError('goaway'));
  }

  /** Fail without a stream (the connection failed or went away before it opened). */
  failUnopened(err: Error): void {
    this.fail(err);
  }

  protected override onFinished(): void {
    this.onDone(this);
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.failed = err;
    this.events.onError(err);
    // An exchange that never had a stream has nothing left to finish.
    if (this.streamId === undefined) this.onDone(this);
  }
}
