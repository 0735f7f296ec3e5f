/**
 * Everything stream-related of one connection epoch (RFC 9000 §2-4): all streams with their send and
 * receive state machines, connection-level flow control in both directions, stream-count limits,
 * pending control frames and the send scheduler. There is no module-level state: when 0-RTT is
 * rejected the connection drops this object and builds a new one, and nothing of the old epoch can
 * reach the new one (records of the old manager are ignored by the new one).
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import type { Millis } from '../util/time.js';
import { FrameType, type ResetStreamFrame, type StopSendingFrame, type StreamFrame } from '../wire/frames.js';
import { ConnectionFlow } from './connection-flow.js';
import { ReassemblyFragmentationError } from './reassembly-buffer.js';
import { type ReceiveState, ReceiveStream } from './receive-stream.js';
import { SendScheduler } from './send-scheduler.js';
import { type SendState, SendStream } from './send-stream.js';
import { SentFrameKind, SentFrameRecord } from './sent-frame-record.js';
import {
  hasStreamControl,
  onReceiveControlLost,
  onSendControlLost,
  popStreamControl,
} from './stream-control-frames.js';
import {
  BidiStreamEntry,
  ReceiveOnlyStreamEntry,
  type ReceivingEntry,
  receivingOf,
  type SendingEntry,
  SendOnlyStreamEntry,
  type StreamEntry,
  sendingOf,
} from './stream-entry.js';
import {
  isBidirectional,
  isLocallyInitiated,
  MAX_STREAMS_LIMIT,
  type Role,
  STREAM_OFFSET_BOUND,
  streamId,
  streamIndex,
} from './stream-id.js';
import { StreamMaps } from './stream-maps.js';
import { StreamStateError } from './stream-state-error.js';
import type {
  FlowLimits,
  PoppedFrame,
  ReadResult,
  StreamEvent,
  StreamManagerConfig,
  StreamManagerFrame,
} from './stream-types.js';

export { ReceiveState } from './receive-stream.js';
export { SendState } from './send-stream.js';
export { SentFrameRecord } from './sent-frame-record.js';
export { StreamStateError } from './stream-state-error.js';
export type {
  FlowLimits,
  PoppedFrame,
  ReadResult,
  StreamEvent,
  StreamManagerConfig,
  StreamManagerFrame,
} from './stream-types.js';

const MiB = 1024 * 1024;

/** Application error codes are varints (RFC 9000 §20.2): integers in [0, 2^62). */
function checkErrorCode(id: number, errorCode: number): void {
  if (!Number.isInteger(errorCode) || errorCode < 0 || errorCode >= 2 ** 62) {
    throw new StreamStateError(id, `invalid application error code ${errorCode}`);
  }
}

export class StreamManager {
  private readonly role: Role;
  private readonly local: FlowLimits;
  private peer: FlowLimits;
  private readonly rtt: () => Millis;
  private readonly maxStreamWindow: number;
  private readonly sendBufferSize: number;
  /** Bound on the unacknowledged bytes of all streams together (issue 10, defect 5). */
  private readonly connectionSendBufferSize: number;
  /** Sum of every stream's unackedBytes: what this connection holds for the peer. */
  private queuedBytes = 0;
  /** Streams whose writes wait for room in the connection's budget. */
  private readonly budgetWaiters = new Set<SendingEntry>();

  private readonly streams: StreamMaps;
  private readonly conn: ConnectionFlow;
  private readonly scheduler = new SendScheduler<SendingEntry>();
  /** Streams with a pending RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA or STREAM_DATA_BLOCKED. */
  private readonly controlQueue = new Set<StreamEntry>();
  private events: StreamEvent[] = [];
  private eventHead = 0;
  /** Events emitted and polled so far (ConnectionEventQueue orders the connection's events by them). */
  private emittedCount = 0;
  private polledCount = 0;
  private streamsOpened = 0;

  constructor(config: StreamManagerConfig) {
    this.role = config.role;
    this.streams = new StreamMaps(config.role);
    this.local = { ...config.local };
    this.peer = { ...config.peer };
    this.rtt = config.rtt;
    this.maxStreamWindow = config.maxStreamReceiveWindow ?? 6 * MiB;
    this.sendBufferSize = config.sendBufferSize ?? MiB;
    this.connectionSendBufferSize = config.connectionSendBufferSize ?? 8 * MiB;
    this.conn = new ConnectionFlow(this.local, this.peer, config.maxConnectionReceiveWindow ?? 16 * MiB);
  }

