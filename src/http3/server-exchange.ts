/**
 * One request on the server (RFC 9114 §4.1): the request arrives through the MessageReader (head,
 * body, trailers), the response goes out as interim heads, a final head, DATA and trailers.
 *
 * - A malformed request that never reached the application is answered 400 (431 when its header
 *   section is too large) and reading stops with the stream error's code (RFC 9114 §4.1.2, §4.2.2).
 * - A response completed before the request was read entirely asks the client to stop sending,
 *   with H3_NO_ERROR (RFC 9114 §4.1.1).
 * - Responses to HEAD, and 204 and 304 responses, carry no content: body writes are dropped.
 */
import { H3ErrorCode } from './error-codes.js';
import {
  Http3ConnectionError,
  Http3ProtocolError,
  Http3StreamResetError,
  Http3UsageError,
} from './errors.js';
import type { DecodeResult, FieldLine } from './field-codec.js';
import type { FrameReaderLimits } from './frame-reader.js';
import type { H3Connection } from './h3-connection.js';
import type { H3ProtocolError } from './h3-protocol-error.js';
import {
  type HeadParser,
  MessageReader,
  type MessageReaderDeps,
  type MessageSink,
} from './message-reader.js';
import { parseRequestHead, type RequestHead } from './message-validation.js';
import { outgoingFields } from './outgoing-fields.js';
import { RequestStream } from './request-stream.js';

/** What the application hears about the request after its head. */
export interface ServerExchangeEvents {
  onData(chunk: Uint8Array): void;
  onTrailers(fields: FieldLine[]): void;
  onEnd(): void;
  /** The exchange failed: the peer reset or stopped the stream, a stream error, or the connection ended. */
  onAborted(err: Error): void;
  /** The response's send buffer has room again. */
  onWritable(): void;
}

/** What the server session hears from an exchange. */
export interface ServerExchangeOwner {
  /** The request's head is valid: hand it to the application (which sets `events`). */
  onRequestHead(ex: ServerExchange): void;
  /** Both directions are finished, or the connection ended. */
  onExchangeDone(ex: ServerExchange): void;
}

/**
 * The exchange is its own MessageReader's decoder, head parser and sink (one object per request
 * rather than one per callback).
 */
