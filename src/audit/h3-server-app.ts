/**
 * The auditor's application for ALPN `h3` (docs/audit-0rtt.md): real HTTP/3 (src/http3) over one
 * stream epoch of the auditor's core connection, so that HTTP/3 clients (browsers, ngtcp2, quic-go's
 * http3) can be audited. GET and HEAD are answered 200 with a file (the built-in one, or from
 * `--root`: 404 when it has no such file); other methods 405 (RFC 9110 §15.5.6).
 *
 * Like the stream app (server-app.ts) it records each request stream for the checks: the request
 * (`GET /path`), the bytes each way, whether the whole answer went out and was acknowledged, and what
 * the client did to the stream. The HTTP/3 session runs the rules of RFC 9114 itself: a client that
 * leaks the dead attempt's HTTP/3 state (a control stream that does not start with SETTINGS, a QPACK
 * reference to a table entry of the dead attempt) gets the connection error the RFC names, which the
 * trace records as the close.
 */
import type { Connection } from '../connection/connection.js';
import type { ConnectionEvent } from '../connection/connection-events.js';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import { CoreH3Transport } from '../http3/core-transport.js';
import type { FieldLine } from '../http3/field-codec.js';
import { qpackCodec } from '../http3/qpack-codec.js';
import type { ServerExchange } from '../http3/server-exchange.js';
import { H3ServerSession } from '../http3/server-session.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import type { AppStreamRecord } from './audit-trace.js';
import { BUILTIN_FILE, type FileSource } from './server-app.js';

const WRITE_CHUNK = 16 * 1024;

interface Served {
  record: AppStreamRecord;
  ex: ServerExchange;
  /** Response body bytes not yet written. */
  body: Uint8Array;
  ended: boolean;
}

export class AuditH3App {
  private readonly transport: CoreH3Transport;
  private readonly session: H3ServerSession;
  private readonly served = new Map<number, Served>();

  constructor(
    conn: Connection,
    epoch: StreamEpoch,
    now: () => Millis,
    random: RandomBytes,
    private readonly files: FileSource | undefined,
  ) {
    this.transport = new CoreH3Transport(conn, epoch, now);
    this.session = new H3ServerSession(this.transport, {
      codec: qpackCodec,
      random,
      onRequest: (ex) => this.onRequest(ex),
    });
    this.transport.deliverTo(this.session.conn);
  }

  /** Every request stream seen, in the order they opened. */
  records(): AppStreamRecord[] {
    return [...this.served.values()].map((s) => s.record);
  }

  onConnectionEvent(e: ConnectionEvent): void {
    if (e.type === 'stream' && e.epoch === this.transport.epoch) this.observe(e.event);
    this.transport.dispatch(e);
  }

  /** What the client did to a request stream, and when our answer was acknowledged. */
  private observe(ev: Extract<ConnectionEvent, { type: 'stream' }>['event']): void {
    if (!('id' in ev)) return;
    const s = this.served.get(ev.id);
    if (!s) return;
    if (ev.type === 'send-done' && s.record.answered) s.record.acknowledged = true;
    if (ev.type === 'reset') {
      s.record.error = `RESET_STREAM from the client (code ${ev.errorCode})`;
      s.record.answered = false;
    }
    if (ev.type === 'stop-sending') {
      s.record.error = `STOP_SENDING from the client (code ${ev.errorCode})`;
      s.record.answered = false;
    }
  }

  private onRequest(ex: ServerExchange): void {
    const head = ex.head!;
    const path = head.path ?? '';
    const id = ex.streamId ?? -1;
    const record: AppStreamRecord = {
      stream: id,
      request: `${head.method} ${path}`.slice(0, 200),
      requestBytes: 0,
      requestComplete: false,
      responseBytes: 0,
      answered: false,
      acknowledged: false,
    };
    const s: Served = { record, ex, body: new Uint8Array(0), ended: false };
    this.served.set(id, s);
    ex.deliverTo({
      onData: (chunk) => {
        record.requestBytes += chunk.length;
      },
      onTrailers() {},
      onEnd: () => {
        record.requestComplete = true;
        this.respond(s, head.method, path);
      },
      onAborted: (err) => {
        record.error ??= `the request failed: ${err.message}`;
        record.answered = false;
      },
      onWritable: () => this.flush(s),
    });
  }

  private respond(s: Served, method: string, path: string): void {
    const fields = (type: string, length: number): FieldLine[] => [
      { name: 'content-type', value: type },
      { name: 'content-length', value: String(length) },
    ];
    if (method !== 'GET' && method !== 'HEAD') {
      s.record.refused = `method ${method} (405)`;
      s.ex.respond(405, [{ name: 'allow', value: 'GET, HEAD' }, ...fields('text/plain', 0)], true);
      s.ended = true;
      s.record.answered = s.record.error === undefined;
      return;
    }
    const file = this.files ? this.files(path.split('?')[0]!) : BUILTIN_FILE;
    if (file === undefined) {
      s.record.refused = 'not found (404)';
      s.ex.respond(404, fields('text/plain', 0), true);
      s.ended = true;
      s.record.answered = s.record.error === undefined;
      return;
    }
    s.ex.respond(200, fields(path.endsWith('.html') ? 'text/html' : 'text/plain', file.length));
    s.body = method === 'HEAD' ? new Uint8Array(0) : file;
    this.flush(s);
  }

  /** Writes the body until the stream asks us to wait, then ends the response. */
  private flush(s: Served): void {
    while (!s.ended && s.body.length > 0) {
      const chunk = s.body.subarray(0, WRITE_CHUNK);
      s.body = s.body.subarray(chunk.length);
      s.record.responseBytes += chunk.length;
      if (!s.ex.write(chunk)) return;
    }
    if (s.ended) return;
    s.ended = true;
    s.ex.end();
    if (s.record.error === undefined) s.record.answered = true;
  }
}
