/**
 * The sending part of a stream (RFC 9000 §3.1): its state machine, the data kept until acknowledged,
 * retransmission of lost ranges, stream-level send credit and RESET_STREAM / STREAM_DATA_BLOCKED.
 * The StreamManager owns one per stream that can send and drives it; nothing here knows about other
 * streams or the connection-level limit except through the `connectionCredit` argument.
 */
import { FrameType, type StreamFrame } from '../wire/frames.js';
import { SendCredit } from './flow-control.js';
import { maxDataInRoom, streamFrameHeaderLength, streamFrameLength } from './frame-size.js';
import { RangeSet } from './range-set.js';
import { SendBuffer } from './send-buffer.js';

/** RFC 9000 §3.1, Figure 2. */
export enum SendState {
  Ready = 'Ready',
  Send = 'Send',
  DataSent = 'Data Sent',
  ResetSent = 'Reset Sent',
  DataRecvd = 'Data Recvd',
  ResetRecvd = 'Reset Recvd',
}

export class SendStream {
  readonly id: number;
  private _state: SendState = SendState.Ready;
  /** Stream-level credit from the peer (RFC 9000 §4.1); `used` is the highest offset sent. */
  readonly credit: SendCredit;
  private _ended = false;
  private _resetPending = false;
  private _resetCode = 0;
  private _resetFinalSize = 0;
  private _blockedPending = false;
  private _needWritable = false;

  private readonly buffer = new SendBuffer();
  /** Acknowledged ranges above `ackedPrefix`. */
  private readonly acked = new RangeSet();
  /** Ranges declared lost and not acknowledged since: to be retransmitted first. */
  private readonly lost = new RangeSet();
  private ackedPrefix = 0;
  private finSent = false;
  private finAcked = false;
  private finLost = false;

  constructor(id: number, peerLimit: number) {
    this.id = id;
    this.credit = new SendCredit(peerLimit);
  }

  get state(): SendState {
    return this._state;
  }

  /** The application called end(): a FIN follows the buffered data. */
  get ended(): boolean {
    return this._ended;
  }

  /** A RESET_STREAM frame is waiting to be sent. */
  get resetPending(): boolean {
    return this._resetPending;
  }

  get resetCode(): number {
    return this._resetCode;
  }

  /** Final size announced in RESET_STREAM (RFC 9000 §4.5). */
  get resetFinalSize(): number {
    return this._resetFinalSize;
  }

  /** A STREAM_DATA_BLOCKED frame is waiting to be sent. */
  get blockedPending(): boolean {
    return this._blockedPending;
  }

  /** write() returned false; emit 'writable' when the buffer drains. */
  get needWritable(): boolean {
    return this._needWritable;
  }

  /** Bytes written by the application so far. */
  get writeOffset(): number {
    return this.buffer.end;
  }

  /** Highest offset sent (the final size if reset now). */
  get sendOffset(): number {
    return this.credit.used;
  }

  /** Bytes held until acknowledged (the quantity compared with sendBufferSize). */
  get unackedBytes(): number {
    return this.isResetOrTerminal ? 0 : this.buffer.end - this.ackedPrefix;
  }

  get canWrite(): boolean {
    return !this._ended && (this._state === SendState.Ready || this._state === SendState.Send);
  }

  get isTerminal(): boolean {
    return this._state === SendState.DataRecvd || this._state === SendState.ResetRecvd;
  }

  get isResetOrTerminal(): boolean {
    return this._state === SendState.ResetSent || this.isTerminal;
  }

  /** Whether RESET_STREAM may still be sent: Ready, Send or Data Sent (RFC 9000 §3.1). */
  get canReset(): boolean {
    return (
      this._state === SendState.Ready || this._state === SendState.Send || this._state === SendState.DataSent
    );
  }

  write(data: Uint8Array): void {
    this.buffer.append(data);
  }

  end(): void {
    this._ended = true;
  }

  /** Bytes written but never sent. */
  get unsentBytes(): number {
    return this.buffer.end - this.credit.used;
  }

