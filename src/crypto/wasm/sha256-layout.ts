/** The SHA-256 module's memory layout (byte offsets), shared by its generator
 * (scripts/wasm/sha256-wat.ts) and its caller (src/crypto/hmac-sha256.ts). */
export const SHA256_LAYOUT = {
  /** The inner hash's working state, 32 bytes, big-endian words (the digest's byte order). */
  inner: 0,
  /** The outer hash's state, 32 bytes: after hmac() or sha256(), the digest. */
  digest: 32,
  /** A key of at most one block, zero-padded to 64 bytes, for keyPads(). */
  key: 64,
  /** The outer hash's one block: the inner digest, then fixed padding for a 96-byte message. */
  outerBlock: 128,
  /** Cached pad states: slot s holds the inner state at pads + 64 s, the outer 32 bytes later. */
  pads: 256,
  /** Number of cached pad-state slots. */
  slots: 8,
  /** The message, then its padding (at most 72 bytes more). */
  data: 1024,
  /** The longest message hmac() and sha256() take; longer ones go to node:crypto. */
  dataMax: 62 * 1024,
  /** 64 KiB pages: data + dataMax + padding fits in one. */
  pages: 1,
} as const;
