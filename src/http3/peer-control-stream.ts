/**
 * The peer's control stream (RFC 9114 §6.2.1): SETTINGS first and once, then GOAWAY, MAX_PUSH_ID
 * and CANCEL_PUSH; unknown frames skipped. It checks every rule about those frames that does not
 * need the rest of the connection and reports the rest to its owner.
 */
import { H3ErrorCode } from './error-codes.js';
import { FrameReader } from './frame-reader.js';
import { H3FrameType } from './frames.js';
import { h3ConnectionError } from './h3-protocol-error.js';
import { type H3Settings, settingsFromEntries } from './settings.js';

export interface ControlStreamEvents {
  onSettings(settings: H3Settings): void;
  /** A GOAWAY, already checked: a client-initiated bidirectional stream ID (client) or a push ID (server), never increasing. */
  onGoaway(id: number): void;
}

/** RFC 9114 §4.6, §7.2.7: push IDs; we never send MAX_PUSH_ID, so no push ID is ever valid for the server. */
export class PeerControlStream {
  private readonly frames: FrameReader;
  private settingsReceived = false;
  private lastGoaway: number | undefined;
  private maxPushId: number | undefined;

  constructor(
    private readonly role: 'client' | 'server',
    private readonly events: ControlStreamEvents,
  ) {
    this.frames = new FrameReader((type) => this.checkFrame(type));
  }

  /** Bytes after the stream type. Throws H3ProtocolError (connection errors only). */
  push(data: Uint8Array): void {
    this.frames.push(data);
    for (let item = this.frames.next(); item; item = this.frames.next()) {
      if (item.kind !== 'frame') continue; // DATA is refused by checkFrame
      const f = item.frame;
      switch (f.type) {
        case H3FrameType.Settings:
          this.settingsReceived = true;
          this.events.onSettings(settingsFromEntries(f.entries));
          break;
        case H3FrameType.Goaway:
          this.onGoaway(f.id);
          break;
        case H3FrameType.MaxPushId:
          // RFC 9114 §7.2.7: it must not decrease.
          if (this.maxPushId !== undefined && f.pushId < this.maxPushId) {
            throw h3ConnectionError(H3ErrorCode.H3_ID_ERROR, 'MAX_PUSH_ID decreased');
          }
          this.maxPushId = f.pushId;
          break;
        case H3FrameType.CancelPush:
          // RFC 9114 §7.2.3: a client gets no push ID (we never send MAX_PUSH_ID); a server never
          // promised any (we never send PUSH_PROMISE).
          throw h3ConnectionError(H3ErrorCode.H3_ID_ERROR, `CANCEL_PUSH for push ${f.pushId} never promised`);
        default:
          break;
      }
    }
  }

  private checkFrame(type: number): void {
    // RFC 9114 §6.2.1: the first frame must be SETTINGS.
    if (!this.settingsReceived && type !== H3FrameType.Settings) {
      throw h3ConnectionError(
        H3ErrorCode.H3_MISSING_SETTINGS,
        `first control frame is 0x${type.toString(16)}`,
      );
    }
    switch (type) {
      case H3FrameType.Settings:
        // RFC 9114 §7.2.4: a second SETTINGS frame.
        if (this.settingsReceived) throw unexpected('second SETTINGS frame');
        return;
      case H3FrameType.Data:
      case H3FrameType.Headers:
      case H3FrameType.PushPromise:
        // RFC 9114 §7.2.1, §7.2.2, §7.2.5: message frames on the control stream.
        throw unexpected(`frame 0x${type.toString(16)} on the control stream`);
      case H3FrameType.MaxPushId:
        // RFC 9114 §7.2.7: a server must not send it.
        if (this.role === 'client') throw unexpected('MAX_PUSH_ID from a server');
        return;
      default:
        return;
    }
  }

  private onGoaway(id: number): void {
    // RFC 9114 §5.2: from a server, a client-initiated bidirectional stream ID.
    if (this.role === 'client' && id % 4 !== 0) {
      throw h3ConnectionError(H3ErrorCode.H3_ID_ERROR, `GOAWAY with stream ID ${id}`);
    }
    // RFC 9114 §5.2: the identifier never increases.
    if (this.lastGoaway !== undefined && id > this.lastGoaway) {
      throw h3ConnectionError(H3ErrorCode.H3_ID_ERROR, `GOAWAY ${id} after ${this.lastGoaway}`);
    }
    this.lastGoaway = id;
    this.events.onGoaway(id);
  }
}

function unexpected(reason: string) {
  return h3ConnectionError(H3ErrorCode.H3_FRAME_UNEXPECTED, reason);
}
