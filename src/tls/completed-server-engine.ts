/**
 * What a server's TLS engine is once its handshake is complete and its session tickets are out: in
 * QUIC the client sends no handshake message after its Finished (RFC 9001 §4.1.3: no KeyUpdate,
 * §6; no post-handshake authentication here), so the only thing left to do is to refuse handshake
 * data, as the full engine does in that state. The connection swaps its engine for this stateless
 * one, so that an idle connection no longer keeps the key schedule, transcript hash, ClientHello
 * and configuration of its handshake (issue 13: memory per idle connection).
 */
import type { Millis } from '../util/time.js';
import { AlertDescription, TlsAlertError } from './alert.js';
import { EncryptionLevel, type TlsEngine, type TlsEvent, type TlsOutput } from './types.js';

class CompletedServerEngine implements TlsEngine {
  readonly role = 'server' as const;
  readonly handshakeComplete = true;

  start(_now: Millis): void {}

  receive(level: EncryptionLevel, data: Uint8Array, _now: Millis): void {
    if (data.length === 0) return;
    // The same alert and reason as the full engine in its Connected state (tls-engine-base.ts).
    throw new TlsAlertError(
      AlertDescription.unexpected_message,
      `handshake data at ${EncryptionLevel[level] ?? level} level while expecting none`,
    );
  }

  takeOutput(): TlsOutput | undefined {
    return undefined;
  }

  pollEvent(): TlsEvent | undefined {
    return undefined;
  }
}

/** One for every connection: it holds no state. */
export const COMPLETED_SERVER_ENGINE: TlsEngine = new CompletedServerEngine();
