/**
 * Fair scheduling of stream data (RFC 9000 §2.3 leaves prioritization to the implementation):
 * round-robin, one frame per stream per turn. Retransmissions are served before new data, so the
 * scheduler keeps two rounds. Items are kept in insertion order (a Set); an item that was served
 * moves to the back; items that cannot be served right now keep their place.
 */
/** What an empty round iterates: never written to. */
const NO_ITEMS: ReadonlySet<never> = new Set<never>();

export class RoundRobin<T> {
  /** Created with the first item: a connection that never sends stream data has none (issue 13). */
  private items: Set<T> | undefined;

  get size(): number {
    return this.items?.size ?? 0;
  }

  /** Queues `item` at the back unless already queued (then it keeps its turn). */
  add(item: T): void {
    this.items ??= new Set();
    this.items.add(item);
  }

  delete(item: T): void {
    this.items?.delete(item);
  }

  has(item: T): boolean {
    return this.items?.has(item) ?? false;
  }

  /** After `item` was served: to the back of the round if it still has something, else out. */
  served(item: T, stillActive: boolean): void {
    const items = this.items;
    // Alone in its round it is already at the back: a delete and an add per packet of a bulk
    // transfer cost a rehash of the Set now and then (issue 13).
    if (stillActive && items?.size === 1 && items.has(item)) return;
    items?.delete(item);
    if (stillActive) this.add(item);
  }

  /** Items in turn order. Deleting the current item while iterating is allowed. */
  [Symbol.iterator](): IterableIterator<T> {
    return (this.items ?? (NO_ITEMS as ReadonlySet<T>)).values();
  }
}

export class SendScheduler<T> {
  /** Streams with lost data (or a lost FIN) to retransmit. */
  readonly retransmissions = new RoundRobin<T>();
  /** Streams with new data or a FIN to send. */
  readonly newData = new RoundRobin<T>();

  remove(item: T): void {
    this.retransmissions.delete(item);
    this.newData.delete(item);
  }
}
