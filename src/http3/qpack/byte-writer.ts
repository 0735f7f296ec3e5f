/**
 * A growable byte buffer that QPACK's encoders write into: field sections, encoder-stream and
 * decoder-stream instructions. Reused across calls; `take()` copies the bytes out and empties it.
 */
export class ByteWriter {
  private _buf: Uint8Array;
  get buf(): Uint8Array {
    return this._buf;
  }
  /** Bytes written so far (the position of the next byte). */
  private _length = 0;
  get length() {
    return this._length;
  }

  constructor(initialCapacity = 256) {
    this._buf = new Uint8Array(initialCapacity);
  }

  /** Makes room for `n` more bytes; returns the position to write at. */
  reserve(n: number): number {
    const need = this._length + n;
    if (need > this._buf.length) {
      let size = this._buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this._buf.subarray(0, this._length));
      this._buf = next;
    }
    return this._length;
  }

  /** Bytes were written in place into the room reserve() made, up to (not including) `end`. */
  commit(end: number): void {
    this._length = end;
  }

  u8(v: number): void {
    const o = this.reserve(1);
    this._buf[o] = v;
    this._length = o + 1;
  }

  bytes(b: Uint8Array): void {
    const o = this.reserve(b.length);
    this._buf.set(b, o);
    this._length = o + b.length;
  }

  /** A copy of the bytes written since `from` (default: all of them). */
  copy(from = 0): Uint8Array {
    return this._buf.slice(from, this._length);
  }

  /** A copy of everything written, or undefined if nothing was; then empties the writer. */
  take(): Uint8Array | undefined {
    if (this._length === 0) return undefined;
    const out = this._buf.slice(0, this._length);
    this._length = 0;
    return out;
  }

  reset(): void {
    this._length = 0;
  }
}
