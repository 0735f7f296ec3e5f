/**
 * The simulator's event queue: a binary min-heap ordered by virtual time, ties broken by insertion
 * order. The tie-break is what makes a simulation deterministic: two events scheduled for the same
 * instant always run in the order they were scheduled.
 */
import type { Millis } from '../../src/util/time.js';

export interface QueuedEvent {
  time: Millis;
  /** Insertion sequence number, assigned by `push`. */
  seq: number;
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class EventQueue<E extends QueuedEvent> {
  private readonly heap: E[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Adds an event; its `seq` is overwritten with the next insertion number. */
  push(event: E): void {
    event.seq = this.nextSeq++;
    const heap = this.heap;
    heap.push(event);
    this.siftUp(heap.length - 1);
  }

  peek(): E | undefined {
    return this.heap[0];
  }

  pop(): E | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Keeps only the events for which `keep` is true (used to purge superseded timers). */
  retain(keep: (event: E) => boolean): void {
    const kept = this.heap.filter(keep);
    this.heap.length = 0;
    for (const e of kept) this.heap.push(e);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(item, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && before(heap[right]!, heap[left]!)) child = right;
      if (!before(heap[child]!, item)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
