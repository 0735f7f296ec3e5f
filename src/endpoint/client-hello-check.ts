/**
 * Whether a client's first Initial packet is worth a connection: it decrypts with the Initial keys
 * of its Destination Connection ID (RFC 9001 §5.2) and carries the start of a ClientHello in a
 * CRYPTO frame at offset 0 (RFC 9000 §7, §17.2.2; RFC 8446 §4.1.2).
 *
 * Initial keys are public, so this authenticates nothing; it only makes sure that a server spends
 * connection state on a datagram that a QUIC client could have sent, not on any 1200 bytes that
 * look like a long header (half-open exhaustion, RFC 9000 §21.6 and issue 10, defect 4). The packet
 * is opened without writing to the datagram (openPacketIntact): one that fails stays as it arrived.
 * The caller derives the client's Initial keys (RFC 9001 §5.2) and hands them, and the opened
 * packet, to the connection it then creates, so both the keys and the packet's decryption happen
 * once per accepted connection (issue 13).
 */
import type { PacketKeys } from '../crypto/packet-keys.js';
import { type OpenedPacket, openPacketIntact } from '../crypto/packet-protection.js';
import { BufferReader } from '../wire/buffer-reader.js';
import { decodeFrame } from '../wire/frame-codec.js';
import { type Frame, FrameType } from '../wire/frames.js';
import type { LongHeaderPacket } from '../wire/packet-header.js';

/** RFC 8446 §4: HandshakeType client_hello. */
const CLIENT_HELLO = 1;
/**
 * A ClientHello body is at least legacy_version (2) + random (32) + session id (1) + cipher suites
 * (2 + 2) + compression (2) + extensions (2); QUIC needs extensions (transport parameters, key share)
 * on top. An announced length below this is not a ClientHello.
 */
const MIN_CLIENT_HELLO_BODY = 43;
/** RFC 8446 §4.1.2: legacy_version is 0x0303. */
const LEGACY_VERSION = 0x0303;

/**
 * The opened packet when `initial` (a packet of `datagram`) passes the check, else null.
 * `clientKeys`: the client's Initial packet keys for `initial.dcid` and `initial.version`.
 */
export function openClientHello(
  datagram: Uint8Array,
  initial: LongHeaderPacket,
  clientKeys: PacketKeys,
): OpenedPacket | null {
  // The first packet of its space: largest_pn -1 (RFC 9000 §17.1), as in the connection.
  const opened = openPacketIntact(
    clientKeys,
    datagram,
    initial.packetStart,
    initial.pnOffset,
    initial.packetEnd,
    -1,
  );
  if (opened === null) return null;
  // RFC 9000 §17.2: reserved bits are zero once the packet is authenticated.
  if ((opened.firstByte & 0x0c) !== 0) return null;
  return startsClientHello(opened.payload) ? opened : null;
}

function startsClientHello(payload: Uint8Array): boolean {
  // Frames are read only up to the ClientHello: what follows it is the connection's to judge (a
  // malformed frame after it closes the connection with the RFC's code, issue 10 defect 1).
  const r = new BufferReader(payload);
  while (r.offset < r.end) {
    let f: Frame;
    try {
      f = decodeFrame(r);
    } catch {
      return false;
    }
    if (f.type !== FrameType.Crypto || f.offset !== 0) continue;
    const d = f.data;
    if (d.length === 0) continue;
    // The handshake header (type, 24-bit length) and the legacy_version, as far as this frame holds
    // them: clients may split the ClientHello into many small CRYPTO frames (Chrome's "chaos
    // protection" does), so the frame at offset 0 can be a few bytes long.
    if (d[0] !== CLIENT_HELLO) return false;
    if (d.length >= 4 && ((d[1]! << 16) | (d[2]! << 8) | d[3]!) < MIN_CLIENT_HELLO_BODY) return false;
    if (d.length >= 6 && ((d[4]! << 8) | d[5]!) !== LEGACY_VERSION) return false;
    return true;
  }
  return false;
}
