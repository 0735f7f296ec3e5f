/**
 * A bounds-checked reader for the TLS presentation language (RFC 8446 §3): big-endian integers and
 * vectors with 1, 2 or 3 byte length prefixes. Every read past the end, and every length that does not
 * fit, throws TlsAlertError(decode_error); nothing is read out of bounds.
 *
 * Slices returned by `bytes`/`vector*` reference the input buffer (no copy).
 */
import { AlertDescription, TlsAlertError } from './alert.js';

export class TlsReader {
  private readonly buf: Uint8Array;
  private pos: number;
  private readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos === this.end;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new TlsAlertError(AlertDescription.decode_error, `truncated ${what}`);
    }
  }

  u8(what = 'uint8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'uint16'): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u24(what = 'uint24'): number {
    this.need(3, what);
    const v = (this.buf[this.pos]! << 16) | (this.buf[this.pos + 1]! << 8) | this.buf[this.pos + 2]!;
    this.pos += 3;
    return v;
  }

  u32(what = 'uint32'): number {
    this.need(4, what);
    const v =
      this.buf[this.pos]! * 0x1000000 +
      ((this.buf[this.pos + 1]! << 16) | (this.buf[this.pos + 2]! << 8) | this.buf[this.pos + 3]!);
    this.pos += 4;
    return v;
  }

  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** opaque x<min..2^8-1> */
  vector8(what: string, min = 0): Uint8Array {
    const len = this.u8(what);
    return this.checkedBytes(len, min, what);
  }

  /** opaque x<min..2^16-1> */
  vector16(what: string, min = 0): Uint8Array {
    const len = this.u16(what);
    return this.checkedBytes(len, min, what);
  }

  /** opaque x<min..2^24-1> */
  vector24(what: string, min = 0): Uint8Array {
    const len = this.u24(what);
    return this.checkedBytes(len, min, what);
  }

  /** A reader over the contents of a vector with a 1-byte length. */
  sub8(what: string, min = 0): TlsReader {
    const len = this.u8(what);
    return this.subReader(len, min, what);
  }

  sub16(what: string, min = 0): TlsReader {
    const len = this.u16(what);
    return this.subReader(len, min, what);
  }

  sub24(what: string, min = 0): TlsReader {
    const len = this.u24(what);
    return this.subReader(len, min, what);
  }

  /** Throws decode_error when bytes are left over (RFC 8446 §6.2: a length that does not match). */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new TlsAlertError(
        AlertDescription.decode_error,
        `${this.end - this.pos} trailing bytes in ${what}`,
      );
    }
  }

  private checkedBytes(len: number, min: number, what: string): Uint8Array {
    if (len < min)
      throw new TlsAlertError(AlertDescription.decode_error, `${what} too short (${len} < ${min})`);
    return this.bytes(len, what);
  }

  private subReader(len: number, min: number, what: string): TlsReader {
    if (len < min)
      throw new TlsAlertError(AlertDescription.decode_error, `${what} too short (${len} < ${min})`);
    this.need(len, what);
    const r = new TlsReader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
}
