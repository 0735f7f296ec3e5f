/**
 * Which streams of one StreamManager exist (RFC 9000 §2.1, §3.2, §4.6): opening ours under the
 * peer's MAX_STREAMS, admitting the peer's (implicitly opening lower IDs of the type first, within
 * our limit), and finding the stream an application call or a received frame names, typed by the
 * part it concerns. The streams themselves live in StreamMaps, one map per kind.
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import type { ConnectionFlow } from './connection-flow.js';
import { ReceiveStream } from './receive-stream.js';
import { SendStream } from './send-stream.js';
import {
  BidiStreamEntry,
  ReceiveOnlyStreamEntry,
  type ReceivingEntry,
  type SendingEntry,
  SendOnlyStreamEntry,
  type StreamEntry,
} from './stream-entry.js';
import { isBidirectional, isLocallyInitiated, type Role, streamId, streamIndex } from './stream-id.js';
import { StreamMaps } from './stream-maps.js';
import { StreamStateError } from './stream-state-error.js';
import type { FlowLimits } from './stream-types.js';

export interface StreamRegistryConfig {
  role: Role;
  /** What we advertise: the receive windows of new streams. */
  local: FlowLimits;
  /** Auto-tuning ceiling of a stream receive window. */
  maxStreamWindow: number;
  /** The connection's stream-count limits (and flow control). */
  conn: ConnectionFlow;
  /** A peer stream was created (reported to the application as 'opened'). */
  onPeerOpened: (id: number) => void;
}

export class StreamRegistry {
  private readonly maps: StreamMaps;
  private readonly role: Role;
  private readonly local: FlowLimits;
  private readonly maxStreamWindow: number;
  private readonly conn: ConnectionFlow;
  private readonly onPeerOpened: (id: number) => void;
  private _opened = 0;
  private _peer: FlowLimits;

  constructor(
    config: StreamRegistryConfig,
    /** What the peer advertised (for 0-RTT, the remembered limits until the server's are known). */
    peer: FlowLimits,
  ) {
    this._peer = peer;
    this.role = config.role;
    this.local = config.local;
    this.maxStreamWindow = config.maxStreamWindow;
    this.conn = config.conn;
    this.onPeerOpened = config.onPeerOpened;
    this.maps = new StreamMaps();
  }

  /** Streams created so far, ours and the peer's. */
  get opened(): number {
    return this._opened;
  }

  /** What the peer advertised: the send credit of new streams. */
  get peer(): FlowLimits {
    return this._peer;
  }

  /** 0-RTT accepted: the server's real limits replace the remembered ones (RFC 9000 §7.4.1). */
  adoptPeerLimits(peer: FlowLimits): void {
    this._peer = peer;
  }

  /** Opens a stream; undefined when the peer's stream limit is reached (STREAMS_BLOCKED is queued). */
  open(bidirectional: boolean): number | undefined {
    const index = this.conn.local(bidirectional).tryOpen();
    if (index === undefined) return undefined;
    const id = streamId(this.role, bidirectional, index);
    // The peer's limits for a stream we initiate: its "remote" bidi or uni parameter (RFC 9000 §18.2).
    const send = new SendStream(
      id,
      bidirectional ? this._peer.initialMaxStreamDataBidiRemote : this._peer.initialMaxStreamDataUni,
    );
    this.maps.add(
      bidirectional
        ? new BidiStreamEntry(
            id,
            send,
            new ReceiveStream(id, this.local.initialMaxStreamDataBidiLocal, this.maxStreamWindow),
          )
        : new SendOnlyStreamEntry(id, send),
    );
    this._opened++;
    return id;
  }

  get(id: number): StreamEntry | undefined {
    return this.maps.get(id);
  }

  sending(id: number): SendingEntry | undefined {
    return this.maps.sending(id);
  }

  receiving(id: number): ReceivingEntry | undefined {
    return this.maps.receiving(id);
  }

  delete(entry: StreamEntry): void {
    this.maps.delete(entry);
  }

  /** Streams currently open. */
  get size(): number {
    return this.maps.size;
  }

  /** Every open stream with a sending part, in the order the streams were created. */
  sendingInOrder(): Generator<SendingEntry> {
    return this.maps.sendingInOrder();
  }

  /**
   * The stream for an application call on its sending part; undefined when it existed and is closed
   * (calls are then no-ops). Throws StreamStateError for a receive-only stream or one that never existed.
   */
  appSending(id: number): SendingEntry | undefined {
    if (!isBidirectional(id) && !isLocallyInitiated(id, this.role)) {
      throw new StreamStateError(id, 'receive-only stream');
    }
    return this.maps.sending(id) ?? this.closedOrUnknown(id);
  }

