/**
 * QPACK's error codes (RFC 9204 §6) and the typed errors of this module.
 *
 * A `QpackError` is a protocol violation by the peer: the HTTP/3 layer closes the connection with its
 * `h3Code` (all three are connection errors in HTTP/3, RFC 9204 §2.2.3, §4.2, §6). A
 * `QpackUsageError` is a mistake of the local caller (a field the encoder cannot represent, settings
 * applied twice); it never reaches the peer.
 */

/** RFC 9204 §6: the decoder failed to interpret an encoded field section. */
export const QPACK_DECOMPRESSION_FAILED = 0x200;
/** RFC 9204 §6: the decoder failed to interpret an encoder instruction. */
export const QPACK_ENCODER_STREAM_ERROR = 0x201;
/** RFC 9204 §6: the encoder failed to interpret a decoder instruction. */
export const QPACK_DECODER_STREAM_ERROR = 0x202;

export type QpackErrorCode =
  | typeof QPACK_DECOMPRESSION_FAILED
  | typeof QPACK_ENCODER_STREAM_ERROR
  | typeof QPACK_DECODER_STREAM_ERROR;

const NAMES: Record<QpackErrorCode, string> = {
  [QPACK_DECOMPRESSION_FAILED]: 'QPACK_DECOMPRESSION_FAILED',
  [QPACK_ENCODER_STREAM_ERROR]: 'QPACK_ENCODER_STREAM_ERROR',
  [QPACK_DECODER_STREAM_ERROR]: 'QPACK_DECODER_STREAM_ERROR',
};

/** The peer sent something QPACK forbids; close the connection with `h3Code`. */
export class QpackError extends Error {
  override readonly name = 'QpackError';
  /** The HTTP/3 error code for CONNECTION_CLOSE: 0x200, 0x201 or 0x202. */
  readonly h3Code: QpackErrorCode;
  /** Stable string code, e.g. 'ERR_QPACK_DECOMPRESSION_FAILED'. */
  readonly code: string;
  /** The reason, without the code prefix (for the CONNECTION_CLOSE reason phrase). */
  readonly reason: string;

  constructor(h3Code: QpackErrorCode, reason: string) {
    super(`${NAMES[h3Code]}: ${reason}`);
    this.h3Code = h3Code;
    this.code = `ERR_${NAMES[h3Code]}`;
    this.reason = reason;
  }
}

/** A local misuse of the QPACK API. */
export class QpackUsageError extends Error {
  override readonly name = 'QpackUsageError';
  constructor(
    /** 'ERR_QPACK_INVALID_FIELD': a name or value with a character above U+00FF;
     *  'ERR_QPACK_SETTINGS': settings out of range, or the peer's applied twice;
     *  'ERR_QPACK_STREAM_ID': a stream ID that is not a non-negative integer. */
    readonly code: 'ERR_QPACK_INVALID_FIELD' | 'ERR_QPACK_SETTINGS' | 'ERR_QPACK_STREAM_ID',
    message: string,
  ) {
    super(message);
  }
}
