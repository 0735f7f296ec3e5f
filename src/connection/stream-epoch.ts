/**
 * A stream epoch: everything stream-related that one "attempt" of a connection owns (RFC 9001 §4.6.2,
 * docs/0rtt.md). The StreamManager inside holds every stream, its buffers, both directions of
 * connection-level flow control, stream limits and every pending stream control frame; the datagram
 * queue holds unsent DATAGRAM frames.
 *
 * When the server rejects 0-RTT, the client drops the whole epoch and starts a new one from the
 * server's actual transport parameters. Public stream objects keep a reference to *their* epoch, so an
 * operation on a stream of a rejected attempt can only ever reach the dead epoch, which the packet
 * packer no longer reads from. Nothing of it can reach the next connection.
 *
 * The StreamManager is built on first use (issue 13): an idle connection that never opens or
 * receives a stream holds no flow controllers, scheduler, stream maps or event queue (about 1.7 KiB
 * per connection), only what it is built from. Building it later gives the same manager as building
 * it at once: its limits come from the options and the transport parameters the epoch was started
 * with, none of which change. The core's per-packet paths (the framer, the sender's "anything to
 * send", the event queue) read `builtStreams` and so never build it; whatever changes stream state
 * (a stream frame, opening a stream, the peer's new limits) reads `streams` and builds it.
 */
import { type FlowLimits, StreamManager, type StreamManagerConfig } from '../streams/stream-manager.js';
import type { TransportParameters } from '../wire/transport-parameters.js';

export class StreamEpoch {
  /** Distinguishes the epochs of one connection in logs and tests (1, 2, ...). */
  readonly id: number;
  private _streams: StreamManager | undefined;
  /** What the StreamManager is built from, until it is (then dropped). */
  private source: StreamConfigSource | undefined;
  /** True for the epoch the client opened under remembered (0-RTT) limits. */
  readonly early: boolean;
  private _rejected = false;
  /** DATAGRAM frames queued by the application (RFC 9221); not retransmitted. */
  private readonly queued: Uint8Array[] = [];
  private _datagramBytes = 0;
  private _peerMaxDatagramFrameSize: number | undefined;

  /**
   * `source.streamConfig(peer)` makes the StreamManager's configuration, `peer` being the
   * transport parameters this epoch relies on (remembered ones for the early epoch).
   */
  constructor(
    id: number,
    source: StreamConfigSource,
    private peer: TransportParameters | undefined,
    early: boolean,
    peerMaxDatagramFrameSize: number | undefined,
  ) {
    this.id = id;
    this.source = source;
    this.early = early;
    this._peerMaxDatagramFrameSize = peerMaxDatagramFrameSize;
  }

  /** The epoch's streams, flow control and stream events; built here on first use. */
  get streams(): StreamManager {
    let streams = this._streams;
    if (streams === undefined) {
      streams = new StreamManager(this.source!.streamConfig(this.peer!));
      this._streams = streams;
      this.source = undefined;
      this.peer = undefined;
    }
    return streams;
  }

  /**
   * The StreamManager if anything has used it yet. Undefined means no stream was opened, no stream
   * frame arrived and nothing was queued: there is nothing to send and no stream event to report.
   */
  get builtStreams(): StreamManager | undefined {
    return this._streams;
  }

  /** Set when 0-RTT was rejected: the epoch is dead, nothing from it is ever sent. */
  get rejected(): boolean {
    return this._rejected;
  }

  /** The server rejected 0-RTT (RFC 9001 §4.6.2): this epoch dies as a whole. */
  reject(): void {
    this._rejected = true;
  }

  /** DATAGRAM frames queued by the application (RFC 9221), oldest first; not retransmitted. */
  get datagrams(): readonly Uint8Array[] {
    return this.queued;
  }

  /** Bytes of the queued DATAGRAM payloads. */
  get datagramBytes(): number {
    return this._datagramBytes;
  }

  /**
   * The peer's max_datagram_frame_size this epoch may rely on (RFC 9221 §3): for the early epoch the
   * value remembered with the ticket, otherwise (and once 0-RTT is accepted) the peer's actual one.
   * Undefined or 0: the peer does not accept DATAGRAM frames.
   */
  get peerMaxDatagramFrameSize(): number | undefined {
    return this._peerMaxDatagramFrameSize;
  }

  /** 0-RTT accepted: the early epoch now uses the server's actual value (RFC 9221 §3). */
  adoptPeerMaxDatagramFrameSize(size: number | undefined): void {
    this._peerMaxDatagramFrameSize = size;
  }

  /**
   * Queue a DATAGRAM payload on this epoch (the caller checked support and size). False when the
   * bounded queue is full: the datagram is dropped, which RFC 9221 §5 allows.
   */
  queueDatagram(data: Uint8Array): boolean {
    if (
      this.queued.length >= MAX_QUEUED_DATAGRAMS ||
      this._datagramBytes + data.length > MAX_QUEUED_DATAGRAM_BYTES
    ) {
      return false;
    }
    // A real copy (Buffer#slice is a view): the application may reuse its buffer.
    this.queued.push(new Uint8Array(data));
    this._datagramBytes += data.length;
    return true;
  }

  /** The oldest queued DATAGRAM payload, if any. */
  peekDatagram(): Uint8Array | undefined {
    return this.queued[0];
  }

  /** Remove the oldest queued DATAGRAM: sent, or dropped (RFC 9221 §5 allows it). */
  shiftDatagram(): void {
    const data = this.queued.shift();
    if (data) this._datagramBytes -= data.length;
  }
}

/** Makes the configuration of an epoch's StreamManager (the connection's handshake driver). */
export interface StreamConfigSource {
  streamConfig(peer: TransportParameters): StreamManagerConfig;
}

/** Bounds of an epoch's DATAGRAM send queue (what waits for congestion window). */
export const MAX_QUEUED_DATAGRAMS = 1024;
export const MAX_QUEUED_DATAGRAM_BYTES = 1024 * 1024;

/** The flow-control limits carried by a set of transport parameters (RFC 9000 §18.2). */
export function flowLimitsOf(p: TransportParameters): FlowLimits {
  return {
    initialMaxData: p.initialMaxData,
    initialMaxStreamDataBidiLocal: p.initialMaxStreamDataBidiLocal,
    initialMaxStreamDataBidiRemote: p.initialMaxStreamDataBidiRemote,
    initialMaxStreamDataUni: p.initialMaxStreamDataUni,
    initialMaxStreamsBidi: p.initialMaxStreamsBidi,
    initialMaxStreamsUni: p.initialMaxStreamsUni,
  };
}
