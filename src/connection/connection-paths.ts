/**
 * The paths of a connection and which one it sends on (RFC 9000 §9): the receive side of connection
 * migration.
 *
 * - A client only accepts datagrams from the address it sends to (RFC 9000 §9: packets from an
 *   unknown server address are discarded).
 * - A server follows the peer to a new address only on the highest-numbered non-probing packet
 *   (§9.2, §9.3), validates the new address with PATH_CHALLENGE (§8.2) while sending at most three
 *   times what it received there (§9.3.1, §8.1), probes the previously validated path as well
 *   (§9.3.3), and reverts to the last validated path if validation fails (§9.3.2).
 * - PATH_RESPONSE goes back on the path its PATH_CHALLENGE came from (§8.2.2).
 * - A new path gets a connection ID of its own when the peer supplied a spare one (§9.5).
 *
 * Congestion control and RTT are the connection's: it is told when a validated new address becomes
 * the current path (§9.4).
 */
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { Path, sameHost } from './path.js';
import { PathValidator, type ValidationReason } from './path-validator.js';

/** Paths remembered at once (current, last validated, being probed); a new address evicts the oldest other. */
const MAX_PATHS = 4;
/** RFC 9000 §8.2.4: the validation timer is three times the larger of the current and a new path's PTO. */
const VALIDATION_TIMEOUT_PTOS = 3;

/** What happened to the paths, for qlog and tests. */
export type PathEvent =
  /** A non-probing packet from `to` moved the connection there (RFC 9000 §9.3). */
  | { type: 'migrated'; from: string; to: string }
  | { type: 'validation-started'; address: string; reason: ValidationReason }
  | { type: 'validated'; address: string; reason: ValidationReason }
  | { type: 'validation-failed'; address: string; reason: ValidationReason }
  /** The peer moved on before this address was validated (RFC 9000 §9.3.2). */
  | { type: 'validation-abandoned'; address: string; reason: ValidationReason }
  /** Validation of the current path failed: back to the last validated one (RFC 9000 §9.3.2). */
  | { type: 'reverted'; from: string; to: string };

/** The peer's connection IDs, as far as paths are concerned (PeerConnectionIds). */
export interface PathConnectionIds {
  /** The sequence number of the connection ID packets are sent with now. */
  readonly currentSequenceNumber: number;
  /** The connection ID with this sequence number, if it is still active. */
  cidFor(sequenceNumber: number): Uint8Array | undefined;
  /** An active connection ID whose sequence number is not in `inUse`, if any. */
  unusedSequenceNumber(inUse: ReadonlySet<number>): number | undefined;
  /** Send with this connection ID from now on. */
  use(sequenceNumber: number): void;
  /** We no longer use this connection ID: RETIRE_CONNECTION_ID (RFC 9000 §5.1.2). */
  retire(sequenceNumber: number): void;
}

export interface PathsHost {
  readonly role: 'client' | 'server';
  readonly random: RandomBytes;
  readonly cids: PathConnectionIds;
  /** The current probe timeout period. */
  ptoPeriod(): Millis;
  /** The probe timeout of a path without RTT samples (kInitialRtt, RFC 9002 §6.2.2). */
  initialPtoPeriod(): Millis;
  /**
   * A new address became the validated current path (RFC 9000 §9.4): reset congestion control and
   * RTT unless only the port changed.
   */
  onNewPathValidated(portOnly: boolean, now: Millis): void;
  /** No validated path to go back to (RFC 9000 §9.3.2): discard the connection silently. */
  closeSilently(reason: string): void;
  trace?: ((e: PathEvent) => void) | undefined;
}

export class ConnectionPaths {
  private readonly paths = new Map<string, Path>();
  private _current: Path;
  /** The last validated path the connection sent on: where it reverts to (RFC 9000 §9.3.2). */
  private lastValidated: Path | undefined;
  /** The largest packet number of a non-probing 1-RTT packet received (RFC 9000 §9.3). */
  private largestNonProbing = -1;
  /** A datagram from an address without a path yet: counted if it creates one (RFC 9000 §8.1). */
  private pendingBytes: { from: string; bytes: number } | undefined;

  constructor(
    private readonly host: PathsHost,
    address: string,
    validated: boolean,
  ) {
    this._current = new Path(address, validated);
    this.paths.set(address, this._current);
    if (validated) this.lastValidated = this._current;
  }

  /** The path non-probing packets are sent on. */
  get current(): Path {
    return this._current;
  }