  /** Lost data or a lost FIN waits for retransmission. */
  hasRetransmit(): boolean {
    return (
      (this._state === SendState.Send || this._state === SendState.DataSent) &&
      (!this.lost.isEmpty || this.finLost)
    );
  }

  /** A FIN can be sent without any new data. */
  hasPendingFin(): boolean {
    return this.isOpenForNew && this._ended && !this.finSent && this.unsentBytes === 0;
  }

  private get isOpenForNew(): boolean {
    return this._state === SendState.Ready || this._state === SendState.Send;
  }

  /** New data within stream credit, or a FIN, could be sent (connection credit permitting). */
  wantsNew(): boolean {
    if (!this.isOpenForNew) return false;
    if (this.unsentBytes > 0) return this.credit.available > 0;
    return this._ended && !this.finSent;
  }

  /**
   * Call after writing or sending: whether a STREAM_DATA_BLOCKED should now be queued (data waits
   * and the stream credit is used up; once per limit, RFC 9000 §4.1).
   */
  checkBlocked(): boolean {
    if (!this.isOpenForNew || this.unsentBytes === 0) return false;
    if (this.credit.takeBlockedReport()) this._blockedPending = true;
    return this._blockedPending;
  }

  /** Whether a pending or lost STREAM_DATA_BLOCKED carrying `value` is still accurate. */
  isBlockedAt(value: number): boolean {
    return this.isOpenForNew && this.unsentBytes > 0 && this.credit.isBlockedAt(value);
  }

  /** RFC 9000 §3.1: sending STREAM_DATA_BLOCKED moves Ready to Send. */
  /** The pending STREAM_DATA_BLOCKED is no longer accurate (the credit grew): not sent. */
  onBlockedMoot(): void {
    this._blockedPending = false;
  }

  /** A STREAM_DATA_BLOCKED carrying `value` was lost: send it again if still accurate (§13.3). */
  onBlockedLost(value: number): void {
    if (this.isBlockedAt(value)) this._blockedPending = true;
  }

  /** The pending RESET_STREAM is settled: sent, or moot (the stream left Reset Sent, §3.1). */
  onResetSettled(): void {
    this._resetPending = false;
  }

  /** write() returned false: 'writable' is owed once the buffer drains. */
  waitForWritable(): void {
    this._needWritable = true;
  }

  /** 'writable' was emitted (or is no longer owed). */
  onWritableSignaled(): void {
    this._needWritable = false;
  }

  onBlockedFrameSent(): void {
    this._blockedPending = false;
    if (this._state === SendState.Ready) this._state = SendState.Send;
  }

  private frame(offset: number, data: Uint8Array, fin: boolean): StreamFrame {
    return { type: FrameType.Stream, streamId: this.id, offset, data, fin };
  }

  /** The next retransmission that fits in `maxBytes` (frame size including Length), if any. */
  popRetransmit(maxBytes: number): StreamFrame | undefined {
    if (!this.lost.isEmpty) {
      const start = this.lost.firstStart;
      const maxLen = maxDataInRoom(maxBytes - streamFrameHeaderLength(this.id, start));
      if (maxLen < 1) return undefined;
      const len = Math.min(this.lost.firstEnd - start, maxLen);
      const end = start + len;
      this.lost.remove(start, end);
      // The FIN rides along when this piece reaches the final size.
      const fin = this.finLost && this._ended && end === this.buffer.end;
      if (fin) this.finLost = false;
      return this.frame(start, this.buffer.slice(start, end), fin);
    }
    if (this.finLost) {
      const offset = this.buffer.end;
      if (streamFrameLength(this.id, offset, 0) > maxBytes) return undefined;
      this.finLost = false;
      return this.frame(offset, new Uint8Array(0), true);
    }
    return undefined;
  }

