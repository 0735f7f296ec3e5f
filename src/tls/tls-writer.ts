/**
 * A growable big-endian writer for the TLS presentation language (RFC 8446 §3), with length-prefixed
 * vectors whose length is patched in when the vector is closed.
 */
import { unpooledCopy } from '../util/unpooled.js';

export class TlsWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  u24(v: number): this {
    this.ensure(3);
    this.buf.writeUIntBE(v & 0xffffff, this.pos, 3);
    this.pos += 3;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** Writes `body` inside a vector with an `lengthBytes`-byte length prefix. */
  vector(lengthBytes: 1 | 2 | 3, body: (w: this) => void): this {
    this.ensure(lengthBytes);
    const at = this.pos;
    this.pos += lengthBytes;
    body(this);
    const len = this.pos - at - lengthBytes;
    const max = 2 ** (8 * lengthBytes) - 1;
    if (len > max) throw new RangeError(`TLS vector of ${len} bytes exceeds ${max}`);
    this.buf.writeUIntBE(len, at, lengthBytes);
    return this;
  }

  vector8(data: Uint8Array): this {
    return this.vector(1, (w) => w.bytes(data));
  }

  vector16(data: Uint8Array): this {
    return this.vector(2, (w) => w.bytes(data));
  }

  vector24(data: Uint8Array): this {
    return this.vector(3, (w) => w.bytes(data));
  }

  /** A copy of the bytes written so far (of its own: a handshake message is kept until acknowledged). */
  finish(): Buffer {
    return unpooledCopy(this.buf.subarray(0, this.pos));
  }
}
