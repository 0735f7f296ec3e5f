/**
 * Fair scheduling of stream data (RFC 9000 §2.3 leaves prioritization to the implementation):
 * round-robin, one frame per stream per turn. Retransmissions are served before new data, so the
 * scheduler keeps two rounds. Items are kept in insertion order (a Set); an item that was served
 * moves to the back; items that cannot be served right now keep their place.
 */
export class RoundRobin<T> {
  private readonly items = new Set<T>();

  get size(): number {
    return this.items.size;
  }

  /** Queues `item` at the back unless already queued (then it keeps its turn). */
  add(item: T): void {
    this.items.add(item);
  }

  delete(item: T): void {
    this.items.delete(item);
  }

  has(item: T): boolean {
    return this.items.has(item);
  }

  /** After `item` was served: to the back of the round if it still has something, else out. */
  served(item: T, stillActive: boolean): void {
    this.items.delete(item);
    if (stillActive) this.items.add(item);
  }

  /** Items in turn order. Deleting the current item while iterating is allowed. */
  [Symbol.iterator](): IterableIterator<T> {
    return this.items.values();
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
