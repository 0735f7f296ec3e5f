/**
 * What a sent packet carried, as far as retransmission and acknowledgment are concerned (RFC 9000
 * §13.3: frames are retransmitted, not packets). One record per frame that needs action on ack or loss.
 */
import type { SentFrameRecord } from '../streams/stream-manager.js';
import type { EncryptionLevel } from '../tls/types.js';
import type { StreamEpoch } from './stream-epoch.js';

export type SentFrame =
  | { kind: 'crypto'; level: EncryptionLevel; offset: number; length: number }
  | { kind: 'stream'; epoch: StreamEpoch; record: SentFrameRecord }
  | { kind: 'ack'; largestAcked: number }
  | { kind: 'handshake-done' }
  | { kind: 'new-connection-id'; sequenceNumber: number }
  | { kind: 'retire-connection-id'; sequenceNumber: number }
  | { kind: 'new-token'; token: Uint8Array };

export interface SentPacketPayload {
  frames: SentFrame[];
  /** Sent in a 0-RTT packet: dropped, not retransmitted, if 0-RTT is rejected (RFC 9001 §4.6.2). */
  zeroRtt: boolean;
  /** 1-RTT key phase the packet used (for key update confirmation, RFC 9001 §6.2). */
  keyPhase: number;
  /** A PMTU probe of this many bytes (RFC 9000 §14.4). */
  pmtuProbe?: number;
}
