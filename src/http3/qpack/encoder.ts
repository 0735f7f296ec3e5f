/**
 * The QPACK encoder (RFC 9204 §2.1): encodes field sections for our request or response streams,
 * writes the encoder stream that builds the peer decoder's dynamic table, and reads the peer
 * decoder's instructions from its decoder stream.
 *
 * Choices per field line, in order (a single pass, as RFC 9204 Appendix C):
 *  1. an exact static table match: indexed;
 *  2. an exact dynamic table match it may reference: indexed (pre- or post-Base). "May reference":
 *     the entry is not draining (§2.1.1.1), and it is acknowledged, or this stream may risk being
 *     blocked: it already is, or fewer than the peer's SETTINGS_QPACK_BLOCKED_STREAMS streams are
 *     (§2.1.2); a draining match is duplicated and the copy referenced (§4.3.4) when possible;
 *  3. a line seen before (the `insert` tuning) that fits is inserted, with a static or dynamic name
 *     reference when there is one (§4.3.2, §4.3.3), and referenced if this stream may block;
 *  4. otherwise a literal, with a static or (referenceable) dynamic name reference if possible.
 * Insertions never evict an entry that is unacknowledged or referenced by an unacknowledged
 * section (§2.1.1, §3.2.2), so an insertion that would is not made. Never-indexed lines (the
 * `neverIndex` flag, credentials, short cookies) are literals with the N bit and never inserted.
 */
import type { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { type DecoderInstruction, DecoderOp, readDecoderInstruction } from './decoder-instructions.js';
import { entrySize } from './dynamic-table.js';
import {
  writeDuplicate,
  writeInsertDynamicName,
  writeInsertLiteralName,
  writeInsertStaticName,
  writeSetCapacity,
} from './encoder-instructions.js';
import { EncoderTable } from './encoder-table.js';
import { QPACK_DECODER_STREAM_ERROR, QpackError, QpackUsageError } from './errors.js';
import type { FieldLine } from './field-line.js';
import {
  maxEntries,
  writeIndexedDynamic,
  writeIndexedPostBase,
  writeIndexedStatic,
  writeLiteralDynamicName,
  writeLiteralName,
  writeLiteralPostBaseName,
  writeLiteralStaticName,
  writeSectionPrefix,
} from './field-lines.js';
import { InstructionStream } from './instruction-stream.js';
import { isLatin1 } from './latin1.js';
import { staticLookup } from './static-table.js';
import { UnackedSections } from './unacked-sections.js';

/** The PEER's settings, from its SETTINGS frame (RFC 9204 §5). */
export interface QpackEncoderOptions {
  /** The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY. */
  maxTableCapacity: number;
  /** The peer's SETTINGS_QPACK_BLOCKED_STREAMS. */
  blockedStreams: number;
}

/** Local choices of the encoder (all optional). */
export interface QpackEncoderTuning {
  /** Huffman-code strings when that is shorter (default true). */
  huffman?: boolean;
  /** The most dynamic table capacity to use, bounding our memory (default 4096 bytes). */
  maxTableCapacity?: number;
  /**
   * Which field lines to insert into the dynamic table: 'repeated' (default) those already sent
   * once recently, 'all' every line that fits (RFC 9204 Appendix B's encoder, and best when most
   * lines repeat).
   */
  insert?: 'repeated' | 'all';
  /**
   * Unacknowledged field sections with dynamic references to track at most; beyond, sections use
   * only the static table until acknowledgments arrive (bounds memory if the peer never
   * acknowledges). Default 1000.
   */
  maxUnacknowledgedSections?: number;
}

const DEFAULT_TABLE_CAPACITY = 4096;
const DEFAULT_MAX_UNACKED_SECTIONS = 1000;
/** Slots of the 'repeated' policy's memory of recent lines (a power of two). */
const SEEN_SLOTS = 512;

/** FNV-1a over name, a separator and value; never 0 (0 marks an empty slot). */
function lineHash(name: string, value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x100, 0x01000193);
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

function checkSetting(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new QpackUsageError('ERR_QPACK_SETTINGS', `${name} must be a non-negative integer, got ${v}`);
  }
}

