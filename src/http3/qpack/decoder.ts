/**
 * The QPACK decoder (RFC 9204 §2.2): decodes field sections received on request streams against
 * the static table and the dynamic table that the peer's encoder builds through the encoder
 * stream, holds sections that refer to entries not yet received (blocked streams, §2.1.2), and
 * writes the decoder stream: Section Acknowledgment, Stream Cancellation and Insert Count Increment
 * (§4.4).
 *
 * Everything the peer sends is validated; violations throw QpackError with
 * QPACK_DECOMPRESSION_FAILED (field sections) or QPACK_ENCODER_STREAM_ERROR (encoder stream), both
 * connection errors. A section larger than our SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2) is
 * not an error of QPACK: it is decoded (keeping the dynamic table state in step with the encoder)
 * and reported as `too-large` for the HTTP/3 layer to refuse (431, or discard the response).
 */
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import {
  writeInsertCountIncrement,
  writeSectionAck,
  writeStreamCancellation,
} from './decoder-instructions.js';
import { DynamicTable, entrySize, type TableEntry } from './dynamic-table.js';
import { type EncoderInstruction, EncoderOp, readEncoderInstruction } from './encoder-instructions.js';
import { QPACK_DECOMPRESSION_FAILED, QPACK_ENCODER_STREAM_ERROR, QpackUsageError } from './errors.js';
import type { FieldLine } from './field-line.js';
import {
  maxEntries,
  Rep,
  type Representation,
  readRepresentation,
  readSectionPrefix,
  type SectionPrefix,
} from './field-lines.js';
import { InstructionStream } from './instruction-stream.js';
import { RecentLiterals } from './recent-literals.js';
import { STATIC_TABLE } from './static-table.js';

/** Our own settings, as sent in our SETTINGS frame. */
export interface QpackDecoderOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5): the most the peer's encoder may use. */
  maxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5): streams that may wait for table updates. */
  maxBlockedStreams: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2, §7.2.4.1); Infinity for no limit. */
  maxFieldSectionSize: number;
}

export type DecodeResult =
  | { status: 'done'; fields: FieldLine[] }
  /** Waits for encoder-stream data; `onEncoderStreamData` returns it when decoded. */
  | { status: 'blocked' }
  /**
   * The section's size (RFC 9114 §4.2.2: name + value + 32 per line) is above
   * maxFieldSectionSize. The section was fully processed (and acknowledged); its fields are dropped.
   */
  | { status: 'too-large'; size: number; limit: number };

/** A section that encoder-stream data unblocked: done, or too large. */
export type UnblockedSection = { streamId: number } & Exclude<DecodeResult, { status: 'blocked' }>;

/** Field sections queued on one blocked stream, at most (interim responses, then the final one). */
const MAX_QUEUED_SECTIONS_PER_STREAM = 16;

interface QueuedSection {
  /** The representations (the prefix is already read). */
  readonly lines: Uint8Array;
  readonly ric: number;
  readonly base: number;
}

const BLOCKED: DecodeResult = Object.freeze({ status: 'blocked' });

function checkSetting(name: string, v: number, allowInfinity: boolean): void {
  const ok = (Number.isSafeInteger(v) && v >= 0) || (allowInfinity && v === Number.POSITIVE_INFINITY);
  if (!ok)
    throw new QpackUsageError('ERR_QPACK_SETTINGS', `${name} must be a non-negative integer, got ${v}`);
}

/** Stream IDs go on the decoder stream (RFC 9204 §4.4.1, §4.4.2): they must be valid. */
function checkStreamId(streamId: number): void {
  if (!Number.isSafeInteger(streamId) || streamId < 0) {
    throw new QpackUsageError('ERR_QPACK_STREAM_ID', `invalid stream ID ${streamId}`);
  }
}

