/**
 * `Client`: an HTTP/3 client with fetch(). One pooled connection per origin, reused by later
 * requests and replaced after GOAWAY or close; requests run concurrently on streams.
 *
 * 0-RTT (docs/http3.md): with a session cache holding a ticket that allows early data, requests
 * that may be replayed (safe methods by default, bodies known in advance) are sent in 0-RTT. When
 * the server rejects 0-RTT they are sent again on the next connection, transparently; a 425 Too
 * Early answer (RFC 8470) to an early request is retried once the handshake is complete.
 * `response.zeroRTT` says what happened.
 *
 * Requests the server did not process (H3_REQUEST_REJECTED, GOAWAY) are sent again on another
 * connection when their body can be replayed.
 */
import { Duplex } from 'node:stream';
import type { ReadableWritablePair } from 'node:stream/web';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ZeroRTTRejectedError } from '../../errors/public-errors.js';
import type { ClientOptions as QuicClientOptions } from '../../node/options.js';
import { SessionCache, type SessionStore } from '../../node/session-cache.js';
import { Http3ConnectionError, Http3RequestRejectedError, Http3UsageError } from '../errors.js';
import type { FieldCodec, FieldLine } from '../field-codec.js';
import type { LocalSettings } from '../h3-connection.js';
import { defaultCodec } from './codec.js';
import { PooledConnection } from './pooled-connection.js';
import { type BodyInit, type PreparedBody, prepareBody } from './request-body.js';
import { buildResponse, type Http3Response, type ZeroRttOutcome } from './response.js';
import { type ResponseStart, sendRequest } from './send-request.js';

export interface Http3ClientOptions extends Omit<QuicClientOptions, 'alpn' | 'serverName' | 'signal'> {
  /** Our HTTP/3 and QPACK settings. */
  settings?: Partial<LocalSettings>;
  /** Close a pooled connection idle for this long (ms, default 4000). */
  keepAliveTimeout?: number;
  /**
   * Offer 0-RTT when the session cache holds a ticket that allows it (default true). With false,
   * connections always complete the handshake before any request (they may still resume).
   */
  earlyData?: boolean;
  /** @internal Field compression (tests). */
  codec?: FieldCodec;
}

export interface Http3RequestInit {
  method?: string;
  headers?: ConstructorParameters<typeof Headers>[0];
  body?: BodyInit;
  signal?: AbortSignal | null;
  /** 'manual' (default: redirects are returned), 'follow' (up to 20), or 'error'. */
  redirect?: 'manual' | 'follow' | 'error';
  /**
   * May this request go in 0-RTT? Default: only safe methods (GET, HEAD, OPTIONS) with a body
   * known in advance. `true` allows any method (the server may see it twice: RFC 8470); `false` never.
   */
  early?: boolean;
  /** Decode a gzip, deflate or br content-encoding (default false: the body is returned as sent). */
  decompress?: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
const MAX_RETRIES = 3;

interface Prepared {
  method: string;
  url: URL;
  fields: FieldLine[];
  body: PreparedBody;
  early: boolean | undefined;
  signal: AbortSignal | undefined;
}

export class Client {
  private readonly pool = new Map<string, PooledConnection>();
  private readonly dialing = new Map<string, Promise<PooledConnection>>();
  private readonly codec: FieldCodec;
  private readonly sessionCache: SessionStore;
  private closed = false;

  constructor(private readonly options: Http3ClientOptions = {}) {
    this.codec = options.codec ?? defaultCodec();
    this.sessionCache = options.sessionCache ?? new SessionCache();
  }

