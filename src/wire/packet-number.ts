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
 * 2^pnNbits. The encoded lengths (8, 16, 24 or 32 bits) are constants: `2 ** n` with a variable `n`
 * is a call into V8's generic pow for every received packet (issue 13, 0.9% of a receiver's CPU).
 */
function packetNumberWindow(pnNbits: number): number {
  switch (pnNbits) {
    case 8:
      return 0x100;
    case 16:
      return 0x10000;
    case 24:
      return 0x1000000;
    case 32:
      return 0x100000000;
    default:
      return 2 ** pnNbits;
  }
}

/**
 * Recovers a full packet number from its truncated encoding (RFC 9000 Appendix A.3).
 * `largestPn` is the largest packet number successfully processed in this space, or -1 if none.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnNbits: number): number {
  const expected = largestPn + 1;
  const pnWin = packetNumberWindow(pnNbits);
  const pnHwin = pnWin / 2;
  const pnMask = pnWin - 1;
  // candidate = (expected & ~mask) | truncated, computed without 32-bit bitwise operators.
  const candidate = expected - (expected % pnWin) + (truncatedPn & pnMask);
  if (candidate <= expected - pnHwin && candidate < 2 ** 62 - pnWin) return candidate + pnWin;
  if (candidate > expected + pnHwin && candidate >= pnWin) return candidate - pnWin;
  return candidate;
}