export class QpackDecoder {
  private readonly maxTableCapacity: number;
  private readonly maxBlockedStreams: number;
  private readonly maxFieldSectionSize: number;
  private readonly maxEntries: number;
  private readonly table = new DynamicTable<TableEntry>();
  private readonly encoderStream = new InstructionStream(QPACK_ENCODER_STREAM_ERROR);
  private readonly decoderStream = new ByteWriter(64);
  /** The Known Received Count the encoder will have after reading what we wrote (RFC 9204 §2.1.4). */
  private knownReceivedCount = 0;
  /** Blocked streams (RFC 9204 §2.2.1) and their sections, in arrival order. */
  private readonly blocked = new Map<number, QueuedSection[]>();
  private readonly sectionReader = new ByteReader(
    new Uint8Array(0),
    0,
    0,
    QPACK_DECOMPRESSION_FAILED,
    false,
    new RecentLiterals(),
  );
  private readonly prefix: SectionPrefix = { ric: 0, base: 0 };
  private readonly rep: Representation = {
    kind: Rep.IndexedStatic,
    index: 0,
    name: '',
    value: '',
    never: false,
  };
  private readonly instruction: EncoderInstruction = {
    kind: EncoderOp.SetCapacity,
    value: 0,
    name: '',
    fieldValue: '',
  };
  private readonly onInstruction = (r: ByteReader) => this.applyInstruction(r);

  constructor(opts: QpackDecoderOptions) {
    checkSetting('maxTableCapacity', opts.maxTableCapacity, false);
    checkSetting('maxBlockedStreams', opts.maxBlockedStreams, false);
    checkSetting('maxFieldSectionSize', opts.maxFieldSectionSize, true);
    this.maxTableCapacity = opts.maxTableCapacity;
    this.maxBlockedStreams = opts.maxBlockedStreams;
    this.maxFieldSectionSize = opts.maxFieldSectionSize;
    this.maxEntries = maxEntries(opts.maxTableCapacity);
  }

  /** Entries inserted so far (the decoder's Insert Count, RFC 9204 §2.1.4). */
  get insertCount(): number {
    return this.table.insertCount;
  }

  /** Streams currently blocked (RFC 9204 §2.2.1). */
  get blockedStreamCount(): number {
    return this.blocked.size;
  }

  /** The current dynamic table, oldest first, for diagnostics and tests. */
  tableEntries(): Array<{ absoluteIndex: number; name: string; value: string }> {
    const out = [];
    for (let abs = this.table.droppedCount; abs < this.table.insertCount; abs++) {
      const e = this.table.get(abs)!;
      out.push({ absoluteIndex: abs, name: e.name, value: e.value });
    }
    return out;
  }

  /**
   * Bytes of a partial encoder instruction held until the rest arrives. At most about four times
   * the maximum table capacity (an entry's strings, Huffman-coded at up to 30 bits per byte).
   */
  get bufferedEncoderStreamBytes(): number {
    return this.encoderStream.buffered;
  }

  /** The dynamic table's capacity and size in bytes (RFC 9204 §3.2.1, §3.2.2). */
  get tableCapacity(): number {
    return this.table.capacity;
  }
  get tableSize(): number {
    return this.table.size;
  }

  /**
   * Decodes the field section of a HEADERS frame received on `streamId` (the whole frame payload).
   * A section that needs entries not yet received is kept (a copy) and reported 'blocked'; it comes
   * back from `onEncoderStreamData`. Sections of one stream are returned in the order given.
   */
  decode(streamId: number, fieldSection: Uint8Array): DecodeResult {
    checkStreamId(streamId);
    const r = this.sectionReader;
    r.reset(fieldSection, 0, fieldSection.length);
    const p = this.prefix;
    readSectionPrefix(r, this.maxEntries, this.table.insertCount, p);
    const queue = this.blocked.get(streamId);
    if (p.ric <= this.table.insertCount && queue === undefined) {
      return this.decodeLines(streamId, r, p.ric, p.base);
    }
    const section: QueuedSection = { lines: fieldSection.slice(r.pos), ric: p.ric, base: p.base };
    if (queue !== undefined) {
      if (queue.length >= MAX_QUEUED_SECTIONS_PER_STREAM) {
        r.fail(`more than ${MAX_QUEUED_SECTIONS_PER_STREAM} field sections waiting on stream ${streamId}`);
      }
      queue.push(section);
    } else {
      // RFC 9204 §2.1.2: more blocked streams than we allow is a connection error.
      if (this.blocked.size >= this.maxBlockedStreams) {
        r.fail(
          `stream ${streamId} would be blocked (Required Insert Count ${p.ric}, Insert Count ${this.table.insertCount}) ` +
            `but ${this.blocked.size} of ${this.maxBlockedStreams} allowed streams already are`,
        );
      }
      this.blocked.set(streamId, [section]);
    }
    return BLOCKED;
  }

