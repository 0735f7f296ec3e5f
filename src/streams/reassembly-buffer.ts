/**
 * Reassembly of an ordered byte stream from out-of-order, overlapping and duplicated pieces
 * (RFC 9000 §2.2): STREAM frame data here, CRYPTO frame data in the connection (RFC 9000 §19.6).
 *
 * Memory is bounded twice: no byte may lie more than `limit` bytes beyond the read offset (for a
 * stream the flow-control window, RFC 9000 §4.1; for CRYPTO the crypto buffer, RFC 9000 §7.5), and the
 * number of holes (gaps between held pieces) is capped, so that a peer sending tiny frames with gaps
 * cannot make the per-piece overhead explode. Adjacent small pieces are merged, so the number of held
 * segments stays close to the number of holes plus bytes/512. Both violations throw a RangeError (the
 * latter a ReassemblyFragmentationError) and leave the buffer unchanged.
 *
 * Inserted bytes are copied (frame data is a view of a packet buffer); chunks returned by read() are
 * never modified afterwards.
 */

/** Thrown by insert() when the data would leave more holes than `maxGaps` allows. */
export class ReassemblyFragmentationError extends RangeError {
  override readonly name = 'ReassemblyFragmentationError';
}

/** Small contiguous appends are packed into shared blocks of this size instead of one copy each. */
const BLOCK_SIZE = 4096;
/**
 * A stream's first block when its first small piece fits: V8 keeps a typed array of at most 64
 * bytes on its own heap, with no backing store to allocate and sweep (~40 ns against ~1.5 us for
 * 4 KiB). Most request and response streams of short exchanges never need more (issue 13).
 */
const FIRST_BLOCK_SIZE = 64;
/** Appends shorter than this go into the shared block. */
const SMALL_APPEND = 1024;
/** Adjacent segments are merged (copied into one) while their combined size stays within this. */
const MERGE_LIMIT = 1024;

/**
 * Whether a large piece of an owned buffer may be kept as a view rather than copied: it fills at
 * least half of its ArrayBuffer, so a held view never pins more than twice the bytes the limit counts.
 */
function keepView(data: Uint8Array): boolean {
  return data.byteLength * 2 >= data.buffer.byteLength;
}

/** Default cap on holes: 1024, plus one per KiB of limit. */
function defaultMaxGaps(limit: number): number {
  return 1024 + Math.floor(Math.min(limit, 2 ** 40) / 1024);
}

export class ReassemblyBuffer {
  private _limit: number;
  /** Cap on holes between held pieces; 0 means "derive from limit" (1024 + limit / 1024). */
  readonly maxGaps: number;

  // Segments [offsets[k], offsets[k] + chunks[k].length) for k >= head, sorted, non-overlapping.
  private offsets: number[] = [];
  private chunks: Uint8Array[] = [];
  private head = 0;
  private _readOffset = 0;
  private _bufferedBytes = 0;
  /** Segments that do not start where the previous one (or the read offset) ends. */
  private holes = 0;
  // Shared block (byteOffset 0) for small appends; bytes below blockUsed are never written again.
  private block: Uint8Array | undefined;
  private blockUsed = 0;

  constructor(limit: number, maxGaps = 0) {
    this._limit = limit;
    this.maxGaps = maxGaps;
  }

  /** How far beyond `readOffset` data may extend. */
  get limit(): number {
    return this._limit;
  }

  /** Lets data extend further (e.g. when a window grows); a lower value is ignored. */
  raiseLimit(limit: number): void {
    if (limit > this._limit) this._limit = limit;
  }

  /** Offset of the next byte read() returns. */
  get readOffset(): number {
    return this._readOffset;
  }

  /** Bytes held (received but not yet read). */
  get bufferedBytes(): number {
    return this._bufferedBytes;
  }

  /** Number of stored segments (for tests and memory assertions). */
  get segmentCount(): number {
    return this.chunks.length - this.head;
  }

