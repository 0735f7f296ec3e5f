/**
 * A cursor over received QPACK bytes. Every malformed or out-of-range value throws a `QpackError`
 * with the code of the context the reader was made for (RFC 9204 §6: a field section, the encoder
 * stream or the decoder stream).
 *
 * Instruction streams arrive in arbitrary pieces, so a reader over a stream's buffered bytes runs in
 * `incremental` mode: running out of bytes then throws `INCOMPLETE` (not an error of the peer) after
 * recording in `needed` how many bytes from the start of the buffer the instruction needs at least,
 * so that the stream parser waits for that many before trying again (linear time however the bytes
 * are split). A reader over a complete field section treats running out as a malformed section.
 */
import { QpackError, type QpackErrorCode } from './errors.js';

/** Thrown by an incremental reader that ran out of bytes: wait for more input. */
export class IncompleteInput extends Error {
  override readonly name = 'IncompleteInput';
}
/** One shared instance: thrown on every partial instruction, so no stack is captured each time. */
export const INCOMPLETE = new IncompleteInput('incomplete QPACK instruction');

export class ByteReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  /** In incremental mode: the buffer length the current instruction needs at least. */
  needed = 0;

  constructor(
    buf: Uint8Array,
    pos: number,
    end: number,
    readonly errorCode: QpackErrorCode,
    readonly incremental: boolean,
  ) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Points the reader at new bytes (for reuse without allocation). */
  reset(buf: Uint8Array, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.needed = 0;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws the reader's `QpackError`. */
  fail(reason: string): never {
    throw new QpackError(this.errorCode, reason);
  }

  /** Ensures `n` bytes are available at the cursor; otherwise throws (see the class comment). */
  require(n: number, what: string): void {
    if (this.pos + n <= this.end) return;
    if (this.incremental) {
      this.needed = this.pos + n;
      throw INCOMPLETE;
    }
    this.fail(`truncated ${what}`);
  }

  u8(what: string): number {
    if (this.pos >= this.end) this.require(1, what);
    return this.buf[this.pos++]!;
  }

  /** The next byte without consuming it. */
  peek(what: string): number {
    if (this.pos >= this.end) this.require(1, what);
    return this.buf[this.pos]!;
  }
}
