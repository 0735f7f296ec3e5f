/**
 * Retry Integrity Tag (RFC 9001 §5.8, RFC 9369 §3.3.3): AES-128-GCM with a fixed per-version key and
 * nonce, empty plaintext, and the Retry pseudo-packet (ODCID length, ODCID, Retry packet without its
 * tag) as associated data. The key is public (printed in the RFCs), so the tag is computed by the
 * WebAssembly AES-128-GCM that serves Initial packets (wasm-aes128-gcm.ts): no node:crypto cipher
 * object per Retry, which a server sends to every new address while it is under load.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';
import { QUIC_V1, QUIC_V2 } from './quic-version.js';
import { PublicAes128Gcm, wasmAes128Gcm } from './wasm-aes128-gcm.js';

export const RETRY_TAG_LENGTH = 16;

interface RetryKey {
  readonly key: Buffer;
  readonly nonce: Buffer;
  /** The key in the WebAssembly module, made at the first tag (undefined without WebAssembly). */
  wasm?: PublicAes128Gcm | undefined;
}

const EMPTY = new Uint8Array(0);

// RFC 9001 §5.8 (derived from secret d9c9943e...6fca8e with "quic key" / "quic iv").
const RETRY_V1: RetryKey = {
  key: Buffer.from('be0c690b9f66575a1d766b54e368c84e', 'hex'),
  nonce: Buffer.from('461599d35d632bf2239825bb', 'hex'),
};
// RFC 9369 §3.3.3 (derived from secret c4dd2484...155e9f with "quicv2 key" / "quicv2 iv").
const RETRY_V2: RetryKey = {
  key: Buffer.from('8fb4b01b56ac48e260fbcbcead7ccc92', 'hex'),
  nonce: Buffer.from('d86969bc2d7c6d9990efb04a', 'hex'),
};

function retryKey(version: number): RetryKey {
  if (version === QUIC_V1) return RETRY_V1;
  if (version === QUIC_V2) return RETRY_V2;
  throw new RangeError(`no Retry integrity key for QUIC version 0x${(version >>> 0).toString(16)}`);
}

/**
 * The 16-byte Retry Integrity Tag over `retryWithoutTag` (RFC 9001 §5.8). Throws RangeError for an
 * unsupported version or an original DCID longer than 255 bytes (its length must fit one byte).
 */
export function retryIntegrityTag(
  version: number,
  originalDcid: Uint8Array,
  retryWithoutTag: Uint8Array,
): Buffer {
  const k = retryKey(version);
  const { key, nonce } = k;
  if (originalDcid.length > 255) throw new RangeError('original DCID longer than 255 bytes');
  // RFC 9001 §5.8: Retry Pseudo-Packet = ODCID Length (8) || ODCID || Retry packet without the tag.
  const pseudo = Buffer.allocUnsafe(1 + originalDcid.length + retryWithoutTag.length);
  pseudo[0] = originalDcid.length;
  pseudo.set(originalDcid, 1);
  pseudo.set(retryWithoutTag, 1 + originalDcid.length);
  if (wasmAes128Gcm !== undefined && PublicAes128Gcm.fits(pseudo.length, 0)) {
    k.wasm ??= new PublicAes128Gcm(wasmAes128Gcm, key);
    const tag = Buffer.allocUnsafe(RETRY_TAG_LENGTH);
    k.wasm.seal(nonce, pseudo, EMPTY, tag, 0);
    return tag;
  }
  const cipher = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: RETRY_TAG_LENGTH });
  cipher.setAAD(pseudo);
  cipher.final();
  return cipher.getAuthTag();
}

/**
 * Whether the last 16 bytes of `retryPacket` are its valid Retry Integrity Tag (RFC 9001 §5.8).
 * Never throws: a packet too short to hold a tag, an unknown version or an impossible ODCID is false.
 */
export function verifyRetryIntegrity(
  version: number,
  originalDcid: Uint8Array,
  retryPacket: Uint8Array,
): boolean {
  if (version !== QUIC_V1 && version !== QUIC_V2) return false;
  if (originalDcid.length > 255 || retryPacket.length < RETRY_TAG_LENGTH) return false;
  const tagStart = retryPacket.length - RETRY_TAG_LENGTH;
  const expected = retryIntegrityTag(version, originalDcid, retryPacket.subarray(0, tagStart));
  return timingSafeEqual(expected, retryPacket.subarray(tagStart));
}