/**
 * Fields sent as never-indexed literals even without `neverIndex` (RFC 9204 §7.1.3): credentials,
 * and cookies too short to resist guessing (the choice nghttp2 and Node's http2 make).
 */
function isSensitive(name: string, value: string): boolean {
  return (
    name === 'authorization' || name === 'proxy-authorization' || (name === 'cookie' && value.length < 20)
  );
}

/** Whether the section being encoded may reference unacknowledged entries (risk blocking). */
const MAY_BLOCK_UNKNOWN = 0;
const MAY_BLOCK_YES = 1;
const MAY_BLOCK_NO = 2;

export class QpackEncoder {
  private readonly huffman: boolean;
  private readonly capacityLimit: number;
  private readonly insertAll: boolean;
  private readonly maxUnacked: number;
  /** The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY, as known (remembered for 0-RTT, or received). */
  private peerMaxCapacity: number;
  /** Non-zero: the remembered value the peer's SETTINGS must repeat (RFC 9204 §3.2.3). */
  private readonly rememberedCapacity: number;
  private blockedStreams: number;
  private settingsApplied = false;
  /** Undefined while the dynamic table may not be used (peer's maximum 0). */
  private table: EncoderTable | undefined;
  private capacitySent = false;
  private readonly unacked = new UnackedSections();
  /**
   * Lines sent recently, for the 'repeated' policy: a direct-mapped cache of line hashes. A
   * collision at worst inserts a line on its first sight; memory is fixed.
   */
  private readonly seen = new Int32Array(SEEN_SLOTS);

  private readonly lines = new ByteWriter(256);
  private readonly prefix = new ByteWriter(16);
  private readonly encoderStream = new ByteWriter(64);
  private readonly decoderStream = new InstructionStream(QPACK_DECODER_STREAM_ERROR);
  private readonly instruction: DecoderInstruction = { kind: DecoderOp.SectionAck, value: 0 };
  private readonly onInstruction = (r: ByteReader) => this.applyInstruction(r);

  // Per-section state of encode().
  private streamId = 0;
  private base = 0;
  private ric = 0;
  private refs: number[] = [];
  private mayBlock: number = MAY_BLOCK_UNKNOWN;

  /**
   * `peer`: the peer's settings if already known: a client's remembered settings for 0-RTT
   * (RFC 9204 §3.2.3, RFC 9114 §7.2.4.2). Before the peer's SETTINGS arrive the defaults are 0:
   * static table only.
   */
  constructor(peer?: Partial<QpackEncoderOptions>, tuning?: QpackEncoderTuning) {
    const max = peer?.maxTableCapacity ?? 0;
    const blocked = peer?.blockedStreams ?? 0;
    checkSetting('maxTableCapacity', max);
    checkSetting('blockedStreams', blocked);
    this.huffman = tuning?.huffman ?? true;
    this.capacityLimit = tuning?.maxTableCapacity ?? DEFAULT_TABLE_CAPACITY;
    checkSetting('tuning.maxTableCapacity', this.capacityLimit);
    this.insertAll = tuning?.insert === 'all';
    this.maxUnacked = tuning?.maxUnacknowledgedSections ?? DEFAULT_MAX_UNACKED_SECTIONS;
    this.peerMaxCapacity = max;
    this.rememberedCapacity = max;
    this.blockedStreams = blocked;
    this.setUpTable();
  }

