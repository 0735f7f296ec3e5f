/**
 * Validation and normalisation of the configuration shared by client and server (TlsCommonConfig).
 * Mistakes throw TlsConfigError from the engine constructors, never later during a handshake.
 */
import { type CipherSuite, DEFAULT_CIPHER_SUITES, isSupportedCipherSuite } from '../crypto/cipher-suite.js';
import { unpooledCopy } from '../util/unpooled.js';
import { type NamedGroup, namedGroupFromName } from './codepoints.js';
import { TlsConfigError } from './private-key.js';
import type { NamedGroupName, TlsCommonConfig } from './types.js';

export interface NormalizedCommonConfig {
  alpn: string[];
  /** ALPN protocol ids as bytes (UTF-8), same order as `alpn`. */
  alpnBytes: Buffer[];
  suites: CipherSuite[];
  groups: NamedGroup[];
  transportParameters: Buffer;
}

const DEFAULT_GROUPS: readonly NamedGroupName[] = ['x25519', 'secp256r1'];

/**
 * ALPN protocol ids as bytes, by id: every connection of an endpoint names the same few, and encoding
 * one (a pooled Buffer, then an unpooled copy) cost a server about 1% of a handshake (issue 13). The
 * bytes are only read (matched and encoded), never written.
 */
const protocolIds = new Map<string, Buffer>();

function protocolIdBytes(p: string): Buffer {
  let b = protocolIds.get(p);
  if (b !== undefined) return b;
  b = unpooledCopy(Buffer.from(p, 'utf8'));
  // RFC 7301 §3.1: ProtocolName<1..2^8-1>
  if (b.length < 1 || b.length > 255) throw new TlsConfigError(`invalid ALPN protocol id "${p}"`);
  if (protocolIds.size < 64) protocolIds.set(p, b);
  return b;
}

export function normalizeCommonConfig(config: TlsCommonConfig): NormalizedCommonConfig {
  if (typeof config.random !== 'function') throw new TlsConfigError('config.random must be a function');
  if (!Array.isArray(config.alpn) || config.alpn.length === 0) {
    // RFC 9001 §8.1: ALPN is mandatory in QUIC.
    throw new TlsConfigError('config.alpn must list at least one application protocol');
  }
  const alpnBytes = config.alpn.map(protocolIdBytes);
  const suites = [...(config.cipherSuites ?? DEFAULT_CIPHER_SUITES)];
  if (suites.length === 0) throw new TlsConfigError('config.cipherSuites is empty');
  for (const s of suites) {
    if (!isSupportedCipherSuite(s)) throw new TlsConfigError(`unsupported cipher suite ${s}`);
  }
  const groupNames = config.groups ?? DEFAULT_GROUPS;
  if (groupNames.length === 0) throw new TlsConfigError('config.groups is empty');
  const groups: NamedGroup[] = [];
  for (const name of groupNames) {
    if (name !== 'x25519' && name !== 'secp256r1' && name !== 'secp384r1') {
      throw new TlsConfigError(`unsupported group "${String(name)}"`);
    }
    const g = namedGroupFromName(name);
    if (!groups.includes(g)) groups.push(g);
  }
  if (!(config.transportParameters instanceof Uint8Array) || config.transportParameters.length > 0xffff) {
    throw new TlsConfigError('config.transportParameters must be a Uint8Array of at most 65535 bytes');
  }
  return {
    alpn: [...config.alpn],
    alpnBytes,
    suites,
    groups,
    transportParameters: unpooledCopy(config.transportParameters),
  };
}

/** Index of `protocol` (bytes) in `list`, or -1. */
export function indexOfProtocol(list: readonly Uint8Array[], protocol: Uint8Array): number {
  const p = Buffer.from(protocol.buffer, protocol.byteOffset, protocol.byteLength);
  return list.findIndex((x) => p.equals(x));
}
