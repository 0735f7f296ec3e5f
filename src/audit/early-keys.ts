/**
 * The auditor's view into a rejected 0-RTT attempt. The auditor issued the ticket, so from the
 * ClientHello it can derive the client's 0-RTT keys itself (RFC 8446 §7.1: client_early_traffic_secret
 * = Derive-Secret(Early Secret(PSK), "c e traffic", ClientHello); RFC 9001 §5.1 for the packet keys)
 * and open the 0-RTT packets its connection discarded unread (RFC 9001 §4.6.2). Nothing here feeds the
 * connection: the frames only go into the audit log.
 */
import { createHash } from 'node:crypto';
import { cipherSuiteParams } from '../crypto/cipher-suite.js';
import { derivePacketKeys, type PacketKeys } from '../crypto/packet-keys.js';
import { openPacket } from '../crypto/packet-protection.js';
import { type ClientOffer, parseClientOffer } from '../tls/client-offer.js';
import { KeySchedule } from '../tls/key-schedule.js';
import { openOfferedTicket } from '../tls/psk-selection.js';
import type { SessionTicketKeyring } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import { decodeFrames } from '../wire/frame-codec.js';
import type { Frame } from '../wire/frames.js';
import { PacketType, parsePacket } from '../wire/packet-header.js';

export type EarlyKeysResult =
  | { ok: true; keys: PacketKeys; offer: ClientOffer }
  | { ok: false; offer: ClientOffer | undefined; reason: string };

/**
 * The 0-RTT packet keys for a ClientHello (the framed handshake message) that offers early data with
 * a ticket sealed by `ticketKeys`; or why there are none.
 */
export function deriveEarlyKeys(
  clientHello: Uint8Array,
  ticketKeys: SessionTicketKeyring,
  version: number,
  now: Millis,
): EarlyKeysResult {
  let offer: ClientOffer;
  try {
    offer = parseClientOffer(clientHello);
  } catch (err) {
    return { ok: false, offer: undefined, reason: `unreadable ClientHello: ${(err as Error).message}` };
  }
  if (!offer.earlyData) return { ok: false, offer, reason: 'the ClientHello does not offer early data' };
  // RFC 8446 §4.2.10: early data is protected with the first PSK offered.
  const ticket = openOfferedTicket(offer, ticketKeys, 0, now);
  if (!ticket) return { ok: false, offer, reason: "the first PSK is not one of the auditor's tickets" };
  const hash = cipherSuiteParams(ticket.suite).hash;
  const transcript = createHash(hash).update(clientHello).digest();
  const secret = new KeySchedule(hash, ticket.psk).clientEarlyTrafficSecret(transcript);
  return { ok: true, keys: derivePacketKeys(ticket.suite, secret, version), offer };
}

export interface OpenedEarlyPacket {
  packetNumber: number;
  frames: Frame[];
}

/** Opens the 0-RTT packets of one connection, in any order, as a receiver would (RFC 9000 §17.1). */
export class EarlyPacketOpener {
  private largest = -1;

  constructor(
    private readonly keys: PacketKeys,
    private readonly cidLength: number,
  ) {}

  /** The packet's number and frames; undefined when it is not a 0-RTT packet these keys open. */
  open(packet: Uint8Array): OpenedEarlyPacket | undefined {
    // Header protection is removed in place: work on a copy.
    const buf = new Uint8Array(packet);
    let p: ReturnType<typeof parsePacket>;
    try {
      p = parsePacket(buf, 0, this.cidLength);
    } catch {
      return undefined;
    }
    if (p.type !== PacketType.ZeroRtt) return undefined;
    const opened = openPacket(this.keys, buf, p.packetStart, p.pnOffset, p.packetEnd, this.largest);
    if (!opened) return undefined;
    let frames: Frame[];
    try {
      frames = decodeFrames(opened.payload);
    } catch {
      return undefined;
    }
    this.largest = Math.max(this.largest, opened.packetNumber);
    return { packetNumber: opened.packetNumber, frames };
  }
}