  /**
   * Processes bytes of the peer's encoder stream (split anywhere) and returns the sections they
   * unblocked, in stream order. Throws QpackError QPACK_ENCODER_STREAM_ERROR for a bad instruction,
   * or QPACK_DECOMPRESSION_FAILED for an unblocked section that turns out invalid.
   */
  onEncoderStreamData(data: Uint8Array): UnblockedSection[] {
    this.encoderStream.feed(data, this.onInstruction);
    const out: UnblockedSection[] = [];
    if (this.blocked.size === 0) return out;
    const r = this.sectionReader;
    const insertCount = this.table.insertCount;
    for (const [streamId, queue] of this.blocked) {
      while (queue.length > 0 && queue[0]!.ric <= insertCount) {
        const s = queue.shift()!;
        r.reset(s.lines, 0, s.lines.length);
        const result = this.decodeLines(streamId, r, s.ric, s.base) as Exclude<
          DecodeResult,
          { status: 'blocked' }
        >;
        out.push({ streamId, ...result });
      }
      if (queue.length === 0) this.blocked.delete(streamId);
    }
    return out;
  }

  /**
   * The stream was reset, or we stopped reading it, before all its field sections were processed
   * (RFC 9204 §2.2.2.2): drops its blocked sections and tells the encoder that its references on
   * the stream are gone (Stream Cancellation, §4.4.2). We cannot know whether the peer sent a
   * section we never read, so the instruction goes out whenever the dynamic table is allowed at all
   * (a decoder with capacity 0 may omit it, §2.2.2.2). Call it once per abandoned stream.
   */
  cancelStream(streamId: number): void {
    checkStreamId(streamId);
    this.blocked.delete(streamId);
    if (this.maxTableCapacity === 0) return;
    writeStreamCancellation(this.decoderStream, streamId);
  }

  /**
   * Bytes to append to our decoder stream: Section Acknowledgments and Stream Cancellations in the
   * order they arose, then one Insert Count Increment for every insertion not yet acknowledged
   * (RFC 9204 §2.2.2.3; coalesced, and left out when Section Acknowledgments already covered it).
   */
  takeDecoderStreamData(): Uint8Array | undefined {
    const inserts = this.table.insertCount;
    if (inserts > this.knownReceivedCount) {
      writeInsertCountIncrement(this.decoderStream, inserts - this.knownReceivedCount);
      this.knownReceivedCount = inserts;
    }
    return this.decoderStream.take();
  }

