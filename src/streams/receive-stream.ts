/**
 * The receiving part of a stream (RFC 9000 §3.2): its state machine, reassembly of incoming data,
 * the stream-level receive window (MAX_STREAM_DATA), final size checks (RFC 9000 §4.5) and
 * "cancel read" (STOP_SENDING, RFC 9000 §3.5).
 *
 * Methods that consume bytes return how many, so that the StreamManager can return the same credit
 * at the connection level (RFC 9000 §4.1, §4.5: a reset stream's final size counts as consumed).
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { FrameType } from '../wire/frames.js';
import { ReceiveWindow } from './flow-control.js';
import { RangeSet } from './range-set.js';
import { ReassemblyBuffer, ReassemblyFragmentationError } from './reassembly-buffer.js';

/** RFC 9000 §3.2, Figure 3. */
export enum ReceiveState {
  Recv = 'Recv',
  SizeKnown = 'Size Known',
  DataRecvd = 'Data Recvd',
  ResetRecvd = 'Reset Recvd',
  DataRead = 'Data Read',
  ResetRead = 'Reset Read',
}

export class ReceiveStream {
  readonly id: number;
  private _state: ReceiveState = ReceiveState.Recv;
  /** Stream-level window; `received` is the highest offset seen (RFC 9000 §4.1). */
  readonly window: ReceiveWindow;
  readonly buffer: ReassemblyBuffer;
  private _finalSize: number | undefined;
  private _resetCode = 0;
  private _stopped = false;
  private _stopCode = 0;
  private _stopSendingPending = false;
  private _maxStreamDataResend = false;
  private _readableSignaled = false;
  /** After stopSending(): which offsets arrived (the bytes themselves are dropped). */
  private discarded: RangeSet | undefined;

  constructor(id: number, initialWindow: number, maxWindow: number) {
    this.id = id;
    this.window = new ReceiveWindow(initialWindow, maxWindow);
    this.buffer = new ReassemblyBuffer(this.window.maxWindow);
  }

  get state(): ReceiveState {
    return this._state;
  }

  get finalSize(): number | undefined {
    return this._finalSize;
  }

  /** The peer's RESET_STREAM error code once reset. */
  get resetCode(): number {
    return this._resetCode;
  }

  /** The application called stopSending(): incoming data is discarded. */
  get stopped(): boolean {
    return this._stopped;
  }

  get stopCode(): number {
    return this._stopCode;
  }

  /** A STOP_SENDING frame is waiting to be sent. */
  get stopSendingPending(): boolean {
    return this._stopSendingPending;
  }

  /** The current MAX_STREAM_DATA value must be sent again (a frame carrying it was lost). */
  get maxStreamDataResend(): boolean {
    return this._maxStreamDataResend;
  }

  /** A 'readable' event was emitted and the application has not drained the data since. */
  get readableSignaled(): boolean {
    return this._readableSignaled;
  }

  /** The pending STOP_SENDING is settled: sent, or no longer useful in this state (§3.5). */
  onStopSendingSettled(): void {
    this._stopSendingPending = false;
  }

  /** The current MAX_STREAM_DATA value was sent (again). */
  onMaxStreamDataSent(): void {
    this._maxStreamDataResend = false;
  }

  /** A 'readable' event was emitted for this stream. */
  onReadableSignaled(): void {
    this._readableSignaled = true;
  }

  /** The application drained what was readable: the next data gets a new 'readable' event. */
  onDrained(): void {
    this._readableSignaled = false;
  }

  /** Data is still being received and delivered: Recv, Size Known or Data Recvd. */
  get isActive(): boolean {
    return (
      this._state === ReceiveState.Recv ||
      this._state === ReceiveState.SizeKnown ||
      this._state === ReceiveState.DataRecvd
    );
  }

  get isTerminal(): boolean {
    return this._state === ReceiveState.DataRead || this._state === ReceiveState.ResetRead;
  }

