/**
 * tsquic: QUIC (RFC 9000, 9001, 9002) for Node.js, in TypeScript, with 0-RTT done right.
 */

export type { ConnectionStats } from './connection/connection.js';
export type { CloseSource } from './connection/connection-events.js';
export { CipherSuite } from './crypto/cipher-suite.js';
export { type EarlyDataReplayStore, InMemoryReplayStore } from './endpoint/anti-replay.js';
export {
  AbortError,
  ConnectionClosedError,
  ConnectionRefusedError,
  FileAccessError,
  HandshakeError,
  IdleTimeoutError,
  QuicError,
  QuicUsageError,
  StatelessResetError,
  StreamResetError,
  TlsConfigError,
  VersionNegotiationError,
  ZeroRTTRejectedError,
} from './errors/public-errors.js';
export { SocketAddress } from './node/address.js';
export { type DialTarget, dial, dialEarly, listen, listenEarly, QuicEndpoint } from './node/api.js';
export {
  type CertificateKeyType,
  type CreateCertificateOptions,
  createCertificate,
  createTestPki,
  type GeneratedCertificate,
  type KeyPair,
} from './node/certificates.js';
export type { CloseReason } from './node/close-errors.js';
export {
  type ConnectionCloseMessage,
  type ConnectionHandshakeMessage,
  type ConnectionStartMessage,
  diagnosticsChannels,
  type SocketErrorMessage,
} from './node/diagnostics.js';
export type { ClientOptions, CommonOptions, ServerOptions } from './node/options.js';
export { type CloseOptions, EarlyConnection, QuicConnection } from './node/quic-connection.js';
export { QuicServer } from './node/quic-server.js';
export { QuicReceiveStream, QuicSendStream, QuicStream } from './node/quic-stream.js';
export { type ResumptionSession, SessionCache, type SessionStore } from './node/session-cache.js';
export type { NamedGroupName } from './tls/types.js';
export type { CertificateOptions, KeyUsageName } from './tls/x509-builder.js';