  /** fetch() over HTTP/3: resolves with a WHATWG Response once the response head arrived. */
  async fetch(input: string | URL | Request, init: Http3RequestInit = {}): Promise<Http3Response> {
    if (this.closed) throw new Http3UsageError('ERR_HTTP3_CLIENT_CLOSED', 'the client is closed');
    let req = await prepare(input, init);
    const redirect = init.redirect ?? 'manual';
    for (let hops = 0; ; hops++) {
      const res = await this.fetchOnce(req, hops > 0);
      if (!REDIRECTS.has(res.status) || redirect === 'manual') return maybeDecompress(res, init.decompress);
      if (redirect === 'error') {
        void res.body?.cancel();
        throw new Http3UsageError('ERR_HTTP3_REDIRECT', `redirect (${res.status}) with redirect: 'error'`);
      }
      const location = res.headers.get('location');
      if (!location || hops >= MAX_REDIRECTS) return maybeDecompress(res, init.decompress);
      void res.body?.cancel();
      const url = new URL(location, req.url);
      // RFC 9110 §15.4: 303 (and 301/302 after POST, as browsers do) become GET without a body.
      const toGet =
        res.status === 303 || ((res.status === 301 || res.status === 302) && req.method === 'POST');
      if (toGet || req.body.kind !== 'stream') {
        req = {
          ...req,
          url,
          ...(toGet
            ? {
                method: req.method === 'HEAD' ? 'HEAD' : 'GET',
                body: { kind: 'none' } as PreparedBody,
                fields: req.fields.filter((f) => !f.name.startsWith('content-')),
              }
            : {}),
        };
      } else {
        return maybeDecompress(res, init.decompress);
      }
    }
  }

  /** Close every pooled connection gracefully (GOAWAY, then CONNECTION_CLOSE when idle). */
  async close(): Promise<void> {
    this.closed = true;
    const dialing = [...this.dialing.values()];
    await Promise.allSettled(dialing);
    const all = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(all.map((p) => p.close()));
  }

  private async fetchOnce(req: Prepared, redirected: boolean): Promise<Http3Response> {
    const replayable = req.body.kind !== 'stream';
    const mayGoEarly = replayable && (req.early ?? SAFE_METHODS.has(req.method));
    let sentEarly = false;
    let retries = 0;
    for (;;) {
      const pool = await this.connectionFor(req.url);
      const now = pool.sessionNow(mayGoEarly && req.early !== false);
      const { session, early } = now ?? { session: await pool.finalSession(), early: false };
      let start: ResponseStart;
      try {
        start = await sendRequest(session, {
          method: req.method,
          scheme: 'https',
          authority: req.url.host,
          path: `${req.url.pathname}${req.url.search}`,
          fields: req.fields,
          body: req.body,
          signal: req.signal,
        });
      } catch (err) {
        if (early && isZeroRttRejection(err)) {
          // 0-RTT rejected: the request did not happen; send it again on the fresh connection.
          sentEarly = true;
          continue;
        }
        if (err instanceof Http3RequestRejectedError && replayable && retries++ < MAX_RETRIES) continue;
        throw err;
      }
      if (start.early) sentEarly = true;
      if (start.head.status === 425 && start.early && replayable) {
        // RFC 8470 §5.2: Too Early: repeat once the handshake is complete.
        void start.body.cancel();
        await pool.finalSession();
        req = { ...req, early: false };
        continue;
      }
      const outcome: ZeroRttOutcome = start.early ? 'accepted' : sentEarly ? 'rejected' : 'not-attempted';
      return buildResponse(start.head, start.body, {
        url: req.url.href,
        redirected,
        zeroRTT: outcome,
        trailers: start.trailers,
        streamId: start.streamId,
      });
    }
  }

