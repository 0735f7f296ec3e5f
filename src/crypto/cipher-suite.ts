/**
 * TLS 1.3 cipher suites usable with QUIC (RFC 9001 §5.3) and what packet protection needs of each.
 */
import type { HashName } from './hkdf.js';

export enum CipherSuite {
  AES_128_GCM_SHA256 = 0x1301,
  AES_256_GCM_SHA384 = 0x1302,
  CHACHA20_POLY1305_SHA256 = 0x1303,
}

export interface CipherSuiteParams {
  suite: CipherSuite;
  name: string;
  hash: HashName;
  /** node:crypto AEAD cipher name. */
  aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  keyLength: number;
  /** AEAD nonce length (RFC 9001 §5.3: the IV is 12 bytes for all three). */
  ivLength: 12;
  /** Header protection (RFC 9001 §5.4.3, §5.4.4): AES in ECB mode, or ChaCha20. */
  headerProtection: 'aes-128-ecb' | 'aes-256-ecb' | 'chacha20';
  hpKeyLength: number;
  tagLength: 16;
}

const PARAMS: Record<CipherSuite, CipherSuiteParams> = {
  [CipherSuite.AES_128_GCM_SHA256]: {
    suite: CipherSuite.AES_128_GCM_SHA256,
    name: 'TLS_AES_128_GCM_SHA256',
    hash: 'sha256',
    aead: 'aes-128-gcm',
    keyLength: 16,
    ivLength: 12,
    headerProtection: 'aes-128-ecb',
    hpKeyLength: 16,
    tagLength: 16,
  },
  [CipherSuite.AES_256_GCM_SHA384]: {
    suite: CipherSuite.AES_256_GCM_SHA384,
    name: 'TLS_AES_256_GCM_SHA384',
    hash: 'sha384',
    aead: 'aes-256-gcm',
    keyLength: 32,
    ivLength: 12,
    headerProtection: 'aes-256-ecb',
    hpKeyLength: 32,
    tagLength: 16,
  },
  [CipherSuite.CHACHA20_POLY1305_SHA256]: {
    suite: CipherSuite.CHACHA20_POLY1305_SHA256,
    name: 'TLS_CHACHA20_POLY1305_SHA256',
    hash: 'sha256',
    aead: 'chacha20-poly1305',
    keyLength: 32,
    ivLength: 12,
    headerProtection: 'chacha20',
    hpKeyLength: 32,
    tagLength: 16,
  },
};

export function cipherSuiteParams(suite: CipherSuite): CipherSuiteParams {
  const p = PARAMS[suite];
  if (!p) throw new RangeError(`unsupported cipher suite 0x${Number(suite).toString(16)}`);
  return p;
}

export function isSupportedCipherSuite(value: number): value is CipherSuite {
  return value in PARAMS;
}

/**
 * Default preference order: ChaCha20-Poly1305 first. tsquic protects its packets in WebAssembly
 * (wasm-chacha20-poly1305.ts) for a half to a tenth of the cost of node:crypto's cipher object per
 * packet, which every AES-GCM packet pays (docs/performance.md). A server picks the first of these
 * the client offers; a client offering ChaCha20-Poly1305 first also leads servers that honour that
 * hint (Go's crypto/tls, hence quic-go) to pick it. Initial packets use AES-128-GCM whatever this
 * says (RFC 9001 §5.2).
 */
export const DEFAULT_CIPHER_SUITES: readonly CipherSuite[] = [
  CipherSuite.CHACHA20_POLY1305_SHA256,
  CipherSuite.AES_128_GCM_SHA256,
  CipherSuite.AES_256_GCM_SHA384,
];
