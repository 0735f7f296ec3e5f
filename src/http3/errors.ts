/**
 * Public errors of the HTTP/3 layer. Each has a stable `code` (`ERR_HTTP3_...`), like Node's own
 * errors, and those caused by the protocol carry the HTTP/3 error code (`h3Code`, RFC 9114 §8.1).
 */
import { H3ErrorCode, h3ErrorName } from './error-codes.js';

export abstract class Http3Error extends Error {
  abstract readonly code: string;
}

/** The peer reset the request stream, or stopped reading it, with an HTTP/3 error code. */
export class Http3StreamResetError extends Http3Error {
  override readonly name = 'Http3StreamResetError';
  readonly code = 'ERR_HTTP3_STREAM_RESET';
  constructor(
    readonly h3Code: number,
    readonly kind: 'reset' | 'stop-sending',
  ) {
    super(
      `the peer ${kind === 'reset' ? 'reset the stream' : 'stopped reading the stream'}: ${h3ErrorName(h3Code)}`,
    );
  }
}

/**
 * The server did not process the request (H3_REQUEST_REJECTED, or a stream at or above its GOAWAY
 * identifier, RFC 9114 §4.1.1, §5.2): it is safe to send again on another connection.
 */
export class Http3RequestRejectedError extends Http3Error {
  override readonly name = 'Http3RequestRejectedError';
  readonly code = 'ERR_HTTP3_REQUEST_REJECTED';
  readonly h3Code = H3ErrorCode.H3_REQUEST_REJECTED;
  constructor(readonly why: 'reset' | 'goaway') {
    super(
      why === 'goaway'
        ? 'the server is going away and did not process the request (GOAWAY): it may be sent again'
        : 'the server rejected the request without processing it (H3_REQUEST_REJECTED): it may be sent again',
    );
  }
}

/** We detected an HTTP/3 protocol violation by the peer on this request (e.g. a malformed response). */
export class Http3ProtocolError extends Http3Error {
  override readonly name = 'Http3ProtocolError';
  readonly code = 'ERR_HTTP3_PROTOCOL_ERROR';
  constructor(
    readonly h3Code: number,
    readonly reason: string,
  ) {
    super(`HTTP/3 protocol error ${h3ErrorName(h3Code)}: ${reason}`);
  }
}

/** The HTTP/3 connection ended before the exchange completed. */
export class Http3ConnectionError extends Http3Error {
  override readonly name = 'Http3ConnectionError';
  readonly code = 'ERR_HTTP3_CONNECTION_CLOSED';
  constructor(
    /** The HTTP/3 (or QUIC) error code the connection was closed with, if known. */
    readonly h3Code: number | undefined,
    readonly reason: string,
    readonly remote: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      `HTTP/3 connection closed${remote ? ' by the peer' : ''}${h3Code !== undefined ? `: ${h3ErrorName(h3Code)}` : ''}${
        reason ? ` (${reason})` : ''
      }`,
      options,
    );
  }
}

/** Misuse of the API: headers after they were sent, an invalid header, a bad URL... */
export class Http3UsageError extends Http3Error {
  override readonly name = 'Http3UsageError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
