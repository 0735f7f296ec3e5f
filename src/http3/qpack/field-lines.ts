/**
 * Encoded field sections (RFC 9204 §4.5): the prefix (Required Insert Count and Base, §4.5.1) and
 * the five field line representations (§4.5.2-§4.5.6), written and read here without any table
 * state. The encoder and decoder resolve indices against their tables.
 */
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { readInteger, writeInteger } from './prefixed-integer.js';
import { readString, writeString } from './string-literal.js';

// ---- prefix (RFC 9204 §4.5.1) -------------------------------------------------------------------

/** RFC 9204 §4.5.1.1: MaxEntries = floor(MaxTableCapacity / 32). */
export function maxEntries(maxTableCapacity: number): number {
  return Math.floor(maxTableCapacity / 32);
}

/** RFC 9204 §4.5.1.1: the Encoded Required Insert Count. */
export function encodeRequiredInsertCount(ric: number, maxEntriesValue: number): number {
  return ric === 0 ? 0 : (ric % (2 * maxEntriesValue)) + 1;
}

/**
 * RFC 9204 §4.5.1.1: the Required Insert Count from its encoding, given the decoder's total number
 * of inserts so far; -1 if no conformant encoder could have produced `encoded`.
 */
export function decodeRequiredInsertCount(
  encoded: number,
  maxEntriesValue: number,
  totalInserts: number,
): number {
  if (encoded === 0) return 0;
  const fullRange = 2 * maxEntriesValue;
  if (encoded > fullRange) return -1;
  const maxValue = totalInserts + maxEntriesValue;
  const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
  let ric = maxWrapped + encoded - 1;
  if (ric > maxValue) {
    if (ric <= fullRange) return -1;
    ric -= fullRange;
  }
  return ric === 0 ? -1 : ric;
}

/** Writes the section prefix for Required Insert Count `ric` and Base `base` (RFC 9204 §4.5.1). */
export function writeSectionPrefix(w: ByteWriter, ric: number, base: number, maxEntriesValue: number): void {
  writeInteger(w, 0, 8, encodeRequiredInsertCount(ric, maxEntriesValue));
  if (ric === 0) {
    w.u8(0); // RFC 9204 §4.5.1.2: any Base will do; Delta Base 0 is the shortest.
  } else if (base >= ric) {
    writeInteger(w, 0x00, 7, base - ric);
  } else {
    writeInteger(w, 0x80, 7, ric - base - 1);
  }
}

export interface SectionPrefix {
  /** Required Insert Count. */
  ric: number;
  base: number;
}

/** Reads a section prefix; the reader's error (QPACK_DECOMPRESSION_FAILED) for invalid values. */
export function readSectionPrefix(
  r: ByteReader,
  maxEntriesValue: number,
  totalInserts: number,
  out: SectionPrefix,
): void {
  const encoded = readInteger(r, 8, 'Required Insert Count');
  const ric = decodeRequiredInsertCount(encoded, maxEntriesValue, totalInserts);
  if (ric < 0) r.fail(`invalid encoded Required Insert Count ${encoded}`);
  const negative = (r.peek('Base') & 0x80) !== 0;
  const delta = readInteger(r, 7, 'Delta Base');
  if (negative) {
    // RFC 9204 §4.5.1.2: the Base must not be negative.
    if (ric <= delta) r.fail(`negative Base (Required Insert Count ${ric}, Delta Base -${delta + 1})`);
    out.base = ric - delta - 1;
  } else {
    out.base = ric + delta;
  }
  out.ric = ric;
}

// ---- representations (RFC 9204 §4.5.2-§4.5.6) ---------------------------------------------------