  /** Like appSending, for the receiving part: a send-only stream throws. */
  appReceiving(id: number): ReceivingEntry | undefined {
    if (!isBidirectional(id) && isLocallyInitiated(id, this.role)) {
      throw new StreamStateError(id, 'send-only stream');
    }
    return this.maps.receiving(id) ?? this.closedOrUnknown(id);
  }

  /** No open stream `id`: undefined if it was closed, StreamStateError if it never existed. */
  private closedOrUnknown(id: number): undefined {
    if (!Number.isSafeInteger(id) || id < 0 || !this.everCreated(id)) {
      throw new StreamStateError(id, 'unknown stream');
    }
    return undefined;
  }

  /** Whether a stream with this ID has been created at some point (open now or closed). */
  private everCreated(id: number): boolean {
    const index = streamIndex(id);
    const bidi = isBidirectional(id);
    if (isLocallyInitiated(id, this.role)) return index < this.conn.local(bidi).next;
    return index < this.conn.peer(bidi).next;
  }

  /**
   * The stream whose sending part a received frame concerns (MAX_STREAM_DATA, STOP_SENDING),
   * creating peer streams as needed (see admit). Undefined for a closed stream: late frames are ignored.
   */
  networkSending(id: number, frameType: number): SendingEntry | undefined {
    // RFC 9000 §19.5, §19.10: sending-part frames on our receive-only stream.
    if (!isBidirectional(id) && !isLocallyInitiated(id, this.role)) this.wrongDirection(id, frameType);
    this.admit(id, frameType);
    return this.maps.sending(id);
  }

  /** The stream whose receiving part a received frame concerns (STREAM, RESET_STREAM, STREAM_DATA_BLOCKED). */
  networkReceiving(id: number, frameType: number): ReceivingEntry | undefined {
    // RFC 9000 §19.4, §19.8, §19.13: receiving-part frames on our send-only stream.
    if (!isBidirectional(id) && isLocallyInitiated(id, this.role)) this.wrongDirection(id, frameType);
    this.admit(id, frameType);
    return this.maps.receiving(id);
  }

  private wrongDirection(id: number, frameType: number): never {
    const local = isLocallyInitiated(id, this.role);
    throw transportError(
      TransportErrorCode.STREAM_STATE_ERROR,
      `frame 0x${frameType.toString(16)} on ${local ? 'send-only' : 'receive-only'} stream ${id}`,
      frameType,
    );
  }

  /**
   * Checks that a received frame may name stream `id`, creating peer streams as needed (RFC 9000
   * §3.2: lower IDs of the type first, each reported as 'opened').
   */
  private admit(id: number, frameType: number): void {
    const local = isLocallyInitiated(id, this.role);
    const bidi = isBidirectional(id);
    const index = streamIndex(id);
    if (local) {
      // RFC 9000 §19.5, §19.8, §19.10: a locally initiated stream that we have not created.
      if (index >= this.conn.local(bidi).next) {
        throw transportError(
          TransportErrorCode.STREAM_STATE_ERROR,
          `frame 0x${frameType.toString(16)} on locally initiated stream ${id} that was never opened`,
          frameType,
        );
      }
      return;
    }
    const limit = this.conn.peer(bidi);
    if (index < limit.next) return;
    if (!limit.allows(index)) {
      // RFC 9000 §4.6
      throw transportError(
        TransportErrorCode.STREAM_LIMIT_ERROR,
        `peer opened stream ${id} beyond its limit of ${limit.limit} streams`,
        frameType,
      );
    }
    for (let k = limit.next; k <= index; k++) this.createPeerStream(bidi, k);
    limit.onOpenedUpTo(index);
  }

  private createPeerStream(bidi: boolean, index: number): void {
    const id = streamId(this.role === 'client' ? 'server' : 'client', bidi, index);
    // RFC 9000 §3.1: the sending part of a peer's bidirectional stream starts in Ready; its limit is
    // the peer's "local" parameter.
    const recv = new ReceiveStream(
      id,
      bidi ? this.local.initialMaxStreamDataBidiRemote : this.local.initialMaxStreamDataUni,
      this.maxStreamWindow,
    );
    this.maps.add(
      bidi
        ? new BidiStreamEntry(id, new SendStream(id, this._peer.initialMaxStreamDataBidiLocal), recv)
        : new ReceiveOnlyStreamEntry(id, recv),
    );
    this._opened++;
    this.onPeerOpened(id);
  }
}
