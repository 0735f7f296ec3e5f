/**
 * Where sealed datagrams are copied out of the packer's scratch buffer: exact-size views carved in
 * order from 64 KiB slabs, instead of a new ArrayBuffer per datagram (`slice()`), which cost an
 * off-heap allocation per packet and one more ArrayBuffer for every GC to sweep.
 *
 * A view keeps its whole slab alive, so this is only for bytes that live briefly: a datagram is
 * handed to the socket (or the simulator, which copies it) and dropped. Nothing a connection keeps
 * for its lifetime may come from here (see util/unpooled.ts for that side of the same trade).
 */

/** Slab size: about 50 datagrams of 1252 bytes, and room for the largest datagram we build. */
export const SLAB_SIZE = 65536;

export class DatagramSlab {
  private slab = new Uint8Array(0);
  private used = 0;

  /** An exact-size copy of `bytes` (at most SLAB_SIZE long), in memory shared with other datagrams. */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n > SLAB_SIZE) throw new RangeError(`datagram of ${n} bytes exceeds the slab`);
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.used = 0;
    }
    const start = this.used;
    this.slab.set(bytes, start);
    this.used = start + n;
    return this.slab.subarray(start, start + n);
  }
}
