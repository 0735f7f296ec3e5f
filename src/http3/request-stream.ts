/**
 * What a request stream does in both roles (RFC 9114 §4.1, §6.1): reading the incoming message
 * through a MessageReader, framing the outgoing one (HEADERS, DATA, trailers, FIN), aborting
 * (RESET_STREAM and STOP_SENDING, with a QPACK Stream Cancellation when a field section was not
 * processed), and leaving the connection's registry when both directions are finished.
 * ServerExchange and ClientExchange add what each role does.
 */

import type { FieldLine, UnblockedSection } from './field-codec.js';
import { encodeFrame, encodeFrameHeader, H3FrameType } from './frames.js';
import type { H3Connection, RequestStreamHandler } from './h3-connection.js';
import type { H3ProtocolError } from './h3-protocol-error.js';
import type { MessageReader } from './message-reader.js';

/** Below this, a DATA frame's header and payload go out as one write. */
const COALESCE_LIMIT = 4096;

export abstract class RequestStream<InHead> implements RequestStreamHandler {
  /** The QUIC stream ID, once the stream is open. */
  private _streamId: number | undefined;
  get streamId(): number | undefined {
    return this._streamId;
  }
  protected abstract readonly reader: MessageReader<InHead>;
  /** Our side of the stream is finished: FIN sent or reset. */
  protected sendDone = false;
  /** Our side was reset: by us (RESET_STREAM) or by the transport after the peer's STOP_SENDING. */
  protected sendReset = false;
  /** The incoming message is complete, or reading was abandoned. */
  protected receiveDone = false;
  /** Set once the exchange failed (stream error, peer reset, connection closed). */
  protected failed: Error | undefined;
  private decodingCancelled = false;

  constructor(protected readonly conn: H3Connection) {}

  protected attach(id: number): void {
    this._streamId = id;
    this.conn.register(id, this);
  }

  // ------------------------------------------------------------------ receiving

  /** The consumer wants DATA (true) or its buffer is full (false). */
  setWantData(want: boolean): void {
    if (this.reader.wantData === want) return;
    if (want) this.reader.resumeData();
    else this.reader.pauseData();
    if (want && this._streamId !== undefined && !this.receiveDone) {
      const id = this._streamId;
      this.conn.guard(id, () => this.pump());
    }
  }

  onReadable(): void {
    this.pump();
  }

  onUnblocked(section: UnblockedSection): void {
    this.reader.unblocked(section);
    this.pump();
  }

  /** pump() calls in progress (the application may act from inside one: a handler runs at onHead). */
  protected pumpDepth = 0;

  protected pump(): void {
    const id = this._streamId;
    if (id !== undefined && !this.receiveDone && !this.failed) {
      this.pumpDepth++;
      try {
        this.readAvailable(id);
      } finally {
        this.pumpDepth--;
      }
    }
    if (this.pumpDepth === 0) this.afterPump();
  }

  private readAvailable(id: number): void {
    const t = this.conn.transport;
    this.reader.process();
    while (!this.receiveDone && !this.failed && this.reader.wantsInput) {
      const r = t.read(id);
      if (!r) break;
      this.reader.push(r.data, r.fin);
      this.reader.process();
    }
  }

  /** Called when the outermost pump() has read everything the transport held. */
  protected afterPump(): void {}

  /** The incoming message ended (called from the reader's sink). */
  protected markReceiveDone(): void {
    this.receiveDone = true;
    this.maybeFinished();
  }

  /** Stop reading what remains of the incoming message (STOP_SENDING `code`). */
  protected abandonReceive(code: number): void {
    if (this.receiveDone || this._streamId === undefined) return;
    this.receiveDone = true;
    this.conn.transport.stopSending(this._streamId, code);
    this.cancelDecoding();
    this.maybeFinished();
  }

  /**
   * We will not process this stream's field sections any more: QPACK Stream Cancellation (RFC 9204
   * §4.4.2), once, unless every section it carried was decoded (the message is complete).
   */
  protected cancelDecoding(): void {
    if (this.decodingCancelled || this._streamId === undefined || this.reader.done) return;
    this.decodingCancelled = true;
    this.conn.cancelDecoding(this._streamId);
  }

  // ------------------------------------------------------------------ sending

  protected sendFields(fields: readonly FieldLine[]): void {
    const id = this._streamId!;
    const section = this.conn.encodeFields(id, fields);
    this.conn.transport.write(id, encodeFrame({ type: H3FrameType.Headers, fieldSection: section }));
  }

  /** One DATA frame; false when the transport's buffer is full (wait for onWritable). */
  protected sendData(chunk: Uint8Array): boolean {
    const id = this._streamId!;
    const t = this.conn.transport;
    if (chunk.length === 0) return true;
    if (chunk.length < COALESCE_LIMIT)
      return t.write(id, encodeFrame({ type: H3FrameType.Data, data: chunk }));
    t.write(id, encodeFrameHeader(H3FrameType.Data, chunk.length));
    return t.write(id, chunk);
  }

  /** Trailers (if any) and FIN. */
  protected sendEnd(trailers?: readonly FieldLine[]): void {
    const id = this._streamId!;
    if (trailers && trailers.length > 0) this.sendFields(trailers);
    this.conn.transport.end(id);
    this.sendDone = true;
    this.maybeFinished();
  }

  /** Abort both directions with `code` (RFC 9114 §4.1.1, §8). */
  protected abortStream(code: number): void {
    const id = this._streamId;
    if (id === undefined) return;
    // RFC 9000 §3.1: a reset is allowed after FIN too, until everything was acknowledged; it
    // tells the peer to stop processing (RFC 9114 §4.1.1).
    if (!this.sendReset) {
      this.sendReset = true;
      this.conn.transport.resetStream(id, code);
    }
    this.sendDone = true;
    this.abandonReceive(code);
    this.maybeFinished();
  }

  /** Both directions are finished: the stream leaves the connection's registry. */
  protected maybeFinished(): void {
    if (this.sendDone && this.receiveDone && this._streamId !== undefined) {
      this.conn.unregister(this._streamId);
      this.onFinished();
    }
  }

  /** Called once when both directions are finished. */
  protected onFinished(): void {}

  abstract onWritable(): void;
  abstract onReset(code: number): void;
  abstract onStopSending(code: number): void;
  abstract onStreamError(err: H3ProtocolError): void;
  abstract onConnectionClosed(err: Error): void;
}
