/**
 * Packet protection keys (RFC 9001 §5.1): from one traffic secret, HKDF-Expand-Label derives the AEAD
 * key ("quic key"), the IV ("quic iv") and the header protection key ("quic hp"); QUIC v2 uses
 * "quicv2 key" / "quicv2 iv" / "quicv2 hp" (RFC 9369 §3.3.2).
 */

import { fromByteString, toByteString } from '../util/byte-string.js';
import { Aead } from './aead.js';
import { CipherSuite, cipherSuiteParams } from './cipher-suite.js';
import { HeaderProtection } from './header-protection.js';
import { hkdfExpandLabel, hkdfExpandLabelInto } from './hkdf.js';
import { deriveInitialSecrets } from './initial-secrets.js';
import { quicKeyLabels } from './quic-version.js';

/** Everything needed to protect or unprotect packets in one direction at one encryption level. */
export interface PacketKeys {
  readonly suite: CipherSuite;
  readonly aead: Aead;
  readonly hp: HeaderProtection;
  /** The traffic secret these keys come from (the input of the next key update, RFC 9001 §6.1). */
  readonly secret: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * PacketKeys as kept for a connection's lifetime: the traffic secret, read only by a key update
 * (RFC 9001 §6.1), as a latin1 string (32-48 bytes of heap where a Uint8Array handed to HKDF costs
 * ~0.23 KiB with its buffer; issue 13, idle memory). `secret` gives a new array on each read.
 */
export class StoredPacketKeys implements PacketKeys {
  private readonly secretString: string;

  constructor(
    readonly suite: CipherSuite,
    readonly aead: Aead,
    readonly hp: HeaderProtection,
    secret: Uint8Array,
  ) {
    this.secretString = toByteString(secret);
  }

  get secret(): Uint8Array {
    return fromByteString(this.secretString);
  }
}

/** The raw key material of one traffic secret (RFC 9001 §5.1), e.g. for tests and key logging. */
export interface PacketKeyMaterial {
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly hp: Buffer;
}

/**
 * RFC 9001 §5.1: key = HKDF-Expand-Label(secret, "quic key", "", key length), iv with "quic iv" (the
 * 12-byte nonce length of every suite QUIC uses, §5.3), hp with "quic hp" (header protection key
 * length); v2 labels per RFC 9369 §3.3.2. Throws RangeError for an unsupported version or suite.
 */
export function derivePacketKeyMaterial(
  suite: CipherSuite,
  secret: Uint8Array,
  version: number,
): PacketKeyMaterial {
  const params = cipherSuiteParams(suite);
  const labels = quicKeyLabels(version);
  return {
    key: hkdfExpandLabel(params.hash, secret, labels.key, EMPTY, params.keyLength),
    iv: hkdfExpandLabel(params.hash, secret, labels.iv, EMPTY, params.ivLength),
    hp: hkdfExpandLabel(params.hash, secret, labels.hp, EMPTY, params.hpKeyLength),
  };
}

/** The AEAD (key and IV only) for a traffic secret (RFC 9001 §5.1); used by key updates (§6). */
export function deriveAead(suite: CipherSuite, secret: Uint8Array, version: number): Aead {
  const params = cipherSuiteParams(suite);
  const labels = quicKeyLabels(version);
  const key = hkdfExpandLabel(params.hash, secret, labels.key, EMPTY, params.keyLength);
  const iv = hkdfExpandLabel(params.hash, secret, labels.iv, EMPTY, params.ivLength);
  return new Aead(suite, key, iv);
}

/**
 * Packet protection keys for `secret` under `suite` and QUIC `version` (RFC 9001 §5.1).
 * `pooledHp`: the header protection cipher counts against the process-wide bound of
 * header-protection.ts (keys that live as long as a connection: 1-RTT). `publicKeys`: the secret is
 * public (Initial secrets, RFC 9001 §5.2), so the AES work may go to code that is not constant time.
 */
export function derivePacketKeys(
  suite: CipherSuite,
  secret: Uint8Array,
  version: number,
  pooledHp = false,
  publicKeys = false,
): PacketKeys {
  const params = cipherSuiteParams(suite);
  const labels = quicKeyLabels(version);
  // The AEAD and the header protection copy their key, so the material is derived into scratch
  // buffers, cleared after use: no Buffer per key, IV and HP key (six sets per connection, issue 13).
  const key = scratch(params.keyLength);
  const iv = scratch(params.ivLength);
  try {
    hkdfExpandLabelInto(params.hash, secret, labels.key, EMPTY, key);
    hkdfExpandLabelInto(params.hash, secret, labels.iv, EMPTY, iv);
    const aead = new Aead(suite, key, iv, publicKeys);
    const hpKey = scratch(params.hpKeyLength);
    hkdfExpandLabelInto(params.hash, secret, labels.hp, EMPTY, hpKey);
    const hp = new HeaderProtection(suite, hpKey, pooledHp, publicKeys);
    return new StoredPacketKeys(suite, aead, hp, secret);
  } finally {
    key.fill(0);
    iv.fill(0);
    scratch(params.hpKeyLength).fill(0);
  }
}

/** One scratch buffer per length (keys, IVs and HP keys are 12, 16 or 32 bytes; the IV's differs). */
const scratches: Array<Uint8Array | undefined> = [];

function scratch(length: number): Uint8Array {
  let b = scratches[length];
  if (b === undefined) {
    b = new Uint8Array(length);
    scratches[length] = b;
  }
  return b;
}

/**
 * Initial keys for both directions (RFC 9001 §5.2): always AES-128-GCM with SHA-256, from the
 * Destination Connection ID of the client's first Initial packet. Anyone who sees that packet can
 * derive them, so they are public keys (wasm-aes128-gcm.ts).
 */
export function deriveInitialKeys(
  version: number,
  dcid: Uint8Array,
): { client: PacketKeys; server: PacketKeys } {
  const secrets = deriveInitialSecrets(version, dcid);
  return {
    client: initialPacketKeys(secrets.client, version),
    server: initialPacketKeys(secrets.server, version),
  };
}

/**
 * The packet keys of one direction's Initial secret (RFC 9001 §5.2): AES-128-GCM, marked public
 * (anyone who saw the client's first packet can derive them), so their AES runs in WebAssembly.
 */
export function initialPacketKeys(secret: Uint8Array, version: number): PacketKeys {
  return derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, secret, version, false, true);
}

/** A client's first Destination Connection ID with its Initial keys (RFC 9001 §5.2), derived ahead. */
export interface PreparedInitialKeys {
  /** 8 random bytes (RFC 9000 §7.2: unpredictable, at least 8 bytes), given to one connection only. */
  readonly dcid: Uint8Array;
  readonly client: PacketKeys;
  readonly server: PacketKeys;
}

/**
 * Initial keys derived ahead of time for a client's next connection: the Node shell derives the next
 * ones while its event loop would otherwise wait (node/spare-initial-keys.ts), which takes their
 * HKDF steps and cipher objects off a dial's critical path (issue 13).
 */
export interface InitialKeySource {
  /** A fresh DCID and its keys for `version`, handed out once, or undefined when none is ready. */
  take(version: number): PreparedInitialKeys | undefined;
}
