/**
 * The field compression HTTP/3 uses by default: QPACK (src/http3/qpack, RFC 9204), one encoder and
 * one decoder per connection.
 */
import type { FieldCodec } from './field-codec.js';
import { QpackDecoder, QpackEncoder } from './qpack/index.js';

export const qpackCodec: FieldCodec = {
  createEncoder: (remembered) => new QpackEncoder(remembered),
  createDecoder: (opts) => new QpackDecoder(opts),
};
