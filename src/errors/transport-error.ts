/**
 * Transport error codes (RFC 9000 §20.1) and the typed error that carries one.
 *
 * Every protocol violation detected anywhere in the sans-IO core is thrown (or returned) as a
 * `QuicTransportError`; the connection turns it into a CONNECTION_CLOSE frame with the same code,
 * frame type and reason.
 */
export enum TransportErrorCode {
  NO_ERROR = 0x00,
  INTERNAL_ERROR = 0x01,
  CONNECTION_REFUSED = 0x02,
  FLOW_CONTROL_ERROR = 0x03,
  STREAM_LIMIT_ERROR = 0x04,
  STREAM_STATE_ERROR = 0x05,
  FINAL_SIZE_ERROR = 0x06,
  FRAME_ENCODING_ERROR = 0x07,
  TRANSPORT_PARAMETER_ERROR = 0x08,
  CONNECTION_ID_LIMIT_ERROR = 0x09,
  PROTOCOL_VIOLATION = 0x0a,
  INVALID_TOKEN = 0x0b,
  APPLICATION_ERROR = 0x0c,
  CRYPTO_BUFFER_EXCEEDED = 0x0d,
  KEY_UPDATE_ERROR = 0x0e,
  AEAD_LIMIT_REACHED = 0x0f,
  NO_VIABLE_PATH = 0x10,
  /** RFC 9368 §4 */
  VERSION_NEGOTIATION_ERROR = 0x11,
  /** RFC 9000 §20.1: 0x0100-0x01ff carry a TLS alert in the low byte. */
  CRYPTO_ERROR = 0x100,
}

/** CRYPTO_ERROR code for a TLS alert (RFC 9001 §4.8). */
export function cryptoErrorCode(alert: number): number {
  return TransportErrorCode.CRYPTO_ERROR + (alert & 0xff);
}

/** A readable name for a transport error code, e.g. "FLOW_CONTROL_ERROR" or "CRYPTO_ERROR(alert 42)". */
export function transportErrorName(code: number): string {
  if (code >= 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(alert ${code - 0x100})`;
  const name = TransportErrorCode[code];
  return name ?? `0x${code.toString(16)}`;
}

export class QuicTransportError extends Error {
  override readonly name = 'QuicTransportError';
  /** RFC 9000 §20.1 error code. */
  readonly errorCode: number;
  /** The frame type that triggered the error, if any (RFC 9000 §19.19). */
  readonly frameType: number | undefined;
  /** The reason phrase, without the code prefix; goes into CONNECTION_CLOSE. */
  readonly reason: string;

  constructor(errorCode: number, reason: string, frameType?: number) {
    super(`${transportErrorName(errorCode)}: ${reason}`);
    this.errorCode = errorCode;
    this.frameType = frameType;
    this.reason = reason;
  }
}

/** Shorthand used throughout the core: `throw transportError(FLOW_CONTROL_ERROR, '...')`. */
export function transportError(code: TransportErrorCode | number, reason: string, frameType?: number) {
  return new QuicTransportError(code, reason, frameType);
}
