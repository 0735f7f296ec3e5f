/**
 * A stateless refusal of a new connection (the server is at maxConnections): an Initial packet
 * carrying CONNECTION_CLOSE with CONNECTION_REFUSED (RFC 9000 §20.1), protected with the server's
 * Initial keys for the client's DCID (RFC 9001 §5.2), as RFC 9000 §10.2.3 allows before the
 * handshake. No connection state is created: the client learns at once why it cannot connect
 * instead of waiting for its handshake timeout.
 *
 * The datagram is not padded: CONNECTION_CLOSE is not ack-eliciting (RFC 9000 §14.1 asks padding only
 * of ack-eliciting Initials), and a small answer keeps reflection from spoofed addresses small.
 */
import { DatagramBuilder } from '../connection/datagram-builder.js';
import { deriveInitialKeys } from '../crypto/packet-keys.js';
import { TransportErrorCode } from '../errors/transport-error.js';
import { PacketNumberSpace } from '../recovery/types.js';
import { FrameType } from '../wire/frames.js';
import { type LongHeaderPacket, PacketType } from '../wire/packet-header.js';

/** The reason phrase clients see (RFC 9000 §19.19). */
export const REFUSAL_REASON = 'server at connection limit';

export function encodeRefusal(initial: LongHeaderPacket, scid: Uint8Array): Uint8Array {
  const b = new DatagramBuilder(new Uint8Array(256));
  b.reset(256);
  b.openLong(
    { type: PacketType.Initial, version: initial.version, dcid: initial.scid, scid },
    PacketNumberSpace.Initial,
    deriveInitialKeys(initial.version, initial.dcid).server,
    0,
    1,
  );
  b.writeFrame({
    type: FrameType.ConnectionCloseTransport,
    errorCode: TransportErrorCode.CONNECTION_REFUSED,
    frameType: 0,
    reason: REFUSAL_REASON,
  });
  b.closePacket();
  const n = b.seal();
  return b.buffer.slice(0, n);
}
