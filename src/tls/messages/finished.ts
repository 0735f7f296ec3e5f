/**
 * Finished (RFC 8446 §4.4.4): verify_data of exactly Hash.length bytes.
 */
import { AlertDescription, TlsAlertError } from '../alert.js';
import { HandshakeType } from '../codepoints.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';

export function decodeFinished(body: Uint8Array, hashLength: number): Uint8Array {
  if (body.length !== hashLength) {
    throw new TlsAlertError(
      AlertDescription.decode_error,
      `Finished of ${body.length} bytes, expected ${hashLength}`,
    );
  }
  return body;
}

export function encodeFinished(verifyData: Uint8Array): Buffer {
  return frameHandshakeMessage(HandshakeType.finished, verifyData);
}
