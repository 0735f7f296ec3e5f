/**
 * The WHATWG Response fetch() returns (Node's global class), with its body streaming as DATA
 * arrives, and what HTTP/3 adds: `zeroRTT` (how 0-RTT went for this request), `trailers`.
 */
import type { ResponseHead } from '../message-validation.js';

export type ZeroRttOutcome = 'accepted' | 'rejected' | 'not-attempted';

export interface Http3Response extends Response {
  /** 'accepted': the request went in 0-RTT and was served from it; 'rejected': it went in 0-RTT and had to be sent again; 'not-attempted'. */
  readonly zeroRTT: ZeroRttOutcome;
  /** Trailer fields (RFC 9114 §4.1), once the body has been read to the end. */
  readonly trailers: Promise<Headers>;
  /** The QUIC stream the response arrived on. */
  readonly streamId: number;
}

/** Statuses whose responses have a null body in WHATWG fetch. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export function buildResponse(
  head: ResponseHead,
  body: ReadableStream<Uint8Array>,
  extra: {
    url: string;
    redirected: boolean;
    zeroRTT: ZeroRttOutcome;
    trailers: Promise<Headers>;
    streamId: number;
  },
): Http3Response {
  const headers = new Headers();
  for (const f of head.fields) headers.append(f.name, f.value);
  const nullBody = NULL_BODY.has(head.status);
  if (nullBody) void body.cancel().catch(() => {});
  const res = new Response(nullBody ? null : body, { status: head.status, headers }) as Http3Response;
  Object.defineProperties(res, {
    url: { value: extra.url, enumerable: true },
    redirected: { value: extra.redirected, enumerable: true },
    zeroRTT: { value: extra.zeroRTT, enumerable: true },
    trailers: { value: extra.trailers, enumerable: true },
    streamId: { value: extra.streamId, enumerable: true },
  });
  return res;
}
