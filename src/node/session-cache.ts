/**
 * What a client remembers about servers between connections: session tickets (for resumption and
 * 0-RTT, RFC 8446 §4.6.1, RFC 9000 §7.4.1) and NEW_TOKEN address-validation tokens (RFC 9000 §8.1.3).
 *
 * `SessionStore` is the interface the client uses; implement it to keep sessions in a file or a
 * database. `SessionCache` is the in-memory implementation, and can export and import its content.
 */
import {
  decodeResumptionSession,
  encodeResumptionSession,
  isResumptionSessionUsable,
} from '../tls/resumption-session.js';
import type { ResumptionSession } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import { outOfRange } from './validation-errors.js';

export type { ResumptionSession };

export interface SessionStore {
  /** A session ticket arrived from `session.serverName`. */
  saveSession(session: ResumptionSession): void;
  /** Remove and return a usable session for `serverName` (tickets are single-use, RFC 8446 §C.4). */
  takeSession(serverName: string, now: Millis): ResumptionSession | undefined;
  /** A NEW_TOKEN token from the server at `server` ("host:port"). */
  saveToken?(server: string, token: Uint8Array): void;
  /** Remove and return a token for `server` (tokens are single-use, RFC 9000 §8.1.3). */
  takeToken?(server: string): Uint8Array | undefined;
}

const TICKETS_PER_SERVER = 4;

export class SessionCache implements SessionStore {
  private readonly sessions = new Map<string, ResumptionSession[]>();
  private readonly tokens = new Map<string, Uint8Array>();

  /** `maxEntries`: servers remembered (least recently used forgotten first). */
  constructor(private readonly maxEntries = 256) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw outOfRange('maxEntries', 'an integer >= 1', maxEntries);
    }
  }

  saveSession(session: ResumptionSession): void {
    const key = session.serverName.toLowerCase();
    const list = this.sessions.get(key) ?? [];
    this.sessions.delete(key);
    list.push(session);
    while (list.length > TICKETS_PER_SERVER) list.shift();
    this.sessions.set(key, list);
    this.evict(this.sessions);
  }

  takeSession(serverName: string, now: Millis): ResumptionSession | undefined {
    const key = serverName.toLowerCase();
    const list = this.sessions.get(key);
    if (!list) return undefined;
    let found: ResumptionSession | undefined;
    while (list.length > 0 && !found) {
      const s = list.pop()!;
      if (isResumptionSessionUsable(s, now)) found = s;
    }
    if (list.length === 0) this.sessions.delete(key);
    return found;
  }

  /** Whether a usable session for `serverName` is stored (without taking it). */
  hasSession(serverName: string, now: Millis): boolean {
    return (this.sessions.get(serverName.toLowerCase()) ?? []).some((s) => isResumptionSessionUsable(s, now));
  }

  saveToken(server: string, token: Uint8Array): void {
    this.tokens.delete(server);
    this.tokens.set(server, token.slice());
    this.evict(this.tokens);
  }

  takeToken(server: string): Uint8Array | undefined {
    const t = this.tokens.get(server);
    this.tokens.delete(server);
    return t;
  }

  get size(): number {
    let n = 0;
    for (const l of this.sessions.values()) n += l.length;
    return n;
  }

  /** Everything, as bytes (to store in a file). Contains secrets: protect it like a private key. */
  export(): Buffer {
    const parts: Buffer[] = [];
    const put = (kind: number, key: string, body: Uint8Array) => {
      const k = Buffer.from(key, 'utf8');
      const head = Buffer.alloc(1 + 2 + 4);
      head[0] = kind;
      head.writeUInt16BE(k.length, 1);
      head.writeUInt32BE(body.length, 3);
      parts.push(head, k, Buffer.from(body));
    };
    for (const [key, list] of this.sessions) for (const s of list) put(1, key, encodeResumptionSession(s));
    for (const [key, token] of this.tokens) put(2, key, token);
    return Buffer.concat(parts);
  }

  /** A cache holding what `export()` produced; entries that do not decode are skipped. */
  static import(data: Uint8Array, maxEntries?: number): SessionCache {
    const cache = new SessionCache(maxEntries);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let i = 0;
    while (i + 7 <= buf.length) {
      const kind = buf[i]!;
      const keyLength = buf.readUInt16BE(i + 1);
      const bodyLength = buf.readUInt32BE(i + 3);
      const end = i + 7 + keyLength + bodyLength;
      if (end > buf.length) break;
      const key = buf.subarray(i + 7, i + 7 + keyLength).toString('utf8');
      const body = buf.subarray(i + 7 + keyLength, end);
      if (kind === 1) {
        try {
          cache.saveSession(decodeResumptionSession(body));
        } catch {
          // a corrupt or foreign entry: ignore it
        }
      } else if (kind === 2) {
        cache.saveToken(key, body);
      }
      i = end;
    }
    return cache;
  }

  private evict<V>(map: Map<string, V>): void {
    while (map.size > this.maxEntries) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}