  /** Number of holes: gaps before or between held segments. */
  get gapCount(): number {
    return this.holes;
  }

  /** The hole cap in force (maxGaps, or derived from limit). */
  get gapLimit(): number {
    return this.maxGaps > 0 ? this.maxGaps : defaultMaxGaps(this._limit);
  }

  /** Whether read() would return data now. */
  get hasReadable(): boolean {
    return this.head < this.chunks.length && this.offsets[this.head] === this._readOffset;
  }

  /** Offset just past the last stored byte, or readOffset when empty. */
  get highestOffset(): number {
    const n = this.chunks.length;
    return n > this.head ? this.offsets[n - 1]! + this.chunks[n - 1]!.length : this._readOffset;
  }

  private endOf(k: number): number {
    return this.offsets[k]! + this.chunks[k]!.length;
  }

  /**
   * Stores `data` at stream offset `offset`. Bytes below readOffset or already held are ignored
   * (RFC 9000 §2.2: data at an offset does not change when resent). Throws RangeError when
   * `offset + data.length > readOffset + limit`.
   *
   * `owned`: nobody writes to `data`'s buffer again (a decrypted packet payload), so a large piece
   * appended at the end, or a small one arriving while nothing is held, is kept as a view of it
   * instead of a copy (one allocation and copy less per received packet); the view never pins more
   * than twice its bytes (keepView).
   */
  insert(offset: number, data: Uint8Array, owned = false): void {
    const end = offset + data.length;
    if (end > this._readOffset + this._limit) {
      throw new RangeError(
        `reassembly: data up to offset ${end} exceeds limit ${this._readOffset + this._limit}`,
      );
    }
    if (end <= this._readOffset || data.length === 0) return;
    if (offset < this._readOffset) {
      data = data.subarray(this._readOffset - offset);
      offset = this._readOffset;
    }
    const n = this.chunks.length;
    const lastEnd = n > this.head ? this.endOf(n - 1) : this._readOffset;
    if (offset >= lastEnd) this.append(offset, data, offset === lastEnd, owned);
    else this.insertMiddle(offset, end, data);
  }

  private checkGaps(holes: number): void {
    if (holes > this.gapLimit) {
      throw new ReassemblyFragmentationError(`reassembly: more than ${this.gapLimit} gaps in buffered data`);
    }
  }

  /** Fast path: data lies at or after the end of every stored segment. */
  private append(offset: number, data: Uint8Array, contiguous: boolean, owned: boolean): void {
    if (!contiguous) this.checkGaps(this.holes + 1);
    const n = this.chunks.length;
    const len = data.length;
    if (len < SMALL_APPEND) {
      // Nothing held: a small piece of an owned buffer is kept as a view too (a request's HEADERS
      // frame, read at once, costs no block of its own). Only while the buffer is empty, so that at
      // most one segment is such a view and small pieces still merge into the shared block.
      if (owned && contiguous && n === this.head && keepView(data)) {
        this.offsets.push(offset);
        this.chunks.push(data);
        this._bufferedBytes += len;
        return;
      }
      const block = this.block;
      const last = contiguous && n > this.head ? this.chunks[n - 1]! : undefined;
      // Extend the last segment in place when it ends exactly at the filled end of the shared block.
      if (
        last !== undefined &&
        block !== undefined &&
        this.blockUsed + len <= block.length &&
        last.buffer === block.buffer &&
        last.byteOffset + last.length === this.blockUsed
      ) {
        block.set(data, this.blockUsed);
        this.chunks[n - 1] = block.subarray(last.byteOffset, this.blockUsed + len);
        this.blockUsed += len;
        this._bufferedBytes += len;
        return;
      }
      this.offsets.push(offset);
      this.chunks.push(this.smallCopy(data));
    } else {
      this.offsets.push(offset);
      this.chunks.push(owned && keepView(data) ? data : new Uint8Array(data));
    }
    if (!contiguous) this.holes++;
    this._bufferedBytes += len;
  }

