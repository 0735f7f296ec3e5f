/**
 * Small applications that run on sans-IO connections inside the simulator: a request/response
 * transfer protocol whose bytes are checked against a deterministic pattern.
 *
 * Protocol on each client-opened bidirectional stream: the client sends an 8-byte big-endian
 * download size, then `upload` pattern bytes, then FIN. The server checks the upload, then answers
 * with `download` pattern bytes and FIN; the client checks them.
 */
import type { Connection } from '../../src/connection/connection.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import type { QuicSim } from './quic-harness.js';

/** Byte `offset` of the pattern of stream `streamId`. */
export function patternByte(streamId: number, offset: number): number {
  return (offset * 31 + streamId * 7 + Math.floor(offset / 251)) & 0xff;
}

export function patternChunk(streamId: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(streamId, offset + i);
  return out;
}

/** Checks incoming bytes against the pattern without keeping them. */
export class PatternChecker {
  received = 0;
  constructor(
    private readonly streamId: number,
    private readonly label: string,
  ) {}

  feed(data: Uint8Array, base = 0): void {
    for (let i = 0; i < data.length; i++) {
      const off = this.received - base + i;
      if (data[i] !== patternByte(this.streamId, off)) {
        throw new Error(`${this.label}: byte mismatch on stream ${this.streamId} at offset ${off}`);
      }
    }
    this.received += data.length;
  }
}

const WRITE_CHUNK = 64 * 1024;
/** Upload length and download length, 8 bytes each, at the start of every transfer stream. */
const HEADER_BYTES = 16;

/** Writes `total` pattern bytes to a stream as flow control and buffers allow, then FIN. */
class PatternWriter {
  written = 0;
  ended = false;
  /** write() returned false: wait for the stream's 'writable' event. */
  blocked = false;
  constructor(
    private readonly epoch: StreamEpoch,
    private readonly id: number,
    private readonly total: number,
    private readonly prefix?: Uint8Array,
    private readonly patternId = id,
  ) {}

  private prefixSent = false;

  pump(): void {
    if (this.blocked) return;
    const streams = this.epoch.streams;
    if (this.prefix && !this.prefixSent) {
      this.prefixSent = true;
      streams.write(this.id, this.prefix);
    }
    while (this.written < this.total) {
      const n = Math.min(WRITE_CHUNK, this.total - this.written);
      const more = streams.write(this.id, patternChunk(this.patternId, this.written, n));
      this.written += n;
      if (!more) {
        this.blocked = true;
        return;
      }
    }
    if (!this.ended) {
      streams.end(this.id);
      this.ended = true;
    }
  }
}

export interface TransferSpec {
  streams: number;
  upload: number;
  download: number;
}

interface ClientStreamState {
  writer: PatternWriter;
  checker: PatternChecker;
  finished: boolean;
}

/** Client side: opens `streams` streams and runs the transfer on each. */
export class TransferClient {
  private readonly states = new Map<number, ClientStreamState>();
  private toOpen: number;
  completed = 0;
  /** Times openStream() said the peer's stream limit was reached. */
  openBlocked = 0;
  readonly failures: string[] = [];
  handshakeDone = false;
  closed = false;

  constructor(
    readonly conn: Connection,
    readonly spec: TransferSpec,
  ) {
    this.toOpen = spec.streams;
  }

  get done(): boolean {
    return this.completed === this.spec.streams;
  }

  pump(): void {
    const conn = this.conn;
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      if (e.type === 'handshake-complete') this.handshakeDone = true;
      if (e.type === 'closed') {
        this.closed = true;
        if (!this.done)
          this.failures.push(`connection closed: ${e.info.reason} (0x${e.info.errorCode.toString(16)})`);
      }
      if (e.type === 'stream') this.onStreamEvent(e.epoch, e.event);
    }
    const epoch = conn.epoch;
    if (!epoch || epoch.rejected || conn.isClosed) return;
    while (this.toOpen > 0) {
      const id = epoch.streams.openStream(true);
      if (id === undefined) {
        this.openBlocked++;
        break;
      }
      this.toOpen--;
      // The request header: how many bytes the client uploads after it, and how many it wants back,
      // so that each side checks the length of what it received, not only its bytes.
      const header = new Uint8Array(HEADER_BYTES);
      const view = new DataView(header.buffer);
      view.setBigUint64(0, BigInt(this.spec.upload));
      view.setBigUint64(8, BigInt(this.spec.download));
      this.states.set(id, {
        writer: new PatternWriter(epoch, id, this.spec.upload, header),
        checker: new PatternChecker(id, 'client download'),
        finished: false,
      });
    }
    for (const s of this.states.values()) if (!s.writer.ended) s.writer.pump();
  }

  private onStreamEvent(epoch: StreamEpoch, ev: { type: string; id?: number }): void {
    if (ev.id === undefined) return;
    const s = this.states.get(ev.id);
    if (!s) return;
    if (ev.type === 'writable') {
      s.writer.blocked = false;
    } else if (ev.type === 'readable') {
      for (let r = epoch.streams.read(ev.id); r; r = epoch.streams.read(ev.id)) {
        try {
          s.checker.feed(r.data);
        } catch (err) {
          this.failures.push((err as Error).message);
        }
        if (r.fin && !s.finished) {
          s.finished = true;
          if (s.checker.received !== this.spec.download) {
            this.failures.push(
              `stream ${ev.id}: got ${s.checker.received} bytes, expected ${this.spec.download}`,
            );
          }
          this.completed++;
        }
      }
    } else if (ev.type === 'reset') {
      this.failures.push(`stream ${ev.id} reset by peer`);
    }
  }
}

