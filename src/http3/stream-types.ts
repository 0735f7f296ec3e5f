/**
 * Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2): the varint that starts every
 * unidirectional stream. Reserved types (0x1f * N + 0x21, §6.2.3) and unknown ones are ignored by
 * the receiver.
 */
export enum UniStreamType {
  Control = 0x00,
  Push = 0x01,
  QpackEncoder = 0x02,
  QpackDecoder = 0x03,
}

/** The streams whose closure is a connection error H3_CLOSED_CRITICAL_STREAM (RFC 9114 §6.2.1, RFC 9204 §4.2). */
export function isCriticalStreamType(t: number): boolean {
  return t === UniStreamType.Control || t === UniStreamType.QpackEncoder || t === UniStreamType.QpackDecoder;
}

export function uniStreamTypeName(t: number): string {
  return UniStreamType[t] ?? `0x${t.toString(16)}`;
}