  private decodeLines(streamId: number, r: ByteReader, ric: number, base: number): DecodeResult {
    const table = this.table;
    const limit = this.maxFieldSectionSize;
    const rep = this.rep;
    const fields: FieldLine[] = [];
    let size = 0;
    let largestRef = -1;
    while (r.pos < r.end) {
      readRepresentation(r, rep, Number.MAX_SAFE_INTEGER);
      let name: string;
      let value: string;
      switch (rep.kind) {
        case Rep.IndexedStatic: {
          const e = STATIC_TABLE[rep.index] ?? r.fail(`static table index ${rep.index} out of range`);
          name = e[0];
          value = e[1];
          break;
        }
        case Rep.LiteralStaticName: {
          const e = STATIC_TABLE[rep.index] ?? r.fail(`static table index ${rep.index} out of range`);
          name = e[0];
          value = rep.value;
          break;
        }
        case Rep.LiteralName:
          name = rep.name;
          value = rep.value;
          break;
        default: {
          // RFC 9204 §3.2.5, §3.2.6: relative indices count down from Base - 1, post-Base up from Base.
          const post = rep.kind === Rep.IndexedPostBase || rep.kind === Rep.LiteralPostBaseName;
          const abs = post ? base + rep.index : base - 1 - rep.index;
          // RFC 9204 §2.2.3: at or after the Required Insert Count, or evicted, is an error.
          if (abs < 0 || abs >= ric) {
            r.fail(`dynamic table reference (absolute index ${abs}) outside Required Insert Count ${ric}`);
          }
          const e = table.get(abs) ?? r.fail(`dynamic table entry ${abs} was evicted`);
          if (abs > largestRef) largestRef = abs;
          name = e.name;
          value = rep.kind === Rep.IndexedDynamic || rep.kind === Rep.IndexedPostBase ? e.value : rep.value;
        }
      }
      size += name.length + value.length + 32;
      if (size <= limit) {
        fields.push(rep.never ? { name, value, neverIndex: true } : { name, value });
      }
    }
    if (ric > 0) {
      // RFC 9204 §2.2.1: the Required Insert Count must be the smallest that decodes the section;
      // smaller is caught above, larger is refused here (the MAY of the same section).
      if (largestRef + 1 !== ric) {
        r.fail(`Required Insert Count ${ric} but the largest reference is entry ${largestRef}`);
      }
      // RFC 9204 §4.4.1: acknowledge every section with a non-zero Required Insert Count.
      writeSectionAck(this.decoderStream, streamId);
      if (ric > this.knownReceivedCount) this.knownReceivedCount = ric;
    }
    if (size > limit) return { status: 'too-large', size, limit };
    return { status: 'done', fields };
  }

  private applyInstruction(r: ByteReader): void {
    const ins = this.instruction;
    const table = this.table;
    readEncoderInstruction(r, ins, Math.max(0, table.capacity - 32));
    switch (ins.kind) {
      case EncoderOp.SetCapacity: {
        // RFC 9204 §4.3.1: above our SETTINGS_QPACK_MAX_TABLE_CAPACITY is an error.
        if (ins.value > this.maxTableCapacity) {
          r.fail(`Set Dynamic Table Capacity ${ins.value} above the maximum ${this.maxTableCapacity}`);
        }
        table.setCapacity(ins.value);
        while (table.size > table.capacity) table.evictOldest();
        return;
      }
      case EncoderOp.InsertStaticName: {
        const e = STATIC_TABLE[ins.value] ?? r.fail(`static table index ${ins.value} out of range`);
        this.insert(r, e[0], ins.fieldValue);
        return;
      }
      case EncoderOp.InsertDynamicName: {
        const e = this.relative(r, ins.value);
        this.insert(r, e.name, ins.fieldValue);
        return;
      }
      case EncoderOp.InsertLiteralName:
        this.insert(r, ins.name, ins.fieldValue);
        return;
      case EncoderOp.Duplicate: {
        const e = this.relative(r, ins.value);
        this.insert(r, e.name, e.value);
      }
    }
  }

  /** RFC 9204 §3.2.5: in encoder instructions, relative index 0 is the newest entry. */
  private relative(r: ByteReader, index: number): TableEntry {
    const abs = this.table.insertCount - 1 - index;
    return (
      this.table.get(abs) ?? r.fail(`encoder instruction refers to relative index ${index}: no such entry`)
    );
  }

  private insert(r: ByteReader, name: string, value: string): void {
    const table = this.table;
    const size = entrySize(name, value);
    // RFC 9204 §3.2.2: an entry larger than the capacity is an error. The name was copied out of
    // any entry it referred to before that entry can be evicted here.
    if (size > table.capacity)
      r.fail(`inserted entry of ${size} bytes exceeds the table capacity ${table.capacity}`);
    while (table.size + size > table.capacity) table.evictOldest();
    table.push({ name, value, size });
  }
}
