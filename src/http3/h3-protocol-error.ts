/**
 * A violation of HTTP/3 detected by the sans-IO layer, with the error code the RFC names and its
 * scope (RFC 9114 §8): a connection error closes the whole connection (CONNECTION_CLOSE with the
 * code), a stream error resets the one request stream (RESET_STREAM and/or STOP_SENDING).
 * Every decoder in src/http3 throws this and nothing else on bad input.
 */
import { type H3ErrorCode, h3ErrorName } from './error-codes.js';

export type H3ErrorScope = 'connection' | 'stream';

export class H3ProtocolError extends Error {
  override readonly name = 'H3ProtocolError';
  constructor(
    readonly scope: H3ErrorScope,
    readonly errorCode: H3ErrorCode,
    readonly reason: string,
  ) {
    super(`${h3ErrorName(errorCode)}: ${reason}`);
  }
}

/** A connection error (RFC 9114 §8). */
export function h3ConnectionError(code: H3ErrorCode, reason: string): H3ProtocolError {
  return new H3ProtocolError('connection', code, reason);
}

/** A stream error (RFC 9114 §8). */
export function h3StreamError(code: H3ErrorCode, reason: string): H3ProtocolError {
  return new H3ProtocolError('stream', code, reason);
}
