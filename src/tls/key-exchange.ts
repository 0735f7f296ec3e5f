/**
 * Ephemeral (EC)DHE key shares for x25519, secp256r1 and secp384r1 (RFC 8446 §4.2.8, §7.4.2).
 * Sans-IO: private keys come from the injected RandomBytes, not from node:crypto's generator.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import type { RandomBytes } from '../util/random.js';
import { AlertDescription, TlsAlertError } from './alert.js';
import { NamedGroup } from './codepoints.js';

export interface KeyShare {
  readonly group: NamedGroup;
  /** The key_exchange bytes sent in the KeyShareEntry. */
  readonly publicKey: Buffer;
  /** The (EC)DHE shared secret with the peer's key_exchange; throws illegal_parameter if invalid. */
  computeSecret(peerKeyExchange: Uint8Array): Buffer;
}

/**
 * X25519 keys are imported as JWK (RFC 8037): equivalent to the PKCS#8 / SPKI DER wrappers but about
 * ten times faster in node:crypto, whose DER decoders dominate a handshake otherwise. For a private
 * key node:crypto derives the public key from `d` alone; `x` must merely be present.
 */
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

class X25519Share implements KeyShare {
  readonly group = NamedGroup.x25519;
  readonly publicKey: Buffer;
  private readonly privateKey: KeyObject;

  constructor(random: RandomBytes) {
    const scalar = Buffer.from(random(32));
    if (scalar.length !== 32) throw new RangeError('RandomBytes returned the wrong length');
    this.privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: scalar.toString('base64url'), x: PLACEHOLDER_X },
      format: 'jwk',
    });
    const x = this.privateKey.export({ format: 'jwk' }).x;
    if (typeof x !== 'string') throw new Error('x25519 public key export failed');
    this.publicKey = Buffer.from(x, 'base64url');
  }

  computeSecret(peer: Uint8Array): Buffer {
    // RFC 8446 §4.2.8.2 / RFC 7748 §6.1: 32-byte u-coordinate.
    if (peer.length !== 32)
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'x25519 key share length');
    let secret: Buffer;
    try {
      const publicKey = createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peer).toString('base64url') },
        format: 'jwk',
      });
      secret = diffieHellman({ privateKey: this.privateKey, publicKey });
    } catch {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'invalid x25519 key share');
    }
    // RFC 8446 §7.4.2: abort if the X25519 shared secret is all zeros.
    if (secret.every((b) => b === 0)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'x25519 shared secret is zero');
    }
    return secret;
  }
}

class EcdhShare implements KeyShare {
  readonly group: NamedGroup;
  readonly publicKey: Buffer;
  private readonly ecdh: ECDH;
  private readonly coordinateLength: number;

  constructor(group: NamedGroup.secp256r1 | NamedGroup.secp384r1, random: RandomBytes) {
    this.group = group;
    const curve = group === NamedGroup.secp256r1 ? 'prime256v1' : 'secp384r1';
    this.coordinateLength = group === NamedGroup.secp256r1 ? 32 : 48;
    this.ecdh = createECDH(curve);
    // A random scalar is out of range with negligible probability; draw again then.
    for (let attempt = 0; ; attempt++) {
      try {
        this.ecdh.setPrivateKey(Buffer.from(random(this.coordinateLength)));
        break;
      } catch (err) {
        if (attempt >= 8) throw err;
      }
    }
    this.publicKey = this.ecdh.getPublicKey(null, 'uncompressed');
  }

  computeSecret(peer: Uint8Array): Buffer {
    // RFC 8446 §4.2.8.2: UncompressedPointRepresentation only (legacy_form = 4).
    if (peer.length !== 1 + 2 * this.coordinateLength || peer[0] !== 4) {
      throw new TlsAlertError(
        AlertDescription.illegal_parameter,
        'EC key share is not an uncompressed point',
      );
    }
    try {
      // node:crypto validates that the point is on the curve (RFC 8446 §4.2.8.2).
      return this.ecdh.computeSecret(peer);
    } catch {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'invalid EC key share');
    }
  }
}

/**
 * Ephemeral key shares made ahead of time: the Node shell makes the next one while its event loop
 * would otherwise wait (node/spare-key-shares.ts), which takes a key generation (~45 us for X25519
 * through node:crypto) off each side's handshake critical path (issue 13). A share is handed out once
 * and never again (RFC 8446 §4.2.8: ephemeral).
 */
export interface KeyShareSource {
  /** A fresh share of `group` that no one else was given, or undefined when none is ready. */
  take(group: NamedGroup): KeyShare | undefined;
}

/** A share of `group`: from `source` when it has one ready, else made now from `random`. */
export function generateKeyShare(group: NamedGroup, random: RandomBytes, source?: KeyShareSource): KeyShare {
  const ready = source?.take(group);
  if (ready !== undefined && ready.group === group) return ready;
  return newKeyShare(group, random);
}

/** A new share of `group`, its private key from `random`. */
export function newKeyShare(group: NamedGroup, random: RandomBytes): KeyShare {
  switch (group) {
    case NamedGroup.x25519:
      return new X25519Share(random);
    case NamedGroup.secp256r1:
    case NamedGroup.secp384r1:
      return new EcdhShare(group, random);
  }
}