  /**
   * The peer's SETTINGS arrived (call once). Throws QpackError QPACK_DECODER_STREAM_ERROR if the
   * encoder was created with a remembered non-zero capacity and the peer now states another (RFC
   * 9204 §3.2.3). (A reduced blocked-stream count after 0-RTT is the HTTP/3 layer's
   * H3_SETTINGS_ERROR, RFC 9114 §7.2.4.2; the encoder just follows the new value.)
   */
  applyPeerSettings(opts: QpackEncoderOptions): void {
    if (this.settingsApplied) throw new QpackUsageError('ERR_QPACK_SETTINGS', 'peer settings applied twice');
    checkSetting('maxTableCapacity', opts.maxTableCapacity);
    checkSetting('blockedStreams', opts.blockedStreams);
    this.settingsApplied = true;
    if (this.rememberedCapacity !== 0 && opts.maxTableCapacity !== this.rememberedCapacity) {
      throw new QpackError(
        QPACK_DECODER_STREAM_ERROR,
        `SETTINGS_QPACK_MAX_TABLE_CAPACITY ${opts.maxTableCapacity} differs from the remembered ${this.rememberedCapacity}`,
      );
    }
    this.peerMaxCapacity = opts.maxTableCapacity;
    this.blockedStreams = opts.blockedStreams;
    this.setUpTable();
  }

  private setUpTable(): void {
    const capacity = Math.min(this.peerMaxCapacity, this.capacityLimit);
    // RFC 9204 §3.2.3: with a maximum of 0, no insertions and no encoder instructions.
    if (this.table === undefined && capacity >= 32) this.table = new EncoderTable(capacity);
  }

  // ---- diagnostics (tests, debugging) ----

  /** The encoder's dynamic table, oldest first, with unacknowledged references per entry. */
  tableEntries(): Array<{ absoluteIndex: number; name: string; value: string; refs: number }> {
    return this.table?.entries() ?? [];
  }
  get insertCount(): number {
    return this.table?.insertCount ?? 0;
  }
  get knownReceivedCount(): number {
    return this.table?.knownReceivedCount ?? 0;
  }
  get tableSize(): number {
    return this.table?.size ?? 0;
  }
  /** The capacity in use (0 until the dynamic table is used). */
  get tableCapacity(): number {
    return this.capacitySent ? this.table!.capacity : 0;
  }
  /** Streams that could be blocked at the decoder (RFC 9204 §2.1.2). */
  get blockingStreamCount(): number {
    return this.unacked.blockingStreams(this.knownReceivedCount);
  }
  get unacknowledgedSectionCount(): number {
    return this.unacked.count;
  }
  /** Bytes of a partial decoder instruction held until the rest arrives (at most 11). */
  get bufferedDecoderStreamBytes(): number {
    return this.decoderStream.buffered;
  }

  // ---- encoding ----

