/**
 * The application events of one StreamManager, in the order they happened. It counts what was
 * emitted and polled, so that the connection can put its own events in their place among these
 * (src/connection/event-queue.ts).
 */
import type { StreamEvent } from './stream-types.js';

export class StreamEventQueue {
  private events: StreamEvent[] = [];
  private head = 0;
  private emitted = 0;
  private polled = 0;

  push(event: StreamEvent): void {
    this.events.push(event);
    this.emitted++;
  }

  poll(): StreamEvent | undefined {
    if (this.head >= this.events.length) {
      if (this.events.length > 0) {
        this.events = [];
        this.head = 0;
      }
      return undefined;
    }
    const event = this.events[this.head++];
    this.polled++;
    return event;
  }

  /** How many events were emitted so far. */
  get emittedCount(): number {
    return this.emitted;
  }

  /** Whether an event emitted before the `mark`-th one is still to be polled. */
  emittedBefore(mark: number): boolean {
    return this.polled < mark;
  }
}
