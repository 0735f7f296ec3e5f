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
import type { RecentLiterals } from './recent-literals.js';

/** Thrown by an incremental reader that ran out of bytes: wait for more input. */
export class IncompleteInput extends Error {
  override readonly name = 'IncompleteInput';
}
/** One shared instance: thrown on every partial instruction, so no stack is captured each time. */
export const INCOMPLETE = new IncompleteInput('incomplete QPACK instruction');

export class ByteReader {
  private _buf: Uint8Array;
  get buf(): Uint8Array {
    return this._buf;
  }
  private _pos: number;
  get pos(): number {
    return this._pos;
  }
  private _end: number;
  get end(): number {
    return this._end;
  }
  /** In incremental mode: the buffer length the current instruction needs at least. */
  private _needed = 0;
  get needed() {
    return this._needed;
  }

  constructor(
    buf: Uint8Array,
    pos: number,
    end: number,
    readonly errorCode: QpackErrorCode,
    readonly incremental: boolean,
    /** Strings of literals read before, returned again for the same bytes (string-literal.ts). */
    readonly literals?: RecentLiterals,
  ) {
    this._buf = buf;
    this._pos = pos;
    this._end = end;
  }

  /** Points the reader at new bytes (for reuse without allocation). */
  reset(buf: Uint8Array, pos: number, end: number): void {
    this._buf = buf;
    this._pos = pos;
    this._end = end;
    this._needed = 0;
  }

  get remaining(): number {
    return this._end - this._pos;
  }

  /** Throws the reader's `QpackError`. */
  fail(reason: string): never {
    throw new QpackError(this.errorCode, reason);
  }

  /** Ensures `n` bytes are available at the cursor; otherwise throws (see the class comment). */
  require(n: number, what: string): void {
    if (this._pos + n <= this._end) return;
    if (this.incremental) {
      this._needed = this._pos + n;
      throw INCOMPLETE;
    }
    this.fail(`truncated ${what}`);
  }

  u8(what: string): number {
    if (this._pos >= this._end) this.require(1, what);
    return this._buf[this._pos++]!;
  }

  /** Consumes `n` bytes at the cursor (throwing like require()); returns where they start. */
  take(n: number, what: string): number {
    this.require(n, what);
    const start = this._pos;
    this._pos = start + n;
    return start;
  }

  /** The next byte without consuming it. */
  peek(what: string): number {
    if (this._pos >= this._end) this.require(1, what);
    return this._buf[this._pos]!;
  }
}
