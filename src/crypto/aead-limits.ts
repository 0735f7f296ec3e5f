/**
 * AEAD usage limits (RFC 9001 §6.6): how many packets one key may seal (confidentiality) and how
 * many forged packets a connection may reject, across all keys (integrity), before it must update
 * keys or close with AEAD_LIMIT_REACHED. These are the limits for packets of any size (up to 2^16
 * bytes); RFC 9001 Appendix B allows higher ones only when packets are restricted to 2^11 bytes.
 */
import { CipherSuite, cipherSuiteParams } from './cipher-suite.js';

/** Packets that may be sealed with one key (RFC 9001 §6.6). */
export function confidentialityLimit(suite: CipherSuite): number {
  cipherSuiteParams(suite);
  switch (suite) {
    case CipherSuite.AES_128_GCM_SHA256:
    case CipherSuite.AES_256_GCM_SHA384:
      // RFC 9001 §6.6, Appendix B.1.1: 2^23 packets for AEAD_AES_128_GCM and AEAD_AES_256_GCM.
      return 2 ** 23;
    case CipherSuite.CHACHA20_POLY1305_SHA256:
      // RFC 9001 §6.6: larger than the number of possible packets (2^62), so never reached.
      return 2 ** 62;
  }
}

/** Packets failing authentication that a connection may see, across all its keys (RFC 9001 §6.6). */
export function integrityLimit(suite: CipherSuite): number {
  cipherSuiteParams(suite);
  switch (suite) {
    case CipherSuite.AES_128_GCM_SHA256:
    case CipherSuite.AES_256_GCM_SHA384:
      // RFC 9001 §6.6, Appendix B.1.2: 2^52 invalid packets.
      return 2 ** 52;
    case CipherSuite.CHACHA20_POLY1305_SHA256:
      // RFC 9001 §6.6: 2^36 invalid packets (AEBounds).
      return 2 ** 36;
  }
}