  /**
   * Encodes a field section for `streamId` (the payload of a HEADERS frame). Encoder-stream
   * instructions it needs are queued for `takeEncoderStreamData()`, which must be sent too.
   * Throws QpackUsageError for a name or value with a character above U+00FF (nothing is queued
   * or changed then).
   */
  encode(streamId: number, fields: readonly FieldLine[]): Uint8Array {
    const t = this.table;
    if (t === undefined || this.unacked.count >= this.maxUnacked) return this.encodeStatic(fields);
    // A field the encoder cannot represent must fail before any state changes.
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (!isLatin1(f.name) || !isLatin1(f.value)) this.refuse(f);
    }
    const w = this.lines;
    w.reset();
    this.streamId = streamId;
    this.base = t.insertCount;
    this.ric = 0;
    this.refs = [];
    this.mayBlock = MAY_BLOCK_UNKNOWN;
    const drain = t.drainingIndex(t.capacity >>> 2);
    const huffman = this.huffman;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const name = f.name;
      const value = f.value;
      const never = f.neverIndex === true || isSensitive(name, value);
      const st = staticLookup(name);
      if (!never) {
        if (st !== undefined) {
          const index = st.values.get(value);
          if (index !== undefined) {
            writeIndexedStatic(w, index);
            continue;
          }
        }
        if (this.encodeFromTable(t, name, value, st?.nameIndex ?? -1, drain)) continue;
      }
      if (st !== undefined) {
        writeLiteralStaticName(w, st.nameIndex, value, never, huffman);
        continue;
      }
      const nameAbs = t.findName(name);
      if (nameAbs >= drain && this.mayReference(t, nameAbs)) {
        this.reference(t, nameAbs);
        if (nameAbs < this.base) writeLiteralDynamicName(w, this.base - 1 - nameAbs, value, never, huffman);
        else writeLiteralPostBaseName(w, nameAbs - this.base, value, never, huffman);
        continue;
      }
      writeLiteralName(w, name, value, never, huffman);
    }
    const p = this.prefix;
    p.reset();
    writeSectionPrefix(p, this.ric, this.base, maxEntries(this.peerMaxCapacity));
    if (this.ric > 0) this.unacked.add(streamId, { ric: this.ric, refs: this.refs });
    const out = new Uint8Array(p.length + w.length);
    out.set(p.buf.subarray(0, p.length), 0);
    out.set(w.buf.subarray(0, w.length), p.length);
    return out;
  }

  /** Steps 2 and 3 of the class comment; true if the line was encoded. */
  private encodeFromTable(
    t: EncoderTable,
    name: string,
    value: string,
    staticName: number,
    drain: number,
  ): boolean {
    const size = entrySize(name, value);
    const abs = t.findExact(name, value);
    if (abs >= 0) {
      if (abs >= drain && this.mayReference(t, abs)) {
        this.indexed(t, abs);
        return true;
      }
      // Draining (or unacknowledged while this stream may not block): refer to a fresh copy.
      if (abs < drain && this.canBlock() && t.canInsert(size, abs)) {
        this.startTable();
        writeDuplicate(this.encoderStream, t.insertCount - 1 - abs);
        this.indexed(t, t.insert(name, value));
        return true;
      }
      if (this.mayReference(t, abs)) {
        this.indexed(t, abs);
        return true;
      }
      return false;
    }
    if (!this.shouldInsert(t, name, value, size)) return false;
    let inserted: number;
    if (staticName >= 0) {
      if (!t.canInsert(size)) return false;
      this.startTable();
      writeInsertStaticName(this.encoderStream, staticName, value, this.huffman);
      inserted = t.insert(name, value);
    } else {
      const nameAbs = t.findName(name);
      if (nameAbs >= 0 && t.canInsert(size, nameAbs)) {
        this.startTable();
        writeInsertDynamicName(this.encoderStream, t.insertCount - 1 - nameAbs, value, this.huffman);
      } else if (t.canInsert(size)) {
        this.startTable();
        writeInsertLiteralName(this.encoderStream, name, value, this.huffman);
      } else {
        return false;
      }
      inserted = t.insert(name, value);
    }
    if (!this.canBlock()) return false; // inserted for later sections; a literal now
    this.indexed(t, inserted);
    return true;
  }

  /** RFC 9204 §3.2.2: the capacity goes out before the first insertion. */
  private startTable(): void {
    if (this.capacitySent) return;
    writeSetCapacity(this.encoderStream, this.table!.capacity);
    this.capacitySent = true;
  }

  private shouldInsert(t: EncoderTable, name: string, value: string, size: number): boolean {
    // Entries above 3/4 of the table would flush it on every insertion.
    if (size > t.capacity - (t.capacity >>> 2)) return false;
    if (this.insertAll) return true;
    const h = lineHash(name, value);
    const slot = h & (SEEN_SLOTS - 1);
    if (this.seen[slot] === h) {
      this.seen[slot] = 0;
      return true;
    }
    this.seen[slot] = h;
    return false;
  }

  /** Whether this section may reference entry `abs`: acknowledged, or the stream may block. */
  private mayReference(t: EncoderTable, abs: number): boolean {
    return abs < t.knownReceivedCount || this.canBlock();
  }

  /** RFC 9204 §2.1.2: never more streams that could be blocked than the peer allows. */
  private canBlock(): boolean {
    if (this.mayBlock === MAY_BLOCK_UNKNOWN) {
      const krc = this.table!.knownReceivedCount;
      const already = this.unacked.isBlocking(this.streamId, krc);
      this.mayBlock =
        already || this.unacked.blockingStreams(krc) < this.blockedStreams ? MAY_BLOCK_YES : MAY_BLOCK_NO;
    }
    return this.mayBlock === MAY_BLOCK_YES;
  }

  private reference(t: EncoderTable, abs: number): void {
    t.ref(abs);
    this.refs.push(abs);
    if (abs >= this.ric) this.ric = abs + 1;
  }

  private indexed(t: EncoderTable, abs: number): void {
    this.reference(t, abs);
    if (abs < this.base) writeIndexedDynamic(this.lines, this.base - 1 - abs);
    else writeIndexedPostBase(this.lines, abs - this.base);
  }

  private encodeStatic(fields: readonly FieldLine[]): Uint8Array {
    const w = this.lines;
    w.reset();
    // RFC 9204 §4.5.1: Required Insert Count 0, Delta Base 0.
    w.u8(0);
    w.u8(0);
    const huffman = this.huffman;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const name = f.name;
      const value = f.value;
      const never = f.neverIndex === true || isSensitive(name, value);
      const st = staticLookup(name);
      if (st === undefined) {
        writeLiteralName(w, name, value, never, huffman);
        continue;
      }
      if (!never) {
        const index = st.values.get(value);
        if (index !== undefined) {
          writeIndexedStatic(w, index);
          continue;
        }
      }
      writeLiteralStaticName(w, st.nameIndex, value, never, huffman);
    }
    return w.copy();
  }

  private refuse(f: FieldLine): never {
    throw new QpackUsageError(
      'ERR_QPACK_INVALID_FIELD',
      `field ${JSON.stringify(f.name.slice(0, 40))} has a character above U+00FF (fields are octets)`,
    );
  }

  // ---- the peer's decoder stream ----

  /** Bytes to append to our encoder stream, if any. */
  takeEncoderStreamData(): Uint8Array | undefined {
    return this.encoderStream.take();
  }

  /** Bytes of the peer's decoder stream (split anywhere). Throws QpackError QPACK_DECODER_STREAM_ERROR. */
  onDecoderStreamData(data: Uint8Array): void {
    this.decoderStream.feed(data, this.onInstruction);
  }

  private applyInstruction(r: ByteReader): void {
    const ins = this.instruction;
    readDecoderInstruction(r, ins);
    const t = this.table;
    switch (ins.kind) {
      case DecoderOp.SectionAck: {
        // RFC 9204 §4.4.1: it acknowledges the stream's earliest unacknowledged section.
        const s = this.unacked.acknowledge(ins.value);
        if (s === undefined || t === undefined) {
          r.fail(`Section Acknowledgment for stream ${ins.value}, which has no unacknowledged field section`);
        }
        for (const abs of s.refs) t.unref(abs);
        // RFC 9204 §2.1.4: the Known Received Count rises to the section's Required Insert Count.
        t.raiseKnownReceivedCount(s.ric);
        return;
      }
      case DecoderOp.StreamCancellation: {
        // RFC 9204 §4.4.2: the stream's references are no longer outstanding.
        if (t === undefined) return;
        for (const s of this.unacked.cancel(ins.value)) for (const abs of s.refs) t.unref(abs);
        return;
      }
      case DecoderOp.InsertCountIncrement: {
        // RFC 9204 §4.4.3: zero, or beyond what we inserted, is an error.
        const inserted = t?.insertCount ?? 0;
        const known = t?.knownReceivedCount ?? 0;
        if (ins.value === 0 || known + ins.value > inserted) {
          r.fail(`Insert Count Increment ${ins.value} with ${known} of ${inserted} insertions acknowledged`);
        }
        t!.raiseKnownReceivedCount(known + ins.value);
      }
    }
  }
}
