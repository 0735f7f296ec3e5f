/**
 * Per-frame-type rules: which packet types may carry a frame (RFC 9000 §12.4 Table 3, RFC 9221 §4),
 * which frames elicit acknowledgments (RFC 9002 §2) and which may probe a new path (RFC 9000 §9.1).
 */
import { FrameType } from './frames.js';
import { PacketType } from './packet-header.js';

// Bit per packet type in which a frame is permitted.
const I = 1 << PacketType.Initial;
const Z = 1 << PacketType.ZeroRtt;
const H = 1 << PacketType.Handshake;
const O = 1 << PacketType.OneRtt;

/** RFC 9000 §12.4 Table 3 ("Pkts" column), indexed by frame type 0x00-0x1e. */
const ALLOWED: readonly number[] = [
  /* 0x00 PADDING */ I | H | Z | O,
  /* 0x01 PING */ I | H | Z | O,
  /* 0x02 ACK */ I | H | O,
  /* 0x03 ACK_ECN */ I | H | O,
  /* 0x04 RESET_STREAM */ Z | O,
  /* 0x05 STOP_SENDING */ Z | O,
  /* 0x06 CRYPTO */ I | H | O,
  /* 0x07 NEW_TOKEN */ O,
  /* 0x08-0x0f STREAM */ Z | O,
  Z | O,
  Z | O,
  Z | O,
  Z | O,
  Z | O,
  Z | O,
  Z | O,
  /* 0x10 MAX_DATA */ Z | O,
  /* 0x11 MAX_STREAM_DATA */ Z | O,
  /* 0x12 MAX_STREAMS (bidi) */ Z | O,
  /* 0x13 MAX_STREAMS (uni) */ Z | O,
  /* 0x14 DATA_BLOCKED */ Z | O,
  /* 0x15 STREAM_DATA_BLOCKED */ Z | O,
  /* 0x16 STREAMS_BLOCKED (bidi) */ Z | O,
  /* 0x17 STREAMS_BLOCKED (uni) */ Z | O,
  /* 0x18 NEW_CONNECTION_ID */ Z | O,
  /* 0x19 RETIRE_CONNECTION_ID */ Z | O,
  /* 0x1a PATH_CHALLENGE */ Z | O,
  /* 0x1b PATH_RESPONSE */ O,
  /* 0x1c CONNECTION_CLOSE (transport): "ih01" */ I | H | Z | O,
  /* 0x1d CONNECTION_CLOSE (application): only 0-RTT and 1-RTT */ Z | O,
  /* 0x1e HANDSHAKE_DONE */ O,
];

/**
 * Whether a frame of `type` may appear in a packet of `packetType` (RFC 9000 §12.4 Table 3; DATAGRAM
 * in 0-RTT and 1-RTT only, RFC 9221 §4). Retry and Version Negotiation packets carry no frames.
 * Receipt of a frame where it is not permitted is a PROTOCOL_VIOLATION (the caller's to raise).
 */
export function isFrameAllowedInPacket(type: FrameType, packetType: PacketType): boolean {
  let mask: number;
  if (type >= 0 && type < ALLOWED.length) mask = ALLOWED[type]!;
  else if (type === FrameType.Datagram || type === FrameType.DatagramWithLength) mask = Z | O;
  else return false;
  if (packetType === PacketType.Retry || packetType === PacketType.VersionNegotiation) return false;
  return (mask & (1 << packetType)) !== 0;
}

/** RFC 9002 §2: every frame but ACK, PADDING and CONNECTION_CLOSE is ack-eliciting. */
export function isAckEliciting(type: FrameType): boolean {
  return (
    type !== FrameType.Ack &&
    type !== FrameType.AckEcn &&
    type !== FrameType.Padding &&
    type !== FrameType.ConnectionCloseTransport &&
    type !== FrameType.ConnectionCloseApplication
  );
}

/** RFC 9000 §9.1: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING are probing frames. */
export function isProbingFrame(type: FrameType): boolean {
  return (
    type === FrameType.PathChallenge ||
    type === FrameType.PathResponse ||
    type === FrameType.NewConnectionId ||
    type === FrameType.Padding
  );
}
