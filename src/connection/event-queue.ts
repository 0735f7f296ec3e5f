/**
 * The connection's events in the order they happened. The connection's own events (handshake,
 * tickets, datagrams, close) wait here; the stream events of the current epoch wait in its
 * StreamManager. Each connection event remembers how many stream events had been emitted when it
 * was pushed, and polling merges the two queues on that mark: what a packet did to streams (data, a
 * FIN, an acknowledgment that completes a delivery) is reported before a CONNECTION_CLOSE that
 * followed it, in the same packet or a later one.
 */
import type { StreamManager } from '../streams/stream-manager.js';
import type { ConnectionEvent } from './connection-events.js';
import type { StreamEpoch } from './stream-epoch.js';

interface Pending {
  event: ConnectionEvent;
  /** The stream manager current when the event was pushed, and how many events it had emitted then. */
  streams: StreamManager | undefined;
  mark: number;
}

export class ConnectionEventQueue {
  private items: Pending[] = [];
  private head = 0;

  /** `owner.epoch`: the connection's current stream epoch (its stream events are merged in). */
  constructor(private readonly owner: { readonly epoch: StreamEpoch | undefined }) {}

  push(event: ConnectionEvent): void {
    // Not built yet (issue 13): no stream event was emitted before this one, as with mark 0.
    const streams = this.owner.epoch?.builtStreams;
    this.items.push({ event, streams, mark: streams?.eventsEmitted ?? 0 });
  }

  poll(): ConnectionEvent | undefined {
    const epoch = this.owner.epoch;
    // A rejected epoch's stream events are dropped with it (RFC 9001 §4.6.2, docs/0rtt.md).
    const live = epoch !== undefined && !epoch.rejected ? epoch : undefined;
    const next = this.items[this.head];
    const streamFirst =
      next !== undefined &&
      live !== undefined &&
      next.streams !== undefined &&
      live.builtStreams === next.streams &&
      next.streams.emittedBefore(next.mark);
    if (next !== undefined && !streamFirst) {
      this.head++;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      return next.event;
    }
    const event = live?.builtStreams?.pollEvent();
    return event === undefined || live === undefined ? undefined : { type: 'stream', epoch: live, event };
  }
}
