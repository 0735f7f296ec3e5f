/**
 * Small SimNodes for testing the simulator itself (and for sanity checks of link conditions in other
 * tests): a recorder with an outbox, an echo (ping-pong) node, and a numbered sender with a fixed
 * retransmission timeout plus its acknowledging receiver.
 */
import type { Millis } from '../../src/util/time.js';
import type { SimAddress, SimNode } from './network.js';

export interface Received {
  time: Millis;
  from: SimAddress;
  data: Uint8Array;
}

/** Records every datagram it receives; sends whatever is queued with `send`. */
export class RecorderNode implements SimNode {
  readonly received: Received[] = [];
  protected readonly outbox: Array<{ datagram: Uint8Array; to: SimAddress }> = [];
  private outHead = 0;

  /** Queues a datagram; it leaves at the next transmit opportunity. */
  send(to: SimAddress, datagram: Uint8Array): void {
    this.outbox.push({ datagram, to });
  }

  receive(datagram: Uint8Array, from: SimAddress, now: Millis): void {
    this.received.push({ time: now, from, data: Uint8Array.from(datagram) });
  }

  transmit(_now: Millis): { datagram: Uint8Array; to: SimAddress } | undefined {
    if (this.outHead >= this.outbox.length) return undefined;
    return this.outbox[this.outHead++];
  }

  nextTimeout(): Millis | undefined {
    return undefined;
  }

  handleTimeout(_now: Millis): void {}
}

/** Replies to every datagram with the same bytes, until `maxReplies` replies were sent. */
export class EchoNode extends RecorderNode {
  replies = 0;
  constructor(private readonly maxReplies = Number.POSITIVE_INFINITY) {
    super();
  }

  override receive(datagram: Uint8Array, from: SimAddress, now: Millis): void {
    super.receive(datagram, from, now);
    if (this.replies < this.maxReplies) {
      this.replies++;
      this.send(from, Uint8Array.from(datagram));
    }
  }
}

/** FNV-1a over bytes [start, end): the toy "integrity check" that lets a receiver drop corrupted datagrams. */
export function checksum(data: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

/** The tag stored in bytes 4..8 of a numbered datagram: covers the sequence number and the filler. */
function integrityTag(d: Uint8Array): number {
  return (checksum(d, 0, 4) ^ checksum(d, 8, d.length)) >>> 0;
}

/** A numbered datagram: [u32 sequence][u32 checksum of the rest][filler], `size` >= 8 bytes. */
export function numberedDatagram(seq: number, size: number): Uint8Array {
  const d = new Uint8Array(Math.max(8, size));
  const view = new DataView(d.buffer);
  view.setUint32(0, seq);
  for (let i = 8; i < d.length; i++) d[i] = (seq + i) & 0xff;
  view.setUint32(4, integrityTag(d));
  return d;
}

/** The sequence number of a numbered datagram, or undefined when it is malformed or corrupted. */
export function parseNumbered(d: Uint8Array): number | undefined {
  if (d.length < 8) return undefined;
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (view.getUint32(4) !== integrityTag(d)) return undefined;
  return view.getUint32(0);
}

export interface NumberedSenderOptions {
  peer: SimAddress;
  count: number;
  /** Datagram size in bytes (default 100). */
  size?: number;
  /** Spacing between first transmissions; 0 sends them all at once (default 0). */
  interval?: Millis;
  /** Retransmit a datagram not acknowledged this long after it was sent; undefined: never. */
  rto?: Millis;
  /** Reuse one buffer for every datagram (to check that the network copies on send). */
  reuseBuffer?: boolean;
}

/**
 * Sends `count` numbered datagrams to `peer`, spaced by `interval`, and retransmits unacknowledged ones
 * after `rto`. Acknowledgements are 8-byte numbered datagrams carrying the acknowledged sequence number
 * (see NumberedReceiver); corrupted ones are ignored.
 */
export class NumberedSender implements SimNode {
  readonly acked = new Set<number>();
  /** Every (first or repeated) transmission: [time, seq]. */
  readonly sent: Array<[Millis, number]> = [];
  retransmissions = 0;
  doneAt: Millis | undefined;

  private nextSeq = 0;
  private nextSendAt: Millis | undefined;
  private readonly pending: number[] = [];
  // Retransmission FIFO: with a constant RTO, send order is deadline order.
  private readonly rtxSeq: number[] = [];
  private readonly rtxAt: Millis[] = [];
  private rtxHead = 0;
  private readonly buffer: Uint8Array;

  constructor(private readonly opts: NumberedSenderOptions) {
    this.buffer = new Uint8Array(Math.max(8, opts.size ?? 100));
  }

  get done(): boolean {
    return this.acked.size === this.opts.count;
  }

  receive(datagram: Uint8Array, _from: SimAddress, now: Millis): void {
    const seq = parseNumbered(datagram);
    if (seq !== undefined && seq < this.opts.count) this.acked.add(seq);
    if (this.done && this.doneAt === undefined) this.doneAt = now;
  }

  transmit(now: Millis): { datagram: Uint8Array; to: SimAddress } | undefined {
    if (this.nextSendAt === undefined) this.nextSendAt = now;
    let seq = this.pending.shift();
    if (seq === undefined && this.nextSeq < this.opts.count && now >= this.nextSendAt) {
      seq = this.nextSeq++;
      this.nextSendAt = now + (this.opts.interval ?? 0);
    }
    if (seq === undefined) return undefined;
    this.sent.push([now, seq]);
    if (this.opts.rto !== undefined) {
      this.rtxSeq.push(seq);
      this.rtxAt.push(now + this.opts.rto);
    }
    const fresh = numberedDatagram(seq, this.opts.size ?? 100);
    if (this.opts.reuseBuffer !== true) return { datagram: fresh, to: this.opts.peer };
    this.buffer.set(fresh);
    return { datagram: this.buffer, to: this.opts.peer };
  }

  nextTimeout(): Millis | undefined {
    while (this.rtxHead < this.rtxSeq.length && this.acked.has(this.rtxSeq[this.rtxHead]!)) this.rtxHead++;
    const rtx = this.rtxHead < this.rtxSeq.length ? this.rtxAt[this.rtxHead] : undefined;
    const send = this.nextSeq < this.opts.count ? this.nextSendAt : undefined;
    if (rtx === undefined) return send;
    if (send === undefined) return rtx;
    return Math.min(rtx, send);
  }

  handleTimeout(now: Millis): void {
    while (this.rtxHead < this.rtxSeq.length && this.rtxAt[this.rtxHead]! <= now) {
      const seq = this.rtxSeq[this.rtxHead++]!;
      if (!this.acked.has(seq)) {
        this.pending.push(seq);
        this.retransmissions++;
      }
    }
  }
}

/** Receives numbered datagrams, drops corrupted ones, and acknowledges each valid one. */
export class NumberedReceiver extends RecorderNode {
  /** Valid datagrams in arrival order: [time, seq]. */
  readonly arrivals: Array<[Millis, number]> = [];
  readonly unique = new Set<number>();
  corrupted = 0;

  constructor(private readonly ack = true) {
    super();
  }

  override receive(datagram: Uint8Array, from: SimAddress, now: Millis): void {
    super.receive(datagram, from, now);
    const seq = parseNumbered(datagram);
    if (seq === undefined) {
      this.corrupted++;
      return;
    }
    this.arrivals.push([now, seq]);
    this.unique.add(seq);
    if (this.ack) this.send(from, numberedDatagram(seq, 8));
  }
}
