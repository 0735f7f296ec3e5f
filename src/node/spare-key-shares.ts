/**
 * The next TLS key share of each group, made while the event loop would otherwise wait (issue 13,
 * spares.ts). A handshake's ephemeral key generation (~45 us for X25519 through node:crypto, RFC 8446
 * §4.2.8) sits on its critical path on both sides: a client makes one before its ClientHello can
 * leave, a server before its ServerHello can. A share is handed out once (RFC 8446 §4.2.8:
 * ephemeral); when none is ready, the engine makes its share on the spot, as without this source.
 */
import type { NamedGroup } from '../tls/codepoints.js';
import { type KeyShare, type KeyShareSource, newKeyShare } from '../tls/key-exchange.js';
import type { RandomBytes } from '../util/random.js';
import { pooledRandomBytes } from './random-pool.js';
import { type LaterScheduler, MAX_SPARES_PER_KIND, Spares } from './spares.js';

/** The most shares kept per group: handshakes started in one turn beyond this make their own. */
export const MAX_SPARES_PER_GROUP = MAX_SPARES_PER_KIND;

export class SpareKeyShares implements KeyShareSource {
  private readonly spares: Spares<NamedGroup, KeyShare>;

  constructor(random: RandomBytes, later?: LaterScheduler) {
    this.spares = new Spares((group) => newKeyShare(group, random), later);
  }

  take(group: NamedGroup): KeyShare | undefined {
    return this.spares.take(group);
  }

  /** Shares ready now, per group (for tests and diagnostics). */
  readyCount(group: NamedGroup): number {
    return this.spares.readyCount(group);
  }
}

/** The process's spare shares, drawn from the shell's pooled random bytes; every UDP endpoint uses them. */
export const spareKeyShares = new SpareKeyShares(pooledRandomBytes);
