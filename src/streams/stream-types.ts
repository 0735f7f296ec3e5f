/**
 * The types of the StreamManager's interface (re-exported by stream-manager.ts): configuration,
 * application events, read results and the frames it consumes and produces.
 */

import type { Millis } from '../util/time.js';
import type {
  DataBlockedFrame,
  Frame,
  MaxDataFrame,
  MaxStreamDataFrame,
  MaxStreamsFrame,
  ResetStreamFrame,
  StopSendingFrame,
  StreamDataBlockedFrame,
  StreamFrame,
  StreamsBlockedFrame,
} from '../wire/frames.js';
import type { SentFrameRecord } from './sent-frame-record.js';
import type { Role } from './stream-id.js';

/** Flow-control and stream-count transport parameters (RFC 9000 §18.2). */
export interface FlowLimits {
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
}

export interface StreamManagerConfig {
  role: Role;
  /** What we advertise (limits on what the peer may send us). */
  local: FlowLimits;
  /** What the peer advertised (limits on what we may send); may be updated once later. */
  peer: FlowLimits;
  /** Auto-tuning ceiling for the connection receive window (default 16 MiB). */
  maxConnectionReceiveWindow?: number;
  /** Auto-tuning ceiling for a stream receive window (default 6 MiB). */
  maxStreamReceiveWindow?: number;
  /** Per-stream unacknowledged bytes above which write() returns false (default 1 MiB). */
  sendBufferSize?: number;
  /**
   * Unacknowledged bytes of all streams together above which write() returns false and writeSome()
   * takes no more (default 8 MiB): the ceiling of the connection-wide send budget.
   */
  connectionSendBufferSize?: number;
  /**
   * Bytes the path carries without a queue (recovery/unqueued-window.ts): the connection budget is
   * twice this, at least sendBufferSize and at most connectionSendBufferSize (send-budget.ts).
   * Absent: connectionSendBufferSize.
   */
  pathCapacity?: () => number;
  /** Smoothed RTT, for window auto-tuning. */
  rtt: () => Millis;
}

export type StreamEvent =
  /** `early`: the peer opened it with a frame in a 0-RTT packet (RFC 9001 §4.6). */
  | { type: 'opened'; id: number; early?: boolean }
  | { type: 'readable'; id: number }
  | { type: 'writable'; id: number }
  | { type: 'reset'; id: number; errorCode: number }
  | { type: 'stop-sending'; id: number; errorCode: number }
  | { type: 'send-done'; id: number }
  | { type: 'streams-available'; bidirectional: boolean }
  | { type: 'closed'; id: number };

export interface ReadResult {
  data: Uint8Array;
  /** This chunk ends the stream. */
  fin: boolean;
}

export type StreamManagerFrame =
  | StreamFrame
  | ResetStreamFrame
  | StopSendingFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame;

export interface PoppedFrame {
  frame: Frame;
  record: SentFrameRecord;
}
