/**
 * The field compression the Node API uses: QPACK (src/http3/qpack). Tests may inject another codec.
 */
import type { FieldCodec } from '../field-codec.js';
import { qpackCodec } from '../qpack-codec.js';

export function defaultCodec(): FieldCodec {
  return qpackCodec;
}
