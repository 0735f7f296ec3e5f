/**
 * The strings of a peer's recently read string literals, by their encoded bytes. A peer sends the
 * same literals request after request (:authority, user-agent, accept, a path, often Huffman-coded
 * and never in the dynamic table): the string decoded once is returned again, without decoding it
 * or building a new string (issue 12: the cost per request). One per QPACK decoder, so per
 * connection: whether a literal is known says nothing about what other connections sent.
 *
 * Direct-mapped on a hash of the bytes; a hit compares every byte. Only short literals; the memory
 * is allocated on the first use.
 */
const SLOTS = 32;
const MAX_BYTES = 48;

export class RecentLiterals {
  private bytes: Uint8Array | undefined;
  private lengths: Int16Array | undefined;
  private strings: string[] | undefined;
  /** The slot the last get() looked at, its bytes and whether they were Huffman-coded. */
  private slot = -1;
  private buf: Uint8Array | undefined;
  private start = 0;
  private length = 0;

  /** The string of buf[start..start+length) read before, if it is still here. */
  get(buf: Uint8Array, start: number, length: number, huffman: boolean): string | undefined {
    this.buf = undefined;
    if (length === 0 || length > MAX_BYTES) return undefined;
    // The Huffman flag is part of the key: the same bytes raw and Huffman-coded are other strings.
    let h = huffman ? 0x9e3779b9 : 0x85ebca6b;
    for (let i = start; i < start + length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slot = (h >>> 27) & (SLOTS - 1);
    this.slot = slot;
    this.buf = buf;
    this.start = start;
    // Stored lengths carry the flag in their sign bit's place: length, or length + 256 for Huffman.
    this.length = huffman ? length + 256 : length;
    const lengths = this.lengths;
    if (lengths === undefined || lengths[slot] !== this.length) return undefined;
    const stored = this.bytes!;
    const base = slot * MAX_BYTES;
    for (let i = 0; i < length; i++) if (stored[base + i] !== buf[start + i]) return undefined;
    return this.strings![slot];
  }

  /** Remembers `s` as the string of the bytes of the last get(), which missed; returns `s`. */
  put(s: string): string {
    const buf = this.buf;
    if (buf === undefined) return s;
    this.buf = undefined;
    if (this.lengths === undefined) {
      this.bytes = new Uint8Array(SLOTS * MAX_BYTES);
      this.lengths = new Int16Array(SLOTS).fill(-1);
      this.strings = new Array<string>(SLOTS).fill('');
    }
    const slot = this.slot;
    const n = this.length & 0xff;
    const stored = this.bytes!;
    const base = slot * MAX_BYTES;
    for (let i = 0; i < n; i++) stored[base + i] = buf[this.start + i]!;
    this.lengths[slot] = this.length;
    this.strings![slot] = s;
    return s;
  }
}
