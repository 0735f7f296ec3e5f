/**
 * tsquic/http3: HTTP/3 (RFC 9114) with QPACK (RFC 9204) on tsquic. A node:http-shaped server, a
 * pooling Client with fetch(), and 0-RTT requests done right (docs/http3.md).
 */
export { H3ErrorCode, h3ErrorName } from './error-codes.js';
export {
  Http3ConnectionError,
  Http3Error,
  Http3ProtocolError,
  Http3RequestRejectedError,
  Http3StreamResetError,
  Http3UsageError,
} from './errors.js';
export type { FieldLine } from './field-codec.js';
export type { LocalSettings as Http3Settings } from './h3-connection.js';
export { Client, fetch, type Http3ClientOptions, type Http3RequestInit } from './node/client.js';
export type { BodyInit } from './node/request-body.js';
export type { Http3Response, ZeroRttOutcome } from './node/response.js';
export { createServer, Http3Server, type Http3ServerOptions, type RequestListener } from './node/server.js';
export { Http3ServerRequest } from './node/server-request.js';
export { Http3ServerResponse } from './node/server-response.js';
