/**
 * Decoder instructions (RFC 9204 §4.4), carried on the decoder stream from decoder to encoder:
 * Section Acknowledgment, Stream Cancellation, Insert Count Increment.
 */
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { readInteger, writeInteger } from './prefixed-integer.js';

/** RFC 9204 §4.4.1: '1' then the stream ID (7+). */
export function writeSectionAck(w: ByteWriter, streamId: number): void {
  writeInteger(w, 0x80, 7, streamId);
}

/** RFC 9204 §4.4.2: '01' then the stream ID (6+). */
export function writeStreamCancellation(w: ByteWriter, streamId: number): void {
  writeInteger(w, 0x40, 6, streamId);
}

/** RFC 9204 §4.4.3: '00' then the increment (6+). */
export function writeInsertCountIncrement(w: ByteWriter, increment: number): void {
  writeInteger(w, 0x00, 6, increment);
}

export const DecoderOp = {
  SectionAck: 0,
  StreamCancellation: 1,
  InsertCountIncrement: 2,
} as const;
export type DecoderOpKind = (typeof DecoderOp)[keyof typeof DecoderOp];

export interface DecoderInstruction {
  kind: DecoderOpKind;
  /** The stream ID, or the increment. */
  value: number;
}

/** Reads the whole instruction at the cursor into `out`. */
export function readDecoderInstruction(r: ByteReader, out: DecoderInstruction): void {
  const b = r.peek('decoder instruction');
  if (b & 0x80) {
    out.kind = DecoderOp.SectionAck;
    out.value = readInteger(r, 7, 'stream ID');
  } else if (b & 0x40) {
    out.kind = DecoderOp.StreamCancellation;
    out.value = readInteger(r, 6, 'stream ID');
  } else {
    out.kind = DecoderOp.InsertCountIncrement;
    out.value = readInteger(r, 6, 'increment');
  }
}
