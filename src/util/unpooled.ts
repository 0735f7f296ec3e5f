/**
 * An exact-size copy of `bytes` in memory of its own. Node serves small `Buffer.allocUnsafe()` and
 * `Buffer.from()` requests (under 4 KiB) as views into a shared 8 KiB pool slab, and one such view
 * kept alive keeps the whole slab alive. Bytes a connection keeps for its lifetime (keys, secrets,
 * connection IDs, the peer's transport parameters) are copied with this: each half-open connection
 * pinned about 10 KiB of slabs through a few dozen small views (issue 10).
 */
export function unpooledCopy(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  out.set(bytes);
  return out;
}
