/**
 * The public error for a connection's end (src/errors/public-errors.ts), from the core's CloseInfo.
 */
import { type InspectOptions, inspect } from 'node:util';
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

/**
 * An error built on first call (a connection's close error). `cleanRemoteClose`: it is a
 * ConnectionClosedError for a clean close by the peer (application, code 0).
 */
export interface LazyError {
  (): Error;
  readonly cleanRemoteClose?: boolean;
}

/** A clean close by the peer (application code 0): its error is a ConnectionClosedError saying so. */
export function isCleanRemoteClose(info: CloseInfo): boolean {
  return info.source === 'remote' && info.application && info.errorCode === 0 && info.tlsAlert === undefined;
}

/** A clean local close (code 0): streams end quietly and `closed` carries no error. */
export function isCleanClose(info: CloseInfo): boolean {
  return info.source === 'local' && info.application && info.errorCode === 0;
}

/**
 * `error` is built on first read: an Error's stack trace costs about 10 us, most of what a close
 * costs the shell, and on most connections nobody reads it (issue 13). Until then it is an
 * enumerable accessor (spread, JSON and deepEqual read it like the value), then a plain property;
 * util.inspect shows the error either way.
 */
export function closeReason(info: CloseInfo, handshakeComplete: boolean): CloseReason {
  if (isCleanClose(info)) {
    return {
      source: info.source,
      errorCode: info.errorCode,
      reason: info.reason,
      application: info.application,
      error: undefined,
    };
  }
  // The accessor is written in the literal and the inspect hook is one shared function: defining
  // both per close (a closure each) cost ~13 us of a server's CPU per connection the peer closed
  // (issue 13).
  const reason: CloseReason = {
    source: info.source,
    errorCode: info.errorCode,
    reason: info.reason,
    application: info.application,
    get error(): QuicError {
      const error = closeError(info, handshakeComplete);
      Object.defineProperty(reason, 'error', {
        value: error,
        configurable: true,
        enumerable: true,
        writable: true,
      });
      return error;
    },
  };
  Object.defineProperty(reason, inspect.custom, { value: inspectCloseReason });
  return reason;
}

/** util.inspect of a CloseReason: its fields with the error built (not "[Getter]"). */
function inspectCloseReason(
  this: CloseReason,
  _depth: number,
  options: InspectOptions,
  show: typeof inspect,
): string {
  return show({ ...this }, options);
}