  // ---------------------------------------------------------------- application

  /** Opens a stream; undefined when the peer's stream limit is reached (STREAMS_BLOCKED is queued). */
  openStream(bidirectional: boolean): number | undefined {
    const index = this.conn.local(bidirectional).tryOpen();
    if (index === undefined) return undefined;
    const id = streamId(this.role, bidirectional, index);
    // The peer's limits for a stream we initiate: its "remote" bidi or uni parameter (RFC 9000 §18.2).
    const send = new SendStream(
      id,
      bidirectional ? this.peer.initialMaxStreamDataBidiRemote : this.peer.initialMaxStreamDataUni,
    );
    this.streams.add(
      bidirectional
        ? new BidiStreamEntry(
            id,
            send,
            new ReceiveStream(id, this.local.initialMaxStreamDataBidiLocal, this.maxStreamWindow),
          )
        : new SendOnlyStreamEntry(id, send),
    );
    this.streamsOpened++;
    return id;
  }

  /**
   * Buffers data to send; returns false when the stream's unacknowledged bytes are now above
   * sendBufferSize (wait for 'writable'). Throws StreamStateError after end()/reset, on a
   * receive-only stream, or for a stream that does not exist (never opened, or closed).
   */
  write(id: number, data: Uint8Array): boolean {
    const entry = this.writableEntry(id);
    const send = entry.send;
    this.append(entry, data);
    const ok = send.unackedBytes <= this.sendBufferSize && this.queuedBytes <= this.connectionSendBufferSize;
    if (!ok) this.park(entry);
    return ok;
  }

  /**
   * Buffers as much of `data` as both budgets allow, the stream's (sendBufferSize) and the
   * connection's (connectionSendBufferSize, shared by all streams), and returns how many bytes it
   * took. When that is less than `data.length`, a 'writable' event follows once there is room again:
   * memory held for a peer that does not read stays within the budgets however many streams write
   * (issue 10, defect 5). Throws like write().
   */
  writeSome(id: number, data: Uint8Array): number {
    const entry = this.writableEntry(id);
    const send = entry.send;
    const room = Math.min(
      this.sendBufferSize - send.unackedBytes,
      this.connectionSendBufferSize - this.queuedBytes,
    );
    const n = Math.max(0, Math.min(room, data.length));
    if (n > 0) this.append(entry, n === data.length ? data : data.subarray(0, n));
    if (n < data.length) this.park(entry);
    return n;
  }

  /** Bytes all streams hold until the peer acknowledges them (bounded by connectionSendBufferSize). */
  get queuedSendBytes(): number {
    return this.queuedBytes;
  }

  private writableEntry(id: number): SendingEntry {
    const entry = this.appSending(id);
    if (entry === undefined) throw new StreamStateError(id, 'write on a closed stream');
    const send = entry.send;
    if (!send.canWrite) {
      throw new StreamStateError(id, `write after ${send.ended ? 'end()' : 'reset'} (${send.state})`);
    }
    return entry;
  }

  private append(entry: SendingEntry, data: Uint8Array): void {
    const send = entry.send;
    const before = send.unackedBytes;
    send.write(data);
    this.queuedBytes += send.unackedBytes - before;
    this.reschedule(entry);
  }

  /** The stream waits for 'writable': from its own acks, or from room in the connection budget. */
  private park(entry: SendingEntry): void {
    entry.send.needWritable = true;
    this.budgetWaiters.add(entry);
  }

  /**
   * Room in the connection budget worth waking writers for: a quarter of it, at most 64 KiB, so
   * that 100 parked streams are not woken for every acknowledged packet.
   */
  private get connectionHasRoom(): boolean {
    const room = this.connectionSendBufferSize - this.queuedBytes;
    return room > 0 && room >= Math.min(this.connectionSendBufferSize / 4, 64 * 1024);
  }

