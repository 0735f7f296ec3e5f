/**
 * Moving an AEAD call's payload through a WebAssembly module's memory, shared by the modules that
 * seal and open in place at a fixed offset (wasm-chacha20-poly1305.ts, wasm-aes128-gcm.ts): the
 * caller has written the key, nonce and additional data; these copy the payload in, run the
 * module's export, and copy the result out.
 */

/** Every AEAD tsquic runs in WebAssembly appends a 16-byte tag. */
export const WASM_AEAD_TAG_LENGTH = 16;

/** A module export that seals or opens the `length` bytes at its data offset. */
type SealExport = (aadLength: number, length: number) => void;
type OpenExport = (aadLength: number, length: number) => number;

/**
 * Copies `plaintext` to mem[data..], seals it in place, and copies ciphertext and tag to
 * out[outOffset..] (which may hold the plaintext: in place); returns the bytes written.
 */
export function sealInMemory(
  mem: Uint8Array,
  data: number,
  seal: SealExport,
  aadLength: number,
  plaintext: Uint8Array,
  out: Uint8Array,
  outOffset: number,
): number {
  const len = plaintext.length;
  mem.set(plaintext, data);
  seal(aadLength, len);
  const written = len + WASM_AEAD_TAG_LENGTH;
  out.set(mem.subarray(data, data + written), outOffset);
  return written;
}

/**
 * Copies `ciphertextAndTag` (at least a tag long) to mem[data..] and opens it: the plaintext, or null
 * when the tag does not authenticate it (the input is then left as it was). With `inPlace` the
 * plaintext is written over the ciphertext and a view of it is returned; else a new array.
 */
export function openInMemory(
  mem: Uint8Array,
  data: number,
  open: OpenExport,
  aadLength: number,
  ciphertextAndTag: Uint8Array,
  inPlace: boolean,
): Uint8Array | null {
  const len = ciphertextAndTag.length - WASM_AEAD_TAG_LENGTH;
  mem.set(ciphertextAndTag, data);
  if (open(aadLength, len) === 0) return null;
  if (!inPlace) return mem.slice(data, data + len);
  ciphertextAndTag.set(mem.subarray(data, data + len));
  return ciphertextAndTag.subarray(0, len);
}

/**
 * Copies buf[from, from + length) to mem[at..] byte by byte: for the few bytes of a packet header,
 * cheaper than the view that TypedArray.prototype.set needs for a range (issue 13).
 */
export function copyRangeInto(
  mem: Uint8Array,
  at: number,
  buf: Uint8Array,
  from: number,
  length: number,
): void {
  for (let i = 0; i < length; i++) mem[at + i] = buf[from + i]!;
}
