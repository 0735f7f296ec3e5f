/**
 * Everything stream-related of one connection epoch (RFC 9000 §2-4): the application's calls, the
 * frames received, acknowledgments and losses, and the events for the application. The parts are
 * owned by their own modules: which streams exist (StreamRegistry, one typed map per kind), the
 * connection-level limits (ConnectionFlow), what to send next (StreamSendQueue), the send budgets
 * (SendBudget) and the event queue (StreamEventQueue). There is no module-level state: when 0-RTT is
 * rejected the connection drops this object and builds a new one, and nothing of the old epoch can
 * reach the new one (records of the old manager are ignored by the new one).
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import type { Millis } from '../util/time.js';
import { FrameType, type ResetStreamFrame, type StopSendingFrame, type StreamFrame } from '../wire/frames.js';
import { ConnectionFlow } from './connection-flow.js';
import { ReassemblyFragmentationError } from './reassembly-buffer.js';
import type { ReceiveState } from './receive-stream.js';
import { SendBudget } from './send-budget.js';
import type { SendState } from './send-stream.js';
import { SentFrameKind, type SentFrameRecord } from './sent-frame-record.js';
import { hasStreamControl, onReceiveControlLost, onSendControlLost } from './stream-control-frames.js';
import { receivingOf, type SendingEntry, type StreamEntry, sendingOf } from './stream-entry.js';
import { StreamEventQueue } from './stream-event-queue.js';
import {
  isBidirectional,
  isLocallyInitiated,
  MAX_STREAMS_LIMIT,
  type Role,
  STREAM_OFFSET_BOUND,
} from './stream-id.js';
import { StreamRegistry } from './stream-registry.js';
import { StreamSendQueue } from './stream-send-queue.js';
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
  private readonly streams: StreamRegistry;
  private readonly conn: ConnectionFlow;
  private readonly sendQueue: StreamSendQueue;
  private readonly budget: SendBudget;
  private readonly events = new StreamEventQueue();
  /** The frame being handled arrived in a 0-RTT packet. */
  private frameInEarlyData = false;

  constructor(config: StreamManagerConfig) {
    this.role = config.role;
    const local = { ...config.local };
    const peer = { ...config.peer };
    const manager = this;
    this.conn = new ConnectionFlow(local, peer, config.maxConnectionReceiveWindow ?? 16 * MiB);
    this.streams = new StreamRegistry(
      {
        role: config.role,
        local,
        maxStreamWindow: config.maxStreamReceiveWindow ?? 6 * MiB,
        conn: this.conn,
        // Streams a frame opens are reported as opened in 0-RTT data (the request was replayable).
        // Methods, not arrow functions: no property dictionary per connection under tsx (issue 13).
        onPeerOpened(id) {
          manager.emit(
            manager.frameInEarlyData ? { type: 'opened', id, early: true } : { type: 'opened', id },
          );
        },
      },
      peer,
    );
    this.sendQueue = new StreamSendQueue(this, this.conn, config.rtt);
    this.budget = new SendBudget(
      config.sendBufferSize ?? MiB,
      config.connectionSendBufferSize ?? 8 * MiB,
      this.emitWritable.bind(this),
      config.pathCapacity,
    );
  }

  /** A parked stream may write again (bound once: a bound method carries no property dictionary). */
  private emitWritable(entry: { readonly id: number }): void {
    this.emit({ type: 'writable', id: entry.id });
  }

  // ---------------------------------------------------------------- application

  /** Opens a stream; undefined when the peer's stream limit is reached (STREAMS_BLOCKED is queued). */
  openStream(bidirectional: boolean): number | undefined {
    return this.streams.open(bidirectional);
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
    const ok = this.budget.within(send);
    if (!ok) this.budget.park(entry);
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
    const n = Math.max(0, Math.min(this.budget.room(send), data.length));
    if (n > 0) this.append(entry, n === data.length ? data : data.subarray(0, n));
    if (n < data.length) this.budget.park(entry);
    return n;
  }

  /** Bytes all streams hold until the peer acknowledges them (bounded by connectionSendBufferSize). */
  get queuedSendBytes(): number {
    return this.budget.queuedBytes;
  }

  private writableEntry(id: number): SendingEntry {
    const entry = this.streams.appSending(id);
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
    this.budget.account(send.unackedBytes - before);
    this.sendQueue.reschedule(entry);
  }

  /** Reset the sending part (RESET_STREAM): its buffered bytes leave the connection budget. */
  private resetSend(entry: SendingEntry, errorCode: number): boolean {
    const send = entry.send;
    const before = send.unackedBytes;
    if (!send.reset(errorCode)) return false;
    this.budget.account(send.unackedBytes - before);
    this.budget.forget(entry);
    this.sendQueue.onSendReset(entry);
    this.budget.wake();
    return true;
  }

  /** Queues a FIN after the buffered data. No-op when already ended, reset or closed. */
  end(id: number): void {
    const entry = this.streams.appSending(id);
    if (entry === undefined) return;
    const send = entry.send;
    if (!send.canWrite) return;
    send.end();
    this.sendQueue.reschedule(entry);
  }

  /** "Cancel write" (RFC 9000 §3.1, §19.4): RESET_STREAM; no-op if already reset, done or closed. */
  resetStream(id: number, errorCode: number): void {
    checkErrorCode(id, errorCode);
    const entry = this.streams.appSending(id);
    if (entry === undefined) return;
    this.resetSend(entry, errorCode);
  }

  /** "Cancel read" (RFC 9000 §3.5, §19.5): STOP_SENDING, and buffered incoming data is discarded. */
  stopSending(id: number, errorCode: number): void {
    checkErrorCode(id, errorCode);
    const entry = this.streams.appReceiving(id);
    if (entry === undefined) return;
    const recv = entry.recv;
    const consumed = recv.stopSending(errorCode);
    if (consumed < 0) return;
    this.conn.recv.consume(consumed);
    if (recv.stopSendingPending) this.sendQueue.addControl(entry);
    this.maybeClose(entry);
  }

  /** In-order data (at most maxBytes); consuming it opens flow-control windows. */
  read(id: number, maxBytes?: number): ReadResult | undefined {
    const entry = this.streams.appReceiving(id);
    if (entry === undefined) return undefined;
    const recv = entry.recv;
    if (!recv.isActive || recv.stopped) return undefined;
    const data = recv.read(maxBytes);
    if (data !== undefined) {
      this.conn.recv.consume(data.length);
      if (recv.maxStreamDataDue) this.sendQueue.addControl(entry);
    }
    const fin = recv.atEnd;
    if (data === undefined && !fin) {
      recv.onDrained();
      return undefined;
    }
    if (fin) {
      recv.onFinRead();
      this.maybeClose(entry);
    } else if (!recv.buffer.hasReadable) {
      recv.onDrained();
    }
    return { data: data ?? new Uint8Array(0), fin };
  }

  pollEvent(): StreamEvent | undefined {
    const event = this.events.poll();
    if (event?.type === 'reset') {
      // RFC 9000 §3.2: the application received the reset signal: Reset Recvd -> Reset Read.
      const entry = this.streams.receiving(event.id);
      if (entry?.recv.onResetRead()) this.maybeClose(entry);
    }
    return event;
  }

  /** How many events this manager has emitted so far. */
  get eventsEmitted(): number {
    return this.events.emittedCount;
  }

  /** Whether an event emitted before the `mark`-th one (see eventsEmitted) is still to be polled. */
  emittedBefore(mark: number): boolean {
    return this.events.emittedBefore(mark);
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
   * `ownedData`: a STREAM frame's data is a view of a buffer that nobody writes again (a packet
   * payload, decrypted in place in a datagram the connection took over, or into a new buffer), so the
   * receive buffer may keep the view instead of a copy.
   */
  handleFrame(frame: StreamManagerFrame, _now: Millis, earlyData = false, ownedData = false): void {
    // Streams this frame opens are reported as opened in 0-RTT data (the request was replayable).
    this.frameInEarlyData = earlyData;
    switch (frame.type) {
      case FrameType.Stream:
        this.onStreamFrame(frame, ownedData);
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
        const entry = this.streams.networkSending(frame.streamId, frame.type);
        if (entry?.send.credit.raise(frame.maximumStreamData)) this.sendQueue.reschedule(entry);
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
        this.streams.networkReceiving(frame.streamId, frame.type);
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

  private onStreamFrame(frame: StreamFrame, ownedData: boolean): void {
    const length = frame.data.length;
    // RFC 9000 §19.8: offset + length must not exceed 2^62-1.
    if (frame.offset + length >= STREAM_OFFSET_BOUND) {
      throw transportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `stream ${frame.streamId}: offset ${frame.offset} + length ${length} exceeds 2^62-1`,
        FrameType.Stream,
      );
    }
    const entry = this.streams.networkReceiving(frame.streamId, FrameType.Stream);
    if (entry === undefined) return;
    const recv = entry.recv;
    const growth = recv.checkStreamFrame(frame.offset, length, frame.fin);
    this.conn.countReceived(growth, FrameType.Stream);
    let discarded: number;
    try {
      discarded = recv.onStreamFrame(frame.offset, frame.data, frame.fin, ownedData);
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
    this.conn.recv.consume(discarded);
    if (recv.stopped) {
      recv.finishDiscarded();
    } else if (!recv.readableSignaled && recv.isReadable) {
      recv.onReadableSignaled();
      this.emit({ type: 'readable', id: entry.id });
    }
    this.maybeClose(entry);
  }

  private onResetStream(frame: ResetStreamFrame): void {
    const entry = this.streams.networkReceiving(frame.streamId, FrameType.ResetStream);
    if (entry === undefined) return;
    const recv = entry.recv;
    this.conn.countReceived(recv.checkReset(frame.finalSize), FrameType.ResetStream);
    const consumed = recv.onReset(frame.errorCode, frame.finalSize);
    if (consumed < 0) return;
    // RFC 9000 §4.5: the final size is the credit consumed; it is all returned to the connection.
    this.conn.recv.consume(consumed);
    if (recv.stopped) {
      recv.onResetRead();
    } else {
      this.emit({ type: 'reset', id: entry.id, errorCode: frame.errorCode });
    }
    this.maybeClose(entry);
  }

  private onStopSending(frame: StopSendingFrame): void {
    const entry = this.streams.networkSending(frame.streamId, FrameType.StopSending);
    if (entry === undefined) return;
    // RFC 9000 §3.5: answer with RESET_STREAM, copying the error code.
    if (this.resetSend(entry, frame.errorCode)) {
      this.emit({ type: 'stop-sending', id: entry.id, errorCode: frame.errorCode });
    }
  }

  /** Whether popFrame could return something (control frames or stream data within flow control). */
  hasPendingFrames(): boolean {
    return this.sendQueue.hasPendingFrames();
  }

  /**
   * The next frame whose encoded size (with the Length field) is <= maxBytes: control frames first,
   * then retransmitted stream data, then new stream data, round-robin between streams.
   */
  popFrame(maxBytes: number, now: Millis): PoppedFrame | undefined {
    return this.sendQueue.popFrame(maxBytes, now);
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
        this.budget.account(send.unackedBytes - before);
        if (done) {
          this.emit({ type: 'send-done', id: entry.id });
          this.maybeClose(entry);
        } else {
          this.budget.maybeWritable(entry);
        }
        this.budget.wake();
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
        this.sendQueue.reschedule(sending);
        return;
      }
      onSendControlLost(sending, record.kind, record.offset);
      if (hasStreamControl(sending)) this.sendQueue.addControl(sending);
    } else if (receiving !== undefined) {
      if (receiving.closed) return;
      onReceiveControlLost(receiving, record.kind, record.offset);
      if (hasStreamControl(receiving)) this.sendQueue.addControl(receiving);
    } else {
      this.conn.onLost(record.kind, record.offset);
    }
  }

  /** 0-RTT accepted: the server's real transport parameters replace the remembered ones (only ever larger). */
  updatePeerLimits(peer: FlowLimits): void {
    this.streams.adoptPeerLimits({ ...peer });
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
      if (entry.send.credit.raise(limit)) this.sendQueue.reschedule(entry);
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
      streamsOpened: this.streams.opened,
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
  }

  /** Frees a stream whose parts are all terminal (and drained): state removed, credit returned. */
  private maybeClose(entry: StreamEntry): void {
    if (entry.closed || !entry.isTerminal) return;
    entry.markClosed();
    this.streams.delete(entry);
    this.sendQueue.remove(entry);
    const sending = sendingOf(entry);
    if (sending !== undefined) this.budget.forget(sending);
    if (!isLocallyInitiated(entry.id, this.role)) {
      // RFC 9000 §4.6: raise MAX_STREAMS as peer streams close.
      this.conn.peer(isBidirectional(entry.id)).onClosed();
    }
    this.emit({ type: 'closed', id: entry.id });
  }
}
