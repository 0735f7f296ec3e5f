/**
 * The QPACK encoder (RFC 9204 §2.1): encodes field sections for our request or response streams,
 * and reads the peer decoder's instructions from its decoder stream.
 *
 * This version uses the static table and literals only (dynamic table capacity 0), which every
 * decoder accepts; the dynamic table comes next.
 */
import type { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { type DecoderInstruction, DecoderOp, readDecoderInstruction } from './decoder-instructions.js';
import { QPACK_DECODER_STREAM_ERROR, QpackUsageError } from './errors.js';
import type { FieldLine } from './field-line.js';
import { writeIndexedStatic, writeLiteralName, writeLiteralStaticName } from './field-lines.js';
import { InstructionStream } from './instruction-stream.js';
import { staticLookup } from './static-table.js';

/** The PEER's settings, from its SETTINGS frame (RFC 9204 §5). */
export interface QpackEncoderOptions {
  /** The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY. */
  maxTableCapacity: number;
  /** The peer's SETTINGS_QPACK_BLOCKED_STREAMS. */
  blockedStreams: number;
}

/** Local choices of the encoder (all optional). */
export interface QpackEncoderTuning {
  /** Huffman-code strings when shorter (default true). */
  huffman?: boolean;
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

export class QpackEncoder {
  private readonly huffman: boolean;
  private settingsApplied = false;
  private readonly section = new ByteWriter(256);
  private readonly encoderStream = new ByteWriter(64);
  private readonly decoderStream = new InstructionStream(QPACK_DECODER_STREAM_ERROR);
  private readonly instruction: DecoderInstruction = { kind: DecoderOp.SectionAck, value: 0 };
  private readonly onInstruction = (r: ByteReader) => this.applyInstruction(r);

  /**
   * `peer`: the peer's settings if already known (a client's remembered settings for 0-RTT, RFC
   * 9204 §3.2.3); before the peer's SETTINGS arrive the defaults are 0: static table only.
   */
  constructor(peer?: Partial<QpackEncoderOptions>, tuning?: QpackEncoderTuning) {
    checkSetting('maxTableCapacity', peer?.maxTableCapacity ?? 0);
    checkSetting('blockedStreams', peer?.blockedStreams ?? 0);
    this.huffman = tuning?.huffman ?? true;
  }

  /** The peer's SETTINGS arrived (call once). */
  applyPeerSettings(opts: QpackEncoderOptions): void {
    if (this.settingsApplied) throw new QpackUsageError('ERR_QPACK_SETTINGS', 'peer settings applied twice');
    checkSetting('maxTableCapacity', opts.maxTableCapacity);
    checkSetting('blockedStreams', opts.blockedStreams);
    this.settingsApplied = true;
  }

  /**
   * Encodes a field section for `streamId` (the payload of a HEADERS frame). Throws
   * QpackUsageError for a name or value with a character above U+00FF.
   */
  encode(_streamId: number, fields: readonly FieldLine[]): Uint8Array {
    const w = this.section;
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
    switch (ins.kind) {
      case DecoderOp.SectionAck:
        // RFC 9204 §4.4.1: no section with dynamic references is outstanding on any stream.
        r.fail(`Section Acknowledgment for stream ${ins.value}, which has no unacknowledged field section`);
        break;
      case DecoderOp.StreamCancellation:
        break;
      case DecoderOp.InsertCountIncrement:
        // RFC 9204 §4.4.3: zero, or beyond what we inserted (nothing), is an error.
        r.fail(`Insert Count Increment ${ins.value} beyond the 0 entries inserted`);
    }
  }
}
