/**
 * What the streams of one StreamManager send next (RFC 9000 §2.3 leaves the order to us): the
 * connection-level control frames, the streams with a pending control frame, then retransmitted
 * and new stream data, round-robin between streams (send-scheduler.ts). It owns which streams wait
 * to send; the StreamManager tells it when a stream changed.
 */
import { addTo, sharedEmptySet } from '../util/shared-empty-set.js';
import type { Millis } from '../util/time.js';
import type { StreamFrame } from '../wire/frames.js';
import type { ConnectionFlow } from './connection-flow.js';
import { SendScheduler } from './send-scheduler.js';
import { SentFrameKind, SentFrameRecord } from './sent-frame-record.js';
import { hasStreamControl, popStreamControl } from './stream-control-frames.js';
import type { SendingEntry, StreamEntry } from './stream-entry.js';
import type { PoppedFrame } from './stream-types.js';

export class StreamSendQueue {
  private readonly scheduler = new SendScheduler<SendingEntry>();
  /**
   * Streams with a pending RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA or STREAM_DATA_BLOCKED (the
   * shared empty set until the first: issue 13, idle memory).
   */
  private controlQueue = sharedEmptySet<StreamEntry>();

  constructor(
    /** The StreamManager: the owner of every record (records of another epoch are ignored). */
    private readonly owner: object,
    private readonly conn: ConnectionFlow,
    private readonly rtt: () => Millis,
  ) {}

  /** Puts a stream into the scheduler rounds it belongs to after a change. */
  reschedule(entry: SendingEntry): void {
    const send = entry.send;
    if (send.hasRetransmit()) this.scheduler.retransmissions.add(entry);
    if (send.wantsNew()) {
      this.scheduler.newData.add(entry);
      this.checkConnectionBlocked();
    }
    if (send.checkBlocked()) this.controlQueue = addTo(this.controlQueue, entry);
  }

  /** The stream may have a control frame to send. */
  addControl(entry: StreamEntry): void {
    this.controlQueue = addTo(this.controlQueue, entry);
  }

  /** The sending part was reset: no more data, a RESET_STREAM instead. */
  onSendReset(entry: SendingEntry): void {
    this.scheduler.remove(entry);
    this.controlQueue = addTo(this.controlQueue, entry);
  }

  /** The stream was freed. */
  remove(entry: StreamEntry): void {
    this.controlQueue.delete(entry);
    if (entry.kind !== 'receive-only') this.scheduler.remove(entry);
  }

  /** Whether popFrame could return something (control frames or stream data within flow control). */
  hasPendingFrames(): boolean {
    if (this.conn.hasPendingControl) return true;
    for (const entry of this.controlQueue) {
      if (hasStreamControl(entry)) return true;
      this.controlQueue.delete(entry);
    }
    for (const entry of this.scheduler.retransmissions) {
      if (entry.send.hasRetransmit()) return true;
      this.scheduler.retransmissions.delete(entry);
    }
    const connectionCredit = this.conn.send.available;
    for (const entry of this.scheduler.newData) {
      const send = entry.send;
      if (!send.wantsNew()) {
        this.scheduler.newData.delete(entry);
        continue;
      }
      if (connectionCredit > 0 || send.hasPendingFin()) return true;
    }
    return false;
  }

  /**
   * The next frame whose encoded size (with the Length field) is <= maxBytes: control frames first,
   * then retransmitted stream data, then new stream data, round-robin between streams.
   */
  popFrame(maxBytes: number, now: Millis): PoppedFrame | undefined {
    return (
      this.conn.popControl(this.owner, maxBytes, now, this.rtt) ??
      this.popStreamControl(maxBytes, now) ??
      this.popRetransmission(maxBytes) ??
      this.popNewData(maxBytes)
    );
  }

  private popStreamControl(maxBytes: number, now: Millis): PoppedFrame | undefined {
    for (const entry of this.controlQueue) {
      const popped = popStreamControl(this.owner, entry, maxBytes, now, this.rtt, this.conn.recv);
      if (!hasStreamControl(entry)) this.controlQueue.delete(entry);
      if (popped !== undefined) return popped;
    }
    return undefined;
  }

  private popRetransmission(maxBytes: number): PoppedFrame | undefined {
    const queue = this.scheduler.retransmissions;
    for (const entry of queue) {
      const send = entry.send;
      if (!send.hasRetransmit()) {
        queue.delete(entry);
        continue;
      }
      const frame = send.popRetransmit(maxBytes);
      if (frame === undefined) continue;
      queue.served(entry, send.hasRetransmit());
      return { frame, record: this.streamRecord(entry, frame) };
    }
    return undefined;
  }

  private popNewData(maxBytes: number): PoppedFrame | undefined {
    const queue = this.scheduler.newData;
    const connectionCredit = this.conn.send.available;
    for (const entry of queue) {
      const send = entry.send;
      if (!send.wantsNew()) {
        queue.delete(entry);
        continue;
      }
      if (connectionCredit === 0 && !send.hasPendingFin()) continue;
      const frame = send.popNew(maxBytes, connectionCredit);
      if (frame === undefined) continue;
      this.conn.send.onSent(frame.data.length);
      queue.served(entry, send.wantsNew());
      if (send.checkBlocked()) this.controlQueue = addTo(this.controlQueue, entry);
      this.checkConnectionBlocked();
      return { frame, record: this.streamRecord(entry, frame) };
    }
    return undefined;
  }

  private streamRecord(entry: SendingEntry, frame: StreamFrame): SentFrameRecord {
    return new SentFrameRecord(
      this.owner,
      SentFrameKind.Stream,
      entry,
      undefined,
      frame.offset,
      frame.data.length,
      frame.fin,
    );
  }

  /** RFC 9000 §4.1: DATA_BLOCKED once per limit when data waits for connection credit. */
  private checkConnectionBlocked(): void {
    if (!this.conn.blockedCheckDue) return;
    for (const entry of this.scheduler.newData) {
      const send = entry.send;
      if (send.unsentBytes > 0 && send.credit.available > 0) {
        this.conn.reportBlocked();
        return;
      }
    }
  }
}
