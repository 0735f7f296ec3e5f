/**
 * The field compression the Node API uses: QPACK (src/http3/qpack). Tests may inject another codec.
 */
import type { FieldCodec } from '../field-codec.js';

let fallback: FieldCodec | undefined;

/** @internal Set the codec used when none is given (until the QPACK codec is available). */
export function setDefaultCodec(codec: FieldCodec): void {
  fallback = codec;
}

export function defaultCodec(): FieldCodec {
  if (!fallback) throw new Error('no QPACK codec available');
  return fallback;
}