export class ServerExchange
  extends RequestStream<RequestHead>
  implements MessageReaderDeps, HeadParser<RequestHead>, MessageSink<RequestHead>
{
  protected readonly reader: MessageReader<RequestHead>;
  private _head: RequestHead | undefined;
  get head(): RequestHead | undefined {
    return this._head;
  }
  /** The request's stream was opened before the QUIC handshake completed: it came as 0-RTT. */
  readonly early: boolean;
  /** The application's handler of this request (deliverTo). */
  private events: ServerExchangeEvents | undefined;
  private response: 'none' | 'head' | 'ended' = 'none';
  private bodyless = false;
  private aborted = false;
  readonly role = 'server';
  readonly limits: FrameReaderLimits;

  constructor(
    conn: H3Connection,
    id: number,
    early: boolean,
    private readonly owner: ServerExchangeOwner,
  ) {
    super(conn);
    this.early = early;
    this.limits = conn.requestReaderLimits;
    this.reader = new MessageReader<RequestHead>(this, this, this);
    this.attach(id);
  }

  /** The application takes the request: what follows its head goes to `events`. */
  deliverTo(events: ServerExchangeEvents): void {
    this.events = events;
  }

  // ------------------------------------------------------------------ the reader's callbacks

  /** @internal MessageReaderDeps: QPACK-decode a field section of this stream. */
  decode(section: Uint8Array): DecodeResult {
    return this.conn.decodeFields(this.streamId!, section);
  }

  /** @internal HeadParser: a request head (never interim). */
  parse(fields: FieldLine[]): ReturnType<HeadParser<RequestHead>['parse']> {
    const head = parseRequestHead(fields, this.conn.local.enableConnectProtocol);
    return { head, fields: head.fields, interim: false, noContent: false };
  }

  /** @internal MessageSink */
  onHead(head: RequestHead): void {
    this._head = head;
    this.bodyless = head.method === 'HEAD';
    this.owner.onRequestHead(this);
  }

  /** @internal MessageSink */
  onData(chunk: Uint8Array): void {
    this.events?.onData(chunk);
  }

  /** @internal MessageSink */
  onTrailers(fields: FieldLine[]): void {
    this.events?.onTrailers(fields);
  }

  /** @internal MessageSink */
  onEnd(): void {
    this.markReceiveDone();
    this.events?.onEnd();
  }

  /** Whether the final response head has been sent. */
  get headersSent(): boolean {
    return this.response !== 'none';
  }

  get responseEnded(): boolean {
    return this.response === 'ended';
  }

  /** Start reading the request. */
  begin(): void {
    this.pump();
  }

  /** An interim (1xx) response, e.g. 103 Early Hints; never 101 (RFC 9114 §4.5). */
  sendInterim(status: number, fields: Iterable<FieldLine>): void {
    if (!Number.isInteger(status) || status < 100 || status > 199 || status === 101) {
      throw new Http3UsageError('ERR_HTTP3_INVALID_STATUS', `invalid informational status ${status}`);
    }
    if (this.response !== 'none')
      throw new Http3UsageError('ERR_HTTP3_HEADERS_SENT', 'the response head was already sent');
    if (this.sendDone) return;
    this.sendFields([{ name: ':status', value: String(status) }, ...outgoingFields(fields, false)]);
  }

  /** The final response head; `end` sends FIN right after it. */
  respond(status: number, fields: Iterable<FieldLine>, end = false): void {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new Http3UsageError('ERR_HTTP3_INVALID_STATUS', `invalid status code ${status}`);
    }
    if (this.response !== 'none')
      throw new Http3UsageError('ERR_HTTP3_HEADERS_SENT', 'the response head was already sent');
    const out = outgoingFields(fields, false);
    this.response = 'head';
    if (status === 204 || status === 304) this.bodyless = true;
    if (this.sendDone) return;
    out.unshift({ name: ':status', value: String(status) });
    this.sendFields(out);
    if (end) this.end();
  }

  /** Response content; false when the caller should wait for onWritable. */
  write(chunk: Uint8Array): boolean {
    if (this.response !== 'head') {
      throw new Http3UsageError(
        'ERR_HTTP3_WRITE_STATE',
        this.response === 'none' ? 'write before respond()' : 'write after end()',
      );
    }
    if (this.sendDone || this.bodyless) return true;
    return this.sendData(chunk);
  }

  /** End the response, with trailers if any. */
  end(trailers?: Iterable<FieldLine>): void {
    if (this.response === 'ended') return;
    if (this.response === 'none')
      throw new Http3UsageError('ERR_HTTP3_WRITE_STATE', 'end() before respond()');
    this.response = 'ended';
    if (this.sendDone) return;
    this.sendEnd(trailers ? outgoingFields(trailers, false) : undefined);
    // RFC 9114 §4.1.1: the response is complete; the rest of the request is not needed. Whether
    // the rest has arrived already is known once the transport's data has been read: a handler
    // that answers at once runs inside the read of the request's HEADERS, before its FIN. Only a
    // request still incomplete then is abandoned (STOP_SENDING, QPACK Stream Cancellation): a
    // cancellation per request would be bytes on the decoder stream for nothing.
    if (!this.receiveDone) {
      this.abandonAfterRead = true;
      if (this.pumpDepth === 0) this.conn.guard(this.streamId!, () => this.pump());
    }
  }

  /** end() came before the request was read to its end: abandon what is still missing. */
  private abandonAfterRead = false;

  protected override afterPump(): void {
    if (!this.abandonAfterRead) return;
    this.abandonAfterRead = false;
    if (!this.receiveDone) this.abandonReceive(H3ErrorCode.H3_NO_ERROR);
  }

  /** Abort the exchange: RESET_STREAM and STOP_SENDING with `code`. */
  abort(code: number = H3ErrorCode.H3_INTERNAL_ERROR): void {
    this.aborted = true;
    this.abortStream(code);
  }

  override onWritable(): void {
    this.events?.onWritable();
  }

  override onReset(code: number): void {
    // The client reset the request stream: the request is cancelled (RFC 9114 §4.1.1).
    const wasDone = this.receiveDone;
    this.receiveDone = true;
    this.cancelDecoding();
    if (!this._head) {
      this.abortStream(H3ErrorCode.H3_REQUEST_CANCELLED);
      return;
    }
    if (!wasDone) this.fail(new Http3StreamResetError(code, 'reset'));
    this.maybeFinished();
  }

  override onStopSending(code: number): void {
    this.sendReset = true;
    // The transport has reset our sending side (RFC 9000 §3.5): the client wants no response.
    this.sendDone = true;
    if (this.response !== 'ended') this.fail(new Http3StreamResetError(code, 'stop-sending'));
    this.abandonReceive(H3ErrorCode.H3_REQUEST_CANCELLED);
    this.maybeFinished();
  }

  override onStreamError(err: H3ProtocolError): void {
    if (!this._head && !this.sendDone && this.response === 'none') {
      // RFC 9114 §4.1.2: a server MAY answer a malformed request before resetting; §4.2.2: 431.
      const status = err.errorCode === H3ErrorCode.H3_EXCESSIVE_LOAD ? 431 : 400;
      if (err.errorCode === H3ErrorCode.H3_MESSAGE_ERROR || status === 431) {
        this.response = 'ended';
        this.sendFields([
          { name: ':status', value: String(status) },
          { name: 'content-length', value: '0' },
        ]);
        this.sendEnd();
        this.abandonReceive(err.errorCode);
        return;
      }
    }
    this.abortStream(err.errorCode);
    this.fail(new Http3ProtocolError(err.errorCode, err.reason));
  }

  override onConnectionClosed(err: Error): void {
    if (this.sendDone && this.receiveDone) return;
    this.sendDone = true;
    this.receiveDone = true;
    this.fail(
      err instanceof Http3ConnectionError
        ? err
        : new Http3ConnectionError(undefined, err.message, false, { cause: err }),
    );
    this.owner.onExchangeDone(this);
  }

  protected override onFinished(): void {
    this.owner.onExchangeDone(this);
  }

  private fail(err: Error): void {
    if (this.failed || this.aborted) return;
    this.failed = err;
    if (this._head) this.events?.onAborted(err);
  }
}
