/**
 * Loading a server identity (certificate chain + private key) once per ServerIdentity object, so that
 * handshakes do not re-parse PEM.
 */
import type { KeyObject } from 'node:crypto';
import { assertKeyMatchesCertificate, loadPrivateKey, parseCertificateChain } from './private-key.js';
import type { ServerIdentity } from './types.js';

export interface LoadedIdentity {
  /** DER certificates, leaf first. */
  chain: Buffer[];
  key: KeyObject;
}

const cache = new WeakMap<ServerIdentity, LoadedIdentity>();

/** Throws TlsConfigError when the chain or key is invalid or they do not belong together. */
export function loadServerIdentity(identity: ServerIdentity): LoadedIdentity {
  let loaded = cache.get(identity);
  if (!loaded) {
    const chain = parseCertificateChain(identity.certificateChain);
    const key = loadPrivateKey(identity.privateKey);
    assertKeyMatchesCertificate(key, chain[0]!);
    loaded = { chain, key };
    cache.set(identity, loaded);
  }
  return loaded;
}
