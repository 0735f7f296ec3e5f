/**
 * The public error for a connection's end (src/errors/public-errors.ts), from the core's CloseInfo.
 */
import type { CloseInfo } from '../connection/connection-events.js';
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  HandshakeError,
  IdleTimeoutError,
  type QuicError,
  StatelessResetError,
  VersionNegotiationError,
} from '../errors/public-errors.js';

export function closeError(info: CloseInfo, handshakeComplete: boolean): QuicError {
  switch (info.source) {
    case 'idle-timeout':
      return new IdleTimeoutError();
    case 'handshake-timeout':
      return new IdleTimeoutError('QUIC handshake timed out');
    case 'stateless-reset':
      return new StatelessResetError();
    case 'version-negotiation':
      return new VersionNegotiationError(info.reason);
    case 'unreachable':
      return new ConnectionRefusedError(info.reason);
  }
  const remote = info.source === 'remote';
  if (!handshakeComplete && info.tlsAlert !== undefined) {
    return new HandshakeError(info.tlsAlert, info.reason, remote);
  }
  const error = new ConnectionClosedError(
    info.errorCode,
    info.reason,
    info.application,
    remote,
    info.frameType,
  );
  // A bug in tsquic closed the connection: the application sees what it was.
  if (info.internalError !== undefined) Object.defineProperty(error, 'cause', { value: info.internalError });
  return error;
}

/** What `connection.closed` resolves to. */
export interface CloseReason {
  /**
   * Who ended it and how. 'early-data-rejected': an EarlyConnection whose 0-RTT the server rejected
   * (the QUIC connection goes on as the one `nextConnection()` gives; docs/0rtt.md).
   */
  source: CloseInfo['source'] | 'early-data-rejected';
  errorCode: number;
  reason: string;
  /** Application error code space. */
  application: boolean;
  /** The error that failed pending operations; undefined for a clean local close with code 0. */
  error: QuicError | undefined;
}

export function closeReason(info: CloseInfo, handshakeComplete: boolean): CloseReason {
  const clean = info.source === 'local' && info.application && info.errorCode === 0;
  return {
    source: info.source,
    errorCode: info.errorCode,
    reason: info.reason,
    application: info.application,
    error: clean ? undefined : closeError(info, handshakeComplete),
  };
}
