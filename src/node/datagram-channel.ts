/**
 * DATAGRAM frames (RFC 9221) for one public connection: sending on the connection's own stream epoch
 * (so a datagram of a rejected 0-RTT attempt can never go out on the next connection), and delivering
 * received payloads to 'datagram' listeners and to `datagrams()` iterators.
 *
 * Delivery: each datagram goes to every 'datagram' listener and, when an iterator is running, into
 * its queue. When nobody consumes (no listener, no iterator: e.g. a server connection not yet
 * accepted) it is held, up to MAX_HELD, for whichever consumer comes first. A full queue drops the
 * newest datagram, as quic-go does: DATAGRAM frames are unreliable (RFC 9221 §5).
 */
import type { EventEmitter } from 'node:events';
import type { Connection } from '../connection/connection.js';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import { QuicUsageError } from '../errors/public-errors.js';
import { invalidArgType } from './validation-errors.js';

/** Received datagrams kept for a consumer that is not reading right now. */
export const MAX_HELD_DATAGRAMS = 128;

export class DatagramChannel {
  private readonly queue: Buffer[] = [];
  private readonly waiters: Array<(d: Buffer | undefined) => void> = [];
  private iterators = 0;
  private ended = false;
  /** Received datagrams dropped because no consumer kept up. */
  private _dropped = 0;
  get dropped() {
    return this._dropped;
  }

  constructor(
    private readonly emitter: EventEmitter,
    private readonly core: Connection,
    private readonly epoch: StreamEpoch,
    private readonly kick: () => void,
  ) {}

  /** Whether onNewListener is registered: from the first held datagram on. */
  private watching = false;

  /**
   * Held datagrams go to the first 'datagram' listener (after it is added: hence the next tick).
   * Registered only once a datagram is held: a connection without datagrams keeps no listener
   * (issue 13, idle memory: ~0.3 KiB with the emitter's event map).
   */
  private onNewListener(event: string | symbol): void {
    if (event === 'datagram' && this.iterators === 0 && this.queue.length > 0) {
      process.nextTick(() => this.flushToListeners());
    }
  }

  /** RFC 9221 §3: the largest payload sendDatagram() accepts now; undefined: the peer takes none. */
  get maxPayloadSize(): number | undefined {
    return this.core.datagramPayloadLimit(this.epoch);
  }

  send(data: Uint8Array): boolean {
    if (!(data instanceof Uint8Array)) throw invalidArgType('data', 'a Buffer or Uint8Array', data);
    const result = this.core.sendDatagram(this.epoch, data);
    switch (result) {
      case 'queued':
        this.kick();
        return true;
      case 'queue-full':
      case 'closed':
      // A rejected 0-RTT attempt queues nothing and throws nothing (docs/0rtt.md).
      case 'rejected':
        return false;
      case 'unsupported':
        throw new QuicUsageError(
          'ERR_QUIC_DATAGRAM_UNSUPPORTED',
          'the peer does not accept DATAGRAM frames (no max_datagram_frame_size transport parameter)',
        );
      case 'too-large':
        throw new QuicUsageError(
          'ERR_QUIC_DATAGRAM_TOO_LARGE',
          `datagram of ${data.length} bytes is larger than the ${this.maxPayloadSize ?? 0} bytes the connection can send (maxDatagramPayloadSize)`,
        );
    }
  }

  /** A datagram arrived for this connection's epoch. */
  deliver(data: Uint8Array): void {
    if (this.ended) return;
    const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const listened = this.emitter.listenerCount('datagram') > 0;
    if (listened) this.emitter.emit('datagram', payload);
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(payload);
      return;
    }
    if (this.iterators > 0 || !listened) this.hold(payload);
  }

  /** Received datagrams, in arrival order, until the connection ends (or its 0-RTT is rejected). */
  async *iterate(): AsyncGenerator<Buffer, void, undefined> {
    this.iterators++;
    try {
      for (;;) {
        const held = this.queue.shift();
        if (held) {
          yield held;
          continue;
        }
        if (this.ended) return;
        const next = await new Promise<Buffer | undefined>((resolve) => this.waiters.push(resolve));
        if (next === undefined) return;
        yield next;
      }
    } finally {
      this.iterators--;
    }
  }

  /**
   * The connection ended, or its 0-RTT attempt was rejected (`discard`: what was held belongs to a
   * dead attempt). Iterators finish; nothing is delivered any more.
   */
  end(discard = false): void {
    if (this.ended) return;
    this.ended = true;
    if (discard) this.queue.length = 0;
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  private hold(payload: Buffer): void {
    if (this.queue.length >= MAX_HELD_DATAGRAMS) {
      this._dropped++;
      return;
    }
    this.queue.push(payload);
    if (!this.watching) {
      this.watching = true;
      this.emitter.on('newListener', this.onNewListener.bind(this));
    }
  }

  private flushToListeners(): void {
    while (this.iterators === 0 && this.queue.length > 0 && this.emitter.listenerCount('datagram') > 0) {
      this.emitter.emit('datagram', this.queue.shift());
    }
  }
}
