/**
 * The bytes of one stream's sending part, from the lowest unacknowledged offset to the end of what
 * the application wrote (RFC 9000 §3.1: data is kept until acknowledged so that it can be
 * retransmitted). Written bytes are copied once; small writes are packed into shared blocks so a
 * frame usually is a view (no copy) of a single chunk.
 *
 * Three places a write is copied to: small writes into blocks of the stream's own (growing to 16
 * KiB); a large write on a stream that has carried less than BULK_STREAM bytes into an exact-size
 * copy (an HTTP/3 response body holds no more memory than it needs); every large write after that
 * into pages of the process's PagePool (send-pages.ts), which go back to the pool once acknowledged.
 */
import { PAGE_SIZE, type PagePool, sendPages } from './send-pages.js';

/** The largest block small writes are packed into. */
const BLOCK_SIZE = 16384;
/**
 * A stream's first block: most streams carry a few small writes (an HTTP/3 request or response,
 * a control stream), and a 16 KiB block per stream was most of the memory allocated, and zeroed,
 * per request. Each further block doubles, up to BLOCK_SIZE.
 */
const FIRST_BLOCK = 256;
const SMALL_WRITE = 2048;
/** Large writes go into pooled pages once the stream reaches this many bytes (one page). */
export const BULK_STREAM = PAGE_SIZE;

export class SendBuffer {
  private starts: number[] = [];
  private chunks: Uint8Array[] = [];
  private head = 0;
  private block: Uint8Array | undefined;
  private blockUsed = 0;
  /** The pooled page large writes are being copied into, and how much of it is filled. */
  private page: Uint8Array | undefined;
  private pageUsed = 0;
  private _end = 0;

  constructor(private readonly pages: PagePool = sendPages) {}

  /** Offset just past the last written byte (total bytes written). */
  get end(): number {
    return this._end;
  }

  /** Offset of the first byte still held. */
  get start(): number {
    return this.head < this.chunks.length ? this.starts[this.head]! : this._end;
  }

  /** Appends a copy of `data`. */
  append(data: Uint8Array): void {
    const len = data.length;
    if (len === 0) return;
    const n = this.chunks.length;
    if (len < SMALL_WRITE) {
      const block = this.block;
      const last = n > this.head ? this.chunks[n - 1]! : undefined;
      if (
        block !== undefined &&
        last !== undefined &&
        this.blockUsed + len <= block.length &&
        last.buffer === block.buffer &&
        last.byteOffset + last.length === this.blockUsed
      ) {
        block.set(data, this.blockUsed);
        this.chunks[n - 1] = block.subarray(last.byteOffset, this.blockUsed + len);
        this.blockUsed += len;
        this._end += len;
        return;
      }
      if (block === undefined || this.blockUsed + len > block.length) {
        const size = block === undefined ? FIRST_BLOCK : Math.min(BLOCK_SIZE, 2 * block.length);
        this.block = new Uint8Array(Math.max(size, len));
        this.blockUsed = 0;
      }
      const b = this.block!;
      b.set(data, this.blockUsed);
      this.starts.push(this._end);
      this.chunks.push(b.subarray(this.blockUsed, this.blockUsed + len));
      this.blockUsed += len;
    } else if (this._end + len < BULK_STREAM) {
      this.starts.push(this._end);
      this.chunks.push(new Uint8Array(data));
    } else {
      this.appendToPages(data);
      return;
    }
    this._end += len;
  }

  /** Copies `data` into the current page and, when it is full, into new ones from the pool. */
  private appendToPages(data: Uint8Array): void {
    const len = data.length;
    let pos = 0;
    while (pos < len) {
      let page = this.page;
      if (page === undefined || this.pageUsed === PAGE_SIZE) {
        page = this.pages.take();
        this.page = page;
        this.pageUsed = 0;
      }
      const used = this.pageUsed;
      const n = Math.min(len - pos, PAGE_SIZE - used);
      page.set(n === len ? data : data.subarray(pos, pos + n), used);
      // Consecutive writes into one page make one chunk: frames are views, not copies, within it.
      const k = this.chunks.length - 1;
      const last = k >= this.head ? this.chunks[k]! : undefined;
      if (last !== undefined && last.buffer === page.buffer && last.byteOffset + last.length === used) {
        this.chunks[k] = page.subarray(last.byteOffset, used + n);
      } else {
        this.starts.push(this._end);
        this.chunks.push(page.subarray(used, used + n));
      }
      this.pageUsed = used + n;
      this._end += n;
      pos += n;
    }
  }

  /** Index of the chunk holding `offset` (start <= offset < end). */
  private indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The bytes [from, to); a view when they lie in one chunk, otherwise a copy. Requires start <= from < to <= end. */
  slice(from: number, to: number): Uint8Array {
    let k = this.indexOf(from);
    const s = this.starts[k]!;
    const chunk = this.chunks[k]!;
    if (to <= s + chunk.length) return chunk.subarray(from - s, to - s);
    const out = new Uint8Array(to - from);
    let written = 0;
    let pos = from;
    while (pos < to) {
      const cs = this.starts[k]!;
      const c = this.chunks[k]!;
      const take = Math.min(cs + c.length, to) - pos;
      out.set(c.subarray(pos - cs, pos - cs + take), written);
      written += take;
      pos += take;
      k++;
    }
    return out;
  }

  /** Drops the chunks that lie entirely below `offset` (they were acknowledged). */
  release(offset: number): void {
    const n = this.chunks.length;
    let h = this.head;
    while (h < n && this.starts[h]! + this.chunks[h]!.length <= offset) h++;
    if (h === this.head) return;
    // A full page whose last chunk goes has no bytes left in the buffer: back to the pool.
    for (let k = this.head; k < h; k++) {
      const c = this.chunks[k]!;
      if (c.byteOffset + c.length === PAGE_SIZE && c.buffer.byteLength === PAGE_SIZE) this.givePage(c.buffer);
    }
    if (h === n) {
      // Nothing is left: the page being filled goes back as well (the next write takes a fresh one).
      if (this.page !== undefined) this.givePage(this.page.buffer);
      this.starts = [];
      this.chunks = [];
      this.head = 0;
      return;
    }
    const empty = new Uint8Array(0);
    for (let k = this.head; k < h; k++) this.chunks[k] = empty;
    this.head = h;
    if (h >= 64 && h * 2 >= n) {
      this.starts.splice(0, h);
      this.chunks.splice(0, h);
      this.head = 0;
    }
  }

  /** Drops everything (the stream was reset); `end` stays. */
  clear(): void {
    this.starts = [];
    this.chunks = [];
    this.head = 0;
    this.block = undefined;
    this.blockUsed = 0;
    // The pages are left to GC: clear() is rare, and no bookkeeping says which are full.
    this.page = undefined;
    this.pageUsed = 0;
  }

  private givePage(buffer: ArrayBufferLike): void {
    if (this.page !== undefined && this.page.buffer === buffer) {
      this.page = undefined;
      this.pageUsed = 0;
    }
    this.pages.give(buffer);
  }
}
