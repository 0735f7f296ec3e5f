/**
 * QPACK (RFC 9204): field compression for HTTP/3. The HTTP/3 layer uses one `QpackEncoder` (for
 * the sections we send, fed by the peer's decoder stream) and one `QpackDecoder` (for the sections
 * we receive, fed by the peer's encoder stream) per connection. Sans-IO: bytes in, bytes out.
 * See docs/qpack.md.
 */
export {
  type DecodeResult,
  QpackDecoder,
  type QpackDecoderOptions,
  type UnblockedSection,
} from './decoder.js';
export { QpackEncoder, type QpackEncoderOptions, type QpackEncoderTuning } from './encoder.js';
export {
  QPACK_DECODER_STREAM_ERROR,
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
  QpackError,
  type QpackErrorCode,
  QpackUsageError,
} from './errors.js';
export { type FieldLine, fieldLineSize } from './field-line.js';
