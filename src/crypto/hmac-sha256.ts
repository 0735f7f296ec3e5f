/**
 * HMAC-SHA256 (RFC 2104 over SHA-256, FIPS 180-4) for the short inputs of the key schedule:
 * HKDF-Extract and HKDF-Expand-Label (RFC 8446 §7.1, RFC 9001 §5.1) hash one or two 64-byte blocks,
 * about forty times per handshake on each side (issue 13). node:crypto's createHmac() costs a fixed
 * few microseconds per object whatever it hashes; the compression runs here in tsquic's WebAssembly
 * module (scripts/wasm/sha256-wat.ts, about 0.2 us per block against 0.5 in TypeScript), and the
 * states after a key's pads are kept for the last few keys. Where WebAssembly is not available, and
 * for messages longer than the module takes, node:crypto computes it.
 * Not constant time with respect to the message length (public: labels, lengths), which is all the
 * key schedule needs; the key and data bytes go through the same operations whatever their values.
 */
import { createHash, createHmac } from 'node:crypto';
import { SHA256_WASM } from './wasm/sha256-bytes.js';
import { SHA256_LAYOUT as L } from './wasm/sha256-layout.js';
import { instantiateWasm, type WasmInstance } from './wasm-instance.js';

interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer };
  /** SHA-256 of the bytes at L.data into L.digest. */
  readonly sha256: (length: number) => void;
  /** The pad states of the key at L.key (zero-padded to a block) into a slot. */
  readonly keyPads: (slot: number) => void;
  /** HMAC of the bytes at L.data under a slot's key into L.digest. */
  readonly hmac: (slot: number, length: number) => void;
}

const BLOCK = 64;
const DIGEST = 32;
/** Messages up to this length are copied into the module byte by byte. */
const SHORT = 128;

const instance: WasmInstance<Exports> | undefined = instantiateWasm<Exports>(SHA256_WASM);
let wasm = instance;

/**
 * @internal For tests: whether HMACs go through the WebAssembly module (true, where it is available)
 * or node:crypto (false). Returns the previous setting.
 */
export function useWasmSha256(on: boolean): boolean {
  const previous = wasm !== undefined;
  wasm = on ? instance : undefined;
  return previous;
}

/**
 * The keys whose pad states (RFC 2104 §2: they depend on the key only) are in the module's slots. A
 * packet key, IV and header protection key (RFC 9001 §5.1) come from one secret in a row, and a TLS
 * 1.3 handshake returns to a secret a few steps later (the handshake secret for "derived", a
 * handshake traffic secret for its Finished key, RFC 8446 §7.1, §4.4.4): most calls skip the two
 * compressions of the pads. Compared by value, not identity: a caller may reuse a buffer for another
 * key. Replaced round robin.
 */
const cachedKey = Array.from({ length: L.slots }, () => new Uint8Array(BLOCK));
const cachedKeyLength = new Int32Array(L.slots).fill(-1);
let nextSlot = 0;

/** The cache slot holding key `k` (same length, same bytes), or -1. */
function cachedSlot(k: Uint8Array): number {
  const n = k.length;
  // Newest first (a secret's key, IV and HP key come in a row); a slot whose first bytes differ is
  // passed over at once, the rest compared in full.
  for (let j = 1; j <= L.slots; j++) {
    const s = (nextSlot + L.slots - j) % L.slots;
    const c = cachedKey[s]!;
    if (cachedKeyLength[s] !== n || (n > 0 && c[0] !== k[0]) || (n > 1 && c[1] !== k[1])) continue;
    let diff = 0;
    for (let i = 0; i < k.length; i++) diff |= k[i]! ^ c[i]!;
    if (diff === 0) return s;
  }
  return -1;
}

/** Computes the pad states of `k` (at most one block long) into a slot, replacing its oldest key. */
function cacheKey(m: WasmInstance<Exports>, k: Uint8Array): number {
  const s = nextSlot;
  nextSlot = (nextSlot + 1) % L.slots;
  m.memory.set(k, L.key);
  m.exports.keyPads(s);
  const c = cachedKey[s]!;
  c.fill(0);
  c.set(k);
  cachedKeyLength[s] = k.length;
  return s;
}

/** A key longer than a block, hashed (RFC 2104 §2). */
const hashedKey = new Uint8Array(DIGEST);

/** HMAC-SHA256(key, data) (RFC 2104): a new 32-byte Buffer, not from the shared pool. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(DIGEST);
  hmacSha256Into(key, data, data.length, out);
  return out;
}

/**
 * HMAC-SHA256(key, data[0, dataLength)) (RFC 2104) written to `out`, truncated to its length (at
 * most 32): no allocation, for callers that copy the result anyway or build `data` in a scratch
 * buffer (HKDF-Expand-Label of packet keys, issue 13).
 */
export function hmacSha256Into(key: Uint8Array, data: Uint8Array, dataLength: number, out: Uint8Array): void {
  if (out.length > DIGEST || dataLength > data.length) throw new RangeError('hmacSha256Into: bad lengths');
  const m = wasm;
  if (m === undefined || dataLength > L.dataMax || key.length > L.dataMax) {
    nodeHmacInto(key, data, dataLength, out);
    return;
  }
  const mem = m.memory;
  let k = key;
  if (k.length > BLOCK) {
    // RFC 2104 §2: a key longer than the block is hashed first.
    mem.set(k, L.data);
    m.exports.sha256(k.length);
    for (let i = 0; i < DIGEST; i++) hashedKey[i] = mem[L.digest + i]!;
    k = hashedKey;
  }
  let slot = cachedSlot(k);
  if (slot < 0) slot = cacheKey(m, k);
  // A loop beats TypedArray#set's fixed cost for the short messages of the key schedule.
  if (dataLength > SHORT) mem.set(dataLength === data.length ? data : data.subarray(0, dataLength), L.data);
  else for (let i = 0; i < dataLength; i++) mem[L.data + i] = data[i]!;
  m.exports.hmac(slot, dataLength);
  // The digest out, and cleared from the module's memory.
  for (let i = 0; i < DIGEST; i++) {
    if (i < out.length) out[i] = mem[L.digest + i]!;
    mem[L.digest + i] = 0;
  }
  if (k === hashedKey) hashedKey.fill(0);
}

/**
 * SHA-256 of `data` (FIPS 180-4), a new 32-byte Buffer: in the WebAssembly module where it is
 * available, for a one-shot hash of a message held whole (a PSK binder's truncated ClientHello,
 * RFC 8446 §4.2.11.2) without a node:crypto Hash object; else through node:crypto.
 */
export function sha256(data: Uint8Array): Buffer {
  const m = wasm;
  if (m === undefined || data.length > L.dataMax) return createHash('sha256').update(data).digest();
  const mem = m.memory;
  mem.set(data, L.data);
  m.exports.sha256(data.length);
  const out = Buffer.allocUnsafe(DIGEST);
  for (let i = 0; i < DIGEST; i++) {
    out[i] = mem[L.digest + i]!;
    mem[L.digest + i] = 0;
  }
  return out;
}

/** node:crypto's HMAC-SHA256, truncated into `out`. */
function nodeHmacInto(key: Uint8Array, data: Uint8Array, dataLength: number, out: Uint8Array): void {
  const h = createHmac('sha256', key);
  h.update(dataLength === data.length ? data : data.subarray(0, dataLength));
  const digest = h.digest();
  for (let i = 0; i < out.length; i++) out[i] = digest[i]!;
  digest.fill(0);
}
