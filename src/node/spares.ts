/**
 * Things a handshake needs that can be made before it starts, made while the event loop would
 * otherwise wait (issue 13): key shares (spare-key-shares.ts) and a client's first DCID with its
 * Initial keys (spare-initial-keys.ts). A value taken is replaced in a callback that runs once the
 * current I/O turn is done, typically while a connection waits for its peer's answer. No CPU is
 * saved, only moved off a handshake's critical path.
 *
 * Each value is handed out once (take() removes it before returning it) and is as fresh as one made
 * on demand: it lives in memory only until a later handshake of this process takes it. Kinds are kept
 * spare only once a handshake has asked for them, as many as the most one turn has taken (at most
 * MAX_SPARES_PER_KIND). When none is ready, the caller makes its own on the spot.
 */

/** Runs `fn` after the current turn of the event loop. */
export type LaterScheduler = (fn: () => void) => void;

/**
 * Two immediates: the first runs in this turn's check phase and queues the second for the next
 * turn's, after its poll phase. A single one would run before the immediates queued later in the
 * same turn, among them the driver's flush: a dialEarly() that took a key share and Initial keys
 * sent its ClientHello and 0-RTT request only after both had been made again (X25519 and HKDF, about
 * 0.1 ms on the critical path of every 0-RTT connection; issue 13). The second is not unref()'d: an
 * unref()'d immediate lets the next poll phase block until the peer's answer wakes it, and the
 * spares were then made after that answer's callback and before the reply it queued (the Finished
 * of a 0-RTT client, a server's HANDSHAKE_DONE and ticket, the next dial after a resumed exchange;
 * session 44). Kept alive, the next turn polls without waiting and makes them while the peer works.
 * It costs a process that is done at most that one turn.
 */
function afterThisTurn(fn: () => void): void {
  setImmediate(() => {
    setImmediate(fn);
  }).unref();
}

/** The most values kept per kind: handshakes started in one turn beyond this make their own. */
export const MAX_SPARES_PER_KIND = 4;

/** One kind's spares. */
interface KindSpares<V> {
  ready: V[];
  /** How many to keep ready. */
  target: number;
  takenThisTurn: number;
}

export class Spares<K, V> {
  /** The kinds asked for so far. */
  private readonly kinds = new Map<K, KindSpares<V>>();
  private refillScheduled = false;

  /** `make` may throw: that kind then stays short until a later refill (the taker makes its own). */
  constructor(
    private readonly make: (kind: K) => V,
    private readonly later: LaterScheduler = afterThisTurn,
  ) {}

  take(kind: K): V | undefined {
    let k = this.kinds.get(kind);
    if (k === undefined) {
      k = { ready: [], target: 1, takenThisTurn: 0 };
      this.kinds.set(kind, k);
    }
    k.takenThisTurn++;
    if (!this.refillScheduled) {
      this.refillScheduled = true;
      this.later(() => this.refill());
    }
    // Removed before it is returned: no value goes to two handshakes.
    return k.ready.pop();
  }

  /** Values ready now, of a kind (for tests and diagnostics). */
  readyCount(kind: K): number {
    return this.kinds.get(kind)?.ready.length ?? 0;
  }

  /**
   * Keeps as many ready as the most handshakes of one turn have taken so far (a client and a server
   * in one process take two in the turn the ClientHello arrives), at most MAX_SPARES_PER_KIND.
   */
  private refill(): void {
    this.refillScheduled = false;
    for (const [kind, k] of this.kinds) {
      k.target = Math.min(MAX_SPARES_PER_KIND, Math.max(k.target, k.takenThisTurn));
      k.takenThisTurn = 0;
      try {
        while (k.ready.length < k.target) k.ready.push(this.make(kind));
      } catch {
        // Outside any handshake, nothing may throw from here: a handshake that then finds no spare
        // makes its own, where a failure is that handshake's error.
      }
    }
  }
}
