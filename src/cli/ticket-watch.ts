/**
 * A SessionStore in front of a SessionCache that notices when a new session ticket arrives, so a
 * short-lived client can wait for the ticket (sent right after the handshake, RFC 8446 §4.6.1)
 * before it closes, and a later run can resume.
 */
import type { ResumptionSession, SessionCache, SessionStore } from '../index.js';

export class TicketWatch implements SessionStore {
  private saved = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly cache: SessionCache) {}

  /** Tickets received through this watch. */
  get ticketsReceived(): number {
    return this.saved;
  }

  saveSession(session: ResumptionSession): void {
    this.cache.saveSession(session);
    this.saved++;
    for (const wake of this.waiters.splice(0)) wake();
  }

  takeSession(serverName: string, now: number): ResumptionSession | undefined {
    return this.cache.takeSession(serverName, now);
  }

  saveToken(server: string, token: Uint8Array): void {
    this.cache.saveToken(server, token);
  }

  takeToken(server: string): Uint8Array | undefined {
    return this.cache.takeToken(server);
  }

  /** Resolves true once a ticket has arrived through this watch, or false after `ms`. */
  waitForTicket(ms: number): Promise<boolean> {
    if (this.saved > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, ms);
      this.waiters.push(wake);
    });
  }
}