  /** Tell a parked stream it may write again, if both its own and the connection budget allow. */
  private maybeWritable(entry: SendingEntry): void {
    const send = entry.send;
    if (!send.needWritable || !send.canWrite || entry.closed) {
      this.budgetWaiters.delete(entry);
      return;
    }
    if (send.unackedBytes > this.sendBufferSize || !this.connectionHasRoom) return;
    send.needWritable = false;
    this.budgetWaiters.delete(entry);
    this.emit({ type: 'writable', id: entry.id });
  }

  /** The connection budget has room again: wake the streams that wait for it, oldest first. */
  private wakeBudgetWaiters(): void {
    if (this.budgetWaiters.size === 0 || !this.connectionHasRoom) return;
    for (const entry of [...this.budgetWaiters]) this.maybeWritable(entry);
  }

  /** Reset the sending part (RESET_STREAM): its buffered bytes leave the connection budget. */
  private resetSend(entry: SendingEntry, errorCode: number): boolean {
    const send = entry.send;
    const before = send.unackedBytes;
    if (!send.reset(errorCode)) return false;
    this.queuedBytes += send.unackedBytes - before;
    this.budgetWaiters.delete(entry);
    this.afterSendReset(entry);
    this.wakeBudgetWaiters();
    return true;
  }

  /** Queues a FIN after the buffered data. No-op when already ended, reset or closed. */
  end(id: number): void {
    const entry = this.appSending(id);
    if (entry === undefined) return;
    const send = entry.send;
    if (!send.canWrite) return;
    send.end();
    this.reschedule(entry);
  }

  /** "Cancel write" (RFC 9000 §3.1, §19.4): RESET_STREAM; no-op if already reset, done or closed. */
  resetStream(id: number, errorCode: number): void {
    checkErrorCode(id, errorCode);
    const entry = this.appSending(id);
    if (entry === undefined) return;
    this.resetSend(entry, errorCode);
  }

  /** "Cancel read" (RFC 9000 §3.5, §19.5): STOP_SENDING, and buffered incoming data is discarded. */
  stopSending(id: number, errorCode: number): void {
    checkErrorCode(id, errorCode);
    const entry = this.appReceiving(id);
    if (entry === undefined) return;
    const recv = entry.recv;
    const consumed = recv.stopSending(errorCode);
    if (consumed < 0) return;
    this.conn.recv.consumed += consumed;
    if (recv.stopSendingPending) this.controlQueue.add(entry);
    this.maybeClose(entry);
  }

  /** In-order data (at most maxBytes); consuming it opens flow-control windows. */
  read(id: number, maxBytes?: number): ReadResult | undefined {
    const entry = this.appReceiving(id);
    if (entry === undefined) return undefined;
    const recv = entry.recv;
    if (!recv.isActive || recv.stopped) return undefined;
    const data = recv.read(maxBytes);
    if (data !== undefined) {
      this.conn.recv.consumed += data.length;
      if (recv.maxStreamDataDue) this.controlQueue.add(entry);
    }
    const fin = recv.atEnd;
    if (data === undefined && !fin) {
      recv.readableSignaled = false;
      return undefined;
    }
    if (fin) {
      recv.onFinRead();
      this.maybeClose(entry);
    } else if (!recv.buffer.hasReadable) {
      recv.readableSignaled = false;
    }
    return { data: data ?? new Uint8Array(0), fin };
  }

  pollEvent(): StreamEvent | undefined {
    if (this.eventHead >= this.events.length) {
      if (this.events.length > 0) {
        this.events = [];
        this.eventHead = 0;
      }
      return undefined;
    }
    const event = this.events[this.eventHead++]!;
    this.polledCount++;
    if (event.type === 'reset') {
      // RFC 9000 §3.2: the application received the reset signal: Reset Recvd -> Reset Read.
      const entry = this.streams.receiving(event.id);
      if (entry?.recv.onResetRead()) this.maybeClose(entry);
    }
    return event;
  }

  /** How many events this manager has emitted so far. */
  get eventsEmitted(): number {
    return this.emittedCount;
  }

  /** Whether an event emitted before the `mark`-th one (see eventsEmitted) is still to be polled. */
  emittedBefore(mark: number): boolean {
    return this.polledCount < mark;
  }

  has(id: number): boolean {
    return this.streams.get(id) !== undefined;
  }

