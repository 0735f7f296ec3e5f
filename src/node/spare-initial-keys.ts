/**
 * A client's next first Destination Connection ID with its Initial keys (RFC 9000 §7.2, RFC 9001
 * §5.2), derived while the event loop would otherwise wait (issue 13, spares.ts): the HKDF steps and
 * the four cipher objects of a connection's Initial keys (about 15-20 us in a quiet process, three
 * times that under load) leave a dial's critical path between its connections. The DCID is 8 bytes
 * from the shell's pooled random bytes, as unpredictable as one drawn at the dial, and goes to one
 * connection only. Nothing here is secret: Initial keys follow from the DCID every Initial carries.
 */
import { deriveInitialKeys, type InitialKeySource, type PreparedInitialKeys } from '../crypto/packet-keys.js';
import type { RandomBytes } from '../util/random.js';
import { pooledRandomBytes } from './random-pool.js';
import { type LaterScheduler, Spares } from './spares.js';

export class SpareInitialKeys implements InitialKeySource {
  private readonly spares: Spares<number, PreparedInitialKeys>;

  constructor(random: RandomBytes, later?: LaterScheduler) {
    this.spares = new Spares((version) => {
      const dcid = random(8);
      if (dcid.length !== 8) throw new RangeError('RandomBytes returned the wrong length');
      const keys = deriveInitialKeys(version, dcid);
      return { dcid, client: keys.client, server: keys.server };
    }, later);
  }

  take(version: number): PreparedInitialKeys | undefined {
    return this.spares.take(version);
  }

  /** DCIDs with keys ready now, per QUIC version (for tests and diagnostics). */
  readyCount(version: number): number {
    return this.spares.readyCount(version);
  }
}

/** The process's spare Initial keys, drawn from the shell's pooled random bytes; every UDP endpoint uses them. */
export const spareInitialKeys = new SpareInitialKeys(pooledRandomBytes);