  get(address: string): Path | undefined {
    return this.paths.get(address);
  }

  /** Every path remembered. */
  all(): Path[] {
    return [...this.paths.values()];
  }

  /**
   * A datagram arrived from `from`. Returns false when it must be discarded unread: a client takes
   * nothing from an address other than the server's (RFC 9000 §9).
   */
  onDatagramReceived(from: string, bytes: number): boolean {
    this.pendingBytes = undefined;
    const path = this.paths.get(from);
    if (path) {
      path.onDatagramReceived(bytes);
      return true;
    }
    if (this.host.role === 'client') return false;
    this.pendingBytes = { from, bytes };
    return true;
  }

  /** The server's first path is validated: a Handshake packet or a token proved the address (§8.1). */
  validateCurrent(): void {
    this._current.markValidated(true);
    this.lastValidated = this._current;
  }

  /** A PATH_CHALLENGE arrived from `from`: answer on that path (RFC 9000 §8.2.2). */
  onChallenge(from: string, data: Uint8Array): void {
    this.obtain(from)?.queueResponse(data);
  }

  /** A PATH_RESPONSE arrived (on any path: RFC 9000 §8.2.3). */
  onResponse(data: Uint8Array, now: Millis): void {
    for (const path of this.paths.values()) {
      const match = path.validator?.match(data);
      if (match) {
        this.onValidated(path, match.padded, now);
        return;
      }
    }
  }

  /**
   * An authenticated 1-RTT packet `pn` from `from`. Only the highest-numbered non-probing packet
   * moves the connection (RFC 9000 §9.3), only once the handshake is confirmed (§9), and never a
   * client (§9: servers do not migrate).
   */
  onPacket(from: string, pn: number, nonProbing: boolean, handshakeConfirmed: boolean, now: Millis): void {
    if (!nonProbing || pn <= this.largestNonProbing) return;
    this.largestNonProbing = pn;
    if (from === this._current.address || this.host.role === 'client' || !handshakeConfirmed) return;
    this.migrate(from, now);
  }

  /** The next validation deadline or challenge retransmission. */
  nextTimeout(): Millis | undefined {
    let t: Millis | undefined;
    for (const path of this.paths.values()) {
      const v = path.validator?.nextTimeout();
      if (v !== undefined && (t === undefined || v < t)) t = v;
    }
    return t;
  }

  handleTimeout(now: Millis): void {
    for (const path of [...this.paths.values()]) {
      const v = path.validator;
      if (v?.onTimeout(now) !== 'failed') continue;
      path.endValidation();
      this.host.trace?.({ type: 'validation-failed', address: path.address, reason: v.reason });
      if (path === this._current) {
        // RFC 9000 §9.3.2: revert to the last validated peer address. (A failed MTU check of a
        // validated current path leaves nothing better to go to: the path stays.)
        if (!path.validated) this.revert(path);
      } else if (path !== this.lastValidated) {
        this.drop(path);
      }
    }
  }

  /**
   * A path with a PATH_CHALLENGE due or PATH_RESPONSE frames owed, that may be sent `minSize`
   * bytes, if any.
   */
  nextProbe(minSize: number): Path | undefined {
    for (const path of this.paths.values()) {
      if (!path.hasResponses && !path.validator?.challengeDue) continue;
      if (path.allowance >= minSize) return path;
    }
    return undefined;
  }

  /** Unpredictable data for a PATH_CHALLENGE (RFC 9000 §8.2.1). */
  newChallengeData(): Uint8Array {
    return this.host.random(8);
  }

  /** The destination connection ID for packets on `path` (RFC 9000 §9.5). */
  dcidFor(path: Path): Uint8Array | undefined {
    const cids = this.host.cids;
    if (path === this._current) return cids.cidFor(cids.currentSequenceNumber);
    this.assignCid(path);
    return cids.cidFor(path.cidSequence ?? cids.currentSequenceNumber);
  }

  /** A probe datagram went out on `path`: forget paths with nothing left to do. */
  afterProbe(path: Path): void {
    if (path !== this._current && path !== this.lastValidated && !path.validated && !path.validator) {
      if (!path.hasResponses) this.drop(path);
    }
  }

  // ------------------------------------------------------------------ internals

