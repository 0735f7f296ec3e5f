/**
 * Reassembly of an instruction stream (the encoder or decoder stream, RFC 9204 §4.2): the bytes
 * arrive as QUIC delivers them, split anywhere, so an instruction may span chunks. Complete
 * instructions are handed on as soon as they are in; the tail of a partial one is kept.
 *
 * What is kept is bounded by the instruction parsers: they check every length prefix against its
 * limit before waiting for the bytes, so at most one instruction of bounded size is buffered. The
 * parser records how many bytes it needs at least (`ByteReader.needed`), and nothing is re-parsed
 * until that many have arrived: time stays linear however finely the stream is split.
 */
import { ByteReader, INCOMPLETE } from './byte-reader.js';
import type { QpackErrorCode } from './errors.js';

/** Buffer capacity kept after use; a larger one (from a large chunk) is released. */
const RETAINED = 4096;

export class InstructionStream {
  private readonly reader: ByteReader;
  /** Buffered bytes of a partial instruction: pending[0..pendingLength). */
  private pending = new Uint8Array(0);
  private pendingLength = 0;
  /** Bytes the partial instruction needs at least before parsing is worth trying again. */
  private needed = 0;

  constructor(errorCode: QpackErrorCode) {
    this.reader = new ByteReader(new Uint8Array(0), 0, 0, errorCode, true);
  }

  /** Bytes held for a partial instruction. */
  get buffered(): number {
    return this.pendingLength;
  }

  /**
   * Appends `data` and calls `onInstruction` once per complete instruction. `onInstruction` reads
   * one whole instruction from the reader before acting on it (a read that runs out of bytes
   * throws before anything is applied). Errors of the peer propagate as QpackError.
   */
  feed(data: Uint8Array, onInstruction: (r: ByteReader) => void): void {
    let buf: Uint8Array;
    let end: number;
    if (this.pendingLength === 0) {
      buf = data; // common case: parse the chunk in place
      end = data.length;
    } else {
      this.append(data);
      if (this.pendingLength < this.needed) return;
      buf = this.pending;
      end = this.pendingLength;
    }
    const r = this.reader;
    let start = 0;
    while (start < end) {
      r.reset(buf, start, end);
      try {
        onInstruction(r);
      } catch (e) {
        if (e !== INCOMPLETE) throw e;
        this.keep(buf, start, end, r.needed - start);
        return;
      }
      start = r.pos;
    }
    this.pendingLength = 0;
    this.needed = 0;
    if (this.pending.length > RETAINED) this.pending = new Uint8Array(0);
  }

  private keep(buf: Uint8Array, start: number, end: number, needed: number): void {
    const n = end - start;
    if (buf === this.pending && (n <= RETAINED || n * 2 > this.pending.length)) {
      this.pending.copyWithin(0, start, end);
    } else {
      const next =
        this.pending.length < n || buf === this.pending ? new Uint8Array(Math.max(64, n * 2)) : this.pending;
      next.set(buf.subarray(start, end), 0);
      this.pending = next;
    }
    this.pendingLength = n;
    this.needed = needed;
  }

  private append(data: Uint8Array): void {
    const need = this.pendingLength + data.length;
    if (need > this.pending.length) {
      const next = new Uint8Array(Math.max(need, this.pending.length * 2));
      next.set(this.pending.subarray(0, this.pendingLength));
      this.pending = next;
    }
    this.pending.set(data, this.pendingLength);
    this.pendingLength = need;
  }
}