  /** A copy of a small piece, placed in the shared block (no ArrayBuffer of its own). */
  private smallCopy(data: Uint8Array): Uint8Array {
    const len = data.length;
    if (this.block === undefined || this.blockUsed + len > this.block.length) {
      const first = this.block === undefined && len <= FIRST_BLOCK_SIZE;
      this.block = new Uint8Array(first ? FIRST_BLOCK_SIZE : BLOCK_SIZE);
      this.blockUsed = 0;
    }
    const b = this.block;
    b.set(data, this.blockUsed);
    const view = b.subarray(this.blockUsed, this.blockUsed + len);
    this.blockUsed += len;
    return view;
  }

  private copyPiece(data: Uint8Array): Uint8Array {
    return data.length < SMALL_APPEND ? this.smallCopy(data) : new Uint8Array(data);
  }

  /** Holes in the sequence `offsets/lengths`, given where the data before it ends and what follows. */
  private static countHoles(prevEnd: number, offsets: number[], chunks: Uint8Array[], next: number): number {
    let holes = 0;
    let end = prevEnd;
    for (let k = 0; k < offsets.length; k++) {
      if (offsets[k]! > end) holes++;
      end = offsets[k]! + chunks[k]!.length;
    }
    if (next >= 0 && next > end) holes++;
    return holes;
  }

