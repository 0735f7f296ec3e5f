/**
 * The peer's certificate in the shape node:tls gives it (`TLSSocket.getPeerCertificate()`), from the
 * DER chain the handshake received, through node:crypto's X509Certificate.toLegacyObject().
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';

/**
 * The leaf of `chain` (DER, leaf first) as node:tls describes it, or an empty object when there is
 * none (a server without client certificates, a resumed session, a handshake not yet complete).
 * With `detailed`, each certificate's `issuerCertificate` is the next one of the chain; the last
 * one's is itself when it is self-signed, as in node:tls.
 */
export function peerCertificate(
  chain: readonly Uint8Array[],
  detailed: boolean,
): PeerCertificate | DetailedPeerCertificate | Record<string, never> {
  if (chain.length === 0) return {};
  const certs = chain.map((der) => new X509Certificate(der));
  if (!detailed) return certs[0]!.toLegacyObject();
  const objects = certs.map((c) => c.toLegacyObject() as DetailedPeerCertificate);
  for (let i = 0; i < objects.length; i++) {
    const next = objects[i + 1];
    if (next) objects[i]!.issuerCertificate = next;
    else if (certs[i]!.checkIssued(certs[i]!)) objects[i]!.issuerCertificate = objects[i]!;
  }
  return objects[0]!;
}
