/**
 * HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), used by QUIC packet protection
 * (RFC 9001 §5.1) and by the TLS key schedule.
 */
import { createHash, createHmac } from 'node:crypto';

export type HashName = 'sha256' | 'sha384';

export function hashLength(hash: HashName): number {
  return hash === 'sha256' ? 32 : 48;
}

/** HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM). An empty salt means HashLen zero bytes. */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Buffer {
  const key = salt.length === 0 ? Buffer.alloc(hashLength(hash)) : salt;
  return createHmac(hash, key).update(ikm).digest();
}

/** HKDF-Expand(PRK, info, L). */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const hl = hashLength(hash);
  if (length > 255 * hl) throw new RangeError(`HKDF-Expand length ${length} too large`);
  // Not from the shared Buffer pool: secrets and keys live as long as their connection (unpooled.ts).
  const out = Buffer.allocUnsafeSlow(length);
  let prev: Buffer = Buffer.alloc(0);
  let written = 0;
  for (let i = 1; written < length; i++) {
    const h = createHmac(hash, prk);
    h.update(prev);
    h.update(info);
    h.update(Buffer.of(i));
    prev = h.digest();
    written += prev.copy(out, written, 0, Math.min(hl, length - written));
  }
  return out;
}

/** The HkdfLabel structure of RFC 8446 §7.1: uint16 length, "tls13 " + label, context. */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.allocUnsafe(2 + 1 + fullLabel.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
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
  return hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
}

/** Transcript-Hash of nothing: Hash(""), used by Derive-Secret with empty messages. */
export function emptyHash(hash: HashName): Buffer {
  return createHash(hash).digest();
}
