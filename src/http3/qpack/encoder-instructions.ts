/**
 * Encoder instructions (RFC 9204 §4.3), carried on the encoder stream from encoder to decoder: Set
 * Dynamic Table Capacity, Insert with Name Reference, Insert with Literal Name, Duplicate.
 */
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { readInteger, writeInteger } from './prefixed-integer.js';
import { readString, writeString } from './string-literal.js';

/** RFC 9204 §4.3.1: '001' then the capacity (5+). */
export function writeSetCapacity(w: ByteWriter, capacity: number): void {
  writeInteger(w, 0x20, 5, capacity);
}

/** RFC 9204 §4.3.2 with T=1: a static table name, then the value. */
export function writeInsertStaticName(w: ByteWriter, index: number, value: string, huffman: boolean): void {
  writeInteger(w, 0xc0, 6, index);
  writeString(w, 0, 8, value, huffman);
}

/** RFC 9204 §4.3.2 with T=0: a dynamic table name by relative index (0 = newest), then the value. */
export function writeInsertDynamicName(
  w: ByteWriter,
  relativeIndex: number,
  value: string,
  huffman: boolean,
): void {
  writeInteger(w, 0x80, 6, relativeIndex);
  writeString(w, 0, 8, value, huffman);
}

/** RFC 9204 §4.3.3: '01', the name (6-bit prefix string), the value. */
export function writeInsertLiteralName(w: ByteWriter, name: string, value: string, huffman: boolean): void {
  writeString(w, 0x40, 6, name, huffman);
  writeString(w, 0, 8, value, huffman);
}

/** RFC 9204 §4.3.4: '000' then the relative index (5+) of the entry to insert again. */
export function writeDuplicate(w: ByteWriter, relativeIndex: number): void {
  writeInteger(w, 0x00, 5, relativeIndex);
}

export const EncoderOp = {
  SetCapacity: 0,
  InsertStaticName: 1,
  InsertDynamicName: 2,
  InsertLiteralName: 3,
  Duplicate: 4,
} as const;
export type EncoderOpKind = (typeof EncoderOp)[keyof typeof EncoderOp];

/** One encoder instruction; `readEncoderInstruction` fills a caller's object. */
export interface EncoderInstruction {
  kind: EncoderOpKind;
  /** The capacity (SetCapacity), static index, or relative index (dynamic name, Duplicate). */
  value: number;
  /** The name of InsertLiteralName. */
  name: string;
  /** The field value of the Insert kinds. */
  fieldValue: string;
}

/**
 * Reads the whole instruction at the cursor into `out` (nothing is applied, so a reader that runs
 * out of bytes leaves no trace). `maxStringLength` bounds names and values: no insert can hold a
 * longer one, since an entry must fit in the table (RFC 9204 §3.2.2).
 */
export function readEncoderInstruction(
  r: ByteReader,
  out: EncoderInstruction,
  maxStringLength: number,
): void {
  const b = r.peek('encoder instruction');
  if (b & 0x80) {
    out.kind = b & 0x40 ? EncoderOp.InsertStaticName : EncoderOp.InsertDynamicName;
    out.value = readInteger(r, 6, 'name index');
    out.fieldValue = readString(r, 8, maxStringLength, 'field value');
  } else if (b & 0x40) {
    out.kind = EncoderOp.InsertLiteralName;
    out.name = readString(r, 6, maxStringLength, 'field name');
    out.fieldValue = readString(r, 8, maxStringLength - out.name.length, 'field value');
  } else if (b & 0x20) {
    out.kind = EncoderOp.SetCapacity;
    out.value = readInteger(r, 5, 'capacity');
  } else {
    out.kind = EncoderOp.Duplicate;
    out.value = readInteger(r, 5, 'duplicate index');
  }
}
