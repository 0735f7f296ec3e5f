/**
 * The control frames one stream can have pending: RESET_STREAM (RFC 9000 §19.4), STOP_SENDING
 * (§19.5), MAX_STREAM_DATA (§19.10) and STREAM_DATA_BLOCKED (§19.13). Each is produced with the
 * stream's latest state when the packet is built, and dropped when no longer accurate.
 */

import type { Millis } from '../util/time.js';
import { FrameType } from '../wire/frames.js';
import type { ReceiveWindow } from './flow-control.js';
import { resetStreamFrameLength, streamControlFrameLength } from './frame-size.js';
import { ReceiveState } from './receive-stream.js';
import { SendState } from './send-stream.js';
import { SentFrameKind, SentFrameRecord } from './sent-frame-record.js';
import {
  type ReceivingEntry,
  receivingOf,
  type SendingEntry,
  type StreamEntry,
  sendingOf,
} from './stream-entry.js';
import type { PoppedFrame } from './stream-types.js';

export function hasStreamControl(entry: StreamEntry): boolean {
  const send = sendingOf(entry)?.send;
  const recv = receivingOf(entry)?.recv;
  return (
    send?.resetPending === true ||
    send?.blockedPending === true ||
    recv?.stopSendingPending === true ||
    recv?.maxStreamDataDue === true
  );
}

/**
 * The next pending control frame of `entry` that fits in maxBytes. A stream window update is
 * auto-tuned at this moment; the connection window is kept at least 1.5 times any stream window.
 */
export function popStreamControl(
  owner: object,
  entry: StreamEntry,
  maxBytes: number,
  now: Millis,
  rtt: () => Millis,
  connectionWindow: ReceiveWindow,
): PoppedFrame | undefined {
  const id = entry.id;
  const sending = sendingOf(entry);
  const receiving = receivingOf(entry);
  const send = sending?.send;
  const recv = receiving?.recv;
  if (send?.resetPending) {
    if (send.state !== SendState.ResetSent) {
      send.onResetSettled();
    } else if (resetStreamFrameLength(id, send.resetCode, send.resetFinalSize) <= maxBytes) {
      send.onResetSettled();
      return {
        frame: {
          type: FrameType.ResetStream,
          streamId: id,
          errorCode: send.resetCode,
          finalSize: send.resetFinalSize,
        },
        record: new SentFrameRecord(
          owner,
          SentFrameKind.ResetStream,
          sending,
          undefined,
          send.resetFinalSize,
        ),
      };
    }
  }
  if (recv?.stopSendingPending) {
    // RFC 9000 §3.5: STOP_SENDING only matters in Recv / Size Known.
    if (!recv.stopped || (recv.state !== ReceiveState.Recv && recv.state !== ReceiveState.SizeKnown)) {
      recv.onStopSendingSettled();
    } else if (streamControlFrameLength(id, recv.stopCode) <= maxBytes) {
      recv.onStopSendingSettled();
      return {
        frame: { type: FrameType.StopSending, streamId: id, errorCode: recv.stopCode },
        record: new SentFrameRecord(owner, SentFrameKind.StopSending, undefined, receiving, recv.stopCode),
      };
    }
  }
  if (recv?.maxStreamDataDue) {
    const window = recv.window;
    const smoothed = rtt();
    const value = window.updateDue ? window.nextLimit(now, smoothed) : window.limit;
    if (streamControlFrameLength(id, value) <= maxBytes) {
      if (window.updateDue) {
        window.commitUpdate(now, smoothed);
        connectionWindow.ensureWindow(window.window * 1.5);
      }
      recv.onMaxStreamDataSent();
      return {
        frame: { type: FrameType.MaxStreamData, streamId: id, maximumStreamData: value },
        record: new SentFrameRecord(owner, SentFrameKind.MaxStreamData, undefined, receiving, value),
      };
    }
  }
  if (send?.blockedPending) {
    const value = send.credit.limit;
    if (!send.isBlockedAt(value)) {
      send.onBlockedMoot();
    } else if (streamControlFrameLength(id, value) <= maxBytes) {
      send.onBlockedFrameSent();
      return {
        frame: { type: FrameType.StreamDataBlocked, streamId: id, maximumStreamData: value },
        record: new SentFrameRecord(owner, SentFrameKind.StreamDataBlocked, sending, undefined, value),
      };
    }
  }
  return undefined;
}

/** A control frame of a stream's sending part was lost: flag it again if still needed. */
export function onSendControlLost(entry: SendingEntry, kind: SentFrameKind, value: number): void {
  const send = entry.send;
  switch (kind) {
    case SentFrameKind.ResetStream:
      send.onResetLost();
      return;
    case SentFrameKind.StreamDataBlocked:
      send.onBlockedLost(value);
      return;
    default:
      return;
  }
}

/** A control frame of a stream's receiving part was lost: flag it again (latest value at send time). */
export function onReceiveControlLost(entry: ReceivingEntry, kind: SentFrameKind, value: number): void {
  const recv = entry.recv;
  switch (kind) {
    case SentFrameKind.StopSending:
      recv.onStopSendingLost();
      return;
    case SentFrameKind.MaxStreamData:
      recv.onMaxStreamDataLost(value);
      return;
    default:
      return;
  }
}