  /** General path: fill only the gaps of [offset, end) between already stored segments. */
  private insertMiddle(offset: number, end: number, data: Uint8Array): void {
    const offsets = this.offsets;
    const chunks = this.chunks;
    // First segment whose end is > offset.
    let lo = this.head;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.endOf(mid) <= offset) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    // Plan the new pieces (gap fillers) without touching state.
    const pieceStarts: number[] = [];
    const pieceEnds: number[] = [];
    let pos = offset;
    let j = first;
    while (j < chunks.length && offsets[j]! < end) {
      const s = offsets[j]!;
      if (s > pos) {
        pieceStarts.push(pos);
        pieceEnds.push(s);
      }
      pos = Math.max(pos, this.endOf(j));
      j++;
    }
    if (pos < end) {
      pieceStarts.push(pos);
      pieceEnds.push(end);
    }
    if (pieceStarts.length === 0) return;
    // Holes before/after, over the affected region [first, j) plus the boundary to segment j.
    const prevEnd = first > this.head ? this.endOf(first - 1) : this._readOffset;
    const next = j < chunks.length ? offsets[j]! : -1;
    const oldOffsets = offsets.slice(first, j);
    const oldChunks = chunks.slice(first, j);
    const newOffsets: number[] = [];
    const newChunks: Uint8Array[] = [];
    const isNew: boolean[] = [];
    let p = 0;
    for (let k = 0; k <= oldOffsets.length; k++) {
      const segStart = k < oldOffsets.length ? oldOffsets[k]! : Number.POSITIVE_INFINITY;
      while (p < pieceStarts.length && pieceStarts[p]! < segStart) {
        newOffsets.push(pieceStarts[p]!);
        newChunks.push(data.subarray(pieceStarts[p]! - offset, pieceEnds[p]! - offset));
        isNew.push(true);
        p++;
      }
      if (k < oldOffsets.length) {
        newOffsets.push(oldOffsets[k]!);
        newChunks.push(oldChunks[k]!);
        isNew.push(false);
      }
    }
    const before = ReassemblyBuffer.countHoles(prevEnd, oldOffsets, oldChunks, next);
    const after = ReassemblyBuffer.countHoles(prevEnd, newOffsets, newChunks, next);
    this.checkGaps(this.holes - before + after);
    // Commit: copy the new pieces, splice them in, then merge small neighbours.
    let added = 0;
    for (let k = 0; k < newChunks.length; k++) {
      if (isNew[k]) {
        const c = newChunks[k]!;
        newChunks[k] = this.copyPiece(c);
        added += c.length;
      }
    }
    offsets.splice(first, j - first, ...newOffsets);
    chunks.splice(first, j - first, ...newChunks);
    this.holes += after - before;
    this._bufferedBytes += added;
    this.mergeSmall(Math.max(first, this.head + 1), first + newChunks.length);
  }

  /** Merges adjacent segments in [from - 1, to] whose combined size stays within MERGE_LIMIT. */
  private mergeSmall(from: number, to: number): void {
    const offsets = this.offsets;
    const chunks = this.chunks;
    let k = from;
    let last = Math.min(to, chunks.length - 1);
    while (k <= last) {
      const a = chunks[k - 1]!;
      const b = chunks[k]!;
      if (offsets[k - 1]! + a.length === offsets[k]! && a.length + b.length <= MERGE_LIMIT) {
        const merged = new Uint8Array(a.length + b.length);
        merged.set(a, 0);
        merged.set(b, a.length);
        chunks[k - 1] = merged;
        offsets.splice(k, 1);
        chunks.splice(k, 1);
        last--;
      } else {
        k++;
      }
    }
  }

  /**
   * All in-order bytes available now (at most `max`), or undefined when the byte at readOffset has
   * not arrived. A view when they lie in one stored segment, otherwise one copy joining them.
   */
  read(max?: number): Uint8Array | undefined {
    const first = this.readChunk(max);
    const limit = max === undefined ? Number.POSITIVE_INFINITY : Math.floor(max);
    if (first === undefined || first.length >= limit || !this.hasReadable) return first;
    const parts = [first];
    let total = first.length;
    while (total < limit && this.hasReadable) {
      const chunk = this.readChunk(limit - total)!;
      parts.push(chunk);
      total += chunk.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /**
   * The next in-order bytes of one stored segment (at most `max`), without copying; undefined when
   * the byte at readOffset has not arrived. Loop to get everything.
   */
  readChunk(max?: number): Uint8Array | undefined {
    if (!this.hasReadable) return undefined;
    if (max !== undefined && !(max >= 1)) return undefined;
    const chunk = this.chunks[this.head]!;
    let out: Uint8Array;
    if (max !== undefined && max < chunk.length) {
      const take = Math.floor(max);
      out = chunk.subarray(0, take);
      this.chunks[this.head] = chunk.subarray(take);
      this.offsets[this.head]! += take;
    } else {
      out = chunk;
      this.head++;
      this.compact();
    }
    this._readOffset += out.length;
    this._bufferedBytes -= out.length;
    return out;
  }

  /** Calls `fn` with [start, end) of every stored segment, in order. */
  forEachSegment(fn: (start: number, end: number) => void): void {
    for (let k = this.head; k < this.chunks.length; k++) fn(this.offsets[k]!, this.endOf(k));
  }

  /** Drops every stored byte; readOffset stays. */
  /**
   * Drop the block kept for small pieces when nothing is buffered, so that a rarely used buffer (a
   * CRYPTO stream after its handshake message) does not hold 4 KiB for the connection's life.
   */
  releaseSpareBlock(): void {
    if (this._bufferedBytes === 0) {
      this.block = undefined;
      this.blockUsed = 0;
    }
  }

  clear(): void {
    this.offsets = [];
    this.chunks = [];
    this.head = 0;
    this.holes = 0;
    this._bufferedBytes = 0;
    this.block = undefined;
    this.blockUsed = 0;
  }

  private compact(): void {
    const head = this.head;
    if (head === this.chunks.length) {
      this.offsets.length = 0;
      this.chunks.length = 0;
      this.head = 0;
    } else if (head >= 64 && head * 2 >= this.chunks.length) {
      this.offsets.splice(0, head);
      this.chunks.splice(0, head);
      this.head = 0;
    }
  }
}
