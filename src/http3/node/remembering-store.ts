/**
 * The client's SessionStore for one HTTP/3 connection: it forwards to the user's store, and keeps
 * the server's SETTINGS with every session ticket that connection receives (RFC 9114 §7.2.4.2), so
 * that a later 0-RTT attempt complies with them. A ticket that arrives before the SETTINGS waits
 * for them (or for the connection's end, then it is stored without).
 */
import type { ResumptionSession, SessionStore } from '../../node/session-cache.js';
import { decodeRememberedSettings, encodeRememberedSettings, type H3Settings } from '../settings.js';

export class RememberingStore implements SessionStore {
  private settings: H3Settings | undefined;
  private waiting: ResumptionSession[] = [];
  /** The session the connection was started with, if any. */
  private _taken: ResumptionSession | undefined;
  get taken(): ResumptionSession | undefined {
    return this._taken;
  }

  constructor(private readonly inner: SessionStore) {}

  /** The SETTINGS remembered with the ticket this connection uses for 0-RTT (undefined: defaults apply). */
  get rememberedSettings(): H3Settings | undefined {
    return decodeRememberedSettings(this._taken?.applicationData);
  }

  saveSession(session: ResumptionSession): void {
    if (this.settings) {
      this.inner.saveSession({ ...session, applicationData: encodeRememberedSettings(this.settings) });
    } else {
      this.waiting.push(session);
    }
  }

  takeSession(serverName: string, now: number): ResumptionSession | undefined {
    const s = this.inner.takeSession(serverName, now);
    this._taken = s;
    return s;
  }

  saveToken(server: string, token: Uint8Array): void {
    this.inner.saveToken?.(server, token);
  }

  takeToken(server: string): Uint8Array | undefined {
    return this.inner.takeToken?.(server);
  }

  /** The server's SETTINGS arrived. */
  onSettings(settings: H3Settings): void {
    this.settings = settings;
    for (const s of this.waiting.splice(0)) this.saveSession(s);
  }

  /** The connection ended: tickets still waiting are stored without SETTINGS (0-RTT then uses defaults). */
  flush(): void {
    for (const s of this.waiting.splice(0)) this.inner.saveSession(s);
  }
}
