/**
 * Request bodies for fetch(): what init.body may be (string, Buffer/Uint8Array/ArrayBuffer(View),
 * URLSearchParams, Blob, a ReadableStream or an async iterable), turned either into bytes known in
 * advance ("replayable": may go in 0-RTT and be sent again after a rejection) or into a stream of
 * chunks read as the request is sent.
 */
import { Http3UsageError } from '../errors.js';

export type BodyInit =
  | string
  | ArrayBuffer
  | ArrayBufferView
  | URLSearchParams
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | null
  | undefined;

export type PreparedBody =
  | { kind: 'none' }
  | { kind: 'bytes'; bytes: Uint8Array; contentType?: string }
  | { kind: 'stream'; chunks: AsyncIterable<Uint8Array | string> };

export async function prepareBody(body: BodyInit): Promise<PreparedBody> {
  if (body === undefined || body === null) return { kind: 'none' };
  if (typeof body === 'string')
    return { kind: 'bytes', bytes: Buffer.from(body, 'utf8'), contentType: 'text/plain;charset=UTF-8' };
  if (body instanceof URLSearchParams) {
    return {
      kind: 'bytes',
      bytes: Buffer.from(body.toString(), 'utf8'),
      contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
    };
  }
  if (body instanceof ArrayBuffer) return { kind: 'bytes', bytes: new Uint8Array(body) };
  if (ArrayBuffer.isView(body))
    return { kind: 'bytes', bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  if (typeof Blob !== 'undefined' && body instanceof Blob) {
    const bytes = new Uint8Array(await body.arrayBuffer());
    return body.type ? { kind: 'bytes', bytes, contentType: body.type } : { kind: 'bytes', bytes };
  }
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    return { kind: 'stream', chunks: readableStreamChunks(body as ReadableStream<Uint8Array>) };
  }
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return { kind: 'stream', chunks: body as AsyncIterable<Uint8Array | string> };
  }
  throw new Http3UsageError(
    'ERR_HTTP3_INVALID_BODY',
    `unsupported request body type ${Object.prototype.toString.call(body)}`,
  );
}

async function* readableStreamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export function chunkBytes(c: Uint8Array | string): Uint8Array {
  if (typeof c === 'string') return Buffer.from(c, 'utf8');
  if (c instanceof Uint8Array) return c;
  throw new Http3UsageError('ERR_HTTP3_INVALID_BODY', 'request body chunks must be Uint8Array or string');
}
