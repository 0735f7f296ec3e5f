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
 */
import { type FlowLimits, StreamManager, type StreamManagerConfig } from '../streams/stream-manager.js';
import type { TransportParameters } from '../wire/transport-parameters.js';

export class StreamEpoch {
  /** Distinguishes the epochs of one connection in logs and tests (1, 2, ...). */
  readonly id: number;
  readonly streams: StreamManager;
  /** True for the epoch the client opened under remembered (0-RTT) limits. */
  readonly early: boolean;
  /** Set when 0-RTT was rejected: the epoch is dead, nothing from it is ever sent. */
  rejected = false;
  /** DATAGRAM frames queued by the application (RFC 9221); not retransmitted. */
  readonly datagrams: Uint8Array[] = [];
  datagramBytes = 0;

  constructor(id: number, config: StreamManagerConfig, early: boolean) {
    this.id = id;
    this.streams = new StreamManager(config);
    this.early = early;
  }
}

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
