/**
 * ChaCha20-Poly1305 (RFC 8439 §2.8) in WebAssembly, for QUIC packet payloads of any size.
 *
 * node:crypto creates a cipher object per packet (Node 20 cannot give one a new nonce): 5-8 us per
 * call whatever the size, and garbage to collect. The module in wasm/chacha20-poly1305.wat (generated
 * by scripts/wasm/) keeps the key, nonce, additional data and payload in its own memory; a call copies
 * them in, seals or opens in place, and copies the result out, with no object per call.
 *
 * One module instance serves every key: JavaScript runs one call at a time, and each call writes its
 * key and nonce first. Where WebAssembly is unavailable (`node --jitless`) or cannot compile the
 * module (no SIMD), `wasmChaCha20Poly1305` is undefined and packets go through node:crypto.
 */
import { CHACHA20_POLY1305_WASM } from './wasm/chacha20-poly1305-bytes.js';
import { CHACHA20_POLY1305_LAYOUT as L } from './wasm/chacha20-poly1305-layout.js';
import { copyRangeInto, openInMemory, sealInMemory, WASM_AEAD_TAG_LENGTH } from './wasm-aead-memory.js';
import { instantiateWasm, type WasmInstance } from './wasm-instance.js';

export { WASM_AEAD_TAG_LENGTH };
/** The largest additional data (a QUIC packet header) the module takes. */
export const WASM_AEAD_MAX_AAD = L.aadMax;
/** The largest payload the module takes. */
export const WASM_AEAD_MAX_PAYLOAD = L.dataMax;

interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer };
  readonly seal: (aadLength: number, length: number) => void;
  readonly open: (aadLength: number, length: number) => number;
  readonly poly1305: (length: number) => void;
  readonly chacha20: (length: number, counter: number) => void;
}

/** The instantiated module: its exports and a view of its memory (which never grows). */
export type ChaCha20Poly1305Module = WasmInstance<Exports>;

/** The process's one instance, or undefined where WebAssembly is not available. */
export const wasmChaCha20Poly1305: ChaCha20Poly1305Module | undefined =
  instantiateWasm<Exports>(CHACHA20_POLY1305_WASM);

export class WasmChaCha20Poly1305 {
  private readonly key: Uint8Array;
  private readonly module: ChaCha20Poly1305Module;

  /** Keeps `key` itself (no copy): the caller must not change it afterwards. */
  constructor(module: ChaCha20Poly1305Module, key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`ChaCha20-Poly1305 key must be 32 bytes, got ${key.length}`);
    this.module = module;
    this.key = key;
  }

  /** Whether seal() and open() take these sizes (else the caller uses node:crypto). */
  static fits(aadLength: number, payloadLength: number): boolean {
    return aadLength <= WASM_AEAD_MAX_AAD && payloadLength <= WASM_AEAD_MAX_PAYLOAD;
  }

  /**
   * Encrypts `plaintext` into out[outOffset..] followed by the 16-byte tag; returns the bytes written.
   * `out` may hold the plaintext at the same position (in place). `nonce` is the 12-byte nonce.
   */
  seal(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number {
    checkSizes(aad.length, plaintext.length);
    const mem = this.load(nonce, aad);
    return sealInMemory(mem, L.data, this.module.exports.seal, aad.length, plaintext, out, outOffset);
  }

  /**
   * The plaintext, or null when the tag does not authenticate `aad` and the ciphertext (which is then
   * left as it was). With `inPlace` the plaintext is written over the ciphertext and a view of it is
   * returned (no allocation: for a received datagram that is read once); else a new array.
   */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array, inPlace = false): Uint8Array | null {
    const len = ciphertextAndTag.length - WASM_AEAD_TAG_LENGTH;
    if (len < 0) return null;
    checkSizes(aad.length, len);
    const mem = this.load(nonce, aad);
    return openInMemory(mem, L.data, this.module.exports.open, aad.length, ciphertextAndTag, inPlace);
  }

  /**
   * seal() of a packet in `buf`, in place: the additional data is buf[aadStart, payloadStart), the
   * plaintext buf[payloadStart, payloadEnd); ciphertext and tag are written from payloadStart (the
   * caller leaves room for the tag). Returns the bytes written. No view of the header (issue 13).
   */
  sealAt(
    nonce: Uint8Array,
    buf: Uint8Array,
    aadStart: number,
    payloadStart: number,
    payloadEnd: number,
  ): number {
    const aadLength = payloadStart - aadStart;
    checkSizes(aadLength, payloadEnd - payloadStart);
    const mem = this.loadAt(nonce, buf, aadStart, aadLength);
    const plaintext = buf.subarray(payloadStart, payloadEnd);
    return sealInMemory(mem, L.data, this.module.exports.seal, aadLength, plaintext, buf, payloadStart);
  }

  /**
   * open() of a packet in `buf`, in place: the additional data is buf[aadStart, payloadStart), the
   * ciphertext and tag buf[payloadStart, end). The plaintext, written over the ciphertext, as a view
   * of `buf`; null when the tag does not authenticate it (`buf` is then left as it was).
   */
  openAt(
    nonce: Uint8Array,
    buf: Uint8Array,
    aadStart: number,
    payloadStart: number,
    end: number,
  ): Uint8Array | null {
    const aadLength = payloadStart - aadStart;
    const len = end - payloadStart - WASM_AEAD_TAG_LENGTH;
    if (len < 0) return null;
    checkSizes(aadLength, len);
    const mem = this.loadAt(nonce, buf, aadStart, aadLength);
    return openInMemory(
      mem,
      L.data,
      this.module.exports.open,
      aadLength,
      buf.subarray(payloadStart, end),
      true,
    );
  }

  private loadAt(nonce: Uint8Array, buf: Uint8Array, aadStart: number, aadLength: number): Uint8Array {
    const mem = this.module.memory;
    mem.set(this.key, L.key);
    mem.set(nonce, L.nonce);
    copyRangeInto(mem, L.aad, buf, aadStart, aadLength);
    return mem;
  }

  private load(nonce: Uint8Array, aad: Uint8Array): Uint8Array {
    return this.loadAt(nonce, aad, 0, aad.length);
  }
}

function checkSizes(aadLength: number, payloadLength: number): void {
  if (!WasmChaCha20Poly1305.fits(aadLength, payloadLength)) {
    throw new RangeError(
      `ChaCha20-Poly1305 in WebAssembly takes up to ${WASM_AEAD_MAX_AAD} bytes of AAD and ${WASM_AEAD_MAX_PAYLOAD} of payload, got ${aadLength} and ${payloadLength}`,
    );
  }
}
