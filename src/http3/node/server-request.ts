/**
 * The request a handler receives: node:http's IncomingMessage shape over one HTTP/3 request. It is
 * a Readable of the request body; reading applies backpressure all the way to QUIC flow control
 * (the exchange stops reading the stream while the Readable's buffer is full).
 */
import { Readable } from 'node:stream';
import type { FieldLine } from '../field-codec.js';
import type { ServerExchange } from '../server-exchange.js';
import { headersObject, type IncomingHeaders, rawHeaders } from './fields.js';
import type { PeerSocket } from './peer-socket.js';

export class Http3ServerRequest extends Readable {
  readonly method: string;
  /** Path and query (':path'). */
  url: string;
  /** Lowercase names; repeated fields joined as node:http joins them. */
  readonly headers: IncomingHeaders;
  /** The request's field lines; rawHeaders and the trailers are built from them when asked for. */
  private readonly fields: FieldLine[];
  private rawHeadersList: string[] | undefined;
  private trailerFields: FieldLine[] | undefined;
  private trailersObject: IncomingHeaders | undefined;
  private rawTrailersList: string[] | undefined;
  readonly httpVersion = '3';
  readonly httpVersionMajor = 3;
  readonly httpVersionMinor = 0;
  /** ':authority' (or the Host header). */
  readonly authority: string | undefined;
  /** ':scheme'. */
  readonly scheme: string | undefined;
  /** The request arrived as 0-RTT early data (before the handshake completed): it may be a replay (RFC 8470). */
  readonly early: boolean;
  /** The QUIC stream ID of the request. */
  readonly streamId: number;
  readonly socket: PeerSocket;
  /** The whole request body was received. */
  private _complete = false;
  get complete() {
    return this._complete;
  }
  /** The client cancelled the request, or the connection ended, before it was complete. */
  private _aborted = false;
  get aborted() {
    return this._aborted;
  }

  /** @internal */
  constructor(
    private readonly exchange: ServerExchange,
    socket: PeerSocket,
  ) {
    super();
    const head = exchange.head!;
    this.method = head.method;
    this.url = head.path ?? head.authority ?? '';
    this.headers = headersObject(head.fields);
    if (head.authority !== undefined && this.headers.host === undefined) this.headers.host = head.authority;
    this.fields = head.fields;
    this.authority = head.authority;
    this.scheme = head.scheme;
    this.early = exchange.early;
    this.streamId = exchange.streamId!;
    this.socket = socket;
  }

  /** Names and values alternating, as received (node:http's rawHeaders). */
  get rawHeaders(): string[] {
    if (this.rawHeadersList === undefined) this.rawHeadersList = rawHeaders(this.fields);
    return this.rawHeadersList;
  }

  /** The trailers, once the body has been read (empty before, or when there are none). */
  get trailers(): IncomingHeaders {
    if (this.trailersObject === undefined) this.trailersObject = headersObject(this.trailerFields ?? []);
    return this.trailersObject;
  }

  set trailers(value: IncomingHeaders) {
    this.trailersObject = value;
  }

  get rawTrailers(): string[] {
    if (this.rawTrailersList === undefined) this.rawTrailersList = rawHeaders(this.trailerFields ?? []);
    return this.rawTrailersList;
  }

  set rawTrailers(value: string[]) {
    this.rawTrailersList = value;
  }

  /** node:http's alias. */
  get connection(): PeerSocket {
    return this.socket;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress;
  }

  get remotePort(): number {
    return this.socket.remotePort;
  }

  override _read(): void {
    this.exchange.setWantData(true);
  }

  setTimeout(): this {
    return this;
  }

  /** @internal */
  _onData(chunk: Uint8Array): void {
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.push(b)) this.exchange.setWantData(false);
  }

  /** @internal */
  _onTrailers(fields: FieldLine[]): void {
    this.trailerFields = fields;
    this.trailersObject = undefined;
    this.rawTrailersList = undefined;
  }

  /** @internal */
  _onEnd(): void {
    this._complete = true;
    this.push(null);
  }

  /**
   * @internal The exchange failed before the body was complete. 'aborted' is emitted; the stream is
   * destroyed with `err` only when someone listens for errors (a peer's cancel must not crash a
   * handler that did not read the body).
   */
  _onAborted(err: Error): void {
    if (this._complete || this.destroyed) return;
    this._aborted = true;
    this.emit('aborted');
    if (this.listenerCount('error') > 0) this.destroy(err);
    else this.destroy();
  }
}
