/**
 * Stream contents rebuilt from logged STREAM frames, for comparing what the dead 0-RTT attempt held
 * with what arrived after the rejection. Only the recorded prefix of each frame is known
 * (MAX_RECORDED_PAYLOAD bytes), so payloads are compared as far as they were recorded.
 */
import type { LoggedFrame } from '../frame-record.js';

export interface StreamPayload {
  stream: number;
  /** Bytes from offset 0 that are known (contiguous). */
  prefix: Buffer;
  /** Highest offset seen (offset + length of any frame). */
  end: number;
  /** The FIN arrived and every byte up to it is known. */
  complete: boolean;
  /** The first frame of the stream in the log. */
  first: LoggedFrame;
}

/** Payloads of every stream with STREAM frames among `frames` (one direction), by stream ID. */
export function streamPayloads(frames: readonly LoggedFrame[]): Map<number, StreamPayload> {
  const parts = new Map<
    number,
    { chunks: Array<{ offset: number; data: Buffer }>; end: number; fin?: number; first: LoggedFrame }
  >();
  for (const l of frames) {
    const f = l.frame;
    if (f.type !== 'STREAM') continue;
    let p = parts.get(f.stream);
    if (!p) {
      p = { chunks: [], end: 0, first: l };
      parts.set(f.stream, p);
    }
    p.chunks.push({ offset: f.offset, data: Buffer.from(f.data, 'hex') });
    p.end = Math.max(p.end, f.offset + f.length);
    if (f.fin) p.fin = f.offset + f.length;
  }
  const out = new Map<number, StreamPayload>();
  for (const [stream, p] of parts) {
    p.chunks.sort((a, b) => a.offset - b.offset);
    const pieces: Buffer[] = [];
    let at = 0;
    for (const c of p.chunks) {
      if (c.offset > at) break;
      const fresh = c.data.subarray(at - c.offset);
      if (fresh.length > 0) {
        pieces.push(fresh);
        at += fresh.length;
      }
    }
    const prefix = Buffer.concat(pieces);
    out.set(stream, {
      stream,
      prefix,
      end: p.end,
      complete: p.fin !== undefined && prefix.length === p.fin,
      first: p.first,
    });
  }
  return out;
}

/** Payload text for evidence: the first line when it is printable, else a byte count. */
export function payloadText(p: Buffer): string {
  const head = p.subarray(0, 80);
  if (head.length > 0 && head.every((b) => b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) {
    return `"${head.toString('latin1').replace(/\r?\n[\s\S]*$/, '')}"`;
  }
  return `${p.length} bytes`;
}