  /** Whether write()/writeSome() would take data on this stream now (open, not ended, not reset). */
  canWrite(id: number): boolean {
    return this.streams.sending(id)?.send.canWrite === true;
  }

  /** Streams currently tracked (opened and not yet closed). */
  get openStreamCount(): number {
    return this.streams.size;
  }

  // ---------------------------------------------------------------- network

  /**
   * Processes a stream-related frame; throws QuicTransportError with the RFC 9000 §20 code.
   * (`now` is part of the contract; window auto-tuning reads the clock when updates are sent.)
   */
  handleFrame(frame: StreamManagerFrame, _now: Millis, earlyData = false): void {
    // Streams this frame opens are reported as opened in 0-RTT data (the request was replayable).
    this.frameInEarlyData = earlyData;
    switch (frame.type) {
      case FrameType.Stream:
        this.onStreamFrame(frame);
        return;
      case FrameType.ResetStream:
        this.onResetStream(frame);
        return;
      case FrameType.StopSending:
        this.onStopSending(frame);
        return;
      case FrameType.MaxData:
        this.conn.send.raise(frame.maximumData);
        return;
      case FrameType.MaxStreamData: {
        const entry = this.networkSending(frame.streamId, frame.type);
        if (entry?.send.credit.raise(frame.maximumStreamData)) this.reschedule(entry);
        return;
      }
      case FrameType.MaxStreamsBidi:
      case FrameType.MaxStreamsUni: {
        this.checkStreamCount(frame.maximumStreams, frame.type);
        const bidirectional = frame.type === FrameType.MaxStreamsBidi;
        if (this.conn.local(bidirectional).raise(frame.maximumStreams))
          this.emit({ type: 'streams-available', bidirectional });
        return;
      }
      case FrameType.DataBlocked:
        // Informational (RFC 9000 §19.12); our MAX_DATA is driven by consumption, not by this.
        return;
      case FrameType.StreamDataBlocked:
        // Opens a peer stream (RFC 9000 §3.2); otherwise informational (§19.13).
        this.networkReceiving(frame.streamId, frame.type);
        return;
      case FrameType.StreamsBlockedBidi:
      case FrameType.StreamsBlockedUni:
        this.checkStreamCount(frame.maximumStreams, frame.type);
        return;
    }
  }