  /**
   * The next frame of new data within stream credit and `connectionCredit` that fits in `maxBytes`.
   * Moves Ready -> Send, and Send -> Data Sent with the FIN (RFC 9000 §3.1).
   */
  popNew(maxBytes: number, connectionCredit: number): StreamFrame | undefined {
    if (!this.isOpenForNew) return undefined;
    const offset = this.credit.used;
    const maxLen = maxDataInRoom(maxBytes - streamFrameHeaderLength(this.id, offset));
    if (maxLen < 0) return undefined;
    const len = Math.min(this.unsentBytes, this.credit.available, connectionCredit, maxLen);
    const end = offset + len;
    const fin = this._ended && end === this.buffer.end;
    if (len === 0 && !fin) return undefined;
    const data = len > 0 ? this.buffer.slice(offset, end) : new Uint8Array(0);
    this.credit.onSentTo(end);
    this._state = SendState.Send;
    if (fin) {
      this.finSent = true;
      this._state = SendState.DataSent;
    }
    return this.frame(offset, data, fin);
  }

  /** A STREAM frame was acknowledged. Returns true when this completed the stream (Data Recvd). */
  onAcked(offset: number, length: number, fin: boolean): boolean {
    if (this._state !== SendState.Send && this._state !== SendState.DataSent) return false;
    if (length > 0) {
      const end = offset + length;
      this.lost.remove(offset, end);
      if (end > this.ackedPrefix) {
        if (offset <= this.ackedPrefix && this.acked.isEmpty) {
          // In order, the usual case: the prefix moves on and no range is kept (the set's add and
          // remove allocated four arrays per acknowledged frame, issue 13).
          this.ackedPrefix = end;
          this.buffer.release(end);
        } else {
          this.acked.add(Math.max(offset, this.ackedPrefix), end);
          if (this.acked.firstStart <= this.ackedPrefix) {
            this.ackedPrefix = this.acked.firstEnd;
            this.acked.removeBelow(this.ackedPrefix);
            this.buffer.release(this.ackedPrefix);
          }
        }
      }
    }
    if (fin) {
      this.finAcked = true;
      this.finLost = false;
    }
    // RFC 9000 §3.1: all data and the FIN acknowledged -> Data Recvd (terminal).
    if (this._state === SendState.DataSent && this.finAcked && this.ackedPrefix === this.buffer.end) {
      this._state = SendState.DataRecvd;
      this.buffer.clear();
      this.lost.clear();
      return true;
    }
    return false;
  }

  /** A STREAM frame was declared lost: queue what is not acknowledged for retransmission. */
  onLost(offset: number, length: number, fin: boolean): void {
    if (this._state !== SendState.Send && this._state !== SendState.DataSent) return;
    const end = offset + length;
    const start = Math.max(offset, this.ackedPrefix);
    if (end > start) this.acked.forEachGap(start, end, (s, e) => this.lost.add(s, e));
    if (fin && !this.finAcked) this.finLost = true;
  }

  /**
   * Abandons sending (application reset, or STOP_SENDING received, RFC 9000 §3.5): Ready/Send/Data Sent
   * -> Reset Sent, frees the buffer and queues RESET_STREAM with the final size (RFC 9000 §4.5).
   * Returns false (no-op) in any other state.
   */
  reset(errorCode: number): boolean {
    if (!this.canReset) return false;
    this._state = SendState.ResetSent;
    this._resetCode = errorCode;
    this._resetFinalSize = this.credit.used;
    this._resetPending = true;
    this._blockedPending = false;
    this._needWritable = false;
    this.buffer.clear();
    this.acked.clear();
    this.lost.clear();
    this.finLost = false;
    return true;
  }

  /** RESET_STREAM acknowledged: Reset Sent -> Reset Recvd (terminal). Returns whether it changed. */
  onResetAcked(): boolean {
    if (this._state !== SendState.ResetSent) return false;
    this._state = SendState.ResetRecvd;
    this._resetPending = false;
    return true;
  }

  onResetLost(): void {
    if (this._state === SendState.ResetSent) this._resetPending = true;
  }
}
