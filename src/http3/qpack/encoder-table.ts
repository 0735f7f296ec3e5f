/**
 * The encoder's copy of the dynamic table (RFC 9204 §2.1): the entries it inserted, how many
 * unacknowledged field sections reference each one, the Known Received Count (§2.1.4), and lookups
 * by name and value. It enforces the eviction rule of §2.1.1 and §3.2.2: an entry is evicted only
 * when it is acknowledged (absolute index below the Known Received Count) and no unacknowledged
 * section references it; an insertion that would need any other eviction is not made.
 */
import { DynamicTable, entrySize, type TableEntry } from './dynamic-table.js';

interface EncoderEntry extends TableEntry {
  /** Unacknowledged field sections (and the section being encoded) that reference this entry. */
  refs: number;
}

interface NameEntries {
  /** Absolute index of the newest entry with this name. */
  newest: number;
  /** Absolute index of the newest entry with this name, by value. */
  byValue: Map<string, number>;
}

export class EncoderTable {
  private readonly table = new DynamicTable<EncoderEntry>();
  private readonly byName = new Map<string, NameEntries>();
  /** RFC 9204 §2.1.4: insertions the decoder has acknowledged. */
  private _knownReceivedCount = 0;
  get knownReceivedCount() {
    return this._knownReceivedCount;
  }

  /** RFC 9204 §2.1.4: the decoder has received at least `count` insertions (it never goes down). */
  raiseKnownReceivedCount(count: number): void {
    if (count > this._knownReceivedCount) this._knownReceivedCount = count;
  }

  constructor(capacity: number) {
    this.table.setCapacity(capacity);
  }

  get capacity(): number {
    return this.table.capacity;
  }
  get size(): number {
    return this.table.size;
  }
  get insertCount(): number {
    return this.table.insertCount;
  }
  get droppedCount(): number {
    return this.table.droppedCount;
  }

  name(abs: number): string {
    return this.table.get(abs)!.name;
  }

  /** Entries oldest first, for diagnostics and tests. */
  entries(): Array<{ absoluteIndex: number; name: string; value: string; refs: number }> {
    const out = [];
    for (let abs = this.table.droppedCount; abs < this.table.insertCount; abs++) {
      const e = this.table.get(abs)!;
      out.push({ absoluteIndex: abs, name: e.name, value: e.value, refs: e.refs });
    }
    return out;
  }

  /** Absolute index of the newest entry (name, value), or -1. */
  findExact(name: string, value: string): number {
    return this.byName.get(name)?.byValue.get(value) ?? -1;
  }

  /** Absolute index of the newest entry with this name, or -1. */
  findName(name: string): number {
    return this.byName.get(name)?.newest ?? -1;
  }

  /**
   * The draining index (RFC 9204 §2.1.1.1): the oldest entries that together hold what the table
   * has above `keepFree` bytes short of its capacity. New references avoid them so they can drain
   * and be evicted to make room for insertions.
   */
  drainingIndex(keepFree: number): number {
    const t = this.table;
    let excess = t.size - (t.capacity - keepFree);
    let abs = t.droppedCount;
    while (excess > 0 && abs < t.insertCount) {
      excess -= t.get(abs)!.size;
      abs++;
    }
    return abs;
  }

  /**
   * Whether an entry of `size` bytes can be inserted now: the entries it would evict must all be
   * evictable (RFC 9204 §2.1.1), and must not include `keep` (an entry the insertion refers to, which
   * a decoder would otherwise have to copy before evicting it).
   */
  canInsert(size: number, keep = -1): boolean {
    const t = this.table;
    if (size > t.capacity) return false;
    let free = t.capacity - t.size;
    let abs = t.droppedCount;
    while (free < size) {
      const e = t.get(abs)!;
      if (e.refs > 0 || abs >= this._knownReceivedCount || abs === keep) return false;
      free += e.size;
      abs++;
    }
    return true;
  }

  /** Inserts (name, value), evicting as `canInsert` allowed; returns the new absolute index. */
  insert(name: string, value: string): number {
    const t = this.table;
    const size = entrySize(name, value);
    while (t.size + size > t.capacity) this.evictOldest();
    const abs = t.push({ name, value, size, refs: 0 });
    let n = this.byName.get(name);
    if (n === undefined) {
      n = { newest: abs, byValue: new Map() };
      this.byName.set(name, n);
    }
    n.newest = abs;
    n.byValue.set(value, abs);
    return abs;
  }

  private evictOldest(): void {
    const abs = this.table.droppedCount;
    const e = this.table.oldest()!;
    // Guarded by canInsert; a broken guard must not corrupt the peer's table silently.
    if (e.refs > 0 || abs >= this._knownReceivedCount) {
      throw new Error(`QPACK encoder: evicting entry ${abs}, which is not evictable`);
    }
    this.table.evictOldest();
    const n = this.byName.get(e.name)!;
    // The evicted entry is the oldest of all: if it was the newest of its name, none is left.
    if (n.newest === abs) this.byName.delete(e.name);
    else if (n.byValue.get(e.value) === abs) n.byValue.delete(e.value);
  }

  ref(abs: number): void {
    this.table.get(abs)!.refs++;
  }

  unref(abs: number): void {
    this.table.get(abs)!.refs--;
  }
}
