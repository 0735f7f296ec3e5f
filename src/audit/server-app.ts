/**
 * What the auditor's server does with a client's streams, so that any client can be audited
 * (docs/audit-0rtt.md): with ALPN hq-interop it serves files (HTTP/0.9: `GET /path\r\n`, answered with
 * the bytes and FIN, or RESET_STREAM 0x10 for a path it does not serve); with any other ALPN it
 * echoes every bidirectional stream and FINs when the client does. Unidirectional streams are read
 * and discarded. HTTP/3 plugs in here as another app once tsquic has it (see the doc).
 *
 * It runs on the sans-IO core (one StreamEpoch's StreamManager) and records each stream for the
 * checks: the request, the bytes each way, whether the whole answer was acknowledged, and what the
 * client did to the stream (RESET_STREAM, STOP_SENDING).
 */
import { HQ_BAD_REQUEST, HQ_NOT_FOUND, parseRequest } from '../hq/hq-server.js';
import type { StreamEvent, StreamManager } from '../streams/stream-manager.js';
import { StreamStateError } from '../streams/stream-state-error.js';
import type { AppStreamRecord } from './audit-trace.js';

/** Finds a file to serve for an hq-interop path; undefined: not served (RESET_STREAM 0x10). */
export type FileSource = (path: string) => Uint8Array | undefined;

/** The file served for every path when no root directory is given: 4 KiB of text. */
export const BUILTIN_FILE: Uint8Array = Buffer.from(
  Array.from(
    { length: 100 },
    (_, i) => `tsquic audit-0rtt built-in file, line ${String(i).padStart(2, '0')}\n`,
  )
    .join('')
    .slice(0, 4096),
  'latin1',
);

const MAX_REQUEST = 8 * 1024;
const WRITE_CHUNK = 16 * 1024;

interface StreamState {
  record: AppStreamRecord;
  /** hq: request bytes so far (until LF or FIN). */
  request: Buffer[];
  /** Response bytes not yet handed to the stream, and whether FIN follows them. */
  out: Uint8Array[];
  finAfterOut: boolean;
  finWritten: boolean;
  blocked: boolean;
  /** echo: reading waits while our writes are blocked (backpressure through flow control). */
  dead: boolean;
}

export class AuditServerApp {
  private readonly states = new Map<number, StreamState>();

  /**
   * `alpn` gives the negotiated protocol: known once the handshake completes, which is before any
   * stream data arrives (the auditor accepts no 0-RTT).
   */
  constructor(
    private readonly streams: StreamManager,
    private readonly alpn: () => string | undefined,
    private readonly files: FileSource = () => BUILTIN_FILE,
  ) {}

  private get echo(): boolean {
    return this.alpn() !== 'hq-interop';
  }

  /** Every client stream seen, in the order they opened. */
  records(): AppStreamRecord[] {
    return [...this.states.values()].map((s) => s.record);
  }

  onStreamEvent(ev: StreamEvent): void {
    if (!('id' in ev)) return;
    const id = ev.id;
    // Server-initiated streams: the auditor opens none.
    if (id % 2 !== 0) return;
    const s = this.stateOf(id);
    switch (ev.type) {
      case 'readable':
        this.read(id, s);
        break;
      case 'writable':
        s.blocked = false;
        this.flush(id, s);
        if (this.echo) this.read(id, s);
        break;
      case 'send-done':
        if (s.finWritten) s.record.acknowledged = true;
        break;
      case 'reset':
        s.record.error = `RESET_STREAM from the client (code ${ev.errorCode})`;
        s.record.answered = false;
        break;
      case 'stop-sending':
        s.record.error = `STOP_SENDING from the client (code ${ev.errorCode})`;
        s.record.answered = false;
        s.dead = true;
        s.out = [];
        break;
      default:
        break;
    }
  }

  private stateOf(id: number): StreamState {
    let s = this.states.get(id);
    if (!s) {
      s = {
        record: {
          stream: id,
          request: '',
          requestBytes: 0,
          requestComplete: false,
          responseBytes: 0,
          answered: false,
          acknowledged: false,
        },
        request: [],
        out: [],
        finAfterOut: false,
        finWritten: false,
        blocked: false,
        dead: false,
      };
      this.states.set(id, s);
    }
    return s;
  }

  private read(id: number, s: StreamState): void {
    const bidi = id % 4 === 0;
    while (!(this.echo && s.blocked)) {
      const r = this.streams.read(id);
      if (!r) return;
      s.record.requestBytes += r.data.length;
      if (r.fin) s.record.requestComplete = true;
      if (!bidi) continue;
      if (this.echo) {
        if (r.data.length > 0) s.out.push(new Uint8Array(r.data));
        if (r.fin) s.finAfterOut = true;
        this.flush(id, s);
      } else {
        this.onRequestBytes(id, s, r.data, r.fin);
      }
      if (r.fin) return;
    }
  }

  /** hq-interop: the request line ends at LF or FIN; then the file, or a reset. */
  private onRequestBytes(id: number, s: StreamState, data: Uint8Array, fin: boolean): void {
    if (s.record.request !== '' || s.finAfterOut || s.dead) return;
    s.request.push(Buffer.from(data));
    const text = Buffer.concat(s.request).toString('latin1');
    if (!fin && !text.includes('\n') && text.length <= MAX_REQUEST) return;
    s.request = [];
    s.record.request = text.split('\n')[0]!.replace(/\r$/, '').slice(0, 200);
    const path = text.length > MAX_REQUEST ? undefined : parseRequest(text);
    const file = path === undefined ? undefined : this.files(path);
    if (file === undefined) {
      const code = path === undefined ? HQ_BAD_REQUEST : HQ_NOT_FOUND;
      s.record.refused =
        path === undefined ? 'bad request' : `not found (RESET_STREAM 0x${code.toString(16)})`;
      this.reset(id, s, code);
      return;
    }
    s.out.push(file);
    s.finAfterOut = true;
    this.flush(id, s);
  }

  private reset(id: number, s: StreamState, code: number): void {
    s.dead = true;
    s.out = [];
    try {
      this.streams.resetStream(id, code);
    } catch (err) {
      if (!(err instanceof StreamStateError)) throw err;
    }
  }

  /** Hands queued response bytes to the stream until it asks us to wait; FIN after the last. */
  private flush(id: number, s: StreamState): void {
    if (s.dead || s.finWritten) return;
    try {
      while (!s.blocked && s.out.length > 0) {
        const head = s.out[0]!;
        const chunk = head.subarray(0, WRITE_CHUNK);
        if (chunk.length === head.length) s.out.shift();
        else s.out[0] = head.subarray(chunk.length);
        s.record.responseBytes += chunk.length;
        if (!this.streams.write(id, chunk)) s.blocked = true;
      }
      if (s.out.length === 0 && s.finAfterOut) {
        this.streams.end(id);
        s.finWritten = true;
        if (s.record.error === undefined) s.record.answered = true;
      }
    } catch (err) {
      // The client's STOP_SENDING reset our side before we heard of it.
      if (!(err instanceof StreamStateError)) throw err;
      s.dead = true;
    }
  }
}
