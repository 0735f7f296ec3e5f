/**
 * QUIC transport parameters (RFC 9000 §18), RFC 9221's max_datagram_frame_size and RFC 9368's
 * version_information.
 *
 * CONTRACT (shared with the connection and TLS layers): the interface and defaults below; the codec
 * (`encodeTransportParameters`, `decodeTransportParameters`) is implemented in this file too.
 */

export interface PreferredAddress {
  /** 4 bytes, all zero when absent. */
  ipv4Address: Uint8Array;
  ipv4Port: number;
  /** 16 bytes, all zero when absent. */
  ipv6Address: Uint8Array;
  ipv6Port: number;
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

export interface TransportParameters {
  /** 0x00, server only. */
  originalDestinationConnectionId?: Uint8Array;
  /** 0x01, milliseconds; 0 = no idle timeout from this side. */
  maxIdleTimeout: number;
  /** 0x02, server only, 16 bytes. */
  statelessResetToken?: Uint8Array;
  /** 0x03, >= 1200. */
  maxUdpPayloadSize: number;
  /** 0x04 */
  initialMaxData: number;
  /** 0x05 */
  initialMaxStreamDataBidiLocal: number;
  /** 0x06 */
  initialMaxStreamDataBidiRemote: number;
  /** 0x07 */
  initialMaxStreamDataUni: number;
  /** 0x08, <= 2^60 */
  initialMaxStreamsBidi: number;
  /** 0x09, <= 2^60 */
  initialMaxStreamsUni: number;
  /** 0x0a, <= 20 */
  ackDelayExponent: number;
  /** 0x0b, milliseconds, < 2^14 */
  maxAckDelay: number;
  /** 0x0c */
  disableActiveMigration: boolean;
  /** 0x0d, server only */
  preferredAddress?: PreferredAddress;
  /** 0x0e, >= 2 */
  activeConnectionIdLimit: number;
  /** 0x0f */
  initialSourceConnectionId?: Uint8Array;
  /** 0x10, server only */
  retrySourceConnectionId?: Uint8Array;
  /** 0x20 (RFC 9221); absent = DATAGRAM frames not supported. */
  maxDatagramFrameSize?: number;
  /** 0x11 (RFC 9368) */
  versionInformation?: VersionInformation;
}

/** The values that apply when a parameter is absent (RFC 9000 §18.2). */
export function defaultTransportParameters(): TransportParameters {
  return {
    maxIdleTimeout: 0,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    activeConnectionIdLimit: 2,
  };
}
