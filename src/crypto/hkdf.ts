/**
 * HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), used by QUIC packet protection
 * (RFC 9001 §5.1) and by the TLS key schedule.
 */
import { createHash, createHmac } from 'node:crypto';
import { hmacSha256, hmacSha256Into } from './hmac-sha256.js';

export type HashName = 'sha256' | 'sha384';

export function hashLength(hash: HashName): number {
  return hash === 'sha256' ? 32 : 48;
}

/**
 * HMAC-Hash(key, data). SHA-256 (every QUIC Initial, TLS_AES_128_GCM_SHA256 and
 * TLS_CHACHA20_POLY1305_SHA256) in TypeScript, which costs about half of a node:crypto Hmac object
 * for the key schedule's one-block inputs (hmac-sha256.ts); SHA-384 through node:crypto.
 */
export function hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Buffer {
  return hash === 'sha256' ? hmacSha256(key, data) : createHmac(hash, key).update(data).digest();
}

/** HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM). An empty salt means HashLen zero bytes. */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Buffer {
  const key = salt.length === 0 ? zerosShared(hash) : salt;
  return hmac(hash, key, ikm);
}

/** HKDF-Expand(PRK, info, L). */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const hl = hashLength(hash);
  if (length > 255 * hl) throw new RangeError(`HKDF-Expand length ${length} too large`);
  // T(i) = HMAC(PRK, T(i-1) | info | i), fed as one buffer: node:crypto's per-call cost outweighs
  // the copy. Every TLS and QUIC label needs one block (L <= HashLen).
  const input = Buffer.allocUnsafe(hl + info.length + 1);
  input.set(info, hl);
  // Not from the shared Buffer pool: secrets and keys live as long as their connection (unpooled.ts).
  const out = Buffer.allocUnsafeSlow(length);
  let written = 0;
  for (let i = 1; written < length; i++) {
    input[hl + info.length] = i;
    const block = hmac(hash, prk, i === 1 ? input.subarray(hl) : input);
    written += block.copy(out, written, 0, Math.min(hl, length - written));
    block.copy(input, 0);
  }
  return out;
}

/** "tls13 " + label as bytes, by label (the labels are a small fixed set). */
const labelBytes = new Map<string, Buffer>();

function fullLabel(label: string): Buffer {
  let b = labelBytes.get(label);
  if (b === undefined) {
    b = Buffer.from(`tls13 ${label}`, 'latin1');
    if (labelBytes.size < 64) labelBytes.set(label, b);
  }
  return b;
}

/** The HkdfLabel structure of RFC 8446 §7.1: uint16 length, "tls13 " + label, context. */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Buffer {
  return writeHkdfLabel(label, context, length, 0);
}

/** HkdfLabel followed by `spare` uninitialised bytes. */
function writeHkdfLabel(label: string, context: Uint8Array, length: number, spare: number): Buffer {
  const l = fullLabel(label);
  const info = Buffer.allocUnsafe(2 + 1 + l.length + 1 + context.length + spare);
  info[0] = length >>> 8;
  info[1] = length & 0xff;
  info[2] = l.length;
  l.copy(info, 3);
  info[3 + l.length] = context.length;
  info.set(context, 4 + l.length);
  return info;
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Buffer {
  if (hash === 'sha256' && length <= 32) {
    // Not from the shared Buffer pool: secrets and keys live as long as their connection (unpooled.ts).
    const out = Buffer.allocUnsafeSlow(length);
    hkdfExpandLabelInto(hash, secret, label, context, out);
    return out;
  }
  if (length > hashLength(hash)) return hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
  // One block: T(1) = HMAC(Secret, HkdfLabel | 0x01), built in place.
  const input = writeHkdfLabel(label, context, length, 1);
  input[input.length - 1] = 1;
  const block = hmac(hash, secret, input);
  return length === block.length ? block : block.subarray(0, length);
}

/** HkdfLabel | 0x01 of one-block expansions: "tls13 " + a label and a context are < 256 bytes each. */
const labelScratch = new Uint8Array(2 + 1 + 255 + 1 + 255 + 1);

/**
 * HKDF-Expand-Label(Secret, Label, Context, out.length) written to `out` (RFC 8446 §7.1), for a
 * caller that copies the result anyway (packet keys, RFC 9001 §5.1): with SHA-256 and one block
 * (out.length <= 32), T(1) = HMAC(Secret, HkdfLabel | 0x01) is built in a scratch buffer and
 * truncated into `out`, with no allocation (issue 13); otherwise as hkdfExpandLabel.
 */
export function hkdfExpandLabelInto(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  out: Uint8Array,
): void {
  const length = out.length;
  if (hash !== 'sha256' || length > 32) {
    out.set(hkdfExpandLabel(hash, secret, label, context, length));
    return;
  }
  const l = fullLabel(label);
  if (l.length > 255 || context.length > 255) throw new RangeError('HkdfLabel label or context too long');
  const b = labelScratch;
  b[0] = length >>> 8;
  b[1] = length & 0xff;
  b[2] = l.length;
  b.set(l, 3);
  let n = 3 + l.length;
  b[n++] = context.length;
  b.set(context, n);
  n += context.length;
  b[n++] = 1;
  hmacSha256Into(secret, b, n, out);
}

const EMPTY_HASHES: Record<HashName, Buffer> = {
  sha256: createHash('sha256').digest(),
  sha384: createHash('sha384').digest(),
};

/**
 * Hash("") itself, not a copy, for a caller that only reads it (Derive-Secret's context, RFC 8446
 * §7.1): it must never be written to.
 */
export function emptyHashShared(hash: HashName): Uint8Array {
  return EMPTY_HASHES[hash];
}

/** HashLen zero bytes, shared (HKDF-Extract's absent salt or IKM, RFC 8446 §7.1): never written to. */
export function zerosShared(hash: HashName): Uint8Array {
  return hash === 'sha256' ? ZEROS_32 : ZEROS_48;
}

const ZEROS_32 = new Uint8Array(32);
const ZEROS_48 = new Uint8Array(48);

/** Transcript-Hash of nothing: Hash(""), used by Derive-Secret with empty messages. A fresh copy. */
export function emptyHash(hash: HashName): Buffer {
  return Buffer.from(EMPTY_HASHES[hash]);
}
