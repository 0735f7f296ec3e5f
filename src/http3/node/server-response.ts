/**
 * The response a handler writes: node:http's ServerResponse shape over one HTTP/3 response. It is a
 * Writable of the body; the head goes out with the first write (or end()); writes wait for room in
 * QUIC's flow-control window and send buffer (backpressure). Trailers added with addTrailers() go
 * out as a trailing HEADERS frame.
 */
import { STATUS_CODES } from 'node:http';
import { Writable } from 'node:stream';
import { H3ErrorCode } from '../error-codes.js';
import { Http3UsageError } from '../errors.js';
import type { FieldLine } from '../field-codec.js';
import type { ServerExchange } from '../server-exchange.js';
import { fieldsFrom, type HeaderValue } from './fields.js';
import { httpDate } from './http-date.js';
import type { PeerSocket } from './peer-socket.js';
import type { Http3ServerRequest } from './server-request.js';

type Callback = (err?: Error | null) => void;
type HeadersArg = Record<string, HeaderValue | undefined> | ReadonlyArray<readonly [string, HeaderValue]>;

export class Http3ServerResponse extends Writable {
  statusCode = 200;
  statusMessage = '';
  /** Kept for node:http compatibility; HTTP/3 has no chunked encoding. */
  sendDate = true;
  readonly req: Http3ServerRequest;
  readonly socket: PeerSocket;
  private readonly headers = new Map<string, { name: string; value: HeaderValue }>();
  private trailers: FieldLine[] | undefined;
  private sent = false;
  private declaredLength: number | undefined;
  private written = 0;
  private pendingWrite: Callback | undefined;

  /** @internal */
  constructor(
    private readonly exchange: ServerExchange,
    req: Http3ServerRequest,
    socket: PeerSocket,
  ) {
    super();
    this.req = req;
    this.socket = socket;
  }

  get connection(): PeerSocket {
    return this.socket;
  }

  get headersSent(): boolean {
    return this.sent;
  }

