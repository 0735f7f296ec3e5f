/**
 * Errors of the public API. Each has a stable `code` string, like Node's own errors, so callers can
 * branch on `err.code` rather than on messages.
 */
import { TransportErrorCode, transportErrorName } from './transport-error.js';

export abstract class QuicError extends Error {
  abstract readonly code: string;
}

/** An unusable TLS configuration: bad or mismatched certificate and key, bad CA, bad TLS setting. */
export class TlsConfigError extends QuicError {
  override readonly name = 'TlsConfigError';
  readonly code = 'ERR_QUIC_TLS_CONFIG';
}

/**
 * A file named in the options cannot be created, opened or written: the `keylog` file, the
 * `qlogDir` directory, or a qlog file in it. `cause` is the file system's error (its `code` says
 * why: ENOENT, EACCES, ENOSPC, ...).
 */
export class FileAccessError extends QuicError {
  override readonly name = 'FileAccessError';
  readonly code = 'ERR_QUIC_FILE_ACCESS';
  constructor(
    /** The option that named the file. */
    readonly option: 'keylog' | 'qlogDir',
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write ${option} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * The operation was aborted through its AbortSignal (like Node's own AbortError: same `name` and
 * `code`); `cause` is the signal's `reason`.
 */
export class AbortError extends QuicError {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('The operation was aborted', reason === undefined ? undefined : { cause: reason });
  }
}

/** The server rejected 0-RTT: this attempt's streams are dead; use `nextConnection()`. */
export class ZeroRTTRejectedError extends QuicError {
  override readonly name = 'ZeroRTTRejectedError';
  readonly code = 'ERR_QUIC_0RTT_REJECTED';
  constructor(message = '0-RTT rejected: use nextConnection() to continue on a fresh connection') {
    super(message);
  }
}

/** The peer reset the stream (RESET_STREAM) or asked us to stop sending (STOP_SENDING). */
export class StreamResetError extends QuicError {
  override readonly name = 'StreamResetError';
  readonly code = 'ERR_QUIC_STREAM_RESET';
  constructor(
    /** The application error code the peer sent. */
    readonly errorCode: number,
    /** 'reset': the peer reset its sending side; 'stop-sending': it asked us to stop. */
    readonly kind: 'reset' | 'stop-sending',
    readonly streamId: number,
  ) {
    super(
      kind === 'reset'
        ? `stream ${streamId} reset by peer with code ${errorCode}`
        : `peer stopped reading stream ${streamId} (STOP_SENDING) with code ${errorCode}`,
    );
  }
}

/** The connection is closed: by us, by the peer, or by a protocol error. */
export class ConnectionClosedError extends QuicError {
  override readonly name = 'ConnectionClosedError';
  readonly code = 'ERR_QUIC_CONNECTION_CLOSED';
  constructor(
    readonly errorCode: number,
    readonly reason: string,
    /** True when the code is in the application's space (CONNECTION_CLOSE 0x1d). */
    readonly application: boolean,
    /** True when the peer closed the connection. */
    readonly remote: boolean,
    readonly frameType?: number,
  ) {
    super(
      `connection closed ${remote ? 'by peer' : 'locally'}: ${
        application ? `application error ${errorCode}` : transportErrorName(errorCode)
      }${reason ? ` (${reason})` : ''}`,
    );
  }
}

/** The TLS handshake failed (certificate, ALPN, ...). `alert` is the TLS alert number. */
export class HandshakeError extends QuicError {
  override readonly name = 'HandshakeError';
  readonly code = 'ERR_QUIC_HANDSHAKE_FAILED';
  constructor(
    readonly alert: number | undefined,
    readonly reason: string,
    readonly remote: boolean,
  ) {
    super(`QUIC handshake failed${remote ? ' (reported by peer)' : ''}: ${reason}`);
  }
}

/** Nothing was heard from the peer for the idle timeout (or the handshake took too long). */
export class IdleTimeoutError extends QuicError {
  override readonly name = 'IdleTimeoutError';
  readonly code = 'ERR_QUIC_IDLE_TIMEOUT';
  constructor(message = 'connection idle timeout') {
    super(message);
  }
}

/**
 * Nothing listens at the address dialled: the operating system reported ECONNREFUSED (an ICMP port
 * unreachable) during the handshake. Reported at once instead of after the handshake timeout, on the
 * sockets where the OS reports it: those of dial() and dialEarly() (connected UDP sockets).
 */
export class ConnectionRefusedError extends QuicError {
  override readonly name = 'ConnectionRefusedError';
  readonly code = 'ERR_QUIC_CONNECTION_REFUSED';
  constructor(detail: string) {
    super(`QUIC handshake failed: connection refused (${detail})`);
  }
}

/** The peer sent a stateless reset: it has lost the connection's state. */
export class StatelessResetError extends QuicError {
  override readonly name = 'StatelessResetError';
  readonly code = 'ERR_QUIC_STATELESS_RESET';
  constructor() {
    super('connection reset by peer (stateless reset)');
  }
}

/** Misuse of the API: writing after end, opening a stream on a closed connection, a bad argument. */
export class QuicUsageError extends QuicError {
  override readonly name = 'QuicUsageError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** No QUIC version in common with the server. */
export class VersionNegotiationError extends QuicError {
  override readonly name = 'VersionNegotiationError';
  readonly code = 'ERR_QUIC_VERSION_NEGOTIATION';
}

export { TransportErrorCode };
