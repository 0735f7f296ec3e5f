/**
 * Coalesced packets (RFC 9000 §12.2): one UDP datagram may carry several QUIC packets back to back.
 */
import { PacketParseError, PacketType, type ParsedPacket, parsePacket } from './packet-header.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * RFC 9000 §12.2: splits a datagram into its packets; stops at the first that cannot be parsed
 * (returning those before it). A short header, Retry or Version Negotiation packet takes the rest of
 * the datagram. Also stops at a packet whose Destination Connection ID differs from the first one's
 * (RFC 9000 §12.2: receivers SHOULD ignore such subsequent packets).
 */
export function splitDatagram(datagram: Uint8Array, shortHeaderDcidLength: number): ParsedPacket[] {
  // Made at the first packet with exactly one slot (most datagrams hold one packet): an empty
  // list's first push reserves 17 (issue 13: ~140 bytes per datagram received).
  let packets: ParsedPacket[] | undefined;
  let offset = 0;
  while (offset < datagram.length) {
    let packet: ParsedPacket;
    try {
      packet = parsePacket(datagram, offset, shortHeaderDcidLength);
    } catch (err) {
      if (err instanceof PacketParseError) break;
      throw err;
    }
    if (packets === undefined) packets = [packet];
    else if (!sameBytes(packets[0]!.dcid, packet.dcid)) break;
    else packets.push(packet);
    if (
      packet.type === PacketType.OneRtt ||
      packet.type === PacketType.Retry ||
      packet.type === PacketType.VersionNegotiation
    ) {
      break;
    }
    offset = packet.packetEnd;
  }
  return packets ?? [];
}
