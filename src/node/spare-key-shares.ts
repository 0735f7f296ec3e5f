/**
 * The next TLS key share of each group, made while the event loop would otherwise wait (issue 13).
 * A handshake's ephemeral key generation (~45 us for X25519 through node:crypto, RFC 8446 §4.2.8) sits
 * on its critical path on both sides: a client makes one before its ClientHello can leave, a server
 * before its ServerHello can. Here a share taken is replaced in a setImmediate callback, which runs
 * once the current I/O turn is done, typically while the connection waits for the peer's answer.
 * No CPU is saved, only moved off the path.
 *
 * Each share is handed out once (take() removes it before returning it) and is as fresh as one made
 * on demand: it lives in memory only until a later handshake of this process takes it. Groups are
 * kept spare only once a handshake has asked for them, as many as the most handshakes one turn has
 * taken (at most MAX_SPARES_PER_GROUP). When none is ready, the engine makes its share on the spot,
 * as without this source.
 */
import type { NamedGroup } from '../tls/codepoints.js';
import { type KeyShare, type KeyShareSource, newKeyShare } from '../tls/key-exchange.js';
import type { RandomBytes } from '../util/random.js';
import { pooledRandomBytes } from './random-pool.js';

/** Runs `fn` after the current turn of the event loop; the default lets the process exit meanwhile. */
export type LaterScheduler = (fn: () => void) => void;

function afterThisTurn(fn: () => void): void {
  setImmediate(fn).unref();
}

/** The most spares kept per group: handshakes started in one turn beyond this make their own. */
export const MAX_SPARES_PER_GROUP = 4;

/** One group's spares. */
interface GroupSpares {
  ready: KeyShare[];
  /** How many to keep ready. */
  target: number;
  takenThisTurn: number;
}

export class SpareKeyShares implements KeyShareSource {
  /** The groups asked for so far. */
  private readonly groups = new Map<NamedGroup, GroupSpares>();
  private refillScheduled = false;

  constructor(
    private readonly random: RandomBytes,
    private readonly later: LaterScheduler = afterThisTurn,
  ) {}

  take(group: NamedGroup): KeyShare | undefined {
    let g = this.groups.get(group);
    if (g === undefined) {
      g = { ready: [], target: 1, takenThisTurn: 0 };
      this.groups.set(group, g);
    }
    g.takenThisTurn++;
    if (!this.refillScheduled) {
      this.refillScheduled = true;
      this.later(() => this.refill());
    }
    // Removed before it is returned: no share goes to two handshakes.
    return g.ready.pop();
  }

  /** Shares ready now, per group (for tests and diagnostics). */
  readyCount(group: NamedGroup): number {
    return this.groups.get(group)?.ready.length ?? 0;
  }

  /**
   * Keeps as many ready as the most handshakes of one turn have taken so far (a client and a server
   * in one process take two in the turn the ClientHello arrives), at most MAX_SPARES_PER_GROUP.
   */
  private refill(): void {
    this.refillScheduled = false;
    for (const [group, g] of this.groups) {
      g.target = Math.min(MAX_SPARES_PER_GROUP, Math.max(g.target, g.takenThisTurn));
      g.takenThisTurn = 0;
      try {
        while (g.ready.length < g.target) g.ready.push(newKeyShare(group, this.random));
      } catch {
        // Outside any handshake, nothing may throw from here: a handshake that then finds no spare
        // makes its own, where a failure is that handshake's error.
      }
    }
  }
}

/** The process's spare shares, drawn from the shell's pooled random bytes; every UDP endpoint uses them. */
export const spareKeyShares = new SpareKeyShares(pooledRandomBytes);
