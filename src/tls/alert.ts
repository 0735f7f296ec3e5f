/**
 * TLS alerts (RFC 8446 §6). In QUIC an alert is never sent as a TLS record: it becomes a
 * CONNECTION_CLOSE with error code CRYPTO_ERROR + alert (RFC 9001 §4.8).
 */
export enum AlertDescription {
  close_notify = 0,
  unexpected_message = 10,
  bad_record_mac = 20,
  record_overflow = 22,
  handshake_failure = 40,
  bad_certificate = 42,
  unsupported_certificate = 43,
  certificate_revoked = 44,
  certificate_expired = 45,
  certificate_unknown = 46,
  illegal_parameter = 47,
  unknown_ca = 48,
  access_denied = 49,
  decode_error = 50,
  decrypt_error = 51,
  protocol_version = 70,
  insufficient_security = 71,
  internal_error = 80,
  inappropriate_fallback = 86,
  user_canceled = 90,
  missing_extension = 109,
  unsupported_extension = 110,
  unrecognized_name = 112,
  bad_certificate_status_response = 113,
  unknown_psk_identity = 115,
  certificate_required = 116,
  no_application_protocol = 120,
}

/** Thrown by the TLS engine; the connection closes with CRYPTO_ERROR(alert). */
export class TlsAlertError extends Error {
  override readonly name = 'TlsAlertError';
  readonly alert: AlertDescription;

  constructor(alert: AlertDescription, message: string) {
    super(`TLS alert ${AlertDescription[alert] ?? alert} (${alert}): ${message}`);
    this.alert = alert;
  }
}
