/**
 * The QPACK dynamic table (RFC 9204 §3.2): field lines in first-in, first-out order, addressed by
 * absolute index (the first entry inserted is 0, §3.2.4), with the size accounting of §3.2.1. The
 * decoder's and the encoder's copies both use this class; the encoder keeps its reference counts
 * and lookups around it (encoder-table.ts). Who may evict what is the caller's rule; this class
 * only stores.
 */

/** RFC 9204 §3.2.1: each entry costs its name and value lengths plus 32 bytes. */
export const ENTRY_OVERHEAD = 32;

export function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

export interface TableEntry {
  readonly name: string;
  readonly value: string;
  /** entrySize(name, value) */
  readonly size: number;
}

export class DynamicTable<E extends TableEntry = TableEntry> {
  /** Ring buffer of the live entries, oldest at `head`; length is a power of two. */
  private ring: Array<E | undefined> = new Array<E | undefined>(16);
  private head = 0;
  private count = 0;
  /** The current capacity (RFC 9204 §3.2.2), set by the encoder. */
  private _capacity = 0;
  get capacity() {
    return this._capacity;
  }
  /** RFC 9204 §3.2.2: the encoder sets the capacity; the caller then evicts down to it. */
  setCapacity(capacity: number): void {
    this._capacity = capacity;
  }
  /** Sum of the live entries' sizes. */
  private _size = 0;
  get size() {
    return this._size;
  }
  /** Total number of insertions so far: the next entry's absolute index (RFC 9204 §3.2.4). */
  private _insertCount = 0;
  get insertCount() {
    return this._insertCount;
  }

  /** Number of live entries. */
  get length(): number {
    return this.count;
  }

  /** Absolute index of the oldest live entry (= number of entries evicted so far). */
  get droppedCount(): number {
    return this._insertCount - this.count;
  }

  /** The live entry with absolute index `abs`, or undefined if evicted or not yet inserted. */
  get(abs: number): E | undefined {
    const i = abs - (this._insertCount - this.count);
    if (i < 0 || i >= this.count) return undefined;
    return this.ring[(this.head + i) & (this.ring.length - 1)];
  }

  /** The oldest live entry. */
  oldest(): E | undefined {
    return this.count === 0 ? undefined : this.ring[this.head];
  }

  /** Appends `e` (the caller has made room); returns its absolute index. */
  push(e: E): number {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) & (this.ring.length - 1)] = e;
    this.count++;
    this._size += e.size;
    return this._insertCount++;
  }

  /** Removes and returns the oldest entry. */
  evictOldest(): E {
    const e = this.ring[this.head];
    if (e === undefined) throw new Error('DynamicTable: evicting from an empty table');
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.count--;
    this._size -= e.size;
    return e;
  }

  private grow(): void {
    const next = new Array<E | undefined>(this.ring.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) & (this.ring.length - 1)];
    this.ring = next;
    this.head = 0;
  }
}
