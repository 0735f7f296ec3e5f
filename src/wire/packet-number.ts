/**
 * Packet number encoding and decoding (RFC 9000 §17.1, Appendix A.2 and A.3).
 */

/**
 * The number of bytes (1-4) needed to encode `packetNumber` so that the peer can decode it, given
 * the largest packet number it has acknowledged (RFC 9000 §17.1, A.2): enough bits to represent more
 * than twice the number of packets in flight.
 */
export function packetNumberLength(packetNumber: number, largestAcked: number | undefined): 1 | 2 | 3 | 4 {
  const unacked = largestAcked === undefined ? packetNumber + 1 : packetNumber - largestAcked;
  // RFC 9000 A.2: min_bits = log2(num_unacked) + 1, rounded up to whole bytes.
  const needed = unacked * 2;
  if (needed < 2 ** 8) return 1;
  if (needed < 2 ** 16) return 2;
  if (needed < 2 ** 24) return 3;
  return 4;
}

/**
 * Recovers a full packet number from its truncated encoding (RFC 9000 Appendix A.3).
 * `largestPn` is the largest packet number successfully processed in this space, or -1 if none.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnNbits: number): number {
  const expected = largestPn + 1;
  const pnWin = 2 ** pnNbits;
  const pnHwin = pnWin / 2;
  const pnMask = pnWin - 1;
  // candidate = (expected & ~mask) | truncated, computed without 32-bit bitwise operators.
  const candidate = expected - (expected % pnWin) + (truncatedPn & pnMask);
  if (candidate <= expected - pnHwin && candidate < 2 ** 62 - pnWin) return candidate + pnWin;
  if (candidate > expected + pnHwin && candidate >= pnWin) return candidate - pnWin;
  return candidate;
}
