/**
 * A set of byte offsets kept as sorted, disjoint, non-adjacent half-open ranges [start, end).
 * Used by the send side for acknowledged data and for data waiting for retransmission.
 * The common in-order cases (append at the end, remove from the front) avoid splicing.
 */
/**
 * The arrays of every empty set: shared and frozen (a write would throw). A set makes its own on its
 * first range, of exactly one slot (a push into an empty array reserves 17), and gives them up
 * when cleared (issue 13, idle memory: a connection's CRYPTO streams keep two sets each).
 */
const NONE: number[] = Object.freeze([] as number[]) as number[];

export class RangeSet {
  private starts: number[] = NONE;
  private ends: number[] = NONE;

  get isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /** Number of disjoint ranges. */
  get rangeCount(): number {
    return this.starts.length;
  }

  /** Start of the lowest range; only valid when not empty. */
  get firstStart(): number {
    return this.starts[0]!;
  }

  /** End (exclusive) of the lowest range; only valid when not empty. */
  get firstEnd(): number {
    return this.ends[0]!;
  }

  clear(): void {
    this.starts = NONE;
    this.ends = NONE;
  }

  /** First index whose end is >= offset (ranges touching or after `offset`). */
  private lowerBoundEnd(offset: number, inclusive: boolean): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.ends[mid]!;
      if (inclusive ? e < offset : e <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const n = this.starts.length;
    if (n === 0) {
      this.starts = [start];
      this.ends = [end];
      return;
    }
    if (start > this.ends[n - 1]!) {
      this.starts.push(start);
      this.ends.push(end);
      return;
    }
    if (start >= this.starts[n - 1]!) {
      if (end > this.ends[n - 1]!) this.ends[n - 1] = end;
      return;
    }
    const i = this.lowerBoundEnd(start, true);
    let j = i;
    while (j < n && this.starts[j]! <= end) j++;
    if (i === j) {
      this.starts.splice(i, 0, start);
      this.ends.splice(i, 0, end);
      return;
    }
    const s = Math.min(start, this.starts[i]!);
    const e = Math.max(end, this.ends[j - 1]!);
    this.starts.splice(i, j - i, s);
    this.ends.splice(i, j - i, e);
  }

  remove(start: number, end: number): void {
    if (end <= start || this.starts.length === 0) return;
    let i = this.lowerBoundEnd(start, false);
    while (i < this.starts.length && this.starts[i]! < end) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      if (s < start && e > end) {
        // Split one range into two.
        this.ends[i] = start;
        this.starts.splice(i + 1, 0, end);
        this.ends.splice(i + 1, 0, e);
        return;
      }
      if (s < start) {
        this.ends[i] = start;
        i++;
      } else if (e > end) {
        this.starts[i] = end;
        return;
      } else if (i === 0) {
        this.starts.shift();
        this.ends.shift();
      } else {
        this.starts.splice(i, 1);
        this.ends.splice(i, 1);
      }
    }
    if (this.starts.length === 0) this.clear();
  }

  /** Whether every offset of [start, end) is in the set. */
  covers(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.lowerBoundEnd(start, false);
    return i < this.starts.length && this.starts[i]! <= start && this.ends[i]! >= end;
  }

  /** Calls `fn` for each maximal sub-range of [start, end) that is NOT in the set, in order. */
  forEachGap(start: number, end: number, fn: (gapStart: number, gapEnd: number) => void): void {
    let pos = start;
    let i = this.lowerBoundEnd(start, false);
    while (pos < end && i < this.starts.length && this.starts[i]! < end) {
      const s = this.starts[i]!;
      if (s > pos) fn(pos, s);
      pos = Math.max(pos, this.ends[i]!);
      i++;
    }
    if (pos < end) fn(pos, end);
  }

  /** Removes everything below `offset`. */
  removeBelow(offset: number): void {
    if (this.starts.length > 0 && this.starts[0]! < offset) this.remove(this.starts[0]!, offset);
  }

  /** The ranges as [start, end) pairs (for tests and debugging). */
  toArray(): Array<[number, number]> {
    return this.starts.map((s, k) => [s, this.ends[k]!]);
  }
}
