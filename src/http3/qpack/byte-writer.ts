/**
 * A growable byte buffer that QPACK's encoders write into: field sections, encoder-stream and
 * decoder-stream instructions. Reused across calls; `take()` copies the bytes out and empties it.
 */
export class ByteWriter {
  buf: Uint8Array;
  /** Bytes written so far (the position of the next byte). */
  length = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Makes room for `n` more bytes; returns the position to write at. */
  reserve(n: number): number {
    const need = this.length + n;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    return this.length;
  }

  u8(v: number): void {
    const o = this.reserve(1);
    this.buf[o] = v;
    this.length = o + 1;
  }

  bytes(b: Uint8Array): void {
    const o = this.reserve(b.length);
    this.buf.set(b, o);
    this.length = o + b.length;
  }

  /** A copy of the bytes written since `from` (default: all of them). */
  copy(from = 0): Uint8Array {
    return this.buf.slice(from, this.length);
  }

  /** A copy of everything written, or undefined if nothing was; then empties the writer. */
  take(): Uint8Array | undefined {
    if (this.length === 0) return undefined;
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    return out;
  }

  reset(): void {
    this.length = 0;
  }
}
