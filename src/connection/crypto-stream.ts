/**
 * The CRYPTO "stream" of one encryption level (RFC 9000 §19.6, §7.5): handshake bytes sent with
 * retransmission of lost ranges, and received bytes reassembled in order for the TLS engine.
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { RangeSet } from '../streams/range-set.js';
import { ReassemblyBuffer } from '../streams/reassembly-buffer.js';
import { FrameType } from '../wire/frames.js';

/**
 * RFC 9000 §7.5: an endpoint must buffer at least 4096 bytes of out-of-order CRYPTO data; beyond its
 * limit it closes with CRYPTO_BUFFER_EXCEEDED. Certificate chains make handshakes larger than that, so
 * the limit is generous but finite.
 */
export const CRYPTO_RECEIVE_LIMIT = 256 * 1024;

const EMPTY = new Uint8Array(0);

export class CryptoStream {
  /**
   * The bytes written at this level from offset `sendBase` on, kept until the peer has acknowledged
   * all of them: then they are dropped (an idle connection keeps no handshake flight or session
   * ticket, issue 13), unless `keepAcknowledged` (the client's Initial level: resendAll after a Retry).
   */
  private sendData: Uint8Array = EMPTY;
  private sendBase = 0;
  private sendLength = 0;
  /** Next offset never sent. */
  private sendOffset = 0;
  /** Lost ranges to send again. */
  private readonly retransmit = new RangeSet();
  /**
   * Acknowledged ranges at or above `sendBase` (everything below it was acknowledged and dropped):
   * emptied when all is acknowledged, so an idle connection keeps no range arrays (issue 13).
   */
  private readonly acked = new RangeSet();
  /** Made on the first CRYPTO frame received (a server's 1-RTT level never gets one; issue 13). */
  private receiveBuffer: ReassemblyBuffer | undefined;

  constructor(private readonly keepAcknowledged = false) {}

  /** Queue handshake bytes from the TLS engine. */
  write(data: Uint8Array): void {
    const held = this.sendLength - this.sendBase;
    if (held + data.length > this.sendData.length) {
      // Exact for the first write (usually the whole flight of this level), doubling after that.
      const grown = new Uint8Array(Math.max(this.sendData.length * 2, held + data.length));
      grown.set(this.sendData.subarray(0, held));
      this.sendData = grown;
    }
    this.sendData.set(data, held);
    this.sendLength += data.length;
  }

  hasDataToSend(): boolean {
    return !this.retransmit.isEmpty || this.sendOffset < this.sendLength;
  }

  /**
   * The next chunk to put in a CRYPTO frame, at most `maxData` bytes: lost data first, then new data.
   * Returns a view of the internal buffer; the packer copies it into the packet.
   */
  nextChunk(maxData: number): { offset: number; data: Uint8Array } | undefined {
    if (maxData <= 0) return undefined;
    if (!this.retransmit.isEmpty) {
      const start = this.retransmit.firstStart;
      const end = Math.min(this.retransmit.firstEnd, start + maxData);
      this.retransmit.remove(start, end);
      return { offset: start, data: this.sendData.subarray(start - this.sendBase, end - this.sendBase) };
    }
    if (this.sendOffset >= this.sendLength) return undefined;
    const end = Math.min(this.sendLength, this.sendOffset + maxData);
    const base = this.sendBase;
    const chunk = {
      offset: this.sendOffset,
      data: this.sendData.subarray(this.sendOffset - base, end - base),
    };
    this.sendOffset = end;
    return chunk;
  }

  /** A packet carrying [offset, offset+length) was declared lost: send what of it is unacknowledged again. */
  onLost(offset: number, length: number): void {
    // Below sendBase everything was acknowledged.
    const start = Math.max(offset, this.sendBase);
    const end = offset + length;
    if (start < end) this.acked.forEachGap(start, end, (s, e) => this.retransmit.add(s, e));
  }

  onAcked(offset: number, length: number): void {
    const end = offset + length;
    const start = Math.max(offset, this.sendBase);
    if (start < end) this.acked.add(start, end);
    this.retransmit.remove(offset, end);
    // Everything written so far was sent and acknowledged: nothing of it can be needed again.
    if (
      !this.keepAcknowledged &&
      this.sendData !== EMPTY &&
      this.sendOffset === this.sendLength &&
      !this.acked.isEmpty &&
      this.acked.firstStart <= this.sendBase &&
      this.acked.firstEnd >= this.sendLength
    ) {
      this.sendData = EMPTY;
      this.sendBase = this.sendLength;
      this.acked.clear();
    }
  }

  /** Queue everything sent but not acknowledged (a PTO probe, RFC 9002 §6.2.4). */
  resendUnacked(): void {
    if (this.sendOffset > 0) this.onLost(0, this.sendOffset);
  }

  /** Queue everything sent so far, acknowledged or not (after a Retry the server has forgotten it all). */
  resendAll(): void {
    // Only on a stream that keeps acknowledged bytes (the Initial level, for a Retry).
    if (this.sendBase > 0) throw new Error('CRYPTO data already acknowledged and dropped');
    this.acked.clear();
    if (this.sendOffset > 0) this.retransmit.add(0, this.sendOffset);
  }

  /** The level's keys are discarded (RFC 9001 §4.9): nothing will be sent or resent again. */
  release(): void {
    this.sendData = EMPTY;
    this.sendBase = this.sendOffset = this.sendLength;
    this.retransmit.clear();
  }

  /**
   * A CRYPTO frame arrived. Returns the newly contiguous bytes for the TLS engine, if any.
   * RFC 9000 §7.5: data beyond what we are willing to buffer is CRYPTO_BUFFER_EXCEEDED.
   */
  receive(offset: number, data: Uint8Array): Uint8Array | undefined {
    this.receiveBuffer ??= new ReassemblyBuffer(CRYPTO_RECEIVE_LIMIT);
    if (offset + data.length > this.receiveBuffer.readOffset + CRYPTO_RECEIVE_LIMIT) {
      throw transportError(
        TransportErrorCode.CRYPTO_BUFFER_EXCEEDED,
        `CRYPTO data up to offset ${offset + data.length} exceeds the ${CRYPTO_RECEIVE_LIMIT}-byte buffer`,
        FrameType.Crypto,
      );
    }
    try {
      this.receiveBuffer.insert(offset, data);
    } catch (err) {
      // Too many gaps (a peer fragmenting CRYPTO data to grow our memory) is the same violation.
      if (err instanceof RangeError) {
        throw transportError(
          TransportErrorCode.CRYPTO_BUFFER_EXCEEDED,
          `CRYPTO data too fragmented: ${err.message}`,
          FrameType.Crypto,
        );
      }
      throw err;
    }
    const ready = this.receiveBuffer.read();
    this.receiveBuffer.releaseSpareBlock();
    return ready;
  }
}
