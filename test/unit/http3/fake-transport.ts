/**
 * An in-memory H3Transport for unit tests of the HTTP/3 sessions: the test plays the peer by
 * opening streams and sending bytes; every operation of the session is recorded.
 */

import type { FieldLine } from '../../../src/http3/field-codec.js';
import { decodeFrame, encodeFrame, type H3Frame } from '../../../src/http3/frames.js';
import type { H3Transport, StreamRead, TransportEvents } from '../../../src/http3/transport.js';
import { encodeLiteralSection } from './literal-codec.js';

export class FakeTransport implements H3Transport {
  handshakeComplete = true;
  events!: TransportEvents;
  readonly ops: string[] = [];
  readonly written = new Map<number, Buffer>();
  readonly ended = new Set<number>();
  closed: { code: number; reason: string } | undefined;
  private readonly incoming = new Map<number, { chunks: Uint8Array[]; fin: boolean; finRead: boolean }>();
  private nextBidi: number;
  private nextUni: number;
  /** Streams the transport lets the session open (per direction) before it must wait. */
  bidiCredit = Number.POSITIVE_INFINITY;
  private waiting: Array<{ bidi: boolean; cb: (id: number) => void }> = [];

  constructor(readonly role: 'client' | 'server') {
    this.nextBidi = role === 'client' ? 0 : 1;
    this.nextUni = role === 'client' ? 2 : 3;
  }

  /** The session that hears this transport's events (like the real adapters' deliverTo). */
  deliverTo(events: TransportEvents): void {
    this.events = events;
  }

  openStream(bidirectional: boolean, opened: (id: number) => void): void {
    this.waiting.push({ bidi: bidirectional, cb: opened });
    this.openWaiting();
  }

  grantBidi(n: number): void {
    this.bidiCredit += n;
    this.openWaiting();
  }

  private openWaiting(): void {
    while (this.waiting.length > 0) {
      const w = this.waiting[0]!;
      if (w.bidi && this.bidiCredit <= 0) return;
      this.waiting.shift();
      let id: number;
      if (w.bidi) {
        this.bidiCredit--;
        id = this.nextBidi;
        this.nextBidi += 4;
      } else {
        id = this.nextUni;
        this.nextUni += 4;
      }
      this.ops.push(`open ${id}`);
      w.cb(id);
    }
  }

  write(id: number, data: Uint8Array): boolean {
    this.written.set(id, Buffer.concat([this.written.get(id) ?? Buffer.alloc(0), data]));
    return true;
  }

  end(id: number): void {
    this.ended.add(id);
    this.ops.push(`fin ${id}`);
  }

  resetStream(id: number, code: number): void {
    this.ops.push(`reset ${id} 0x${code.toString(16)}`);
  }

  stopSending(id: number, code: number): void {
    this.ops.push(`stop ${id} 0x${code.toString(16)}`);
  }

  read(id: number): StreamRead | undefined {
    const s = this.incoming.get(id);
    if (!s) return undefined;
    const data = s.chunks.shift();
    if (data) {
      const fin = s.fin && s.chunks.length === 0 && !s.finRead;
      if (fin) s.finRead = true;
      return { data, fin };
    }
    if (s.fin && !s.finRead) {
      s.finRead = true;
      return { data: new Uint8Array(0), fin: true };
    }
    return undefined;
  }

  /** Acknowledgments are instant here: a graceful close is immediate. */
  closeAfterFlush(code: number, reason: string): void {
    this.close(code, reason);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    this.ops.push(`close 0x${code.toString(16)}`);
  }

  // ------------------------------------------------------------------ the test as the peer

  /** The peer opens stream `id` and sends `data` (FIN with `fin`). */
  peerSend(id: number, data: Uint8Array, fin = false): void {
    let s = this.incoming.get(id);
    if (!s) {
      s = { chunks: [], fin: false, finRead: false };
      this.incoming.set(id, s);
      const peerInitiated = (id & 1) === (this.role === 'client' ? 1 : 0);
      if (peerInitiated) this.events.onStreamOpened(id, !this.handshakeComplete);
    }
    if (data.length > 0) s.chunks.push(data);
    if (fin) s.fin = true;
    this.events.onReadable(id);
  }

  /** The frames the session wrote on stream `id`, after `skip` prefix bytes (a stream type). */
  framesOn(id: number, skip = 0): H3Frame[] {
    let buf: Uint8Array = this.written.get(id) ?? Buffer.alloc(0);
    buf = buf.subarray(skip);
    const out: H3Frame[] = [];
    for (let d = decodeFrame(buf); d; d = decodeFrame(buf)) {
      out.push(d.frame);
      buf = buf.subarray(d.length);
    }
    return out;
  }

  /** Operations other than opens. */
  get actions(): string[] {
    return this.ops.filter((o) => !o.startsWith('open'));
  }
}

/** A HEADERS frame with a literal field section. */
export function headersFrame(fields: FieldLine[]): Uint8Array {
  return encodeFrame({ type: 1, fieldSection: encodeLiteralSection(fields) });
}

export function req(path = '/', method = 'GET', extra: FieldLine[] = []): FieldLine[] {
  return [
    { name: ':method', value: method },
    { name: ':scheme', value: 'https' },
    { name: ':authority', value: 'example.test' },
    { name: ':path', value: path },
    ...extra,
  ];
}
