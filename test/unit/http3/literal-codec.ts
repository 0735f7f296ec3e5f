/**
 * A minimal QPACK codec for tests of the HTTP/3 session: the encoder writes every field as a
 * "Literal Field Line with Literal Name" (RFC 9204 §4.5.6) with Required Insert Count 0, no Huffman;
 * the decoder reads exactly that. It has the shape of the real codec (FieldCodec), so sessions can
 * be tested without it, and it records what it was asked to do.
 */
import type {
  DecodeResult,
  FieldCodec,
  FieldDecoder,
  FieldEncoder,
  FieldLine,
  UnblockedSection,
} from '../../../src/http3/field-codec.js';

export class LiteralCodecError extends Error {
  readonly h3Code = 0x200;
}

function writeInt(out: number[], prefixBits: number, firstByte: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(firstByte | value);
    return;
  }
  out.push(firstByte | max);
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function readInt(buf: Uint8Array, pos: { i: number }, prefixBits: number): number {
  if (pos.i >= buf.length) throw new LiteralCodecError('truncated');
  const max = (1 << prefixBits) - 1;
  let v = buf[pos.i++]! & max;
  if (v < max) return v;
  let m = 1;
  for (;;) {
    if (pos.i >= buf.length) throw new LiteralCodecError('truncated integer');
    const b = buf[pos.i++]!;
    v += (b & 0x7f) * m;
    m *= 128;
    if ((b & 0x80) === 0) return v;
    if (m > 2 ** 35) throw new LiteralCodecError('integer too large');
  }
}

export function encodeLiteralSection(fields: readonly FieldLine[]): Uint8Array {
  const out: number[] = [0, 0];
  for (const f of fields) {
    const name = Buffer.from(f.name, 'latin1');
    const value = Buffer.from(f.value, 'latin1');
    writeInt(out, 3, 0x20 | (f.neverIndex ? 0x10 : 0), name.length);
    out.push(...name);
    writeInt(out, 7, 0, value.length);
    out.push(...value);
  }
  return Uint8Array.from(out);
}

export function decodeLiteralSection(section: Uint8Array): FieldLine[] {
  if (section.length < 2 || section[0] !== 0 || section[1] !== 0)
    throw new LiteralCodecError('not a literal section');
  const pos = { i: 2 };
  const fields: FieldLine[] = [];
  while (pos.i < section.length) {
    const first = section[pos.i]!;
    if ((first & 0xe0) !== 0x20 || (first & 0x08) !== 0)
      throw new LiteralCodecError('unsupported representation');
    const nameLen = readInt(section, pos, 3);
    if (pos.i + nameLen > section.length) throw new LiteralCodecError('truncated name');
    const name = Buffer.from(section.subarray(pos.i, pos.i + nameLen)).toString('latin1');
    pos.i += nameLen;
    if (pos.i >= section.length || (section[pos.i]! & 0x80) !== 0) throw new LiteralCodecError('bad value');
    const valueLen = readInt(section, pos, 7);
    if (pos.i + valueLen > section.length) throw new LiteralCodecError('truncated value');
    const value = Buffer.from(section.subarray(pos.i, pos.i + valueLen)).toString('latin1');
    pos.i += valueLen;
    fields.push((first & 0x10) !== 0 ? { name, value, neverIndex: true } : { name, value });
  }
  return fields;
}

export class LiteralCodec implements FieldCodec {
  readonly encoders: LiteralEncoder[] = [];
  readonly decoders: LiteralDecoder[] = [];

  createEncoder(remembered?: { maxTableCapacity: number; blockedStreams: number }): FieldEncoder {
    const e = new LiteralEncoder(remembered);
    this.encoders.push(e);
    return e;
  }

  createDecoder(opts: {
    maxTableCapacity: number;
    maxBlockedStreams: number;
    maxFieldSectionSize: number;
  }): FieldDecoder {
    const d = new LiteralDecoder(opts);
    this.decoders.push(d);
    return d;
  }
}

export class LiteralEncoder implements FieldEncoder {
  peerSettings: { maxTableCapacity: number; blockedStreams: number } | undefined;
  decoderStreamBytes = 0;
  readonly encoded: number[] = [];
  constructor(readonly remembered?: { maxTableCapacity: number; blockedStreams: number }) {}
  applyPeerSettings(opts: { maxTableCapacity: number; blockedStreams: number }): void {
    this.peerSettings = opts;
  }
  encode(streamId: number, fields: readonly FieldLine[]): Uint8Array {
    this.encoded.push(streamId);
    return encodeLiteralSection(fields);
  }
  takeEncoderStreamData(): Uint8Array | undefined {
    return undefined;
  }
  onDecoderStreamData(data: Uint8Array): void {
    this.decoderStreamBytes += data.length;
  }
}

export class LiteralDecoder implements FieldDecoder {
  readonly cancelled: number[] = [];
  encoderStreamBytes = 0;
  constructor(
    readonly opts: { maxTableCapacity: number; maxBlockedStreams: number; maxFieldSectionSize: number },
  ) {}
  decode(_streamId: number, fieldSection: Uint8Array): DecodeResult {
    return { status: 'done', fields: decodeLiteralSection(fieldSection) };
  }
  onEncoderStreamData(data: Uint8Array): UnblockedSection[] {
    this.encoderStreamBytes += data.length;
    return [];
  }
  cancelStream(streamId: number): void {
    this.cancelled.push(streamId);
  }
  takeDecoderStreamData(): Uint8Array | undefined {
    return undefined;
  }
}
