/** The AES-128-GCM module's memory layout (byte offsets), shared by its generator
 * (scripts/wasm/aes128-gcm-wat.ts) and its caller (src/crypto/wasm-aes128-gcm.ts). */
export const AES128_GCM_LAYOUT = {
  /** The AES round table T0 (FIPS 197 §5.1 SubBytes and MixColumns in one lookup), 256 words. */
  te0: 0,
  /** The S-box (FIPS 197 §5.1.1), 256 bytes. */
  sbox: 1024,
  /** GHASH's reduction of the four bits a shift by x^4 drops (NIST SP 800-38D §6.3), 16 i64. */
  last4: 1280,
  /** The expanded key (FIPS 197 §5.2), 44 words. */
  roundKeys: 1408,
  /** GHASH's multiples of H for each 4-bit value, high and low halves, 16 i64 each. */
  hh: 1600,
  hl: 1728,
  /** The AES-128 key, 16 bytes (setKey() expands it). */
  key: 1856,
  /** The 96-bit IV (nonce), 12 bytes. */
  iv: 1872,
  /** One block that encryptBlock() encrypts in place (a header protection sample). */
  block: 1888,
  /** The tag open() computes, 16 bytes. */
  tag: 1904,
  /** The counter block, 16 bytes. */
  counter: 1920,
  /** One keystream block, 16 bytes. */
  keystream: 1936,
  /** A zero-padded last GHASH block, 16 bytes. */
  pad: 1952,
  /** The additional data. */
  aad: 2048,
  /** The largest additional data (a QUIC long header with a token). */
  aadMax: 2048,
  /** The plaintext or ciphertext, then the tag. */
  data: 4096,
  /** The largest plaintext: data + dataMax + the tag fills the one page. */
  dataMax: 65536 - 4096 - 16,
  /** 64 KiB pages. */
  pages: 1,
} as const;
