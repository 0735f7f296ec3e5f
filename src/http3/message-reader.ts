/**
 * The incoming HTTP message on a request stream (RFC 9114 §4.1): a request on the server, the
 * response(s) on the client. It consumes frames from the stream's FrameReader in order:
 *
 *   head:     HEADERS (a client may see interim 1xx HEADERS first, §4.1)
 *   blocked:  the head's field section waits for QPACK encoder instructions (RFC 9204 §2.1.2);
 *             nothing after it is read until it is decoded
 *   body:     DATA*, then optionally one HEADERS (trailers)
 *   trailers: only unknown frames may follow, then FIN
 *
 * Any other frame, or a frame out of order, is H3_FRAME_UNEXPECTED (§4.1); a malformed message or
 * a content-length that does not match the DATA received is H3_MESSAGE_ERROR (§4.1.2). Errors are
 * thrown as H3ProtocolError; the session applies their scope.
 *
 * It is pull-based: `wantData` false (the consumer's buffer is full) stops the reading of DATA, and
 * so of the stream, which leaves QUIC flow control to push back on the peer.
 */
import { H3ErrorCode } from './error-codes.js';
import type { DecodeResult, FieldLine } from './field-codec.js';
import { FrameReader, type FrameReaderLimits } from './frame-reader.js';
import { H3FrameType } from './frames.js';
import { h3ConnectionError, h3StreamError } from './h3-protocol-error.js';
import { checkTrailers, contentLengthOf } from './message-validation.js';

/** How the reader interprets a head section; `interim` heads (1xx) may be followed by another head. */
export interface HeadParser<H> {
  parse(fields: FieldLine[]): { head: H; fields: FieldLine[]; interim: boolean; noContent: boolean };
}

export interface MessageSink<H> {
  /** An interim (1xx) response head. */
  onInterim?(head: H): void;
  /** The request head, or the final response head. */
  onHead(head: H): void;
  /** Content bytes. */
  onData(chunk: Uint8Array): void;
  onTrailers(fields: FieldLine[]): void;
  /** The message is complete (FIN after a valid message). */
  onEnd(): void;
}

export interface MessageReaderDeps {
  /** Decode a field section of this stream (QPACK); throws for a decompression failure. */
  decode(fieldSection: Uint8Array): DecodeResult;
  /** Frames of the push machinery: a PUSH_PROMISE on a response stream is H3_ID_ERROR for a client that never sent MAX_PUSH_ID (RFC 9114 §7.2.5). */
  role: 'client' | 'server';
  limits?: FrameReaderLimits;
}

type State = 'head' | 'blocked-head' | 'body' | 'blocked-trailers' | 'trailers' | 'done';

export class MessageReader<H> {
  private readonly frames: FrameReader;
  private state: State = 'head';
  /** The consumer wants DATA (its buffer has room). */
  private _wantData = true;
  get wantData() {
    return this._wantData;
  }
  /** The consumer's buffer is full: DATA stays unread (flow control holds the peer back). */
  pauseData(): void {
    this._wantData = false;
  }
  /** The consumer's buffer has room again. */
  resumeData(): void {
    this._wantData = true;
  }
  private finReceived = false;
  private declaredLength: number | undefined;
  private received = 0;
  private noContent = false;
  /** The final head has been delivered. */
  private _headDelivered = false;
  get headDelivered() {
    return this._headDelivered;
  }

  constructor(
    private readonly deps: MessageReaderDeps,
    private readonly parser: HeadParser<H>,
    private readonly sink: MessageSink<H>,
  ) {
    this.frames = new FrameReader((type) => this.checkFrame(type), deps.limits);
  }

