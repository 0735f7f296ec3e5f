/**
 * Reassembles TLS handshake messages (RFC 8446 §4: 1-byte type, 3-byte length, body) from the byte
 * stream of one encryption level. QUIC delivers CRYPTO data in order but split at arbitrary
 * boundaries, several messages per frame or one message over many frames (RFC 9001 §4.1.3).
 *
 * Memory is bounded: a message whose declared length exceeds `maxMessageSize` is rejected as soon as
 * its header is seen, so at most one header plus `maxMessageSize` bytes are ever buffered.
 */
import { AlertDescription, TlsAlertError } from './alert.js';

/** Largest handshake message body accepted (a certificate chain is the largest legitimate message). */
export const MAX_HANDSHAKE_MESSAGE_SIZE = 65536;

export interface HandshakeMessage {
  type: number;
  /** The message body (after the 4-byte header). */
  body: Uint8Array;
  /** Header and body: the bytes that enter the transcript hash (RFC 8446 §4.4.1). */
  raw: Uint8Array;
}

export interface HandshakeHeader {
  type: number;
  length: number;
}

/** Shared by every framer with nothing buffered (one Buffer each would cost ~200 B per framer). */
const EMPTY = Buffer.alloc(0);

export class HandshakeFramer {
  private buf: Buffer = EMPTY;
  private start = 0;
  private readonly maxMessageSize: number;

  constructor(maxMessageSize = MAX_HANDSHAKE_MESSAGE_SIZE) {
    this.maxMessageSize = maxMessageSize;
  }

  /** Bytes received but not yet returned as messages. */
  get buffered(): number {
    return this.buf.length - this.start;
  }

  /** Appends received bytes (copied: the caller may reuse its buffer). */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    const pending = this.buf.length - this.start;
    if (pending === 0) {
      this.buf = Buffer.from(data);
    } else {
      const next = Buffer.allocUnsafe(pending + data.length);
      this.buf.copy(next, 0, this.start);
      next.set(data, pending);
      this.buf = next;
    }
    this.start = 0;
  }

  /** The header of the next message, once its 4 bytes are available. */
  header(): HandshakeHeader | undefined {
    if (this.buf.length - this.start < 4) return undefined;
    const b = this.buf;
    const s = this.start;
    return { type: b[s]!, length: (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]! };
  }

  /**
   * The next complete message, or undefined when more bytes are needed. Throws decode_error when the
   * declared length exceeds the bound (RFC 8446 §6.2 decode_error: a length out of range).
   */
  take(): HandshakeMessage | undefined {
    const h = this.header();
    if (!h) return undefined;
    if (h.length > this.maxMessageSize) {
      throw new TlsAlertError(
        AlertDescription.decode_error,
        `handshake message type ${h.type} of ${h.length} bytes exceeds the ${this.maxMessageSize}-byte limit`,
      );
    }
    const total = 4 + h.length;
    if (this.buf.length - this.start < total) return undefined;
    const raw = this.buf.subarray(this.start, this.start + total);
    this.start += total;
    if (this.start === this.buf.length) {
      this.buf = EMPTY;
      this.start = 0;
    }
    return { type: h.type, body: raw.subarray(4), raw };
  }
}

/** Frames a handshake message: type, uint24 length, body (RFC 8446 §4). */
export function frameHandshakeMessage(type: number, body: Uint8Array): Buffer {
  if (body.length > 0xffffff) throw new RangeError('handshake message too large');
  const out = Buffer.allocUnsafe(4 + body.length);
  out[0] = type;
  out.writeUIntBE(body.length, 1, 3);
  out.set(body, 4);
  return out;
}
