/**
 * A fixed-capacity cursor writing into a caller's buffer (typically one datagram being packed).
 * Every write that would pass the end of the buffer throws RangeError and writes nothing; values out
 * of range for their field (negative, non-integer, too large) also throw RangeError.
 */
import { varintLength, writeVarint, writeVarintFixed } from './varint.js';

export class BufferWriter {
  /** Position of the next byte to write. */
  private pos: number;
  /** The buffer written into (a datagram builder moves it from slab to slab: `restart`). */
  private buf: Uint8Array;
  private start: number;

  constructor(buf: Uint8Array, offset = 0) {
    this.buf = buf;
    this.pos = 0;
    this.start = 0;
    this.restart(offset);
  }

  /** The buffer written into. */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /** A writer over a new zero-filled Buffer of `size` bytes. */
  static alloc(size: number): BufferWriter {
    return new BufferWriter(Buffer.alloc(size));
  }

  /** Position of the next byte to write. */
  get offset(): number {
    return this.pos;
  }

  /**
   * Moves back to `offset` (at or after where the writer started, at or before the current
   * position): what was written after it is dropped, e.g. a packet that got no frame.
   */
  rewind(offset: number): void {
    if (!Number.isInteger(offset) || offset < this.start || offset > this.pos) {
      throw new RangeError(
        `BufferWriter.rewind: invalid offset ${offset} (start ${this.start}, at ${this.pos})`,
      );
    }
    this.pos = offset;
  }

  /**
   * Starts over at `offset` of `buffer` (by default the same one; the next datagram built in a slab):
   * what was written before is no longer this writer's to rewind to.
   */
  restart(offset: number, buffer: Uint8Array = this.buf): void {
    if (!Number.isInteger(offset) || offset < 0 || offset > buffer.length) {
      throw new RangeError(`BufferWriter: invalid offset ${offset} for ${buffer.length} bytes`);
    }
    this.buf = buffer;
    this.start = offset;
    this.pos = offset;
  }

  /** Moves past `n` bytes that someone else fills in (an AEAD tag, padding written in place). */
  advance(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`BufferWriter.advance: invalid count ${n}`);
    this.pos = this.ensure(n) + n;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private ensure(n: number): number {
    const o = this.pos;
    if (o + n > this.buf.length) {
      throw new RangeError(`BufferWriter overflow: ${n} bytes at ${o} of ${this.buf.length}`);
    }
    return o;
  }

  u8(v: number): void {
    checkUint(v, 0xff);
    const o = this.ensure(1);
    this.buf[o] = v;
    this.pos = o + 1;
  }

  u16(v: number): void {
    checkUint(v, 0xffff);
    const o = this.ensure(2);
    const b = this.buf;
    b[o] = v >>> 8;
    b[o + 1] = v & 0xff;
    this.pos = o + 2;
  }

  u24(v: number): void {
    checkUint(v, 0xff_ffff);
    const o = this.ensure(3);
    const b = this.buf;
    b[o] = v >>> 16;
    b[o + 1] = (v >>> 8) & 0xff;
    b[o + 2] = v & 0xff;
    this.pos = o + 3;
  }

  u32(v: number): void {
    checkUint(v, 0xffff_ffff);
    const o = this.ensure(4);
    const b = this.buf;
    b[o] = v >>> 24;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
    this.pos = o + 4;
  }

  /** A QUIC varint in its minimal encoding (RFC 9000 §16). */
  varint(v: number | bigint): void {
    if (typeof v === 'number' && v < 0x40 && v >= 0 && (v | 0) === v) {
      const o = this.ensure(1);
      this.buf[o] = v;
      this.pos = o + 1;
      return;
    }
    this.ensure(varintLength(v));
    this.pos = writeVarint(this.buf, this.pos, v);
  }

  /** A QUIC varint using exactly `length` bytes (RFC 9000 §16 permits non-minimal encodings). */
  varintFixed(v: number, length: 1 | 2 | 4 | 8): void {
    this.ensure(length);
    this.pos = writeVarintFixed(this.buf, this.pos, v, length);
  }

  bytes(b: Uint8Array): void {
    const o = this.ensure(b.length);
    this.buf.set(b, o);
    this.pos = o + b.length;
  }

  /** `n` copies of `byte`. */
  fill(byte: number, n: number): void {
    checkUint(byte, 0xff);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`BufferWriter.fill: invalid count ${n}`);
    const o = this.ensure(n);
    this.buf.fill(byte, o, o + n);
    this.pos = o + n;
  }

  /** A view of what was written: [initial offset, offset). */
  toBytes(): Uint8Array {
    return this.buf.subarray(this.start, this.pos);
  }
}

function checkUint(v: number, max: number): void {
  if (!(v >= 0 && v <= max) || !Number.isInteger(v)) throw new RangeError(`value out of range: ${v}`);
}
