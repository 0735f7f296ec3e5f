/**
 * The hand-over of one write() from Node's Writable to the core (issue 10, defect 5): the core takes
 * as much of the chunk as the send budgets allow (sendBufferSize per stream, connectionSendBufferSize
 * per connection), the rest waits here as a view of the application's buffer (not a copy) and goes
 * in on each 'writable' event. The write's callback runs once the core took the whole chunk, which
 * is what holds Node's writable buffer, and so the application, back.
 */
import type { StreamManager } from '../streams/stream-manager.js';

export type Callback = (err?: Error | null) => void;

export class WriteHandover {
  private callback: Callback | undefined;
  /** What of the chunk the core has not taken yet. */
  private rest: Buffer | undefined;
  /** The size of the whole chunk (still in Node's writableLength until its callback runs). */
  private size = 0;

  constructor(
    private readonly streams: StreamManager,
    private readonly id: number,
    /** Wake the I/O loop: there is something to send. */
    private readonly kick: () => void,
  ) {}

  start(chunk: Buffer, cb: Callback): void {
    this.rest = chunk;
    this.callback = cb;
    this.size = chunk.length;
    this.flush();
  }

  /** Bytes of Node's writableLength that are in our hands (the chunk being handed over). */
  get bytesInHand(): number {
    return this.callback ? this.size : 0;
  }

  /** The pending write's callback, leaving nothing pending (what is left of its chunk is dropped). */
  take(): Callback | undefined {
    const cb = this.callback;
    this.callback = undefined;
    this.rest = undefined;
    return cb;
  }

  /** The stream may write again: hand over more, or complete a write the core already took whole. */
  onWritable(): void {
    if (this.rest === undefined) {
      this.take()?.();
      return;
    }
    // Reset since the event was queued (the peer's STOP_SENDING in the same batch): the
    // 'stop-sending' event that follows fails the write with the peer's code.
    if (this.streams.canWrite(this.id)) this.flush();
  }

  /** The application ended the stream: what the budgets had not let in yet goes in whole. */
  pushRest(): void {
    if (this.rest !== undefined) this.streams.write(this.id, this.rest);
  }

  /** Hand the core as much of the pending chunk as it takes; the callback runs once it took it all. */
  private flush(): void {
    const chunk = this.rest;
    if (chunk === undefined) return;
    // The core reset our sending part (the peer's STOP_SENDING) before the shell heard of it: the
    // 'stop-sending' event that follows settles this write; failing it here would destroy a Duplex
    // whose reading goes on.
    if (!this.streams.canWrite(this.id)) return;
    let taken: number;
    try {
      taken = this.streams.writeSome(this.id, chunk);
    } catch (err) {
      this.take()?.(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (taken > 0) this.kick();
    if (taken === chunk.length) this.take()?.();
    else this.rest = chunk.subarray(taken);
  }
}
