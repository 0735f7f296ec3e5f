/**
 * Where datagrams are built and sealed: exact-size regions carved in order from 64 KiB slabs,
 * instead of a new ArrayBuffer per datagram (`slice()`), which cost an off-heap allocation per packet
 * and one more ArrayBuffer for every GC to sweep. The packer builds each datagram in place at the
 * slab's free end (`reserve`), then keeps the bytes it wrote (`commit`): no copy out of a scratch
 * buffer (issue 13: that copy was ~3% of a bulk sender's CPU).
 *
 * A view keeps its whole slab alive, so this is only for bytes that live briefly: a datagram is
 * handed to the socket (or the simulator, which copies it) and dropped. Nothing a connection keeps
 * for its lifetime may come from here (see util/unpooled.ts for that side of the same trade). One
 * datagram is built at a time: a reservation is committed (or dropped) before the next is made, as
 * transmit() builds, seals and returns a datagram within one synchronous call.
 */

/** Slab size: about 45 datagrams of 1452 bytes, and room for the largest datagram we build. */
export const SLAB_SIZE = 65536;

export class DatagramSlab {
  private slab = new Uint8Array(0);
  private used = 0;

  /** The slab the last reservation is in. */
  get buffer(): Uint8Array {
    return this.slab;
  }

  /**
   * Room for a datagram of at most `maxBytes` (at most SLAB_SIZE): its offset in `buffer`, which may
   * be a new slab. Nothing is taken until `commit`.
   */
  reserve(maxBytes: number): number {
    if (maxBytes > SLAB_SIZE) throw new RangeError(`datagram of ${maxBytes} bytes exceeds the slab`);
    if (this.used + maxBytes > this.slab.length) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.used = 0;
    }
    return this.used;
  }

  /** The datagram built at `start` (the last reservation) is `length` bytes: its view, kept. */
  commit(start: number, length: number): Uint8Array {
    const end = start + length;
    if (start !== this.used || end > this.slab.length) {
      throw new RangeError(`commit of [${start}, ${end}) outside the reservation at ${this.used}`);
    }
    this.used = end;
    return this.slab.subarray(start, end);
  }
}
