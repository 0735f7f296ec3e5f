/**
 * Field names and values are octets (RFC 9110 §5.5); tsquic represents each octet as one UTF-16 code
 * unit U+0000..U+00FF, as node:http does (and the WHATWG ByteString of fetch's Headers), so bytes
 * survive a round trip exactly. These helpers convert between the two; callers validate that a string
 * has no code unit above 0xFF before writing it (see `string-literal.ts`).
 */

interface Latin1Buffer {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
  latin1Write(this: Uint8Array, s: string, offset: number, length: number): number;
}
// Node's Buffer has long had these (undocumented) native methods behind toString/write('latin1');
// they accept any Uint8Array. The fallbacks keep the module working should they disappear.
const proto = Buffer.prototype as unknown as Partial<Latin1Buffer>;
const nativeSlice = typeof proto.latin1Slice === 'function' ? proto.latin1Slice : undefined;
const nativeWrite = typeof proto.latin1Write === 'function' ? proto.latin1Write : undefined;

/** The string of the bytes buf[start..end), one code unit per byte. */
export function latin1ToString(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n < 8 || nativeSlice === undefined) {
    if (n >= 8) return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  return nativeSlice.call(buf, start, end);
}

/** Writes the code units of `s` (all <= 0xFF, checked by the caller) at `offset`; returns the end. */
export function writeLatin1(buf: Uint8Array, offset: number, s: string): number {
  const n = s.length;
  if (n < 24 || nativeWrite === undefined) {
    for (let i = 0; i < n; i++) buf[offset + i] = s.charCodeAt(i);
    return offset + n;
  }
  return offset + nativeWrite.call(buf, s, offset, n);
}

const NOT_LATIN1 = /[\u0100-\uffff]/;

/** True when every code unit of `s` is <= 0xFF. */
export function isLatin1(s: string): boolean {
  return !NOT_LATIN1.test(s);
}