  /** RFC 9000 §19.11, §19.14: a stream count above 2^60 is a FRAME_ENCODING_ERROR. */
  private checkStreamCount(value: number, frameType: number): void {
    if (value > MAX_STREAMS_LIMIT) {
      throw transportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `stream count ${value} exceeds 2^60`,
        frameType,
      );
    }
  }

  private onStreamFrame(frame: StreamFrame): void {
    const length = frame.data.length;
    // RFC 9000 §19.8: offset + length must not exceed 2^62-1.
    if (frame.offset + length >= STREAM_OFFSET_BOUND) {
      throw transportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `stream ${frame.streamId}: offset ${frame.offset} + length ${length} exceeds 2^62-1`,
        FrameType.Stream,
      );
    }
    const entry = this.networkReceiving(frame.streamId, FrameType.Stream);
    if (entry === undefined) return;
    const recv = entry.recv;
    const growth = recv.checkStreamFrame(frame.offset, length, frame.fin);
    this.conn.countReceived(growth, FrameType.Stream);
    let discarded: number;
    try {
      discarded = recv.onStreamFrame(frame.offset, frame.data, frame.fin);
    } catch (err) {
      if (err instanceof ReassemblyFragmentationError) {
        // A bounded-buffer rule (docs/security.md, "Reassembly gaps"): a peer that leaves more holes
        // in a stream than the bound (1024 + 1 per KiB of receive window) is making us hold one
        // segment per few bytes. No RFC code names it; it is the peer's fault, not ours.
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `stream ${frame.streamId}: ${err.message} (reassembly bound)`,
          FrameType.Stream,
        );
      }
      if (err instanceof RangeError) {
        throw transportError(
          TransportErrorCode.FLOW_CONTROL_ERROR,
          `stream ${frame.streamId}: ${err.message}`,
          FrameType.Stream,
        );
      }
      throw err;
    }
    this.conn.recv.consumed += discarded;
    if (recv.stopped) {
      recv.finishDiscarded();
    } else if (!recv.readableSignaled && recv.isReadable) {
      recv.readableSignaled = true;
      this.emit({ type: 'readable', id: entry.id });
    }
    this.maybeClose(entry);
  }

  private onResetStream(frame: ResetStreamFrame): void {
    const entry = this.networkReceiving(frame.streamId, FrameType.ResetStream);
    if (entry === undefined) return;
    const recv = entry.recv;
    this.conn.countReceived(recv.checkReset(frame.finalSize), FrameType.ResetStream);
    const consumed = recv.onReset(frame.errorCode, frame.finalSize);
    if (consumed < 0) return;
    // RFC 9000 §4.5: the final size is the credit consumed; it is all returned to the connection.
    this.conn.recv.consumed += consumed;
    if (recv.stopped) {
      recv.onResetRead();
    } else {
      this.emit({ type: 'reset', id: entry.id, errorCode: frame.errorCode });
    }
    this.maybeClose(entry);
  }

  private onStopSending(frame: StopSendingFrame): void {
    const entry = this.networkSending(frame.streamId, FrameType.StopSending);
    if (entry === undefined) return;
    // RFC 9000 §3.5: answer with RESET_STREAM, copying the error code.
    if (this.resetSend(entry, frame.errorCode)) {
      this.emit({ type: 'stop-sending', id: entry.id, errorCode: frame.errorCode });
    }
  }

  private afterSendReset(entry: SendingEntry): void {
    this.scheduler.remove(entry);
    this.controlQueue.add(entry);
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
      this.conn.popControl(this, maxBytes, now, this.rtt) ??
      this.popStreamControl(maxBytes, now) ??
      this.popRetransmission(maxBytes) ??
      this.popNewData(maxBytes)
    );
  }

  private popStreamControl(maxBytes: number, now: Millis): PoppedFrame | undefined {
    for (const entry of this.controlQueue) {
      const popped = popStreamControl(this, entry, maxBytes, now, this.rtt, this.conn.recv);
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
      this.conn.send.used += frame.data.length;
      queue.served(entry, send.wantsNew());
      if (send.checkBlocked()) this.controlQueue.add(entry);
      this.checkConnectionBlocked();
      return { frame, record: this.streamRecord(entry, frame) };
    }
    return undefined;
  }

  private streamRecord(entry: SendingEntry, frame: StreamFrame): SentFrameRecord {
    return new SentFrameRecord(
      this,
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

  /** Puts a stream into the scheduler rounds it belongs to after a change. */
  private reschedule(entry: SendingEntry): void {
    const send = entry.send;
    if (send.hasRetransmit()) this.scheduler.retransmissions.add(entry);
    if (send.wantsNew()) {
      this.scheduler.newData.add(entry);
      this.checkConnectionBlocked();
    }
    if (send.checkBlocked()) this.controlQueue.add(entry);
  }

  onFrameAcked(record: SentFrameRecord): void {
    if (record.owner !== this) return;
    // Only frames of a sending part need anything on acknowledgment.
    const entry = record.sending;
    if (entry === undefined || entry.closed) return;
    switch (record.kind) {
      case SentFrameKind.Stream: {
        const send = entry.send;
        const before = send.unackedBytes;
        const done = send.onAcked(record.offset, record.length, record.fin);
        this.queuedBytes += send.unackedBytes - before;
        if (done) {
          this.emit({ type: 'send-done', id: entry.id });
          this.maybeClose(entry);
        } else {
          this.maybeWritable(entry);
        }
        this.wakeBudgetWaiters();
        return;
      }
      case SentFrameKind.ResetStream:
        if (entry.send.onResetAcked()) this.maybeClose(entry);
        return;
      default:
        return;
    }
  }

  /** Re-queues what is still needed, with the latest values for control frames. */
  onFrameLost(record: SentFrameRecord): void {
    if (record.owner !== this) return;
    const { sending, receiving } = record;
    if (sending !== undefined) {
      if (sending.closed) return;
      if (record.kind === SentFrameKind.Stream) {
        sending.send.onLost(record.offset, record.length, record.fin);
        this.reschedule(sending);
        return;
      }
      onSendControlLost(sending, record.kind, record.offset);
      if (hasStreamControl(sending)) this.controlQueue.add(sending);
    } else if (receiving !== undefined) {
      if (receiving.closed) return;
      onReceiveControlLost(receiving, record.kind, record.offset);
      if (hasStreamControl(receiving)) this.controlQueue.add(receiving);
    } else {
      this.conn.onLost(record.kind, record.offset);
    }
  }

  /** 0-RTT accepted: the server's real transport parameters replace the remembered ones (only ever larger). */
  updatePeerLimits(peer: FlowLimits): void {
    this.peer = { ...peer };
    this.conn.send.raise(peer.initialMaxData);
    if (this.conn.local(true).raise(peer.initialMaxStreamsBidi)) {
      this.emit({ type: 'streams-available', bidirectional: true });
    }
    if (this.conn.local(false).raise(peer.initialMaxStreamsUni)) {
      this.emit({ type: 'streams-available', bidirectional: false });
    }
    for (const entry of this.streams.sendingInOrder()) {
      const limit = !isLocallyInitiated(entry.id, this.role)
        ? peer.initialMaxStreamDataBidiLocal
        : isBidirectional(entry.id)
          ? peer.initialMaxStreamDataBidiRemote
          : peer.initialMaxStreamDataUni;
      if (entry.send.credit.raise(limit)) this.reschedule(entry);
    }
  }

  stats(): {
    bytesSent: number;
    bytesReceived: number;
    peerMaxData: number;
    localMaxData: number;
    streamsOpened: number;
  } {
    return {
      bytesSent: this.conn.send.used,
      bytesReceived: this.conn.recv.received,
      peerMaxData: this.conn.send.limit,
      localMaxData: this.conn.recv.limit,
      streamsOpened: this.streamsOpened,
    };
  }

  streamState(id: number): { send?: SendState; receive?: ReceiveState } | undefined {
    return this.streams.get(id)?.states();
  }

  /** Bytes a stream holds in memory (for tests and diagnostics), or undefined once it is closed. */
  streamBuffers(id: number): { send: number; receive: number; receiveWindow: number } | undefined {
    const entry = this.streams.get(id);
    if (entry === undefined) return undefined;
    const send = sendingOf(entry)?.send;
    const recv = receivingOf(entry)?.recv;
    return {
      send: send?.unackedBytes ?? 0,
      receive: recv?.buffer.bufferedBytes ?? 0,
      receiveWindow: recv?.window.window ?? 0,
    };
  }

  /** The connection receive window size (grows with auto-tuning). */
  get connectionReceiveWindow(): number {
    return this.conn.recv.window;
  }

  // ---------------------------------------------------------------- internals

  private emit(event: StreamEvent): void {
    this.events.push(event);
    this.emittedCount++;
  }

  /** Whether a stream with this ID has been created at some point (open now or closed). */
  private everCreated(id: number): boolean {
    const index = streamIndex(id);
    const bidi = isBidirectional(id);
    if (isLocallyInitiated(id, this.role)) return index < this.conn.local(bidi).next;
    return index < this.conn.peer(bidi).next;
  }

  /**
   * The stream for an application call on its sending part; undefined when it existed and is closed
   * (calls are then no-ops). Throws StreamStateError for a receive-only stream or one that never existed.
   */
  private appSending(id: number): SendingEntry | undefined {
    if (!isBidirectional(id) && !isLocallyInitiated(id, this.role)) {
      throw new StreamStateError(id, 'receive-only stream');
    }
    return this.streams.sending(id) ?? this.closedOrUnknown(id);
  }

  /** Like appSending, for the receiving part: a send-only stream throws. */
  private appReceiving(id: number): ReceivingEntry | undefined {
    if (!isBidirectional(id) && isLocallyInitiated(id, this.role)) {
      throw new StreamStateError(id, 'send-only stream');
    }
    return this.streams.receiving(id) ?? this.closedOrUnknown(id);
  }

  /** No open stream `id`: undefined if it was closed, StreamStateError if it never existed. */
  private closedOrUnknown(id: number): undefined {
    if (!Number.isSafeInteger(id) || id < 0 || !this.everCreated(id)) {
      throw new StreamStateError(id, 'unknown stream');
    }
    return undefined;
  }

  /**
   * The stream whose sending part a received frame concerns (MAX_STREAM_DATA, STOP_SENDING),
   * creating peer streams as needed (see admit). Undefined for a closed stream: late frames are ignored.
   */
  private networkSending(id: number, frameType: number): SendingEntry | undefined {
    // RFC 9000 §19.5, §19.10: sending-part frames on our receive-only stream.
    if (!isBidirectional(id) && !isLocallyInitiated(id, this.role)) this.wrongDirection(id, frameType);
    this.admit(id, frameType);
    return this.streams.sending(id);
  }

  /** The stream whose receiving part a received frame concerns (STREAM, RESET_STREAM, STREAM_DATA_BLOCKED). */
  private networkReceiving(id: number, frameType: number): ReceivingEntry | undefined {
    // RFC 9000 §19.4, §19.8, §19.13: receiving-part frames on our send-only stream.
    if (!isBidirectional(id) && isLocallyInitiated(id, this.role)) this.wrongDirection(id, frameType);
    this.admit(id, frameType);
    return this.streams.receiving(id);
  }

  private wrongDirection(id: number, frameType: number): never {
    const local = isLocallyInitiated(id, this.role);
    throw transportError(
      TransportErrorCode.STREAM_STATE_ERROR,
      `frame 0x${frameType.toString(16)} on ${local ? 'send-only' : 'receive-only'} stream ${id}`,
      frameType,
    );
  }

  /**
   * Checks that a received frame may name stream `id`, creating peer streams as needed (RFC 9000
   * §3.2: lower IDs of the type first, each reported as 'opened').
   */
  private admit(id: number, frameType: number): void {
    const local = isLocallyInitiated(id, this.role);
    const bidi = isBidirectional(id);
    const index = streamIndex(id);
    if (local) {
      // RFC 9000 §19.5, §19.8, §19.10: a locally initiated stream that we have not created.
      if (index >= this.conn.local(bidi).next) {
        throw transportError(
          TransportErrorCode.STREAM_STATE_ERROR,
          `frame 0x${frameType.toString(16)} on locally initiated stream ${id} that was never opened`,
          frameType,
        );
      }
      return;
    }
    const limit = this.conn.peer(bidi);
    if (index < limit.next) return;
    if (!limit.allows(index)) {
      // RFC 9000 §4.6
      throw transportError(
        TransportErrorCode.STREAM_LIMIT_ERROR,
        `peer opened stream ${id} beyond its limit of ${limit.limit} streams`,
        frameType,
      );
    }
    for (let k = limit.next; k <= index; k++) this.createPeerStream(bidi, k);
    limit.next = index + 1;
  }

  private createPeerStream(bidi: boolean, index: number): void {
    const id = streamId(this.role === 'client' ? 'server' : 'client', bidi, index);
    // RFC 9000 §3.1: the sending part of a peer's bidirectional stream starts in Ready; its limit is
    // the peer's "local" parameter.
    const recv = new ReceiveStream(
      id,
      bidi ? this.local.initialMaxStreamDataBidiRemote : this.local.initialMaxStreamDataUni,
      this.maxStreamWindow,
    );
    this.streams.add(
      bidi
        ? new BidiStreamEntry(id, new SendStream(id, this.peer.initialMaxStreamDataBidiLocal), recv)
        : new ReceiveOnlyStreamEntry(id, recv),
    );
    this.streamsOpened++;
    this.emit(this.frameInEarlyData ? { type: 'opened', id, early: true } : { type: 'opened', id });
  }

  /** The frame being handled arrived in a 0-RTT packet. */
  private frameInEarlyData = false;

  /** Frees a stream whose parts are all terminal (and drained): state removed, credit returned. */
  private maybeClose(entry: StreamEntry): void {
    if (entry.closed || !entry.isTerminal) return;
    entry.closed = true;
    this.streams.delete(entry);
    this.controlQueue.delete(entry);
    const sending = sendingOf(entry);
    if (sending !== undefined) {
      this.budgetWaiters.delete(sending);
      this.scheduler.remove(sending);
    }
    if (!isLocallyInitiated(entry.id, this.role)) {
      // RFC 9000 §4.6: raise MAX_STREAMS as peer streams close.
      this.conn.peer(isBidirectional(entry.id)).onClosed();
    }
    this.emit({ type: 'closed', id: entry.id });
  }
}
