/**
 * A bounds-checked cursor over a byte range, used by every decoder in tsquic.
 *
 * Every read past `end` throws `TruncatedInputError`; the caller maps it to its protocol's error
 * (FRAME_ENCODING_ERROR, TRANSPORT_PARAMETER_ERROR, a TLS decode_error alert, a dropped packet...).
 * `bytes()` returns views into the underlying buffer, never copies.
 */

/** A read went past the end of the input. */
export class TruncatedInputError extends Error {
  override readonly name = 'TruncatedInputError';
  constructor(message = 'input truncated') {
    super(message);
  }
}

const TWO_POW_32 = 0x1_0000_0000;

export class BufferReader {
  /** Position of the next byte to read. */
  private pos: number;
  /** One past the last readable byte. */
  readonly end: number;
  readonly buffer: Uint8Array;

  /**
   * Reads `buf` from `start` (default 0) to `end` (default `buf.length`).
   * Throws RangeError if the range does not lie within `buf`.
   */
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > buf.length || start > end) {
      throw new RangeError(`BufferReader: invalid range [${start}, ${end}) over ${buf.length} bytes`);
    }
    this.buffer = buf;
    this.pos = start;
    this.end = end;
  }

  /** Position of the next byte to read. */
  get offset(): number {
    return this.pos;
  }

  /** Skips the run of zero bytes that starts here (PADDING, RFC 9000 §19.1); returns its length. */
  skipZeroBytes(): number {
    const buf = this.buffer;
    const end = this.end;
    const start = this.pos;
    let o = start;
    while (o < end && buf[o] === 0) o++;
    this.pos = o;
    return o - start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    const o = this.pos;
    if (o >= this.end) throw new TruncatedInputError();
    this.pos = o + 1;
    return this.buffer[o]!;
  }

  u16(): number {
    const o = this.pos;
    if (o + 2 > this.end) throw new TruncatedInputError();
    const b = this.buffer;
    this.pos = o + 2;
    return (b[o]! << 8) | b[o + 1]!;
  }

  u24(): number {
    const o = this.pos;
    if (o + 3 > this.end) throw new TruncatedInputError();
    const b = this.buffer;
    this.pos = o + 3;
    return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
  }

  u32(): number {
    const o = this.pos;
    if (o + 4 > this.end) throw new TruncatedInputError();
    const b = this.buffer;
    this.pos = o + 4;
    return b[o]! * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }

  /**
   * A QUIC variable-length integer (RFC 9000 §16) as a number. Exact up to 2^53; larger 8-byte
   * values are rounded to the nearest double (see `varintBig` for the exact value).
   */
  varint(): number {
    const o = this.pos;
    const end = this.end;
    if (o >= end) throw new TruncatedInputError();
    const b = this.buffer;
    const first = b[o]!;
    // RFC 9000 §16: the two most significant bits of the first byte give the length.
    switch (first >> 6) {
      case 0:
        this.pos = o + 1;
        return first;
      case 1:
        if (o + 2 > end) throw new TruncatedInputError();
        this.pos = o + 2;
        return ((first & 0x3f) << 8) | b[o + 1]!;
      case 2:
        if (o + 4 > end) throw new TruncatedInputError();
        this.pos = o + 4;
        return (first & 0x3f) * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
      default: {
        if (o + 8 > end) throw new TruncatedInputError();
        this.pos = o + 8;
        const hi = (first & 0x3f) * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
        const lo = b[o + 4]! * 0x100_0000 + ((b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!);
        // hi * 2^32 is exact; the single addition rounds once to the nearest double.
        return hi * TWO_POW_32 + lo;
      }
    }
  }

  /** A QUIC variable-length integer (RFC 9000 §16), exact. */
  varintBig(): bigint {
    const o = this.pos;
    if (o >= this.end) throw new TruncatedInputError();
    const b = this.buffer;
    const first = b[o]!;
    if (first < 0xc0) return BigInt(this.varint());
    if (o + 8 > this.end) throw new TruncatedInputError();
    this.pos = o + 8;
    const hi = (first & 0x3f) * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
    const lo = b[o + 4]! * 0x100_0000 + ((b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** The next `n` bytes as a view (subarray) of the buffer, no copy. */
  bytes(n: number): Uint8Array {
    const o = this.pos;
    if (!(n >= 0)) throw new RangeError(`BufferReader.bytes: invalid length ${n}`);
    if (n > this.end - o) throw new TruncatedInputError();
    this.pos = o + n;
    return this.buffer.subarray(o, o + n);
  }

  skip(n: number): void {
    if (!(n >= 0)) throw new RangeError(`BufferReader.skip: invalid length ${n}`);
    if (n > this.end - this.pos) throw new TruncatedInputError();
    this.pos += n;
  }

  /** The next byte without consuming it. */
  peekU8(): number {
    const o = this.pos;
    if (o >= this.end) throw new TruncatedInputError();
    return this.buffer[o]!;
  }

  /** Everything up to `end` as a view; the reader is left at `end`. */
  rest(): Uint8Array {
    const o = this.pos;
    this.pos = this.end;
    return this.buffer.subarray(o, this.end);
  }
}
