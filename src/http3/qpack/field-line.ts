/** A field line as the HTTP/3 layer sees it (RFC 9204 §1.1, RFC 9110 §5). */
export interface FieldLine {
  /** The field name; HTTP/3 requires lowercase names (RFC 9114 §4.2). Octets, see latin1.ts. */
  name: string;
  /** The field value. Octets: each character is one byte, U+0000..U+00FF. */
  value: string;
  /**
   * Never index (RFC 9204 §4.5.4 'N' bit, §7.1.3): the encoder sends the line as a literal with the
   * N bit and never inserts it into the dynamic table; the decoder sets it when the peer did.
   */
  neverIndex?: boolean;
}

/** RFC 9114 §4.2.2: the size of a field line for the section size limit. */
export function fieldLineSize(name: string, value: string): number {
  return name.length + value.length + 32;
}
