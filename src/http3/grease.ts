/**
 * Reserved ("GREASE") identifiers, RFC 9114 §6.2.3, §7.2.4.1, §7.2.8, §8.1: values of the form
 * 0x1f * N + 0x21 for frame types, stream types, setting identifiers and error codes. Peers must
 * ignore them; sending some exercises that requirement.
 */
import type { RandomBytes } from '../util/random.js';

export function isGreaseValue(v: number): boolean {
  return v >= 0x21 && (v - 0x21) % 0x1f === 0;
}

/** A random reserved value. N stays below 2^32 so the value is exact as a JS number. */
export function greaseValue(random: RandomBytes): number {
  const b = random(4);
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  return 0x1f * n + 0x21;
}
