/**
 * What a connection is created with: the options common to both sides, the client's (its TLS
 * options, a token, a version to try) and the server's (what its endpoint learnt from the client's
 * first Initial, RFC 9000 §7.2, §8.1, §17.2.5), and the hooks through which it reports what it sees
 * (frames, dropped packets, path and recovery events) for qlog and tests.
 */
import type { InitialKeySource, PacketKeys } from '../crypto/packet-keys.js';
import type { OpenedPacket } from '../crypto/packet-protection.js';
import type { KeyShareSource } from '../tls/key-exchange.js';
import type { EarlyDataContext, TlsClientConfig, TlsServerConfig } from '../tls/types.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import type { Frame } from '../wire/frames.js';
import type { PacketType } from '../wire/packet-header.js';
import type { TransportOptions } from './connection-options.js';
import type { PathEvent } from './connection-paths.js';
import type { RecoveryTraceEvent } from './recovery-trace.js';

export type ClientTlsOptions = Omit<TlsClientConfig, 'transportParameters' | 'random'>;
export type ServerTlsOptions = Omit<
  TlsServerConfig,
  'transportParameters' | 'random' | 'ticketAppData' | 'acceptEarlyData'
>;

/**
 * A frame observed on the wire, for qlog-style tracing and for tests. A frame's byte fields are
 * views, valid during the call only: a sent STREAM frame's data is a view of a send page that is
 * reused once acknowledged (streams/send-pages.ts). Copy what you keep.
 */
export interface FrameTraceEvent {
  direction: 'sent' | 'received';
  packetType: PacketType;
  packetNumber: number;
  frame: Frame;
}

/** Why a received packet was discarded unprocessed (qlog quic-events `packet_dropped` triggers). */
export type PacketDropReason = 'key_unavailable' | 'decryption_failure' | 'duplicate' | 'unsupported';

/**
 * A packet of this connection that was discarded without processing it (qlog `transport:packet_dropped`):
 * for example 0-RTT packets after the server rejected 0-RTT (RFC 9001 §4.6.2). Its frames were never
 * seen, so it appears in no FrameTraceEvent.
 */
export interface PacketDropTraceEvent {
  packetType: PacketType;
  reason: PacketDropReason;
  /** The packet as it arrived, still protected: a copy, made only when the hook is set. */
  packet: Uint8Array;
}

interface CommonConfig {
  remoteAddress: string;
  transport?: Partial<TransportOptions>;
  random: RandomBytes;
  /** Key shares made ahead of time for the TLS handshake (TlsCommonConfig.keyShares). */
  keyShares?: KeyShareSource;
  now: Millis;
  /** Stateless reset token for each CID we issue (RFC 9000 §10.3.2); derived by the endpoint. */
  statelessResetToken: (cid: Uint8Array) => Uint8Array;
  trace?: (e: FrameTraceEvent) => void;
  /** Path changes and validations (RFC 9000 §8.2, §9), for qlog and tests. */
  pathTrace?: (e: PathEvent) => void;
  /** Packets discarded unprocessed (see PacketDropTraceEvent). */
  dropTrace?: (e: PacketDropTraceEvent) => void;
  /** Loss recovery and congestion control changes (qlog recovery events). */
  recoveryTrace?: (e: RecoveryTraceEvent) => void;
  /**
   * For tests of the peer's validation only: rewrites our encoded transport parameters before they
   * go into the handshake.
   */
  testRewriteTransportParameters?: (encoded: Uint8Array) => Uint8Array;
}

export interface ClientConnectionConfig extends CommonConfig {
  role: 'client';
  version?: number;
  tls: ClientTlsOptions;
  /** A first DCID with its Initial keys derived ahead of time; without one they are made now. */
  initialKeys?: InitialKeySource;
  /** Our Source Connection ID; random if absent. */
  localCid?: Uint8Array;
  /** A NEW_TOKEN from an earlier connection to this server (RFC 9000 §8.1.3). */
  token?: Uint8Array;
}

export interface ServerConnectionConfig extends CommonConfig {
  role: 'server';
  version: number;
  /** The DCID of the client's very first Initial (before any Retry). */
  originalDcid: Uint8Array;
  /** The DCID of the Initial that created this connection (Initial keys derive from it). */
  initialDcid: Uint8Array;
  /**
   * The Initial keys of `initialDcid` (RFC 9001 §5.2) when the endpoint already derived them to check
   * the first Initial (client-hello-check.ts): not derived a second time. Absent: derived here.
   */
  initialKeys?: { client: PacketKeys; server: PacketKeys };
  /**
   * The Initial packet at `packetStart` of `datagram`, the datagram the endpoint creates the
   * connection for and hands to its receive() next, as the endpoint's check opened it with
   * `initialKeys.client` (client-hello-check.ts): the connection takes it over instead of opening the
   * packet again. Absent: the connection opens it.
   */
  firstPacket?: PreOpenedPacket;
  clientScid: Uint8Array;
  localCid: Uint8Array;
  retrySourceCid?: Uint8Array;
  /** Address already validated (valid Retry or NEW_TOKEN token): no amplification limit. */
  addressValidated: boolean;
  tls: ServerTlsOptions;
  /** The application's 0-RTT policy (RFC 9001 §4.6.2); the connection adds the transport parameter rule. */
  acceptEarlyData?: (ctx: EarlyDataContext) => boolean;
  /** Produces a NEW_TOKEN token for the client after the handshake (RFC 9000 §8.1.3), if any. */
  newToken?: () => Uint8Array | undefined;
}

/** A packet of `datagram` that was already opened (see ServerConnectionConfig.firstPacket). */
export interface PreOpenedPacket {
  readonly datagram: Uint8Array;
  readonly packetStart: number;
  readonly opened: OpenedPacket;
}

export type ConnectionConfig = ClientConnectionConfig | ServerConnectionConfig;
