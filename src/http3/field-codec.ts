/**
 * What the HTTP/3 session needs from field compression (QPACK, RFC 9204): an encoder for what we
 * send and a decoder for what we receive, created per connection. The shapes are those of
 * src/http3/qpack (the agreed QPACK interface), so the session can be tested with any codec of that
 * shape; qpack-codec.ts is the one used by default.
 */

/** One field line; names are lowercase (RFC 9114 §4.2). */
export interface FieldLine {
  name: string;
  value: string;
  /** Never put this field into a compression table (RFC 9204 §4.5.4, e.g. for secrets). */
  neverIndex?: boolean;
}

export type DecodeResult =
  | { status: 'done'; fields: FieldLine[] }
  /** Waits for encoder-stream data (RFC 9204 §2.1.2). */
  | { status: 'blocked' }
  /** Decoded, but larger than our SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2): fields dropped. */
  | { status: 'too-large'; size: number; limit: number };

/** A blocked section, decoded now. */
export type UnblockedSection = { streamId: number } & Exclude<DecodeResult, { status: 'blocked' }>;

export interface FieldEncoder {
  /** The peer's QPACK settings arrived (RFC 9204 §3.2.3). */
  applyPeerSettings(opts: { maxTableCapacity: number; blockedStreams: number }): void;
  encode(streamId: number, fields: readonly FieldLine[]): Uint8Array;
  takeEncoderStreamData(): Uint8Array | undefined;
  /** Throws an error with `h3Code` QPACK_DECODER_STREAM_ERROR. */
  onDecoderStreamData(data: Uint8Array): void;
}

export interface FieldDecoder {
  /** Throws an error with `h3Code` QPACK_DECOMPRESSION_FAILED. */
  decode(streamId: number, fieldSection: Uint8Array): DecodeResult;
  /** Sections that were blocked and are now decoded. Throws an error with `h3Code`. */
  onEncoderStreamData(data: Uint8Array): UnblockedSection[];
  /** We stopped reading a stream before its field sections were processed (RFC 9204 §4.4.2). */
  cancelStream(streamId: number): void;
  takeDecoderStreamData(): Uint8Array | undefined;
}

export interface FieldCodec {
  /** Before the peer's SETTINGS: static table only (or `remembered` settings for 0-RTT). */
  createEncoder(remembered?: { maxTableCapacity: number; blockedStreams: number }): FieldEncoder;
  createDecoder(opts: {
    maxTableCapacity: number;
    maxBlockedStreams: number;
    maxFieldSectionSize: number;
  }): FieldDecoder;
}

/** The H3 error code a codec error carries (QpackError.h3Code), or undefined for other errors. */
export function codecErrorCode(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { h3Code?: unknown }).h3Code;
  return typeof code === 'number' ? code : undefined;
}
