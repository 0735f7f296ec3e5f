/** The module's memory layout (byte offsets), shared by its generator
 * (scripts/wasm/chacha20-poly1305-wat.ts) and its caller (src/crypto/wasm-chacha20-poly1305.ts). */
export const CHACHA20_POLY1305_LAYOUT = {
  /** ChaCha20 key, 32 bytes. */
  key: 0,
  /** The 96-bit nonce, 12 bytes (RFC 8439 §2.3). */
  nonce: 32,
  /** Poly1305 one-time key (r then s), 32 bytes. */
  oneTimeKey: 64,
  /** The tag computed by open() or poly1305(), 16 bytes. */
  tag: 96,
  /** One keystream block for a partial last block, 64 bytes. */
  block: 128,
  /** A zero-padded last Poly1305 block, 16 bytes. */
  pad: 192,
  /** The AEAD's two 64-bit lengths (RFC 8439 §2.8), 16 bytes. */
  lengths: 208,
  /** The additional data. */
  aad: 256,
  /** The largest additional data (a QUIC header is at most about 60 bytes without a token). */
  aadMax: 512,
  /** Four keystream blocks, 256 bytes: blocks 0-3 of a packet (the one-time key and the payload's
   * first 192 bytes), or those for a last part of 129-255 bytes. */
  blocks4: 768,
  /** The plaintext or ciphertext, then the tag. */
  data: 1024,
  /** The largest plaintext (a UDP payload is below 64 KiB). */
  dataMax: 65536,
  /** 64 KiB pages: data + dataMax + the tag fits in two. */
  pages: 2,
} as const;
