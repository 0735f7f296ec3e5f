/**
 * ChaCha20-Poly1305 (RFC 8439 §2.8) under a server's own secret 32-byte key, for what a server seals
 * for itself (session tickets, address tokens): tsquic's WebAssembly module, which is constant time
 * (wasm-chacha20-poly1305.ts) and needs no cipher object per call, or node:crypto where WebAssembly
 * is unavailable. Every ticket and NEW_TOKEN token cost node:crypto an AES-256-GCM object, 5-14 us
 * with the caches cold (issue 13).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { WasmChaCha20Poly1305, wasmChaCha20Poly1305 } from './wasm-chacha20-poly1305.js';

export const SECRET_SEAL_KEY_LENGTH = 32;
export const SECRET_SEAL_NONCE_LENGTH = 12;
export const SECRET_SEAL_TAG_LENGTH = 16;

/** `plaintext` sealed under `key` with `nonce` and `aad`: ciphertext || tag, a new Buffer. */
export function secretSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Buffer {
  const module = wasmChaCha20Poly1305;
  if (module !== undefined && WasmChaCha20Poly1305.fits(aad.length, plaintext.length)) {
    const out = Buffer.allocUnsafe(plaintext.length + SECRET_SEAL_TAG_LENGTH);
    new WasmChaCha20Poly1305(module, key).seal(nonce, aad, plaintext, out, 0);
    return out;
  }
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: SECRET_SEAL_TAG_LENGTH });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** The plaintext of `ciphertextAndTag`, or undefined when it does not authenticate. Never throws. */
export function secretOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertextAndTag: Uint8Array,
): Buffer | undefined {
  const length = ciphertextAndTag.length - SECRET_SEAL_TAG_LENGTH;
  if (length < 0) return undefined;
  const module = wasmChaCha20Poly1305;
  if (module !== undefined && WasmChaCha20Poly1305.fits(aad.length, length)) {
    const plaintext = new WasmChaCha20Poly1305(module, key).open(nonce, aad, ciphertextAndTag);
    return plaintext === null
      ? undefined
      : Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length);
  }
  try {
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: SECRET_SEAL_TAG_LENGTH });
    d.setAAD(aad, { plaintextLength: length });
    d.setAuthTag(ciphertextAndTag.subarray(length));
    return Buffer.concat([d.update(ciphertextAndTag.subarray(0, length)), d.final()]);
  } catch {
    return undefined;
  }
}