  /** node:http's deprecated alias of writableEnded. */
  get finished(): boolean {
    return this.writableEnded;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.sent)
      throw new Http3UsageError(
        'ERR_HTTP3_HEADERS_SENT',
        `cannot set header ${name} after the head was sent`,
      );
    this.headers.set(name.toLowerCase(), { name, value });
    return this;
  }

  appendHeader(name: string, value: HeaderValue): this {
    const prev = this.headers.get(name.toLowerCase());
    if (!prev) return this.setHeader(name, value);
    const list = [...toArray(prev.value), ...toArray(value)];
    return this.setHeader(prev.name, list);
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.headers.get(name.toLowerCase())?.value;
  }

  getHeaders(): Record<string, HeaderValue> {
    const out = Object.create(null) as Record<string, HeaderValue>;
    for (const [k, v] of this.headers) out[k] = v.value;
    return out;
  }

  getHeaderNames(): string[] {
    return [...this.headers.keys()];
  }

  hasHeader(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    if (this.sent)
      throw new Http3UsageError(
        'ERR_HTTP3_HEADERS_SENT',
        `cannot remove header ${name} after the head was sent`,
      );
    this.headers.delete(name.toLowerCase());
  }

  writeHead(status: number, message?: string | HeadersArg, headers?: HeadersArg): this {
    if (this.sent) throw new Http3UsageError('ERR_HTTP3_HEADERS_SENT', 'writeHead() after the head was sent');
    let extra = headers;
    if (typeof message === 'string') this.statusMessage = message;
    else extra = message;
    this.statusCode = status;
    const list = fieldsFrom(extra);
    // node:http: writeHead's headers (an object) replace setHeader's of the same name.
    if (extra && !Array.isArray(extra)) for (const f of list) this.headers.delete(f.name);
    for (const f of list) {
      const prev = this.headers.get(f.name);
      this.headers.set(f.name, { name: f.name, value: prev ? [...toArray(prev.value), f.value] : f.value });
    }
    this.sendHead(false);
    return this;
  }

  /** 100 Continue. */
  writeContinue(): void {
    this.exchange.sendInterim(100, []);
  }

  /** 103 Early Hints (node:http's API): `hints.link` is a string or an array of link values. */
  writeEarlyHints(hints: Record<string, HeaderValue>, cb?: () => void): void {
    this.exchange.sendInterim(103, fieldsFrom(hints));
    if (cb) process.nextTick(cb);
  }

  /** Send the head now. */
  flushHeaders(): void {
    if (!this.sent) this.sendHead(false);
  }

  /** Trailers sent after the body (RFC 9114 §4.1). */
  addTrailers(headers: HeadersArg): void {
    this.trailers = [...(this.trailers ?? []), ...fieldsFrom(headers)];
  }

  setTimeout(): this {
    return this;
  }

  override write(chunk: unknown, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    this.checkLength(chunk, typeof encoding === 'string' ? encoding : undefined);
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  override end(chunk?: unknown, encoding?: BufferEncoding | Callback, cb?: Callback): this {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
      this.checkLength(chunk, typeof encoding === 'string' ? encoding : undefined);
    }
    return super.end(chunk as string, encoding as BufferEncoding, cb);
  }

  /** node:http refuses bodies longer than the content-length they declared (ERR_HTTP_CONTENT_LENGTH_MISMATCH). */
  private checkLength(chunk: unknown, encoding: BufferEncoding | undefined): void {
    if (this.writableEnded) return;
    const declared = this.sent ? this.declaredLength : declaredLength(this.getHeader('content-length'));
    if (declared === undefined || this.exchange.head?.method === 'HEAD') return;
    const n =
      typeof chunk === 'string'
        ? Buffer.byteLength(chunk, encoding)
        : ((chunk as Uint8Array | undefined)?.length ?? 0);
    if (this.written + n > declared) {
      throw new Http3UsageError(
        'ERR_HTTP3_CONTENT_LENGTH_MISMATCH',
        `response body of ${this.written + n} bytes exceeds content-length ${declared}`,
      );
    }
    this.written += n;
  }

  private sendHead(end: boolean): void {
    if (this.sent) return;
    this.sent = true;
    const fields: FieldLine[] = [];
    for (const [name, { value }] of this.headers) {
      // The map's keys are the lowercase names.
      if (typeof value !== 'object') fields.push({ name, value: String(value) });
      else for (const v of value) fields.push({ name, value: String(v) });
    }
    if (this.sendDate && !this.headers.has('date')) fields.push({ name: 'date', value: httpDate() });
    this.declaredLength = declaredLength(this.getHeader('content-length'));
    if (this.statusMessage === '') this.statusMessage = STATUS_CODES[this.statusCode] ?? '';
    this.exchange.respond(this.statusCode, fields, end);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: Callback): void {
    try {
      if (!this.sent) this.sendHead(false);
      if (this.exchange.write(chunk)) cb();
      else this.pendingWrite = cb;
    } catch (err) {
      cb(err as Error);
    }
  }

  override _final(cb: Callback): void {
    try {
      if (!this.sent) {
        // end() without a body: the length is known to be 0 unless the handler said otherwise.
        if (
          !this.headers.has('content-length') &&
          this.statusCode >= 200 &&
          this.statusCode !== 204 &&
          this.statusCode !== 304
        ) {
          this.headers.set('content-length', { name: 'content-length', value: '0' });
        }
        if (this.trailers === undefined) {
          this.sendHead(true);
          cb();
          return;
        }
        this.sendHead(false);
      }
      const declared = this.declaredLength;
      if (
        declared !== undefined &&
        this.written < declared &&
        this.exchange.head?.method !== 'HEAD' &&
        !bodyless(this.statusCode)
      ) {
        // A response shorter than it declared is malformed for the client: abort it instead.
        this.exchange.abort(H3ErrorCode.H3_INTERNAL_ERROR);
        cb(
          new Http3UsageError(
            'ERR_HTTP3_CONTENT_LENGTH_MISMATCH',
            `response body of ${this.written} bytes, content-length ${declared}`,
          ),
        );
        return;
      }
      this.exchange.end(this.trailers);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: Callback): void {
    // Destroyed before it ended: the response is abandoned (RESET_STREAM).
    if (!this.exchange.responseEnded) this.exchange.abort(H3ErrorCode.H3_INTERNAL_ERROR);
    // The write in progress completes (without an error event of its own): nothing more goes out.
    const w = this.pendingWrite;
    this.pendingWrite = undefined;
    w?.();
    cb(err);
  }

  /** @internal Room in the send buffer again. */
  _onWritable(): void {
    const w = this.pendingWrite;
    this.pendingWrite = undefined;
    w?.();
  }

  /**
   * @internal The client stopped reading the response, reset the stream, or the connection ended:
   * the response is destroyed quietly ('close' without 'error' unless someone listens for errors).
   */
  _onAborted(err: Error): void {
    if (this.destroyed) return;
    if (this.listenerCount('error') > 0 && !this.writableFinished) this.destroy(err);
    else this.destroy();
  }
}

function toArray(v: HeaderValue): string[] {
  return Array.isArray(v) ? (v as readonly string[]).map(String) : [String(v)];
}

function declaredLength(v: HeaderValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function bodyless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}