  private async connectionFor(url: URL): Promise<PooledConnection> {
    const key = url.host;
    const existing = this.pool.get(key);
    if (existing?.available) return existing;
    if (existing) this.pool.delete(key);
    const pending = this.dialing.get(key);
    if (pending) return pending;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port ? Number(url.port) : 443;
    const { settings, keepAliveTimeout, earlyData, codec: _c, sessionCache: _s, ...quic } = this.options;
    const dial = PooledConnection.dial(
      { host, port, serverName: host },
      {
        quic,
        sessionCache: this.sessionCache,
        codec: this.codec,
        settings,
        keepAliveTimeout: keepAliveTimeout ?? 4000,
        earlyData: earlyData ?? true,
      },
      (p) => {
        if (this.pool.get(key) === p) this.pool.delete(key);
      },
    ).finally(() => this.dialing.delete(key));
    this.dialing.set(key, dial);
    const p = await dial;
    if (this.closed) {
      void p.close();
      throw new Http3UsageError('ERR_HTTP3_CLIENT_CLOSED', 'the client is closed');
    }
    this.pool.set(key, p);
    return p;
  }
}

function isZeroRttRejection(err: unknown): boolean {
  if (err instanceof ZeroRTTRejectedError) return true;
  return err instanceof Http3ConnectionError && err.cause instanceof ZeroRTTRejectedError;
}

async function prepare(input: string | URL | Request, init: Http3RequestInit): Promise<Prepared> {
  let url: URL;
  let method = init.method;
  let headers = init.headers;
  let body: BodyInit = init.body;
  let signal = init.signal ?? undefined;
  if (typeof Request !== 'undefined' && input instanceof Request) {
    url = new URL(input.url);
    method ??= input.method;
    headers ??= input.headers;
    if (body === undefined && input.body) body = input.body;
    signal ??= input.signal;
  } else {
    try {
      url = new URL(String(input));
    } catch {
      throw new Http3UsageError('ERR_HTTP3_INVALID_URL', `invalid URL ${String(input)}`);
    }
  }
  if (url.protocol !== 'https:')
    throw new Http3UsageError('ERR_HTTP3_INVALID_URL', `HTTP/3 needs an https: URL, got ${url.protocol}`);
  method = (method ?? 'GET').toUpperCase();
  if ((method === 'GET' || method === 'HEAD') && body !== undefined && body !== null) {
    throw new Http3UsageError('ERR_HTTP3_INVALID_BODY', `a ${method} request cannot have a body`);
  }
  const prepared = await prepareBody(body);
  const h = new Headers(headers);
  if (prepared.kind === 'bytes') {
    if (prepared.contentType && !h.has('content-type')) h.set('content-type', prepared.contentType);
    h.set('content-length', String(prepared.bytes.length));
  }
  const fields: FieldLine[] = [];
  for (const [name, value] of h) {
    if (name === 'set-cookie') continue;
    fields.push({ name, value });
  }
  return { method, url, fields, body: prepared, early: init.early, signal };
}

/** With `decompress`, a body sent with a gzip, deflate or br content-encoding is decoded (node:zlib). */
function maybeDecompress(res: Http3Response, decompress: boolean | undefined): Http3Response {
  if (!decompress || !res.body) return res;
  const enc = res.headers.get('content-encoding')?.toLowerCase();
  const decoder =
    enc === 'gzip'
      ? createGunzip()
      : enc === 'deflate'
        ? createInflate()
        : enc === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return res;
  const pair = Duplex.toWeb(decoder) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
  const stream = res.body.pipeThrough(pair);
  const headers = new Headers(res.headers);
  headers.delete('content-encoding');
  headers.delete('content-length');
  const out = new Response(stream, { status: res.status, headers }) as Http3Response;
  Object.defineProperties(out, {
    url: { value: res.url, enumerable: true },
    redirected: { value: res.redirected, enumerable: true },
    zeroRTT: { value: res.zeroRTT, enumerable: true },
    trailers: { value: res.trailers, enumerable: true },
    streamId: { value: res.streamId, enumerable: true },
  });
  return out;
}

let shared: Client | undefined;

/** fetch() through a shared default Client (Node's root certificates, an in-memory session cache). */
export function fetch(input: string | URL | Request, init?: Http3RequestInit): Promise<Http3Response> {
  shared ??= new Client();
  return shared.fetch(input, init);
}
