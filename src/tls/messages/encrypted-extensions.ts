/**
 * EncryptedExtensions (RFC 8446 §4.3.1).
 */
import { HandshakeType } from '../codepoints.js';
import { type Extension, type ExtensionBlock, readExtensions, writeExtensions } from '../extensions.js';
import { frameHandshakeMessage } from '../handshake-message-framing.js';
import { TlsReader } from '../tls-reader.js';
import { TlsWriter } from '../tls-writer.js';

export function decodeEncryptedExtensions(body: Uint8Array): ExtensionBlock {
  const r = new TlsReader(body);
  const extensions = readExtensions(r, 'EncryptedExtensions');
  r.expectEnd('EncryptedExtensions');
  return extensions;
}

export function encodeEncryptedExtensions(extensions: readonly Extension[]): Buffer {
  const w = new TlsWriter(128);
  writeExtensions(w, extensions);
  return frameHandshakeMessage(HandshakeType.encrypted_extensions, w.finish());
}
