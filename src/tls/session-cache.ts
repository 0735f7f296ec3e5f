/**
 * A client-side cache of resumption sessions keyed by server name (RFC 9001 §4.5, RFC 9000 §7.4.1: a
 * session carries the ALPN and the server's transport parameters needed for 0-RTT).
 *
 * Tickets are single-use: `take` removes the ticket it returns (RFC 8446 §C.4, RFC 9001 §4.5: clients
 * SHOULD NOT reuse tickets). The newest ticket is used first. Memory is bounded by maxServers x
 * maxTicketsPerServer.
 */
import type { Millis } from '../util/time.js';
import { isResumptionSessionUsable } from './resumption-session.js';
import type { ResumptionSession } from './types.js';

export interface SessionCacheOptions {
  /** Server names kept (least recently used evicted first). Default 256. */
  maxServers?: number;
  /** Tickets kept per server name (oldest evicted first). Default 4. */
  maxTicketsPerServer?: number;
}

export class SessionCache {
  private readonly byServer = new Map<string, ResumptionSession[]>();
  private readonly maxServers: number;
  private readonly maxTickets: number;

  constructor(opts: SessionCacheOptions = {}) {
    this.maxServers = Math.max(1, opts.maxServers ?? 256);
    this.maxTickets = Math.max(1, opts.maxTicketsPerServer ?? 4);
  }

  private static key(serverName: string): string {
    return serverName.toLowerCase();
  }

  /** Stores a session received in a `session-ticket` event. */
  add(session: ResumptionSession): void {
    const key = SessionCache.key(session.serverName);
    const list = this.byServer.get(key) ?? [];
    this.byServer.delete(key);
    list.push(session);
    while (list.length > this.maxTickets) list.shift();
    this.byServer.set(key, list);
    while (this.byServer.size > this.maxServers) {
      const oldest = this.byServer.keys().next().value;
      if (oldest === undefined) break;
      this.byServer.delete(oldest);
    }
  }

  /** Removes and returns the newest usable session for `serverName`; expired ones are discarded. */
  take(serverName: string, now: Millis): ResumptionSession | undefined {
    const key = SessionCache.key(serverName);
    const list = this.byServer.get(key);
    if (!list) return undefined;
    let found: ResumptionSession | undefined;
    while (list.length > 0) {
      const s = list.pop()!;
      if (isResumptionSessionUsable(s, now)) {
        found = s;
        break;
      }
    }
    if (list.length === 0) this.byServer.delete(key);
    return found;
  }

  /** Number of sessions held for `serverName`. */
  count(serverName: string): number {
    return this.byServer.get(SessionCache.key(serverName))?.length ?? 0;
  }
}
