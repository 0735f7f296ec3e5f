/**
 * Reads HTTP/3 frames (RFC 9114 §7) incrementally off one stream. Bytes go in as they arrive (split
 * anywhere); `next()` gives what is complete:
 * - DATA payloads as they arrive, without waiting for the whole frame (a 100 MiB DATA frame is never
 *   buffered);
 * - every other known frame once its payload is complete, buffered up to a per-type limit;
 * - unknown and reserved frame types are skipped without buffering (RFC 9114 §9).
 *
 * Each frame header is shown to `check(type, length)` before anything of its payload is used, so the
 * owner of the stream can refuse a frame that is not allowed where it appeared (or too large) before
 * reading it. It is pull-based: a reader that stops calling next() stops consuming, which lets QUIC
 * flow control push back on the peer.
 */
import { readVarint } from '../wire/varint.js';
import { H3ErrorCode } from './error-codes.js';
import { decodeFramePayload, type H3Frame, H3FrameType, isReservedHttp2FrameType } from './frames.js';
import { h3ConnectionError, h3StreamError } from './h3-protocol-error.js';

/** The frames the reader buffers and returns whole: every known type except DATA. */
export type BufferedFrame = Exclude<H3Frame, { type: H3FrameType.Data } | { type: 'unknown' }>;

export type FrameReaderItem =
  /** A complete frame other than DATA (unknown types never show up: they are skipped). */
  | { kind: 'frame'; frame: BufferedFrame }
  /** Bytes of a DATA frame's payload, in order. */
  | { kind: 'data'; data: Uint8Array };

/** Called with each frame header; throws to refuse the frame. Returns the payload limit for buffered frames. */
export type FrameCheck = (type: number, length: number) => void;

/** Largest payload of a frame that carries a single varint (CANCEL_PUSH, GOAWAY, MAX_PUSH_ID). */
const VARINT_FRAME_MAX = 8;

type State =
  | { kind: 'header' }
  | { kind: 'data'; remaining: number }
  | { kind: 'buffer'; type: number; length: number }
  | { kind: 'skip'; remaining: number };

export interface FrameReaderLimits {
  /** Largest HEADERS or PUSH_PROMISE payload (the encoded field section) accepted. */
  maxFieldSectionFrame: number;
  /** Largest SETTINGS payload accepted. */
  maxSettingsFrame: number;
}

export const DEFAULT_READER_LIMITS: FrameReaderLimits = {
  maxFieldSectionFrame: 64 * 1024,
  maxSettingsFrame: 16 * 1024,
};

export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private state: State = { kind: 'header' };

  constructor(
    private readonly check: FrameCheck,
    private readonly limits: FrameReaderLimits = DEFAULT_READER_LIMITS,
  ) {}

  /** Bytes received on the stream. The reader keeps a reference; the caller must not reuse them. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes pushed but not consumed yet. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True between frames with nothing buffered: the stream may end here (RFC 9114 §7.1). */
  get atFrameBoundary(): boolean {
    return this.state.kind === 'header' && this.buffered === 0;
  }

  /**
   * A varint before the frames (a unidirectional stream's type, a push stream's push ID): undefined
   * until all its bytes have arrived. Only valid before the first frame.
   */
  readPrefixVarint(): number | undefined {
    if (this.buffered === 0) return undefined;
    const len = 1 << (this.chunks[0]![0]! >> 6);
    if (this.buffered < len) return undefined;
    const bytes = this.take(len);
    return readVarint(bytes, 0).value;
  }

  /** The next complete item, or undefined until more bytes arrive. Throws H3ProtocolError. */
  next(): FrameReaderItem | undefined {
    for (;;) {
      const s = this.state;
      switch (s.kind) {
        case 'header': {
          if (!this.readHeader()) return undefined;
          continue;
        }
        case 'data': {
          if (s.remaining === 0) {
            this.state = { kind: 'header' };
            continue;
          }
          if (this.buffered === 0) return undefined;
          const first = this.chunks[0]!;
          const n = Math.min(first.length, s.remaining);
          const data = this.take(n);
          s.remaining -= n;
          if (s.remaining === 0) this.state = { kind: 'header' };
          return { kind: 'data', data };
        }
        case 'buffer': {
          if (this.buffered < s.length) return undefined;
          const payload = this.take(s.length);
          this.state = { kind: 'header' };
          // Only known types other than DATA are buffered (readHeader), so this is one of them.
          const frame = decodeFramePayload(s.type, payload) as BufferedFrame;
          return { kind: 'frame', frame };
        }
        case 'skip': {
          while (s.remaining > 0 && this.buffered > 0) {
            const n = Math.min(this.chunks[0]!.length, s.remaining);
            this.take(n);
            s.remaining -= n;
          }
          if (s.remaining > 0) return undefined;
          this.state = { kind: 'header' };
          continue;
        }
      }
    }
  }

  /** Parse a frame header if complete; false when more bytes are needed. */
  private readHeader(): boolean {
    if (this.buffered === 0) return false;
    const typeLen = 1 << (this.chunks[0]![0]! >> 6);
    if (this.buffered <= typeLen) return false;
    const head = this.peek(Math.min(this.buffered, 16));
    const lenLen = 1 << (head[typeLen]! >> 6);
    if (head.length < typeLen + lenLen) return false;
    const type = readVarint(head, 0).value;
    const length = readVarint(head, typeLen).value;
    this.take(typeLen + lenLen);
    // RFC 9114 §7.2.8: HTTP/2 frame types that have no HTTP/3 meaning.
    if (isReservedHttp2FrameType(type)) {
      throw h3ConnectionError(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
    }
    this.check(type, length);
    switch (type) {
      case H3FrameType.Data:
        this.state = { kind: 'data', remaining: length };
        return true;
      case H3FrameType.Headers:
      case H3FrameType.PushPromise:
        // A stream error: the connection goes on (a server answers 431, RFC 9114 §4.2.2).
        if (length > this.limits.maxFieldSectionFrame) {
          throw h3StreamError(
            H3ErrorCode.H3_EXCESSIVE_LOAD,
            `field section frame of ${length} bytes exceeds ${this.limits.maxFieldSectionFrame}`,
          );
        }
        break;
      case H3FrameType.Settings:
        if (length > this.limits.maxSettingsFrame) {
          throw h3ConnectionError(H3ErrorCode.H3_EXCESSIVE_LOAD, `SETTINGS frame of ${length} bytes`);
        }
        break;
      case H3FrameType.CancelPush:
      case H3FrameType.Goaway:
      case H3FrameType.MaxPushId:
        // RFC 9114 §7.1: the payload is exactly one varint.
        if (length > VARINT_FRAME_MAX || length === 0) {
          throw h3ConnectionError(
            H3ErrorCode.H3_FRAME_ERROR,
            `frame 0x${type.toString(16)} of ${length} bytes`,
          );
        }
        break;
      default:
        this.state = { kind: 'skip', remaining: length };
        return true;
    }
    this.state = { kind: 'buffer', type, length };
    return true;
  }

  /** The first `n` buffered bytes without consuming them (n <= buffered). */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (off === n) break;
    }
    return out;
  }

  /** Consume the first `n` buffered bytes (n <= buffered); a view when they lie in one chunk. */
  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }

  /**
   * The stream ended (FIN) and next() returned undefined: it must have ended between frames
   * (RFC 9114 §7.1), else H3_FRAME_ERROR.
   */
  finish(): void {
    if (!this.atFrameBoundary) {
      throw h3ConnectionError(H3ErrorCode.H3_FRAME_ERROR, 'stream ended inside a frame');
    }
  }
}
