/**
 * The validation of one path (RFC 9000 §8.2): PATH_CHALLENGE frames with unpredictable data, sent
 * again at an interval no shorter than a probe timeout (§8.2.1: no more often than an Initial), until
 * a PATH_RESPONSE echoes one of them (§8.2.3) or the validation timer expires (§8.2.4).
 *
 * It only keeps time and data; the connection sends the frames and decides what success or failure
 * means for the path.
 */
import type { Millis } from '../util/time.js';
import { equalBytes } from './local-connection-ids.js';

/** Why a path is being validated. */
export type ValidationReason =
  /** The peer moved to this address (RFC 9000 §9.3). */
  | 'migration'
  /** The previously active path, probed after an apparent migration (RFC 9000 §9.3.3). */
  | 'old-path'
  /** The address was validated with a datagram under 1200 bytes: check the MTU too (§8.2.1). */
  | 'mtu';

/** PATH_CHALLENGE data remembered per validation (each challenge sent adds one). */
const MAX_OUTSTANDING = 8;

export class PathValidator {
  private readonly outstanding: Array<{ data: Uint8Array; padded: boolean }> = [];
  /** A challenge should go out now (the first one, or the resend interval passed). */
  private due = true;
  private nextSendAt: Millis = Number.POSITIVE_INFINITY;
  /** When validation is abandoned (RFC 9000 §8.2.4). */
  readonly deadline: Millis;

  /**
   * `interval`: time between challenges (a PTO); `timeout`: how long until the attempt is abandoned
   * (RFC 9000 §8.2.4 recommends three times the larger of the current PTO and a new path's PTO).
   */
  constructor(
    readonly reason: ValidationReason,
    now: Millis,
    private readonly interval: Millis,
    timeout: Millis,
  ) {
    this.deadline = now + timeout;
  }

  /** A PATH_CHALLENGE is due. */
  get challengeDue(): boolean {
    return this.due;
  }

  /** A PATH_CHALLENGE carrying `data` went out, in a datagram of at least 1200 bytes when `padded`. */
  onChallengeSent(data: Uint8Array, padded: boolean, now: Millis): void {
    if (this.outstanding.length >= MAX_OUTSTANDING) this.outstanding.shift();
    this.outstanding.push({ data: new Uint8Array(data), padded });
    this.due = false;
    this.nextSendAt = now + this.interval;
  }

  /**
   * Does a PATH_RESPONSE with `data` answer one of our challenges (RFC 9000 §8.2.3: received on any
   * path)? Returns whether that challenge went in a datagram of at least 1200 bytes, or undefined.
   */
  match(data: Uint8Array): { padded: boolean } | undefined {
    for (const c of this.outstanding) {
      if (equalBytes(c.data, data)) return { padded: c.padded };
    }
    return undefined;
  }

  /** The next time `onTimeout` has something to do. */
  nextTimeout(): Millis {
    return this.due ? this.deadline : Math.min(this.nextSendAt, this.deadline);
  }

  /** Returns 'failed' when the validation timer expired (RFC 9000 §8.2.4). */
  onTimeout(now: Millis): 'failed' | undefined {
    if (now >= this.deadline) return 'failed';
    if (now >= this.nextSendAt) {
      this.due = true;
      this.nextSendAt = Number.POSITIVE_INFINITY;
    }
    return undefined;
  }
}
