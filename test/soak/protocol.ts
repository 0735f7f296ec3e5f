/**
 * The soak's request protocol on a bidirectional QUIC stream (ALPN 'soak'): a 9-byte header
 * (operation, size, seed), then the body of an upload or echo. Bodies are a pattern derived from the
 * seed, so both sides can check every byte without keeping a copy.
 *
 * - 'E' echo: the server sends back every byte it reads.
 * - 'U' upload: the client sends `size` pattern bytes; the server checks them and answers 'K' or 'X'.
 * - 'D' download: the server sends `size` pattern bytes.
 */
export type SoakOp = 'E' | 'U' | 'D';

export const HEADER_BYTES = 9;

export function encodeHeader(op: SoakOp, size: number, seed: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.write(op, 0, 'latin1');
  b.writeUInt32BE(size, 1);
  b.writeUInt32BE(seed >>> 0, 5);
  return b;
}

export function decodeHeader(b: Buffer): { op: SoakOp; size: number; seed: number } | undefined {
  const op = String.fromCharCode(b[0]!);
  if (op !== 'E' && op !== 'U' && op !== 'D') return undefined;
  return { op, size: b.readUInt32BE(1), seed: b.readUInt32BE(5) };
}

/** Byte `i` of the pattern of `seed`. */
function patternByte(seed: number, i: number): number {
  return (seed + i * 7 + (i >>> 11)) & 0xff;
}

/** `length` bytes of the pattern of `seed`, from `offset`. */
export function pattern(seed: number, length: number, offset = 0): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = patternByte(seed, offset + i);
  return b;
}

/** Checks a pattern as it arrives in chunks. */
export class PatternCheck {
  received = 0;
  /** Offset of the first wrong byte, if any. */
  firstMismatch: number | undefined;

  constructor(private readonly seed: number) {}

  add(chunk: Uint8Array): void {
    if (this.firstMismatch === undefined) {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== patternByte(this.seed, this.received + i)) {
          this.firstMismatch = this.received + i;
          break;
        }
      }
    }
    this.received += chunk.length;
  }

  ok(size: number): boolean {
    return this.firstMismatch === undefined && this.received === size;
  }
}
