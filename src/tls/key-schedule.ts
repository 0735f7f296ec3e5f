/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1): Early Secret -> Handshake Secret -> Master Secret, the
 * traffic secrets derived from each with the transcript hash, Finished keys (§4.4.4), PSK binders
 * (§4.2.11.2) and the resumption PSK (§4.6.1).
 */
import { timingSafeEqual } from 'node:crypto';
import {
  emptyHashShared,
  type HashName,
  hashLength,
  hkdfExpandLabel,
  hkdfExtract,
  hmac,
  zerosShared,
} from '../crypto/hkdf.js';
import { unpooledCopy } from '../util/unpooled.js';

/** Derive-Secret(Secret, Label, Messages) with the transcript hash already computed. */
export function deriveSecret(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Buffer {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hashLength(hash));
}

/** RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length). */
export function finishedKey(hash: HashName, baseKey: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, baseKey, 'finished', NO_CONTEXT, hashLength(hash));
}

/** RFC 8446 §4.4.4: verify_data = HMAC(finished_key, Transcript-Hash(...)). */
export function finishedVerifyData(hash: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array): Buffer {
  return hmac(hash, finishedKey(hash, baseKey), transcriptHash);
}

/** Constant-time comparison of MACs (Finished, binders). */
export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** RFC 8446 §4.6.1: PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length). */
export function resumptionPsk(hash: HashName, resumptionMasterSecret: Uint8Array, nonce: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, resumptionMasterSecret, 'resumption', nonce, hashLength(hash));
}

/** An empty HkdfLabel context (read only). */
const NO_CONTEXT = new Uint8Array(0);

const NO_PSK: Partial<Record<HashName, { earlySecret: Buffer; derived: Buffer }>> = {};

/** RFC 8446 §7.1 with PSK = 0: Early Secret and Derive-Secret(Early Secret, "derived", ""), once per hash. */
function noPskConstants(hash: HashName): { earlySecret: Buffer; derived: Buffer } {
  let c = NO_PSK[hash];
  if (c === undefined) {
    const zeros = Buffer.alloc(hashLength(hash));
    const earlySecret = hkdfExtract(hash, zeros, zeros);
    c = { earlySecret, derived: deriveSecret(hash, earlySecret, 'derived', emptyHashShared(hash)) };
    NO_PSK[hash] = c;
  }
  return c;
}

/**
 * Early Secret = HKDF-Extract(0, PSK) (RFC 8446 §7.1) by PSK buffer, for as long as that buffer lives.
 * Keyed by identity: a ticket's or a session's PSK is never modified after it is made.
 */
const PSK_EARLY_SECRETS = new WeakMap<Uint8Array, { hash: HashName; earlySecret: Buffer }>();

/** The secrets of one handshake, derived step by step as the handshake progresses. */
export class KeySchedule {
  readonly hash: HashName;
  readonly hashLength: number;
  readonly earlySecret: Buffer;
  private handshakeSecretValue: Buffer | undefined;
  private masterSecretValue: Buffer | undefined;

  /** Derive-Secret(Early Secret, "derived", ""), kept when it is the constant of a handshake without PSK. */
  private earlyDerived: Buffer | undefined;

  /** RFC 8446 §7.1: Early Secret = HKDF-Extract(0, PSK), PSK = 0 when none is used. */
  constructor(hash: HashName, psk?: Uint8Array) {
    this.hash = hash;
    this.hashLength = hashLength(hash);
    if (psk === undefined) {
      // Without a PSK the Early Secret and the salt derived from it are the same in every handshake.
      const c = noPskConstants(hash);
      this.earlySecret = unpooledCopy(c.earlySecret);
      this.earlyDerived = unpooledCopy(c.derived);
    } else {
      // A resuming client derives it for the binder, the 0-RTT keys and the handshake secret, and a
      // server for the binder check and the handshake, each time from the same ticket's PSK: once.
      const known = PSK_EARLY_SECRETS.get(psk);
      if (known !== undefined && known.hash === hash) {
        this.earlySecret = unpooledCopy(known.earlySecret);
      } else {
        this.earlySecret = hkdfExtract(hash, zerosShared(hash), psk);
        PSK_EARLY_SECRETS.set(psk, { hash, earlySecret: unpooledCopy(this.earlySecret) });
      }
    }
  }

  /** RFC 8446 §7.1: binder_key = Derive-Secret(Early Secret, "res binder", ""). */
  resumptionBinderKey(): Buffer {
    return deriveSecret(this.hash, this.earlySecret, 'res binder', emptyHashShared(this.hash));
  }

  /** RFC 8446 §4.2.11.2: the binder is computed like Finished with the binder key as BaseKey. */
  binder(truncatedTranscriptHash: Uint8Array): Buffer {
    return finishedVerifyData(this.hash, this.resumptionBinderKey(), truncatedTranscriptHash);
  }

  /** client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello). */
  clientEarlyTrafficSecret(transcriptHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.earlySecret, 'c e traffic', transcriptHash);
  }

  /** Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE). */
  deriveHandshakeSecret(sharedSecret: Uint8Array): Buffer {
    const salt =
      this.earlyDerived ?? deriveSecret(this.hash, this.earlySecret, 'derived', emptyHashShared(this.hash));
    this.handshakeSecretValue = hkdfExtract(this.hash, salt, sharedSecret);
    return this.handshakeSecretValue;
  }

  get handshakeSecret(): Buffer {
    if (!this.handshakeSecretValue) throw new Error('handshake secret not derived yet');
    return this.handshakeSecretValue;
  }

  /** c hs traffic over ClientHello...ServerHello. */
  clientHandshakeTrafficSecret(transcriptHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.handshakeSecret, 'c hs traffic', transcriptHash);
  }

  /** s hs traffic over ClientHello...ServerHello. */
  serverHandshakeTrafficSecret(transcriptHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.handshakeSecret, 's hs traffic', transcriptHash);
  }

  /** Master Secret = HKDF-Extract(Derive-Secret(Handshake Secret, "derived", ""), 0). */
  deriveMasterSecret(): Buffer {
    const salt = deriveSecret(this.hash, this.handshakeSecret, 'derived', emptyHashShared(this.hash));
    this.masterSecretValue = hkdfExtract(this.hash, salt, zerosShared(this.hash));
    return this.masterSecretValue;
  }

  get masterSecret(): Buffer {
    if (!this.masterSecretValue) throw new Error('master secret not derived yet');
    return this.masterSecretValue;
  }

  /** c ap traffic over ClientHello...server Finished. */
  clientApplicationTrafficSecret(transcriptHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.masterSecret, 'c ap traffic', transcriptHash);
  }

  /** s ap traffic over ClientHello...server Finished. */
  serverApplicationTrafficSecret(transcriptHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.masterSecret, 's ap traffic', transcriptHash);
  }

  /** exp master over ClientHello...server Finished. */
  exporterMasterSecret(transcriptHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.masterSecret, 'exp master', transcriptHash);
  }

  /** res master over ClientHello...client Finished. */
  resumptionMasterSecret(transcriptHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.masterSecret, 'res master', transcriptHash);
  }
}