interface ServerStreamState {
  header: Uint8Array;
  headerBytes: number;
  checker: PatternChecker;
  writer: PatternWriter | undefined;
  upload: number;
  download: number;
}

/** Server side: answers every client stream per the transfer protocol. */
export class TransferServer {
  private readonly conns: Connection[] = [];
  private readonly states = new Map<Connection, Map<number, ServerStreamState>>();
  readonly failures: string[] = [];
  uploadsVerified = 0;

  add(conn: Connection): void {
    this.conns.push(conn);
    this.states.set(conn, new Map());
  }

  pump(): void {
    for (const conn of this.conns) {
      const states = this.states.get(conn)!;
      for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
        if (e.type !== 'stream') continue;
        const ev = e.event;
        if (ev.type === 'opened') {
          states.set(ev.id, {
            header: new Uint8Array(HEADER_BYTES),
            headerBytes: 0,
            checker: new PatternChecker(ev.id, 'server upload'),
            writer: undefined,
            upload: 0,
            download: 0,
          });
        } else if (ev.type === 'writable') {
          const s = states.get(ev.id);
          if (s?.writer) s.writer.blocked = false;
        } else if (ev.type === 'readable') {
          const s = states.get(ev.id);
          if (s) this.read(e.epoch, ev.id, s);
        } else if (ev.type === 'reset') {
          this.failures.push(`stream ${ev.id} reset by client`);
        }
      }
      for (const s of states.values()) if (s.writer && !s.writer.ended) s.writer.pump();
    }
  }

  private read(epoch: StreamEpoch, id: number, s: ServerStreamState): void {
    for (let r = epoch.streams.read(id); r; r = epoch.streams.read(id)) {
      let data = r.data;
      if (s.headerBytes < HEADER_BYTES) {
        const take = Math.min(HEADER_BYTES - s.headerBytes, data.length);
        s.header.set(data.subarray(0, take), s.headerBytes);
        s.headerBytes += take;
        data = data.subarray(take);
        if (s.headerBytes === HEADER_BYTES) {
          const view = new DataView(s.header.buffer);
          s.upload = Number(view.getBigUint64(0));
          s.download = Number(view.getBigUint64(8));
        }
      }
      try {
        s.checker.feed(data);
      } catch (err) {
        this.failures.push((err as Error).message);
      }
      if (r.fin) {
        if (s.headerBytes < HEADER_BYTES || s.checker.received !== s.upload) {
          this.failures.push(`stream ${id}: uploaded ${s.checker.received} bytes, expected ${s.upload}`);
        } else {
          this.uploadsVerified++;
        }
        s.writer = new PatternWriter(epoch, id, s.download);
        s.writer.pump();
      }
    }
  }
}

/**
 * The usual transfer on a simulator: the client dials, a TransferClient of `spec` runs against a
 * TransferServer until the client is done or its connection closed (at most `limitMs` of virtual
 * time). Returns the apps, the client connection and the end time; the caller asserts.
 */
export function runTransferApps(
  sim: QuicSim,
  spec: TransferSpec,
  limitMs = 10 * 60_000,
): { conn: Connection; client: TransferClient; server: TransferServer; end: number } {
  const conn = sim.dial();
  const client = new TransferClient(conn, spec);
  const server = new TransferServer();
  sim.onServerConnection = (c) => server.add(c);
  sim.appHooks.push(() => {
    client.pump();
    server.pump();
  });
  const end = sim.run(() => client.done || client.closed, limitMs);
  return { conn, client, server, end };
}
