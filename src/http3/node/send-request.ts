/**
 * One request on one HTTP/3 client session, for fetch(): sends the head and the body (bytes at once,
 * or a stream with backpressure), and resolves with the response head once it arrives; the content
 * then streams through a ReadableStream that pulls from the exchange (a consumer that stops reading
 * stops the reading of the QUIC stream). Aborting cancels the stream with H3_REQUEST_CANCELLED
 * (RFC 9114 §4.1.1).
 */
import type { ClientExchange } from '../client-exchange.js';
import type { H3ClientSession } from '../client-session.js';
import { H3ErrorCode } from '../error-codes.js';
import type { FieldLine } from '../field-codec.js';
import type { ResponseHead } from '../message-validation.js';
import { chunkBytes, type PreparedBody } from './request-body.js';

export interface SendableRequest {
  method: string;
  scheme: string;
  authority: string;
  path: string;
  fields: FieldLine[];
  body: PreparedBody;
  signal: AbortSignal | undefined;
}

export interface ResponseStart {
  head: ResponseHead;
  body: ReadableStream<Uint8Array>;
  trailers: Promise<Headers>;
  /** The request went out as 0-RTT. */
  early: boolean;
  streamId: number;
  exchange: ClientExchange;
}

const BODY_HIGH_WATER = 256 * 1024;

export function sendRequest(session: H3ClientSession, req: SendableRequest): Promise<ResponseStart> {
  return new Promise<ResponseStart>((resolve, reject) => {
    let settled = false;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let bodyDone = false;
    let resolveTrailers!: (h: Headers) => void;
    const trailers = new Promise<Headers>((r) => {
      resolveTrailers = r;
    });
    let trailerHeaders = new Headers();
    let writable: (() => void) | undefined;
    let ex: ClientExchange;

    const body = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
        },
        pull() {
          ex.setWantData(true);
        },
        cancel() {
          bodyDone = true;
          ex.cancel(H3ErrorCode.H3_REQUEST_CANCELLED);
          resolveTrailers(trailerHeaders);
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: BODY_HIGH_WATER }),
    );

    let failed = false;
    const fail = (err: unknown) => {
      failed = true;
      cleanup();
      const w = writable;
      writable = undefined;
      w?.();
      if (!settled) {
        settled = true;
        reject(err);
        return;
      }
      if (!bodyDone) {
        bodyDone = true;
        controller.error(err);
      }
      resolveTrailers(trailerHeaders);
    };

    const onAbort = () => {
      const reason: unknown =
        req.signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
      ex.cancel(H3ErrorCode.H3_REQUEST_CANCELLED);
      fail(reason);
    };
    const cleanup = () => req.signal?.removeEventListener('abort', onAbort);

    ex = session.request(
      {
        method: req.method,
        scheme: req.scheme,
        authority: req.authority,
        path: req.path,
        fields: req.fields,
      },
      {
        onResponse: (head) => {
          if (settled) return;
          settled = true;
          resolve({ head, body, trailers, early: ex.early, streamId: ex.streamId ?? -1, exchange: ex });
        },
        onData: (chunk) => {
          if (bodyDone) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) ex.setWantData(false);
        },
        onTrailers: (fields) => {
          trailerHeaders = new Headers();
          for (const f of fields) trailerHeaders.append(f.name, f.value);
        },
        onEnd: () => {
          cleanup();
          if (!bodyDone) {
            bodyDone = true;
            controller.close();
          }
          resolveTrailers(trailerHeaders);
        },
        onError: (err) => fail(err),
        onWritable: () => {
          const w = writable;
          writable = undefined;
          w?.();
        },
      },
    );
    if (req.signal) {
      if (req.signal.aborted) {
        onAbort();
        return;
      }
      req.signal.addEventListener('abort', onAbort, { once: true });
    }
    const b = req.body;
    if (b.kind === 'none') ex.end();
    else if (b.kind === 'bytes') {
      ex.write(b.bytes);
      ex.end();
    } else {
      void (async () => {
        try {
          for await (const c of b.chunks) {
            if (ex.requestStopped || failed) break;
            if (!ex.write(chunkBytes(c))) await new Promise<void>((r) => (writable = r));
          }
          ex.end();
        } catch (err) {
          ex.cancel(H3ErrorCode.H3_REQUEST_CANCELLED);
          fail(err);
        }
      })();
    }
  });
}
