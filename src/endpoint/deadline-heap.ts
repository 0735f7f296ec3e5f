/**
 * The deadlines of many connections in one binary min-heap, indexed by key, so that the endpoint's
 * next deadline is a read of the root and a changed, added or removed deadline costs O(log n)
 * (issue 13: one timer per endpoint, not a walk over every connection per I/O turn).
 *
 * Each key has at most one entry; its position in the heap is remembered so that an update moves
 * the entry in place (no stale entries to skip later, no garbage for a deadline that moves every
 * turn). Equal deadlines come out in an order that depends only on the calls made, never on
 * anything else: callers that need a particular order among them sort what popExpired returns.
 */
import type { Millis } from '../util/time.js';

export class DeadlineHeap<K> {
  /** Heap order: keys[i]'s deadline is times[i]; the earliest is at 0. */
  private readonly keys: K[] = [];
  private readonly times: Millis[] = [];
  /** Where each key sits in the heap. */
  private readonly index = new Map<K, number>();

  get size(): number {
    return this.keys.length;
  }

  /** The deadline of `key`, if it has one. */
  get(key: K): Millis | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.times[i];
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  /** Sets, moves or (with undefined) removes the deadline of `key`. */
  set(key: K, at: Millis | undefined): void {
    if (at === undefined) {
      this.delete(key);
      return;
    }
    const i = this.index.get(key);
    if (i === undefined) {
      const n = this.keys.length;
      this.keys.push(key);
      this.times.push(at);
      this.index.set(key, n);
      this.siftUp(n);
      return;
    }
    const old = this.times[i]!;
    if (old === at) return;
    this.times[i] = at;
    if (at < old) this.siftUp(i);
    else this.siftDown(i);
  }

  /** Removes `key`'s deadline, if any. */
  delete(key: K): void {
    const i = this.index.get(key);
    if (i === undefined) return;
    this.index.delete(key);
    const last = this.keys.length - 1;
    const lastKey = this.keys.pop()!;
    const lastTime = this.times.pop()!;
    if (i === last) return;
    this.keys[i] = lastKey;
    this.times[i] = lastTime;
    this.index.set(lastKey, i);
    if (i > 0 && this.before(i, parent(i))) this.siftUp(i);
    else this.siftDown(i);
  }

  /** The earliest deadline, if any. */
  peek(): Millis | undefined {
    return this.times[0];
  }

  /** The key of the earliest deadline, if any. */
  peekKey(): K | undefined {
    return this.keys[0];
  }

  /** Removes and returns every key whose deadline is <= `now`, earliest first. */
  popExpired(now: Millis): K[] {
    const out: K[] = [];
    while (this.keys.length > 0 && this.times[0]! <= now) {
      const key = this.keys[0]!;
      out.push(key);
      this.delete(key);
    }
    return out;
  }

  private before(a: number, b: number): boolean {
    return this.times[a]! < this.times[b]!;
  }

  private swap(a: number, b: number): void {
    const k = this.keys[a]!;
    const t = this.times[a]!;
    this.keys[a] = this.keys[b]!;
    this.times[a] = this.times[b]!;
    this.keys[b] = k;
    this.times[b] = t;
    this.index.set(this.keys[a]!, a);
    this.index.set(k, b);
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const p = parent(i);
      if (!this.before(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private siftDown(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.before(r, l) ? r : l;
      if (!this.before(c, i)) return;
      this.swap(i, c);
      i = c;
    }
  }
}

function parent(i: number): number {
  return (i - 1) >> 1;
}
