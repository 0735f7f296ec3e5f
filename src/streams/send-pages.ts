/**
 * The pages bulk stream data is copied into (send-buffer.ts), recycled between the streams of the
 * process once their data is acknowledged.
 *
 * Why (issue 13): a stream copied each large write into an ArrayBuffer of its own. With ten streams
 * uploading at once, each buffer lived long enough (until its stream's share of the round trips
 * acknowledged it) to be promoted out of V8's young generation, and its backing store was then
 * freed only by a full mark-compact: the sending client ran one every ~90 ms, ~10% of its CPU. A
 * recycled page is allocated once and never becomes garbage.
 *
 * The rule that keeps recycling safe: a page is given back only when no view of it can be read again.
 * SendBuffer gives a page back when it releases the page's last bytes (all of them acknowledged) or
 * drops its whole content, and the views it hands out (STREAM frame data) are consumed while the
 * packet is built.
 */

/** Bytes per page: about 45 full-size STREAM frames; a frame that spans two pages is copied. */
export const PAGE_SIZE = 65536;

/** Free pages the process keeps at most (2 MiB): enough for the pages released between two writes. */
const MAX_FREE_PAGES = 32;

export class PagePool {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly maxFree = MAX_FREE_PAGES) {}

  /** Free pages held now. */
  get size(): number {
    return this.free.length;
  }

  /** A page of PAGE_SIZE bytes (its content is whatever the last user left). */
  take(): Uint8Array {
    const page = this.free.pop();
    return page === undefined ? new Uint8Array(PAGE_SIZE) : new Uint8Array(page);
  }

  /** Takes `page` back; no view of it may be read afterwards. Pages of another size are left to GC. */
  give(page: ArrayBufferLike): void {
    if (page.byteLength !== PAGE_SIZE || !(page instanceof ArrayBuffer)) return;
    if (this.free.length >= this.maxFree) return;
    // A page given twice would be handed to two streams at once: never hold it twice.
    if (this.free.includes(page)) throw new Error('PagePool: page given back twice');
    this.free.push(page);
  }
}

/** The pool every stream of the process shares. */
export const sendPages = new PagePool();