  /** RFC 9000 §3.2: MAX_STREAM_DATA is only sent in Recv (not after the final size is known). */
  get maxStreamDataDue(): boolean {
    return (
      this._state === ReceiveState.Recv &&
      !this._stopped &&
      (this.window.updateDue || this._maxStreamDataResend)
    );
  }

  /** The application can read now: in-order data, or the FIN once everything was read. */
  get isReadable(): boolean {
    if (!this.isActive || this._stopped) return false;
    return this.buffer.hasReadable || this.atEnd;
  }

  /** Everything up to the final size was received and read (only the FIN is left to report). */
  get atEnd(): boolean {
    return this._state === ReceiveState.DataRecvd && this.buffer.readOffset === this._finalSize;
  }

  /**
   * Validates a STREAM frame against the final size (RFC 9000 §4.5) and the stream limit
   * (RFC 9000 §4.1) without changing state. Returns the growth of the highest received offset,
   * which the caller counts against the connection limit.
   */
  checkStreamFrame(offset: number, length: number, fin: boolean): number {
    const end = offset + length;
    if (this._finalSize !== undefined) {
      if (end > this._finalSize || (fin && end !== this._finalSize)) {
        throw transportError(
          TransportErrorCode.FINAL_SIZE_ERROR,
          `stream ${this.id}: data up to ${end}${fin ? ' with FIN' : ''} but final size is ${this._finalSize}`,
          FrameType.Stream,
        );
      }
    } else if (fin && end < this.window.received) {
      throw transportError(
        TransportErrorCode.FINAL_SIZE_ERROR,
        `stream ${this.id}: final size ${end} below received offset ${this.window.received}`,
        FrameType.Stream,
      );
    }
    if (this.window.exceeds(end)) {
      throw transportError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `stream ${this.id}: data up to ${end} exceeds MAX_STREAM_DATA ${this.window.limit}`,
        FrameType.Stream,
      );
    }
    return end > this.window.received ? end - this.window.received : 0;
  }

  /**
   * Applies a STREAM frame that passed checkStreamFrame. Returns the bytes consumed by discarding
   * (only after stopSending()). `ownedData`: see ReassemblyBuffer.insert.
   */
  onStreamFrame(offset: number, data: Uint8Array, fin: boolean, ownedData = false): number {
    const end = offset + data.length;
    if (end > this.window.received) this.window.onReceived(end);
    if (this._state === ReceiveState.Recv && fin) {
      this._finalSize = end;
      this._state = ReceiveState.SizeKnown;
    }
    if (this._state !== ReceiveState.Recv && this._state !== ReceiveState.SizeKnown) return 0;
    const discarded = this.discarded;
    if (discarded !== undefined) {
      // Cancelled read: remember which bytes arrived, keep none, and return all credit at once.
      if (end > offset) discarded.add(offset, end);
      if (discarded.rangeCount > this.buffer.gapLimit + 1) {
        throw new ReassemblyFragmentationError(`stream ${this.id}: too many gaps in discarded data`);
      }
      const consumed = this.window.consumeAll();
      if (this._finalSize !== undefined && discarded.covers(0, this._finalSize))
        this._state = ReceiveState.DataRecvd;
      return consumed;
    }
    this.buffer.insert(offset, data, ownedData);
    // RFC 9000 §3.2: all data up to the final size received -> Data Recvd.
    if (
      this._finalSize !== undefined &&
      this.buffer.readOffset + this.buffer.bufferedBytes === this._finalSize
    ) {
      this._state = ReceiveState.DataRecvd;
    }
    return 0;
  }

  /** Validates RESET_STREAM's final size (RFC 9000 §4.5, §4.1); returns the growth of the highest offset. */
  checkReset(finalSize: number): number {
    if (
      (this._finalSize !== undefined && finalSize !== this._finalSize) ||
      finalSize < this.window.received
    ) {
      throw transportError(
        TransportErrorCode.FINAL_SIZE_ERROR,
        `stream ${this.id}: RESET_STREAM final size ${finalSize} conflicts with ${
          this._finalSize ?? `received offset ${this.window.received}`
        }`,
        FrameType.ResetStream,
      );
    }
    if (this.window.exceeds(finalSize)) {
      throw transportError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `stream ${this.id}: final size ${finalSize} exceeds MAX_STREAM_DATA ${this.window.limit}`,
        FrameType.ResetStream,
      );
    }
    return finalSize - this.window.received;
  }

  /**
   * Applies a RESET_STREAM that passed checkReset: Recv / Size Known / Data Recvd -> Reset Recvd
   * (RFC 9000 §3.2; in Data Recvd we choose to interrupt delivery). Frees the buffer; returns the
   * bytes newly counted as consumed (everything up to the final size). Returns -1 when ignored.
   */
  onReset(errorCode: number, finalSize: number): number {
    this.window.onReceived(finalSize);
    this._finalSize = finalSize;
    if (!this.isActive) return -1;
    this._state = ReceiveState.ResetRecvd;
    this._resetCode = errorCode;
    this.buffer.clear();
    this.discarded = undefined;
    this._stopSendingPending = false;
    this._maxStreamDataResend = false;
    // Received is the final size now (checkReset allowed no less): all of it is consumed.
    return this.window.consumeAll();
  }

  /** The application learnt of the reset: Reset Recvd -> Reset Read (terminal). */
  onResetRead(): boolean {
    if (this._state !== ReceiveState.ResetRecvd) return false;
    this._state = ReceiveState.ResetRead;
    return true;
  }

  /** Next in-order bytes for the application (does not handle the FIN; see atEnd). */
  read(maxBytes?: number): Uint8Array | undefined {
    if (!this.isActive || this._stopped) return undefined;
    const data = this.buffer.readChunk(maxBytes);
    if (data !== undefined) this.window.consume(data.length);
    return data;
  }

  /** The FIN was delivered: Data Recvd -> Data Read (terminal). */
  onFinRead(): void {
    if (this._state === ReceiveState.DataRecvd) this._state = ReceiveState.DataRead;
  }

  /** Drops all buffered bytes and counts everything received so far as consumed. */
  private discardAll(): number {
    const consumed = this.window.consumeAll();
    this.buffer.clear();
    return consumed;
  }

  /**
   * "Cancel read" (RFC 9000 §3.5): discards buffered data. In Recv / Size Known a STOP_SENDING is
   * queued and later data is discarded on arrival; Data Recvd -> Data Read, Reset Recvd -> Reset Read.
   * Returns the bytes newly consumed by discarding, or -1 when nothing changed.
   */
  stopSending(errorCode: number): number {
    if (this._stopped || this.isTerminal) return -1;
    this._stopped = true;
    this._stopCode = errorCode;
    this._maxStreamDataResend = false;
    if (this._state === ReceiveState.ResetRecvd) {
      this._state = ReceiveState.ResetRead;
      return 0;
    }
    if (this._state === ReceiveState.DataRecvd) {
      this._state = ReceiveState.DataRead;
      return this.discardAll();
    }
    const discarded = new RangeSet();
    discarded.add(0, this.buffer.readOffset);
    this.buffer.forEachSegment((start, end) => discarded.add(start, end));
    this.discarded = discarded;
    this._stopSendingPending = true;
    return this.discardAll();
  }

  /** After discarding, data may already be complete: Data Recvd -> Data Read without the application. */
  finishDiscarded(): void {
    if (this._stopped && this._state === ReceiveState.DataRecvd) {
      this.discarded = undefined;
      this._state = ReceiveState.DataRead;
    }
  }

  /** Whether a lost STOP_SENDING must be sent again (RFC 9000 §3.5: only in Recv / Size Known). */
  onStopSendingLost(): void {
    if (this._stopped && (this._state === ReceiveState.Recv || this._state === ReceiveState.SizeKnown)) {
      this._stopSendingPending = true;
    }
  }

  onMaxStreamDataLost(value: number): void {
    if (this._state === ReceiveState.Recv && !this._stopped && value === this.window.limit) {
      this._maxStreamDataResend = true;
    }
  }
}
