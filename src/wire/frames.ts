/**
 * QUIC frame types and their in-memory representation (RFC 9000 §12.4 and §19, RFC 9221 §4).
 *
 * Decoded frames may reference the buffer they were decoded from (`data`, `token`, `connectionId`
 * are views, not copies): a consumer that keeps them beyond the processing of the packet must copy.
 */
export enum FrameType {
  Padding = 0x00,
  Ping = 0x01,
  Ack = 0x02,
  /** ACK with ECN counts; decoded as an AckFrame with `ecn` set, never used as a discriminant. */
  AckEcn = 0x03,
  ResetStream = 0x04,
  StopSending = 0x05,
  Crypto = 0x06,
  NewToken = 0x07,
  /** 0x08-0x0f: the low three bits are OFF (0x04), LEN (0x02) and FIN (0x01). */
  Stream = 0x08,
  MaxData = 0x10,
  MaxStreamData = 0x11,
  MaxStreamsBidi = 0x12,
  MaxStreamsUni = 0x13,
  DataBlocked = 0x14,
  StreamDataBlocked = 0x15,
  StreamsBlockedBidi = 0x16,
  StreamsBlockedUni = 0x17,
  NewConnectionId = 0x18,
  RetireConnectionId = 0x19,
  PathChallenge = 0x1a,
  PathResponse = 0x1b,
  ConnectionCloseTransport = 0x1c,
  ConnectionCloseApplication = 0x1d,
  HandshakeDone = 0x1e,
  /** RFC 9221 §4: 0x30 without Length (extends to the end of the packet), 0x31 with Length. */
  Datagram = 0x30,
  DatagramWithLength = 0x31,
}

export interface PaddingFrame {
  type: FrameType.Padding;
  /** Number of consecutive 0x00 bytes this frame stands for (decoding merges a run into one frame). */
  length: number;
}

export interface PingFrame {
  type: FrameType.Ping;
}

/** An inclusive range of acknowledged packet numbers. */
export interface AckRange {
  smallest: number;
  largest: number;
}

export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

export interface AckFrame {
  type: FrameType.Ack;
  /** The ACK Delay field as encoded (in units of 2^ack_delay_exponent microseconds). */
  ackDelay: number;
  /** Acknowledged ranges in descending order; ranges[0].largest is the Largest Acknowledged. */
  ranges: AckRange[];
  /** Present for frame type 0x03. */
  ecn?: EcnCounts;
}

export interface ResetStreamFrame {
  type: FrameType.ResetStream;
  streamId: number;
  errorCode: number;
  finalSize: number;
}

export interface StopSendingFrame {
  type: FrameType.StopSending;
  streamId: number;
  errorCode: number;
}

export interface CryptoFrame {
  type: FrameType.Crypto;
  offset: number;
  data: Uint8Array;
}

export interface NewTokenFrame {
  type: FrameType.NewToken;
  token: Uint8Array;
}

export interface StreamFrame {
  type: FrameType.Stream;
  streamId: number;
  offset: number;
  data: Uint8Array;
  fin: boolean;
}

export interface MaxDataFrame {
  type: FrameType.MaxData;
  maximumData: number;
}

export interface MaxStreamDataFrame {
  type: FrameType.MaxStreamData;
  streamId: number;
  maximumStreamData: number;
}

export interface MaxStreamsFrame {
  type: FrameType.MaxStreamsBidi | FrameType.MaxStreamsUni;
  maximumStreams: number;
}

export interface DataBlockedFrame {
  type: FrameType.DataBlocked;
  maximumData: number;
}

export interface StreamDataBlockedFrame {
  type: FrameType.StreamDataBlocked;
  streamId: number;
  maximumStreamData: number;
}

export interface StreamsBlockedFrame {
  type: FrameType.StreamsBlockedBidi | FrameType.StreamsBlockedUni;
  maximumStreams: number;
}

export interface NewConnectionIdFrame {
  type: FrameType.NewConnectionId;
  sequenceNumber: number;
  retirePriorTo: number;
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

export interface RetireConnectionIdFrame {
  type: FrameType.RetireConnectionId;
  sequenceNumber: number;
}

export interface PathChallengeFrame {
  type: FrameType.PathChallenge;
  /** 8 bytes. */
  data: Uint8Array;
}

export interface PathResponseFrame {
  type: FrameType.PathResponse;
  /** 8 bytes. */
  data: Uint8Array;
}

export interface ConnectionCloseTransportFrame {
  type: FrameType.ConnectionCloseTransport;
  errorCode: number;
  /** The type of the frame that triggered the error; 0 when unknown. */
  frameType: number;
  reason: string;
}

export interface ConnectionCloseApplicationFrame {
  type: FrameType.ConnectionCloseApplication;
  errorCode: number;
  reason: string;
}

export interface HandshakeDoneFrame {
  type: FrameType.HandshakeDone;
}

export interface DatagramFrame {
  type: FrameType.Datagram;
  data: Uint8Array;
}

export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseTransportFrame
  | ConnectionCloseApplicationFrame
  | HandshakeDoneFrame
  | DatagramFrame;