/** Representation kinds, by their leading bit pattern. */
export const Rep = {
  /** 1 T=1: Indexed Field Line, static table (§4.5.2). */
  IndexedStatic: 0,
  /** 1 T=0: Indexed Field Line, dynamic table, relative index (§4.5.2). */
  IndexedDynamic: 1,
  /** 0001: Indexed Field Line with Post-Base Index (§4.5.3). */
  IndexedPostBase: 2,
  /** 01 N T=1: Literal Field Line with Name Reference, static (§4.5.4). */
  LiteralStaticName: 3,
  /** 01 N T=0: Literal Field Line with Name Reference, dynamic, relative index (§4.5.4). */
  LiteralDynamicName: 4,
  /** 0000 N: Literal Field Line with Post-Base Name Reference (§4.5.5). */
  LiteralPostBaseName: 5,
  /** 001 N: Literal Field Line with Literal Name (§4.5.6). */
  LiteralName: 6,
} as const;
export type RepKind = (typeof Rep)[keyof typeof Rep];

export function writeIndexedStatic(w: ByteWriter, index: number): void {
  writeInteger(w, 0xc0, 6, index);
}

export function writeIndexedDynamic(w: ByteWriter, relativeIndex: number): void {
  writeInteger(w, 0x80, 6, relativeIndex);
}

export function writeIndexedPostBase(w: ByteWriter, postBaseIndex: number): void {
  writeInteger(w, 0x10, 4, postBaseIndex);
}

export function writeLiteralStaticName(
  w: ByteWriter,
  index: number,
  value: string,
  never: boolean,
  huffman: boolean,
): void {
  writeInteger(w, never ? 0x70 : 0x50, 4, index);
  writeString(w, 0, 8, value, huffman);
}

export function writeLiteralDynamicName(
  w: ByteWriter,
  relativeIndex: number,
  value: string,
  never: boolean,
  huffman: boolean,
): void {
  writeInteger(w, never ? 0x60 : 0x40, 4, relativeIndex);
  writeString(w, 0, 8, value, huffman);
}

export function writeLiteralPostBaseName(
  w: ByteWriter,
  postBaseIndex: number,
  value: string,
  never: boolean,
  huffman: boolean,
): void {
  writeInteger(w, never ? 0x08 : 0x00, 3, postBaseIndex);
  writeString(w, 0, 8, value, huffman);
}

export function writeLiteralName(
  w: ByteWriter,
  name: string,
  value: string,
  never: boolean,
  huffman: boolean,
): void {
  writeString(w, never ? 0x30 : 0x20, 4, name, huffman);
  writeString(w, 0, 8, value, huffman);
}

/** One decoded representation; `readRepresentation` fills a caller's object to avoid allocation. */
export interface Representation {
  kind: RepKind;
  /** Static index, relative index or post-Base index, by kind (unused for LiteralName). */
  index: number;
  /** The name of a LiteralName representation. */
  name: string;
  /** The value of the literal kinds. */
  value: string;
  /** The 'N' (never index) bit of the literal kinds. */
  never: boolean;
}

/** Reads the representation at the cursor into `out`. */
export function readRepresentation(r: ByteReader, out: Representation, maxStringLength: number): void {
  const b = r.peek('field line');
  if (b & 0x80) {
    out.kind = b & 0x40 ? Rep.IndexedStatic : Rep.IndexedDynamic;
    out.never = false;
    out.index = readInteger(r, 6, 'index');
  } else if (b & 0x40) {
    out.kind = b & 0x10 ? Rep.LiteralStaticName : Rep.LiteralDynamicName;
    out.never = (b & 0x20) !== 0;
    out.index = readInteger(r, 4, 'name index');
    out.value = readString(r, 8, maxStringLength, 'field value');
  } else if (b & 0x20) {
    out.kind = Rep.LiteralName;
    out.never = (b & 0x10) !== 0;
    out.name = readString(r, 4, maxStringLength, 'field name');
    out.value = readString(r, 8, maxStringLength, 'field value');
  } else if (b & 0x10) {
    out.kind = Rep.IndexedPostBase;
    out.never = false;
    out.index = readInteger(r, 4, 'post-Base index');
  } else {
    out.kind = Rep.LiteralPostBaseName;
    out.never = (b & 0x08) !== 0;
    out.index = readInteger(r, 3, 'post-Base name index');
    out.value = readString(r, 8, maxStringLength, 'field value');
  }
}
