/**
 * Shared pieces of the 0-RTT tests over real UDP (zero-rtt.test.ts, zero-rtt-surface.test.ts): a
 * listenEarly echo server that records what its application sees, a session cache that tells when a
 * ticket arrived, and the qlog files both sides write (the `qlogDir` option), which are how these
 * tests see the wire: there is no public trace hook.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  dial,
  type QuicConnection,
  type QuicServer,
  type QuicStream,
  type ResumptionSession,
  type ServerOptions,
  SessionCache,
} from '../../src/index.js';
import { clientOptions, readAll, startServer, within } from './helpers.js';

export const TIMEOUT = 10_000;

const servers: QuicServer[] = [];
const dirs: string[] = [];

/** Close every server and remove every directory these helpers created (for `after()`). */
export async function cleanupZeroRtt(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A session cache that tells when a ticket arrived. */
export class TicketCache extends SessionCache {
  private waiters: Array<() => void> = [];
  override saveSession(session: ResumptionSession): void {
    super.saveSession(session);
    for (const w of this.waiters.splice(0)) w();
  }
  whenTicket(): Promise<void> {
    return this.size > 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface ServerStreamRecord {
  conn: number;
  id: number;
  bidi: boolean;
  bytes: number;
  errors: Error[];
  finished: boolean;
  /** The stream's `early` flag: opened by the client in 0-RTT data. */
  early: boolean;
}

/** What the server application saw: every stream of every connection, its bytes and errors. */
export interface ServerView {
  server: QuicServer;
  port: number;
  connections: QuicConnection[];
  streams: ServerStreamRecord[];
  errors: unknown[];
}

export interface EarlyEchoOptions extends Partial<ServerOptions> {
  /** Once a connection's first bidirectional stream arrives, open a unidirectional stream with these bytes. */
  push?: Buffer;
}

/** A listenEarly echo server recording everything its application sees. */
export async function earlyEchoServer(opts: EarlyEchoOptions): Promise<ServerView> {
  const { push, ...serverOptions } = opts;
  const server = await startServer({ early: true, ...serverOptions });
  servers.push(server);
  const view: ServerView = { server, port: server.address().port, connections: [], streams: [], errors: [] };
  const track = (conn: number, s: QuicStream | Readable, id: number, bidi: boolean) => {
    const early = 'early' in s && s.early === true;
    const rec: ServerStreamRecord = { conn, id, bidi, bytes: 0, errors: [], finished: false, early };
    view.streams.push(rec);
    s.on('error', (e: Error) => rec.errors.push(e));
    s.on('data', (chunk: Buffer) => {
      rec.bytes += chunk.length;
    });
    return rec;
  };
  (async () => {
    for await (const conn of server) {
      const index = view.connections.push(conn) - 1;
      (async () => {
        let pushed = false;
        for await (const s of conn) {
          const rec = track(index, s, s.id, true);
          s.pipe(s);
          s.on('finish', () => {
            rec.finished = true;
          });
          if (push && !pushed) {
            pushed = true;
            const u = await conn.openUniStream();
            u.on('error', (e: Error) => view.errors.push(e));
            u.end(push);
          }
        }
      })().catch((e: unknown) => view.errors.push(e));
      (async () => {
        for (;;) {
          const u = await conn.acceptUniStream();
          track(index, u, u.id, false);
        }
      })().catch(() => {});
    }
  })().catch((e: unknown) => view.errors.push(e));
  return view;
}

/** A first connection to `port` whose only purpose is a session ticket. */
export async function getTicket(
  port: number,
  cache: TicketCache,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const conn = await dial({ host: '127.0.0.1', port }, clientOptions({ sessionCache: cache, ...extra }));
  const s = await conn.openStream();
  s.end(Buffer.from('ticket please'));
  assert.equal((await within(readAll(s), TIMEOUT, 'first echo')).toString(), 'ticket please');
  await within(cache.whenTicket(), TIMEOUT, 'session ticket');
  await conn.close();
}

/** A temporary directory, removed by cleanupZeroRtt(). */
export function qlogDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsquic-0rtt-'));
  dirs.push(d);
  return d;
}

export interface QlogFrame {
  frame_type: string;
  stream_id?: number;
  offset?: number;
  length?: number;
  error_space?: string;
  error_code?: number;
}
export interface QlogPacket {
  name: string;
  packetType: string;
  frames: QlogFrame[];
}

/** The packets of one qlog file (JSON-SEQ). */
export function readQlog(file: string): QlogPacket[] {
  return readFileSync(file, 'utf8')
    .split('\x1e')
    .filter((r) => r.trim())
    .map(
      (r) =>
        JSON.parse(r) as { name?: string; data?: { header?: { packet_type: string }; frames?: QlogFrame[] } },
    )
    .filter((r) => r.name !== undefined)
    .map((r) => ({
      name: r.name!,
      packetType: r.data?.header?.packet_type ?? '',
      frames: r.data?.frames ?? [],
    }));
}

/** Waits (bounded) until every `role` file in `dir` is complete: each contains `needle` (the close). */
export async function qlogOf(
  dir: string,
  role: 'client' | 'server',
  needle: string,
): Promise<QlogPacket[][]> {
  for (let i = 0; i < 200; i++) {
    const files = readdirSync(dir).filter((f) => f.endsWith(`_${role}.sqlog`));
    const all = files.map((f) => readQlog(join(dir, f)));
    if (all.length > 0 && all.every((packets) => JSON.stringify(packets).includes(needle))) return all;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`qlog files in ${dir} never completed`);
}

/** The frames of the packets named `name` ('transport:packet_sent' / '..._received'), with their packet type. */
export function frames(packets: QlogPacket[], name: string): Array<QlogFrame & { packetType: string }> {
  return packets
    .filter((p) => p.name === name)
    .flatMap((p) => p.frames.map((f) => ({ ...f, packetType: p.packetType })));
}
