/**
 * The packet and byte counters of one connection (the counting half of ConnectionStats). The
 * receiver, the sender and loss recovery report to it through methods; nothing else writes them.
 */
export interface TrafficCounts {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  packetsLost: number;
  bytesLost: number;
}

export class TrafficCounters {
  private packetsSent = 0;
  private packetsReceived = 0;
  private bytesSent = 0;
  private bytesReceived = 0;
  private packetsLost = 0;
  private bytesLost = 0;

  /** A UDP datagram of `bytes` payload bytes went out. */
  onDatagramSent(bytes: number): void {
    this.bytesSent += bytes;
  }

  /** A UDP datagram of `bytes` payload bytes arrived (counted even when it is then dropped). */
  onDatagramReceived(bytes: number): void {
    this.bytesReceived += bytes;
  }

  /** `count` QUIC packets went out (several may share a datagram). */
  onPacketsSent(count: number): void {
    this.packetsSent += count;
  }

  /** A QUIC packet was received and decrypted. */
  onPacketReceived(): void {
    this.packetsReceived++;
  }

  /** A packet of `bytes` bytes was declared lost (RFC 9002 §6.1). */
  onPacketLost(bytes: number): void {
    this.packetsLost++;
    this.bytesLost += bytes;
  }

  snapshot(): TrafficCounts {
    return {
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      packetsLost: this.packetsLost,
      bytesLost: this.bytesLost,
    };
  }
}
