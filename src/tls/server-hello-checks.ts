/**
 * The client's checks common to ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4,
 * §4.2.1; RFC 9001 §4.2: nothing older than TLS 1.3).
 */
import { AlertDescription, TlsAlertError } from './alert.js';
import { DOWNGRADE_TLS11, DOWNGRADE_TLS12, ExtensionType, TLS13_VERSION } from './codepoints.js';
import { decodeSupportedVersionsServer } from './extensions.js';
import type { ServerHello } from './messages/server-hello.js';

export function checkServerHelloCommon(sh: ServerHello, offeredSuites: readonly number[]): void {
  const what = sh.isHelloRetryRequest ? 'HelloRetryRequest' : 'ServerHello';
  const sv = sh.extensions.get(ExtensionType.supported_versions);
  if (sv === undefined) {
    // RFC 8446 §4.1.3: a server negotiating TLS 1.2 or older; check the downgrade sentinel first.
    const tail = Buffer.from(sh.random.subarray(24));
    if (tail.equals(DOWNGRADE_TLS12) || tail.equals(DOWNGRADE_TLS11)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'downgrade sentinel in ServerHello.random');
    }
    throw new TlsAlertError(AlertDescription.protocol_version, `${what} without supported_versions`);
  }
  // RFC 8446 §4.2.1: the selected version must be one we offered (TLS 1.3 only).
  if (decodeSupportedVersionsServer(sv) !== TLS13_VERSION) {
    throw new TlsAlertError(
      AlertDescription.illegal_parameter,
      `${what} selected a version other than TLS 1.3`,
    );
  }
  // RFC 8446 §4.1.3: legacy_session_id_echo (we sent none), cipher_suite, legacy_compression_method.
  if (sh.legacySessionIdEcho.length !== 0) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'legacy_session_id_echo does not match');
  }
  if (!offeredSuites.includes(sh.cipherSuite)) {
    throw new TlsAlertError(
      AlertDescription.illegal_parameter,
      `${what} selected a cipher suite not offered`,
    );
  }
  if (sh.compressionMethod !== 0) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'non-null legacy_compression_method');
  }
}