  /** The path for `address`, created (evicting the oldest spare one if needed), or undefined if full. */
  private obtain(address: string): Path | undefined {
    const known = this.paths.get(address);
    if (known) return known;
    if (this.paths.size >= MAX_PATHS) {
      const victim = [...this.paths.values()].find((p) => p !== this._current && p !== this.lastValidated);
      if (!victim) return undefined;
      this.drop(victim);
    }
    const path = new Path(address, false);
    if (this.pendingBytes?.from === address) {
      path.onDatagramReceived(this.pendingBytes.bytes);
      this.pendingBytes = undefined;
    }
    this.paths.set(address, path);
    return path;
  }

  private migrate(to: string, now: Millis): void {
    const previous = this._current;
    const old = this.lastValidated;
    const next = this.obtain(to);
    if (!next) return;
    previous.useCid(this.host.cids.currentSequenceNumber);
    this.assignCid(next);
    this._current = next;
    if (next.cidSequence !== undefined) this.host.cids.use(next.cidSequence);
    this.host.trace?.({ type: 'migrated', from: previous.address, to });
    if (next.validated) {
      // Back on a path validated before (e.g. after a spurious migration): no validation needed (§9.3).
      this.lastValidated = next;
    } else if (!next.validator) {
      this.startValidation(next, 'migration', now);
    }
    // RFC 9000 §9.3.3: validate the previously active path too, so that a genuine peer still there
    // answers on it and moves the connection back.
    if (old && old !== next && !old.validator) this.startValidation(old, 'old-path', now);
    // §9.3.2: moving on abandons the validation of addresses migrated to earlier.
    for (const p of [...this.paths.values()]) {
      if (p !== next && !p.validated && p.validator?.reason === 'migration') {
        this.host.trace?.({ type: 'validation-abandoned', address: p.address, reason: 'migration' });
        this.drop(p);
      }
    }
  }

  private startValidation(path: Path, reason: ValidationReason, now: Millis): void {
    const pto = Math.max(this.host.ptoPeriod(), this.host.initialPtoPeriod());
    path.startValidation(new PathValidator(reason, now, pto, VALIDATION_TIMEOUT_PTOS * pto));
    this.host.trace?.({ type: 'validation-started', address: path.address, reason });
  }

  private onValidated(path: Path, padded: boolean, now: Millis): void {
    const reason = path.validator?.reason ?? 'migration';
    path.endValidation();
    const wasValidated = path.validated;
    path.markValidated(padded);
    if (path === this._current && !wasValidated) {
      const previous = this.lastValidated;
      this.lastValidated = path;
      this.host.onNewPathValidated(previous ? sameHost(previous.address, path.address) : true, now);
    }
    this.host.trace?.({ type: 'validated', address: path.address, reason });
    // RFC 9000 §8.2.1, §8.2.3: validated with a datagram under 1200 bytes: check the MTU as well.
    if (!path.mtuValidated && path === this._current) this.startValidation(path, 'mtu', now);
  }

  private revert(path: Path): void {
    const back = this.lastValidated;
    if (!back || back === path) {
      this.host.closeSilently(`path validation failed for ${path.address} and no validated path remains`);
      return;
    }
    this._current = back;
    if (back.cidSequence !== undefined && this.host.cids.cidFor(back.cidSequence)) {
      this.host.cids.use(back.cidSequence);
    }
    this.host.trace?.({ type: 'reverted', from: path.address, to: back.address });
    this.drop(path);
  }

  /** Forget a path; its connection ID is retired unless another path still uses it (§9.5). */
  private drop(path: Path): void {
    if (path === this._current) return;
    this.paths.delete(path.address);
    if (this.lastValidated === path) this.lastValidated = undefined;
    const seq = path.cidSequence;
    if (seq === undefined || seq === this.host.cids.currentSequenceNumber) return;
    for (const p of this.paths.values()) if (p.cidSequence === seq) return;
    if (this.host.cids.cidFor(seq)) this.host.cids.retire(seq);
  }

  /** Give `path` a connection ID no other path uses, if the peer supplied one (RFC 9000 §9.5). */
  private assignCid(path: Path): void {
    const cids = this.host.cids;
    if (path.cidSequence !== undefined && cids.cidFor(path.cidSequence)) return;
    const inUse = new Set<number>([cids.currentSequenceNumber]);
    for (const p of this.paths.values()) if (p.cidSequence !== undefined) inUse.add(p.cidSequence);
    // With no spare connection ID, the current one goes on (RFC 9000 §9.5 allows it when the peer's
    // address changed under the same connection ID); the peer can always supply more.
    path.useCid(cids.unusedSequenceNumber(inUse) ?? cids.currentSequenceNumber);
  }
}
