/**
 * What a connection tells the layer above it (the endpoint and the Node shell), and why it closed.
 */
import type { StreamEvent } from '../streams/stream-manager.js';
import type { ResumptionSession } from '../tls/types.js';
import type { StreamEpoch } from './stream-epoch.js';

export type CloseSource =
  /** We closed (application or transport error detected locally). */
  | 'local'
  /** The peer sent CONNECTION_CLOSE. */
  | 'remote'
  /** No packet for the idle timeout (RFC 9000 §10.1). */
  | 'idle-timeout'
  /** The handshake did not complete in time. */
  | 'handshake-timeout'
  /** The peer sent a stateless reset (RFC 9000 §10.3). */
  | 'stateless-reset'
  /** No version in common (RFC 9000 §6). */
  | 'version-negotiation'
  /** The network reported the peer unreachable during the handshake (ICMP port unreachable). */
  | 'unreachable';

export interface CloseInfo {
  source: CloseSource;
  /** Application error code space (CONNECTION_CLOSE type 0x1d) rather than transport. */
  application: boolean;
  errorCode: number;
  frameType?: number;
  reason: string;
  /** For CRYPTO_ERROR codes: the TLS alert. */
  tlsAlert?: number;
  /**
   * A bug caught while processing (closed with INTERNAL_ERROR). Kept for the application, the qlog and
   * the tests; never sent to the peer, whose CONNECTION_CLOSE says only "internal error".
   */
  internalError?: unknown;
}

export type ConnectionEvent =
  | { type: 'handshake-complete' }
  /** Client: HANDSHAKE_DONE received. Server: same moment as handshake-complete (RFC 9001 §4.1.2). */
  | { type: 'handshake-confirmed' }
  /** Client: the server's verdict on our 0-RTT. Server: our verdict. Only when 0-RTT was attempted. */
  | { type: 'early-data'; accepted: boolean }
  /** A stream epoch became current: the first one, or a fresh one after 0-RTT was rejected. */
  | { type: 'epoch'; epoch: StreamEpoch }
  | { type: 'stream'; epoch: StreamEpoch; event: StreamEvent }
  | { type: 'session-ticket'; session: ResumptionSession }
  /** Client: a NEW_TOKEN to present on a future connection to this server (RFC 9000 §8.1.3). */
  | { type: 'new-token'; token: Uint8Array }
  /** A DATAGRAM frame's payload (RFC 9221), for the epoch current when it arrived. */
  | { type: 'datagram'; epoch: StreamEpoch; data: Uint8Array }
  /** The connection is closed for the application; it may still linger (closing/draining). */
  | { type: 'closed'; info: CloseInfo }
  /** The connection is gone: the endpoint may forget it. */
  | { type: 'terminated' };
