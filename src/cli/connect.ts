/**
 * Connect and run some work on the connection, with 0-RTT when asked and a ticket allows it. When
 * the server rejects 0-RTT, the work's streams on the early connection all fail
 * (ZeroRTTRejectedError) and the work runs again, from scratch, on `nextConnection()`.
 */
import { type ClientOptions, type DialTarget, dial, dialEarly, type QuicConnection } from '../index.js';

/** How the connection was established, as the CLI reports it. */
export type HandshakeKind = 'full' | 'resumed' | '0-RTT accepted' | '0-RTT rejected';

export interface ConnectResult<T> {
  /** The connection the work finally succeeded on. */
  conn: QuicConnection;
  kind: HandshakeKind;
  result: T;
}

export interface ConnectHooks {
  /** The handshake completed; `kind` is known. For a rejection, `earlyError` is why the first run failed. */
  onHandshake?(kind: HandshakeKind, earlyError?: unknown): void;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** Close `conn` after a failure, without letting the close itself fail or hang the caller. */
function abandon(conn: QuicConnection): void {
  conn.close().catch(() => {});
}

export async function connectAndRun<T>(
  target: DialTarget,
  options: ClientOptions,
  early: boolean,
  work: (conn: QuicConnection) => Promise<T>,
  hooks: ConnectHooks = {},
): Promise<ConnectResult<T>> {
  if (!early) {
    const conn = await dial(target, options);
    const kind: HandshakeKind = conn.resumed ? 'resumed' : 'full';
    hooks.onHandshake?.(kind);
    try {
      return { conn, kind, result: await work(conn) };
    } catch (err) {
      abandon(conn);
      throw err;
    }
  }

  // Without a ticket that allows early data, dialEarly() returns after the handshake, and
  // nextConnection() is the same connection.
  const conn = await dialEarly(target, options);
  const first = settle(work(conn));
  let next: QuicConnection;
  try {
    next = await conn.nextConnection();
  } catch (err) {
    await first;
    throw err;
  }
  if (next === conn) {
    const kind: HandshakeKind = conn.used0RTT ? '0-RTT accepted' : conn.resumed ? 'resumed' : 'full';
    hooks.onHandshake?.(kind);
    const r = await first;
    if (r.ok) return { conn, kind, result: r.value };
    abandon(conn);
    throw r.error;
  }
  // RFC 9001 §4.6.2: 0-RTT rejected. Every stream of the early attempt fails; wait for all of them
  // to settle so that nothing of the first run overlaps the second.
  const r = await first;
  hooks.onHandshake?.('0-RTT rejected', r.ok ? undefined : r.error);
  if (r.ok) return { conn: next, kind: '0-RTT rejected', result: r.value };
  try {
    return { conn: next, kind: '0-RTT rejected', result: await work(next) };
  } catch (err) {
    abandon(next);
    throw err;
  }
}
