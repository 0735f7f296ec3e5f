/**
 * What the StreamManager remembers about a frame it produced, stored by the connection with the
 * sent packet and handed back on acknowledgment or loss. It points at the objects of the manager
 * (and stream) that produced it, so a record can only ever affect its own epoch: records of a
 * discarded manager (0-RTT rejected) are ignored by any other manager.
 */
import type { ReceivingEntry, SendingEntry } from './stream-entry.js';

export enum SentFrameKind {
  Stream = 0,
  ResetStream = 1,
  StopSending = 2,
  MaxStreamData = 3,
  StreamDataBlocked = 4,
  MaxData = 5,
  DataBlocked = 6,
  MaxStreamsBidi = 7,
  MaxStreamsUni = 8,
  StreamsBlockedBidi = 9,
  StreamsBlockedUni = 10,
}

export class SentFrameRecord {
  /** The StreamManager that produced the frame. */
  readonly owner: object;
  readonly kind: SentFrameKind;
  /** The stream, for frames of its sending part: STREAM, RESET_STREAM, STREAM_DATA_BLOCKED. */
  readonly sending: SendingEntry | undefined;
  /**
   * The stream, for frames of its receiving part: STOP_SENDING, MAX_STREAM_DATA. Connection-level
   * frames (MAX_DATA, MAX_STREAMS, *_BLOCKED) have neither.
   */
  readonly receiving: ReceivingEntry | undefined;
  /** STREAM: the data offset. Other kinds: the value the frame carried (limit, final size, ...). */
  readonly offset: number;
  /** STREAM: the data length; 0 otherwise. */
  readonly length: number;
  /** STREAM: the FIN bit. */
  readonly fin: boolean;

  constructor(
    owner: object,
    kind: SentFrameKind,
    sending: SendingEntry | undefined,
    receiving: ReceivingEntry | undefined,
    offset: number,
    length = 0,
    fin = false,
  ) {
    this.owner = owner;
    this.kind = kind;
    this.sending = sending;
    this.receiving = receiving;
    this.offset = offset;
    this.length = length;
    this.fin = fin;
  }
}