  /** True while the head's or trailers' field section waits for QPACK. */
  get blocked(): boolean {
    return this.state === 'blocked-head' || this.state === 'blocked-trailers';
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Whether the session should read more from the stream now. */
  get wantsInput(): boolean {
    return this.state !== 'done' && !this.blocked && (this._wantData || this.state !== 'body');
  }

  /** Bytes read off the stream, and whether the stream ended with them. */
  push(data: Uint8Array, fin: boolean): void {
    this.frames.push(data);
    if (fin) this.finReceived = true;
  }

  /** Consume what can be consumed now. Throws H3ProtocolError. */
  process(): void {
    while (this.state !== 'done' && !this.blocked) {
      if (this.state === 'body' && !this._wantData) return;
      const item = this.frames.next();
      if (!item) {
        // Every byte of the stream has arrived and no complete frame is left.
        if (this.finReceived) this.onFin();
        return;
      }
      if (item.kind === 'data') {
        this.onData(item.data);
        continue;
      }
      const f = item.frame;
      if (f.type !== H3FrameType.Headers) continue; // checkFrame refused every other known type
      const result = this.deps.decode(f.fieldSection);
      if (result.status === 'blocked') {
        this.state = this.state === 'head' ? 'blocked-head' : 'blocked-trailers';
        continue;
      }
      this.onSection(result);
    }
  }

  /** The field section this stream was blocked on is decoded now. */
  unblocked(result: Exclude<DecodeResult, { status: 'blocked' }>): void {
    if (this.state === 'blocked-head') this.state = 'head';
    else if (this.state === 'blocked-trailers') this.state = 'body';
    else return;
    this.onSection(result);
  }

  private onSection(result: Exclude<DecodeResult, { status: 'blocked' }>): void {
    if (result.status === 'too-large') {
      // RFC 9114 §4.2.2: above our SETTINGS_MAX_FIELD_SECTION_SIZE (a server answers 431).
      throw h3StreamError(
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        `field section of ${result.size} bytes exceeds ${result.limit}`,
      );
    }
    if (this.state === 'head') this.onHeadFields(result.fields);
    else this.onTrailerFields(result.fields);
  }

  private checkFrame(type: number): void {
    switch (type) {
      case H3FrameType.Data:
        // RFC 9114 §4.1: DATA before the (final) HEADERS or after the trailers.
        if (this.state !== 'body') throw unexpected('DATA frame outside the message content');
        return;
      case H3FrameType.Headers:
        if (this.state === 'trailers' || this.state === 'done')
          throw unexpected('HEADERS after the trailers');
        return;
      case H3FrameType.PushPromise:
        // RFC 9114 §7.2.5: servers never receive it; we never sent MAX_PUSH_ID, so no push ID is valid.
        if (this.deps.role === 'server') throw unexpected('PUSH_PROMISE from a client');
        throw h3ConnectionError(H3ErrorCode.H3_ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
      case H3FrameType.Settings:
      case H3FrameType.Goaway:
      case H3FrameType.MaxPushId:
      case H3FrameType.CancelPush:
        // RFC 9114 §7.2.4, §7.2.6, §7.2.7, §7.2.3: control-stream frames.
        throw unexpected(`frame 0x${type.toString(16)} on a request stream`);
      default:
        return;
    }
  }

  private onHeadFields(fields: FieldLine[]): void {
    const parsed = this.parser.parse(fields);
    if (parsed.interim) {
      this.sink.onInterim?.(parsed.head);
      return;
    }
    this.declaredLength = contentLengthOf(parsed.fields);
    this.noContent = parsed.noContent;
    this.state = 'body';
    this._headDelivered = true;
    this.sink.onHead(parsed.head);
  }

  private onTrailerFields(fields: FieldLine[]): void {
    const trailers = checkTrailers(fields);
    this.checkLength(true);
    this.state = 'trailers';
    this.sink.onTrailers(trailers);
  }

  private onData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.received += chunk.length;
    if (this.noContent)
      throw h3StreamError(H3ErrorCode.H3_MESSAGE_ERROR, 'content in a message that has none');
    this.checkLength(false);
    this.sink.onData(chunk);
  }

  /** RFC 9114 §4.1.2: content-length must equal the sum of the DATA frame lengths. */
  private checkLength(complete: boolean): void {
    const d = this.declaredLength;
    if (d === undefined || this.noContent) return;
    if (this.received > d || (complete && this.received !== d)) {
      throw h3StreamError(
        H3ErrorCode.H3_MESSAGE_ERROR,
        `content-length ${d} but ${this.received}${complete ? '' : '+'} bytes of DATA`,
      );
    }
  }

  private onFin(): void {
    this.frames.finish();
    if (this.state === 'head') {
      // RFC 9114 §4.1.2: the stream ended without a complete message.
      throw h3StreamError(H3ErrorCode.H3_REQUEST_INCOMPLETE, 'stream ended before the header section');
    }
    if (this.state === 'body') this.checkLength(true);
    this.state = 'done';
    this.sink.onEnd();
  }
}

function unexpected(reason: string) {
  return h3ConnectionError(H3ErrorCode.H3_FRAME_UNEXPECTED, reason);
}
